"""The gateway's request metrics in Prometheus format."""
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families


class GatewayMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("handoff_gateway_requests_total", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("handoff_gateway_request_seconds", "HTTP request latency by route",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))

    def observe(self, method, route, status, seconds):
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self, service_pages=()):
        """The gateway's metrics and every service's, as one page: families of the same name
        from several services become one family, as Prometheus requires."""
        return generate_latest(_Merged([self.registry], service_pages))


class _Merged:
    """A registry-like ``collect()`` over the gateway's registry and services' text pages."""

    def __init__(self, registries, pages):
        self.registries = registries
        self.pages = pages

    def collect(self):
        families = {}
        for registry in self.registries:
            for family in registry.collect():
                families[family.name] = family
        for page in self.pages:
            for family in text_string_to_metric_families(page):
                if family.name in families:
                    families[family.name].samples.extend(family.samples)
                else:
                    families[family.name] = family
        return families.values()
