"""RPC: the ``rpc`` entrypoint every service uses, and ``ClusterRpc``, which reaches any
service by name (``self.cluster.identity.signup(...)``): nameko's ``RpcProxy`` without the
fixed target, for callers (the gateway) that route to every service."""
import logging

from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, Rpc as NamekoRpc, ServiceProxy

from shared.errors import BROKER_CONNECTION_ERRORS, Unavailable, is_transient


log = logging.getLogger(__name__)


class ClusterRpc(DependencyProvider):
    rpc_reply_listener = ReplyListener()

    def get_dependency(self, worker_ctx):
        return _Cluster(worker_ctx, self.rpc_reply_listener)


class _Cluster:
    def __init__(self, worker_ctx, reply_listener):
        self._worker_ctx = worker_ctx
        self._reply_listener = reply_listener

    def __getattr__(self, service_name):
        return ServiceProxy(self._worker_ctx, service_name, self._reply_listener)


RPC_CALL_KEY = "rpc_call_id"


class Rpc(NamekoRpc):
    """nameko's ``rpc`` entrypoint, telling the worker which call it serves. RabbitMQ delivers
    a request again when a service dies after doing the work but before acknowledging it; the
    call id (the message's correlation id, the same on every delivery) lets ``Database``
    refuse to commit the same call's work twice."""

    def unpack_message_headers(self, message):
        data = super().unpack_message_headers(message)
        data[RPC_CALL_KEY] = message.properties.get("correlation_id")
        return data

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None and is_transient(exc_info[0]):
            # Nothing was committed; the caller may try again (503), not report our bug (500).
            error = Unavailable("The service's database is unavailable; try again shortly")
            exc_info = (Unavailable, error, exc_info[2])
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_CONNECTION_ERRORS as lost:
            # The reply or the acknowledgement went down with the connection: the request comes
            # again once the consumer reconnects, and the call claim answers it as carried out.
            log.warning("rpc reply or acknowledgement lost: broker connection lost",
                        extra={"fields": {"rpc": worker_ctx.entrypoint.method_name, "error": str(lost)}})
            return result, exc_info


rpc = Rpc.decorator
