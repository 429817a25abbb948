"""nameko's ``@http`` on a listening socket with TCP_NODELAY (accepted sockets inherit it).

eventlet's WSGI server writes a response's headers and its body in two sends; with Nagle's
algorithm on, a body that is not a full segment waits for the client's delayed ACK of the
headers, about 40 ms on every response larger than a few kilobytes (a page of search results).
"""
import socket

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer


class NoDelayWebServer(WebServer):
    def get_wsgi_server(self, sock, wsgi_app, *args, **kwargs):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().get_wsgi_server(sock, wsgi_app, *args, **kwargs)


class NoDelayHttpRequestHandler(HttpRequestHandler):
    server = NoDelayWebServer()


http = NoDelayHttpRequestHandler.decorator
