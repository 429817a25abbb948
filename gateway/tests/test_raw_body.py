"""A route with ``body_format="raw"`` hands the service the body's exact text and the named
headers, so a signature over the bytes can be checked where the secret lives."""
import json
from types import SimpleNamespace

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.dispatch import Dispatcher
from gateway.metrics import GatewayMetrics
from gateway.openapi import build_spec
from gateway.ratelimit import RateLimiter
from gateway.restrictions import ReadOnlyPrograms
from gateway.routing import Route, build_map
from gateway.tokens import TokenVerifier

ROUTE = Route("POST", "/webhooks/test", "billing.payments_webhook", "test webhook", public=True,
              rate_limit="webhook", body_format="raw", forward_headers=("Payments-Signature",), status=204)


class RecordingCluster:
    def __init__(self):
        self.calls = []

    def __getattr__(self, service):
        def call_async(**kwargs):
            self.calls.append(kwargs)
            return SimpleNamespace(result=lambda: None)
        return SimpleNamespace(payments_webhook=SimpleNamespace(call_async=call_async))


def dispatch(body, streamed=False, **headers):
    dispatcher = Dispatcher(build_map([ROUTE]), TokenVerifier(), RateLimiter(), GatewayMetrics(),
                            max_body_bytes=1024, rpc_timeout=5, read_only=ReadOnlyPrograms())
    cluster = RecordingCluster()
    environ = EnvironBuilder(method="POST", path="/webhooks/test", data=body, headers=headers).get_environ()
    if streamed:  # chunked, as the gateway's WSGI app passes it on: no length, the server ends the stream
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True
    return dispatcher.dispatch(Request(environ), cluster, {}), cluster.calls


def test_the_service_gets_the_exact_text_and_the_signature_header():
    body = '{"b": 1,  "a": [2, 1]}\n'  # spacing and key order matter to a signature
    response, calls = dispatch(body.encode(), **{"Payments-Signature": "t=1,v1=ab",
                                                 "Content-Type": "application/json"})
    assert response.status_code == 204
    assert calls[0]["body"] == body and calls[0]["headers"] == {"Payments-Signature": "t=1,v1=ab"}


def test_bodies_that_are_not_text_or_too_large_are_refused():
    response, calls = dispatch(b"\xff\xfe")
    assert response.status_code == 400 and not calls
    response, calls = dispatch(b"x" * 2048)
    assert response.status_code == 413 and not calls


def test_a_streamed_body_is_read_whole_or_refused_whole():
    response, calls = dispatch(b"x" * 1024, streamed=True)
    assert response.status_code == 204 and calls[0]["body"] == "x" * 1024
    response, calls = dispatch(b"x" * 1025, streamed=True)  # not cut to the limit and passed on
    assert response.status_code == 413 and not calls


def test_openapi_documents_a_raw_body_as_text():
    operation = build_spec([ROUTE])["paths"]["/webhooks/test"]["post"]
    assert operation["requestBody"]["content"] == {"*/*": {"schema": {"type": "string"}}}
    assert json.dumps(operation)
