"""A local stand-in for a payment processor with Stripe's API shape: a real HTTP server on
127.0.0.1 taking customers, payment-method attachments and payment intents (form-encoded,
bearer secret key, Idempotency-Key), which settles each charge a moment later and reports the
outcome by a signed webhook, as Stripe does."""

import contextlib
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Optional

from shared.testing.standins.http_server import HttpStandIn

SIGNATURE_HEADER = "Payments-Signature"
DECLINED = "Your card was declined."


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: str


@dataclass(frozen=True)
class Charge:
    id: str
    amount: int
    currency: str
    customer: str
    payment_method: str
    metadata: dict
    idempotency_key: Optional[str]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        fields = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True)
        form = {name: values[0] for name, values in fields.items()}
        status, answer = self.server.standin.api(urllib.parse.urlsplit(self.path).path,
                                                 self.headers.get("Authorization"),
                                                 self.headers.get("Idempotency-Key"), form)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        """Quiet: tests read the stand-in's state, not its access log."""


def _error(error_type: str, code: str, message: str) -> dict:
    return {"error": {"type": error_type, "code": code, "message": message}}


class PaymentsProviderStandIn(HttpStandIn):
    """`POST /v1/customers`, `POST /v1/payment_methods/{id}/attach`, `POST /v1/payment_intents`.
    Bearer auth (401), unknown tokens (400 resource_missing), a replayed Idempotency-Key gives
    the first answer again and never a second charge.

    Cards are tokenised by `tokenize_card` (what the processor's hosted form does in a browser),
    so a card number only ever exists here. `decline_next(count)` declines the next charges.
    Charge outcomes go to `webhook_url`, signed by this module's own implementation of the
    Stripe-style scheme, not ours, so a passing test shows the two agree."""

    handler_class = _Handler
    thread_name = "payments-standin"

    def __init__(self, api_key: str = "sk_test_standin", webhook_secret: str = "whsec_standin",
                 settle_after: float = 0.2):
        super().__init__()
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.settle_after = settle_after
        self.webhook_url: Optional[str] = None
        self._cards: dict = {}
        self._customers: set = set()
        self._charges: list = []
        self._by_idempotency_key: dict = {}
        self._declines_left = 0
        self._deliveries: list = []
        self._held: Optional[list] = None
        self._changed = threading.Condition()

    # -- what tests steer and look at

    def tokenize_card(self, number: str, exp_month: int = 12, exp_year: int = 2030) -> str:
        token = "pm_" + "".join(secrets.choice(string.ascii_letters) for _ in range(24))
        brand = {"4": "visa", "5": "mastercard", "3": "amex"}.get(number[:1], "unknown")
        with self._changed:
            self._cards[token] = {"brand": brand, "last4": number[-4:], "exp_month": exp_month,
                                  "exp_year": exp_year}
        return token

    def decline_next(self, count: int = 1):
        with self._changed:
            self._declines_left = count

    @property
    def charges(self) -> list:
        with self._changed:
            return list(self._charges)

    def wait_for_charges(self, count: int, timeout: float = 20.0) -> list:
        return self._wait(lambda: len(self._charges) >= count, timeout, lambda: self._charges)

    def wait_for_deliveries(self, count: int, timeout: float = 20.0) -> list:
        """Webhooks sent so far, as (event id, type, our answer), once there are `count`."""
        return self._wait(lambda: len(self._deliveries) >= count, timeout, lambda: self._deliveries)

    @contextlib.contextmanager
    def webhooks_held(self):
        """While inside, charge outcomes are not sent but collected (as signed-ready payloads)
        in the list this yields: a test can then deliver, alter or replay them itself."""
        held = []
        with self._changed:
            self._held = held
        try:
            yield held
        finally:
            with self._changed:
                self._held = None

    def wait_for_held(self, held: list, count: int, timeout: float = 20.0) -> list:
        return self._wait(lambda: len(held) >= count, timeout, lambda: held)

    def _wait(self, done, timeout, result):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the payments stand-in did not see it in time")
                self._changed.wait(remaining)
            return list(result())

    # -- webhooks, as the processor sends them

    def event(self, event_type: str, obj: dict, event_id: Optional[str] = None) -> str:
        return json.dumps({"id": event_id or "evt_" + secrets.token_hex(12), "object": "event",
                           "type": event_type, "created": int(time.time()), "data": {"object": obj}})

    def signature(self, payload: str, timestamp: Optional[int] = None, secret: Optional[str] = None) -> str:
        """`t=<unix time>,v1=<hex HMAC-SHA256 over "<t>.<payload>">`."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new((secret or self.webhook_secret).encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
        return f"t={timestamp},v1={mac.hexdigest()}"

    def post_webhook(self, payload: str, signature: Optional[str] = None, url: Optional[str] = None) -> WebhookAnswer:
        headers = {"Content-Type": "application/json", "User-Agent": "PaymentsStandIn/1.0",
                   SIGNATURE_HEADER: self.signature(payload) if signature is None else signature}
        request = urllib.request.Request(url or self.webhook_url, data=payload.encode(), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return WebhookAnswer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return WebhookAnswer(error.code, error.read().decode("utf-8", "replace"))

    def _settle(self, intent: dict, declined: bool):
        time.sleep(self.settle_after)
        if declined:
            intent = {**intent, "status": "requires_payment_method",
                      "last_payment_error": {"code": "card_declined", "message": DECLINED}}
        else:
            intent = {**intent, "status": "succeeded"}
        event_type = "payment_intent.payment_failed" if declined else "payment_intent.succeeded"
        payload = self.event(event_type, intent)
        with self._changed:
            held = self._held
            if held is not None:
                held.append(payload)
                self._changed.notify_all()
                return
        answer = self.post_webhook(payload) if self.webhook_url else None
        with self._changed:
            self._deliveries.append((json.loads(payload)["id"], event_type, answer))
            self._changed.notify_all()

    # -- the API, answered on the HTTP server's threads

    def api(self, path: str, authorization: Optional[str], idempotency_key: Optional[str], form: dict) -> tuple:
        if not hmac.compare_digest(authorization or "", f"Bearer {self.api_key}"):
            return 401, _error("invalid_request_error", "api_key_invalid", "Invalid API key provided")
        parts = path.strip("/").split("/")
        if parts == ["v1", "customers"]:
            customer = "cus_" + secrets.token_hex(8)
            with self._changed:
                self._customers.add(customer)
            return 200, {"id": customer, "object": "customer"}
        if len(parts) == 4 and parts[:2] == ["v1", "payment_methods"] and parts[3] == "attach":
            return self._attach(parts[2], form.get("customer", ""))
        if parts == ["v1", "payment_intents"]:
            return self._payment_intent(idempotency_key, form)
        return 404, _error("invalid_request_error", "resource_missing", "Unrecognized request URL")

    def _attach(self, token: str, customer: str) -> tuple:
        with self._changed:
            card = self._cards.get(token)
            known_customer = customer in self._customers
        if card is None:
            return 400, _error("invalid_request_error", "resource_missing", f"No such PaymentMethod: '{token}'")
        if not known_customer:
            return 400, _error("invalid_request_error", "resource_missing", "No such customer")
        return 200, {"id": token, "object": "payment_method", "type": "card", "customer": customer, "card": card}

    def _payment_intent(self, idempotency_key: Optional[str], form: dict) -> tuple:
        metadata = {key[len("metadata["):-1]: value for key, value in form.items() if key.startswith("metadata[")}
        with self._changed:
            if idempotency_key and idempotency_key in self._by_idempotency_key:
                return 200, self._by_idempotency_key[idempotency_key]
            if form.get("payment_method") not in self._cards:
                return 400, _error("invalid_request_error", "resource_missing", "No such PaymentMethod")
            charge = Charge("pi_" + secrets.token_hex(12), int(form.get("amount", 0)), form.get("currency", ""),
                            form.get("customer", ""), form["payment_method"], metadata, idempotency_key)
            intent = {"id": charge.id, "object": "payment_intent", "status": "processing", "amount": charge.amount,
                      "currency": charge.currency, "customer": charge.customer,
                      "payment_method": charge.payment_method, "metadata": metadata}
            declined = self._declines_left > 0
            self._declines_left -= 1 if declined else 0
            self._charges.append(charge)
            if idempotency_key:
                self._by_idempotency_key[idempotency_key] = intent
            self._changed.notify_all()
        threading.Thread(target=self._settle, args=(intent, declined), daemon=True).start()
        return 200, intent
