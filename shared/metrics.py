"""Each service's own metrics, in one registry per process (every service is its own process):
how long its workers take and how many run, what fails, what its outbox still holds and what
it dead-lettered. The ``metrics`` RPC of ``ServiceBase`` renders them; the gateway's /metrics
gathers every service's into one Prometheus page."""
import time

from nameko.extensions import DependencyProvider
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()
WORKER_SECONDS = Histogram(
    "handoff_worker_seconds", "Time a worker took, by entrypoint", ["service", "entrypoint", "kind"],
    registry=REGISTRY, buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
WORKER_ERRORS = Counter("handoff_worker_errors_total", "Workers that raised, by entrypoint",
                        ["service", "entrypoint", "kind"], registry=REGISTRY)
WORKERS_IN_FLIGHT = Gauge("handoff_workers_in_flight", "Workers running now", ["service"], registry=REGISTRY)
OUTBOX_UNPUBLISHED = Gauge("handoff_outbox_unpublished", "Events written but not yet published",
                           ["service"], registry=REGISTRY)
OUTBOX_OLDEST_SECONDS = Gauge("handoff_outbox_oldest_unpublished_seconds",
                              "Age of the oldest unpublished event", ["service"], registry=REGISTRY)
DEAD_LETTERED = Counter("handoff_events_dead_lettered_total", "Events given up on after retries",
                        ["service", "consumer"], registry=REGISTRY)

ENTRYPOINT_KINDS = {"Rpc": "rpc", "EventHandler": "event", "Timer": "timer", "HttpRequestHandler": "http"}


def entrypoint_kind(entrypoint):
    for cls in type(entrypoint).__mro__:
        if cls.__name__ in ENTRYPOINT_KINDS:
            return ENTRYPOINT_KINDS[cls.__name__]
    return "other"


class WorkerMetrics(DependencyProvider):
    def setup(self):
        self.started = {}

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.perf_counter()
        WORKERS_IN_FLIGHT.labels(self.container.service_name).inc()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        labels = (self.container.service_name, worker_ctx.entrypoint.method_name,
                  entrypoint_kind(worker_ctx.entrypoint))
        started = self.started.pop(worker_ctx, None)
        if started is not None:
            WORKER_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        if exc_info is not None:
            WORKER_ERRORS.labels(*labels).inc()

    def worker_teardown(self, worker_ctx):
        self.started.pop(worker_ctx, None)
        WORKERS_IN_FLIGHT.labels(self.container.service_name).dec()


def render(service, backlog):
    OUTBOX_UNPUBLISHED.labels(service).set(backlog["unpublished"])
    OUTBOX_OLDEST_SECONDS.labels(service).set(backlog["oldest_age_seconds"])
    return generate_latest(REGISTRY).decode()
