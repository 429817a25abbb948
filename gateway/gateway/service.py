"""The gateway's nameko entrypoints. Everything they do is in ``dispatch``; here is only the
wiring: HTTP in, the operator endpoints, and identity's revocation broadcasts."""
import json
import os

import eventlet
from nameko.events import BROADCAST, event_handler
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

import swagger_ui
from shared.config import SERVICES, setting
from shared.rpc import ClusterRpc
from gateway.dispatch import Dispatcher
from gateway.metrics import GatewayMetrics
from gateway.openapi import build_spec
from gateway.problems import problem
from gateway.ratelimit import RateLimiter
from gateway.restrictions import ReadOnlyPrograms
from gateway.routes import ROUTES
from gateway.routing import build_map
from gateway.tokens import TokenVerifier
from gateway.web import http

ANY_METHOD = "GET,POST,PUT,PATCH,DELETE"
SWAGGER_STATIC = os.path.join(os.path.dirname(swagger_ui.__file__), "static")
DOCS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Handoff API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script></body></html>"""


class Edge(DependencyProvider):
    """Per-instance state shared by all workers: the dispatcher and its caches."""

    def setup(self):
        config = self.container.config
        self.metrics = GatewayMetrics()
        self.verifier = TokenVerifier()
        self.read_only = ReadOnlyPrograms()
        self.dispatcher = Dispatcher(
            build_map(ROUTES), self.verifier, RateLimiter(), self.metrics,
            max_body_bytes=int(setting(config, "MAX_BODY_BYTES", 1_048_576)),
            rpc_timeout=float(setting(config, "RPC_TIMEOUT_SECONDS", 10)),
            read_only=self.read_only,
        )
        self.openapi = json.dumps(build_spec(ROUTES))

    def get_dependency(self, worker_ctx):
        return self


class CallContext(DependencyProvider):
    """The worker's context data, which nameko sends along with every RPC it makes."""

    def get_dependency(self, worker_ctx):
        return worker_ctx.data


class GatewayService:
    name = "gateway"

    cluster = ClusterRpc()
    edge = Edge()
    call_context = CallContext()

    @http(ANY_METHOD, "/<path:path>")
    def api(self, request, path):
        return self.edge.dispatcher.dispatch(request, self.cluster, self.call_context)

    @http("GET", "/health")
    def health(self, request):
        return Response(json.dumps({"status": "ok"}), mimetype="application/json")

    def _ask_every_service(self, method):
        """Each service's answer to ``method``, all asked at once: {service: (status, answer)}."""
        replies, answers = {}, {}
        for name in SERVICES:
            try:
                replies[name] = getattr(getattr(self.cluster, name), method).call_async()
            except UnknownService:
                answers[name] = ("not running", None)
        for name, reply in replies.items():
            try:
                with eventlet.Timeout(3):
                    answers[name] = ("ok", reply.result())
            except eventlet.Timeout:
                answers[name] = ("timeout", None)
            except Exception:
                answers[name] = ("error", None)
        return answers

    @http("GET", "/ready")
    def ready(self, request):
        """Ready when the broker carries RPC and every service answers."""
        status = {name: answer[0] for name, answer in self._ask_every_service("health").items()}
        ready = all(value == "ok" for value in status.values())
        return Response(json.dumps({"ready": ready, "services": status}),
                        status=200 if ready else 503, mimetype="application/json")

    @http("GET", "/metrics")
    def metrics(self, request):
        pages = [page for status, page in self._ask_every_service("metrics").values() if status == "ok"]
        return Response(self.edge.metrics.render(pages), mimetype=self.edge.metrics.content_type)

    @http("GET", "/openapi.json")
    def openapi(self, request):
        return Response(self.edge.openapi, mimetype="application/json")

    @http("GET", "/docs")
    def docs(self, request):
        return Response(DOCS_PAGE, mimetype="text/html")

    @http("GET", "/docs/<string:asset>")
    def docs_asset(self, request, asset):
        if asset not in ("swagger-ui.css", "swagger-ui-bundle.js"):
            return problem("NOT_FOUND", "Not found", "No such asset", status=404)
        with open(os.path.join(SWAGGER_STATIC, asset), "rb") as f:
            mimetype = "text/css" if asset.endswith(".css") else "application/javascript"
            return Response(f.read(), mimetype=mimetype,
                            headers={"Cache-Control": "public, max-age=86400"})

    @event_handler("identity", "access_revoked", handler_type=BROADCAST, reliable_delivery=False)
    def on_access_revoked(self, event):
        data = event["data"]
        self.edge.verifier.revoke(data["user_id"], data["not_before"])

    @event_handler("billing", "subscription_restricted", handler_type=BROADCAST, reliable_delivery=False)
    def on_subscription_restricted(self, event):
        self.edge.read_only.restrict(event["org_id"])

    @event_handler("billing", "subscription_reinstated", handler_type=BROADCAST, reliable_delivery=False)
    def on_subscription_reinstated(self, event):
        self.edge.read_only.reinstate(event["org_id"])
