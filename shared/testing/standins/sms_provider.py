"""A local stand-in for an SMS provider with Twilio's Messages API: a real HTTP server on
127.0.0.1 that takes messages, and calls back the way Twilio does (signed status callbacks and
inbound texts)."""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler
from typing import Optional

from shared.testing.standins.http_server import HttpStandIn

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_MAX_BODY_LENGTH = 1600
_OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
_OPT_IN_KEYWORDS = {"START", "YES", "UNSTOP"}


@dataclass(frozen=True)
class ReceivedSms:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: Optional[str]
    status: str = "queued"


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: str


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        fields = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True)
        form = {name: values[0] for name, values in fields.items()}
        status, answer = self.server.standin.messages_api(
            urllib.parse.urlsplit(self.path).path, self.headers.get("Authorization"), form
        )
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        """Quiet: tests read the stand-in's state, not its access log."""


def _error(code: int, message: str, status: int) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class SmsProviderStandIn(HttpStandIn):
    """Twilio's `POST /2010-04-01/Accounts/{sid}/Messages.json`, with its checks and answers:
    basic auth (401), E.164 numbers and a 1-1600 character body (400 with Twilio's error codes),
    recipients who texted STOP (400, 21610), 201 with the new message otherwise.

    `fail_next(count, status)` makes the next requests answer `status` (503 by default).
    It signs callbacks with its own implementation of Twilio's algorithm, not ours, so a test
    that passes shows our verification agrees with an independent one.
    """

    handler_class = _Handler
    thread_name = "sms-provider-standin"

    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "standin-auth-token"):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._messages: list[ReceivedSms] = []
        self._opted_out: set = set()
        self._failures_left = 0
        self._failure_status = 503
        self._changed = threading.Condition()

    # -- what tests look at and steer

    @property
    def messages(self) -> list[ReceivedSms]:
        with self._changed:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedSms]:
        """The messages taken so far, once there are at least `count`; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"received {len(self._messages)} of {count} texts in {timeout}s")
                self._changed.wait(remaining)
            return list(self._messages)

    def fail_next(self, count: int, status: int = 503):
        with self._changed:
            self._failures_left = count
            self._failure_status = status

    # -- calling back, as the provider does

    def deliver(self, sid: str, status: str = "delivered", error_code: Optional[str] = None) -> WebhookAnswer:
        """Report a status of message `sid` to its StatusCallback, signed."""
        with self._changed:
            index = next((i for i, m in enumerate(self._messages) if m.sid == sid), None)
            if index is None:
                raise KeyError(f"no message {sid}")
            message = self._messages[index]
            if not message.status_callback:
                raise ValueError(f"message {sid} was sent without a StatusCallback")
            self._messages[index] = replace(message, status=status)
        form = {
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": message.to,
            "From": message.from_,
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            form["ErrorCode"] = error_code
        return self._post_signed(message.status_callback, form)

    def send_inbound(self, url: str, from_: str, to: str, body: str) -> WebhookAnswer:
        """A person's text to our number, posted to our inbound webhook at `url`, signed.
        Like Twilio, the provider itself also honours STOP and START for that person."""
        keyword = body.strip().upper()
        with self._changed:
            if keyword in _OPT_OUT_KEYWORDS:
                self._opted_out.add(from_)
            elif keyword in _OPT_IN_KEYWORDS:
                self._opted_out.discard(from_)
        sid = _new_sid("SM")
        form = {
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        return self._post_signed(url, form)

    def signature(self, url: str, form: dict) -> str:
        """Twilio's X-Twilio-Signature: HMAC-SHA1 of the URL followed by every field name and value,
        fields in name order, base64-encoded."""
        signed = url + "".join(name + form[name] for name in sorted(form))
        return base64.b64encode(hmac.new(self.auth_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()

    def _post_signed(self, url: str, form: dict) -> WebhookAnswer:
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": self.signature(url, form),
                "User-Agent": "TwilioProxy/1.1",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return WebhookAnswer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return WebhookAnswer(error.code, error.read().decode("utf-8", "replace"))

    # -- the Messages API itself, answered on the HTTP server's threads

    def messages_api(self, path: str, authorization: Optional[str], form: dict) -> tuple:
        with self._changed:
            if self._failures_left > 0:
                self._failures_left -= 1
                return self._failure_status, _error(20500 if self._failure_status >= 500 else 20429,
                                                    "Service unavailable, try again", self._failure_status)
        if not self._authorized(authorization):
            return 401, _error(20003, "Authenticate", 401)
        if path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return 404, _error(20404, "The requested resource was not found", 404)
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not _E164.match(to):
            return 400, _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if not _E164.match(from_):
            return 400, _error(21212, f"The 'From' number {from_} is not a valid phone number.", 400)
        if not body:
            return 400, _error(21602, "Message body is required.", 400)
        if len(body) > _MAX_BODY_LENGTH:
            return 400, _error(21617, "The concatenated message body exceeds the 1600 character limit.", 400)
        message = ReceivedSms(_new_sid("SM"), to, from_, body, form.get("StatusCallback"))
        with self._changed:
            if to in self._opted_out:
                return 400, _error(21610, "Attempt to send to unsubscribed recipient", 400)
            self._messages.append(message)
            self._changed.notify_all()
        return 201, {
            "sid": message.sid,
            "account_sid": self.account_sid,
            "status": message.status,
            "to": to,
            "from": from_,
            "body": body,
        }

    def _authorized(self, authorization: Optional[str]) -> bool:
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(f"{user}:{password}", f"{self.account_sid}:{self.auth_token}")
