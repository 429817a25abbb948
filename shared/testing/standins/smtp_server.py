"""A real SMTP server on 127.0.0.1 that keeps what it receives, for tests and local runs."""

import socket
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Optional

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class ReceivedEmail:
    mail_from: str
    rcpt_tos: tuple
    message: EmailMessage


class SmtpServerStandIn:
    """aiosmtpd in a background thread.

    `stop()` then `start()` serves again on the same port, so a test can take the mail server
    down and bring it back. `refuse(address, reply)` makes RCPT TO for that address answer
    `reply` (e.g. "550 5.1.1 No such user" or "450 4.2.1 Mailbox busy").
    With `username`/`password`, AUTH is required (over plain text: this is loopback only).
    """

    def __init__(self, port: int = 0, username: Optional[str] = None, password: Optional[str] = None):
        self.host = "127.0.0.1"
        self.port = port or _free_port(self.host)
        self._credentials = (username, password) if username else None
        self._received: list[ReceivedEmail] = []
        self._refusals: dict[str, str] = {}
        self._changed = threading.Condition()
        self._controller: Optional[Controller] = None

    def start(self) -> "SmtpServerStandIn":
        options = {}
        if self._credentials:
            options = dict(auth_required=True, auth_require_tls=False, authenticator=self._authenticate)
        self._controller = Controller(self, hostname=self.host, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpServerStandIn":
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def messages(self) -> list[ReceivedEmail]:
        with self._changed:
            return list(self._received)

    def clear(self):
        with self._changed:
            self._received.clear()

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user"):
        with self._changed:
            self._refusals[address.lower()] = reply

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedEmail]:
        """The messages received so far, once there are at least `count`; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"received {len(self._received)} of {count} emails in {timeout}s")
                self._changed.wait(remaining)
            return list(self._received)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        valid = (
            isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        )
        # handled=False: aiosmtpd then answers a failure with its standard 535 itself.
        return AuthResult(success=valid, handled=False)

    # aiosmtpd handler hooks: the stand-in is its own handler.

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._changed:
            refusal = self._refusals.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self._changed:
            self._received.append(ReceivedEmail(envelope.mail_from, tuple(envelope.rcpt_tos), message))
            self._changed.notify_all()
        return "250 Message accepted for delivery"


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
