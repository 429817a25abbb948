"""What every HTTP stand-in shares: a real server on 127.0.0.1 (a free port) in a daemon
thread, started and stopped as a context manager. Its handler reaches the stand-in as
``self.server.standin``."""
import threading
from http.server import ThreadingHTTPServer
from typing import Optional


class HttpStandIn:
    handler_class = None  # the BaseHTTPRequestHandler subclass speaking the provider's API
    thread_name = "http-standin"

    def __init__(self):
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class)
        self._server.standin = self
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self) -> str:
        """The base address, what our settings call the provider's API URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
