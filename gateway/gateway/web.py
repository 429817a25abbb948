"""nameko's ``@http``, with three changes for the gateway.

TCP_NODELAY on the listening socket (accepted sockets inherit it): eventlet's WSGI server writes
a response's headers and its body in two sends; with Nagle's algorithm on, a body that is not a
full segment waits for the client's delayed ACK of the headers, about 40 ms on every response
larger than a few kilobytes (a page of search results).

Every error is ``application/problem+json``: nameko answers a request its own routing refuses
(a path no rule can match, such as one with a newline; a method no entrypoint takes) with
werkzeug's HTML page, and an exception escaping an entrypoint with its type and message as text.

A chunked body is read, up to the route's limit: eventlet decodes chunked requests but does not
tell werkzeug (``wsgi.input_terminated``), which then reads such a body as empty.
"""
import socket

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from gateway.problems import problem


def http_error_problem(exc):
    """A werkzeug HTTP error as a problem document (its code and title are werkzeug's)."""
    allow = getattr(exc, "valid_methods", None)
    return problem(exc.name.upper().replace(" ", "_"), exc.name, exc.description, status=exc.code,
                   headers={"Allow": ", ".join(allow)} if allow else None)


class GatewayWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            environ["wsgi.input_terminated"] = True
        request = Request(environ, shallow=True)
        try:
            provider, request.path_values = self.url_map.bind_to_environ(environ).match()
            response = provider.handle_request(request)
        except HTTPException as exc:
            # A redirect (werkzeug's trailing-slash rule) stays one.
            response = exc if exc.code < 400 else http_error_problem(exc)
        return response(environ, start_response)


class GatewayWebServer(WebServer):
    def get_wsgi_app(self):
        return GatewayWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, *args, **kwargs):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().get_wsgi_server(sock, wsgi_app, *args, **kwargs)


class GatewayHttpRequestHandler(HttpRequestHandler):
    server = GatewayWebServer()

    def response_from_exception(self, exc):
        if isinstance(exc, HTTPException) and exc.code < 500:
            return http_error_problem(exc)
        # The dispatcher turns every service error into a problem, so this is a bug of ours:
        # nameko has logged it; the client learns nothing of its type or text.
        return problem("INTERNAL", "Internal error", "Something went wrong on our side")


http = GatewayHttpRequestHandler.decorator
