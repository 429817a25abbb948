"""What every Handoff service has in common: the database, the caller's auth context, the
request id in its logs and a ``health`` RPC (the outbox relay runs inside ``Database``). A service is a subclass that
sets ``name`` and adds its own entrypoints."""
import logging

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from sqlalchemy import text

from shared.auth import Auth
from shared.db import Database
from shared.logs import set_request_id
from shared import metrics, outbox
from shared.rpc import rpc

log = logging.getLogger(__name__)


class RequestContext(DependencyProvider):
    """Puts the request id of the current worker where log lines find it."""

    def worker_setup(self, worker_ctx):
        set_request_id(worker_ctx.data.get("request_id"))

    def worker_teardown(self, worker_ctx):
        set_request_id(None)


class ServiceBase:
    config = Config()
    db = Database()
    auth = Auth()
    request_context = RequestContext()
    worker_metrics = metrics.WorkerMetrics()

    @rpc
    def health(self):
        self.db.execute(text("SELECT 1"))
        return {"service": self.name, "status": "ok"}

    @rpc
    def outbox_backlog(self):
        return outbox.backlog(self.db.get_bind())

    @rpc
    def metrics(self):
        """This process's metrics in Prometheus text format (the gateway merges them)."""
        return metrics.render(self.name, outbox.backlog(self.db.get_bind()))

