"""The payment processor, reached over its REST API (Stripe's shape: form-encoded requests,
bearer secret key, ``Idempotency-Key`` on charges, ``{"error": {...}}`` on failure). We send it
tokens and amounts only; card numbers never pass through Handoff."""
from dataclasses import dataclass

import requests


class ProcessorUnavailable(Exception):
    """Unreachable, overloaded, or refusing our key: try again later."""


class ProcessorRefused(Exception):
    """The processor declined the request itself (e.g. an unknown or expired token)."""

    def __init__(self, message, code=""):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class PaymentsClient:
    api_url: str
    api_key: str
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config):
        return cls(config["PAYMENTS_API_URL"].rstrip("/"), config["PAYMENTS_API_KEY"])

    def create_customer(self, org_id):
        return self._post("/v1/customers", {"metadata[org_id]": str(org_id)})["id"]

    def attach_payment_method(self, token, customer_id):
        """The card's display details (brand, last four, expiry) of an attached token."""
        method = self._post(f"/v1/payment_methods/{token}/attach", {"customer": customer_id})
        card = method.get("card") or {}
        return {"id": method["id"], "brand": card.get("brand"), "last4": card.get("last4"),
                "exp_month": card.get("exp_month"), "exp_year": card.get("exp_year")}

    def charge(self, customer_id, payment_method_id, amount_cents, currency, idempotency_key, metadata):
        """Start a charge; its outcome arrives by webhook. The idempotency key makes a retried
        request (after a timeout, say) the same charge, never a second one."""
        form = {"amount": amount_cents, "currency": currency, "customer": customer_id,
                "payment_method": payment_method_id, "confirm": "true", "off_session": "true"}
        form.update({f"metadata[{key}]": str(value) for key, value in metadata.items()})
        return self._post("/v1/payment_intents", form, headers={"Idempotency-Key": idempotency_key})

    def _post(self, path, form, headers=None):
        try:
            response = requests.post(self.api_url + path, data=form, timeout=self.timeout,
                                     headers={"Authorization": f"Bearer {self.api_key}", **(headers or {})})
        except requests.RequestException as error:
            raise ProcessorUnavailable(f"payments processor unreachable: {type(error).__name__}") from None
        if response.status_code in (401, 403, 429) or response.status_code >= 500:
            raise ProcessorUnavailable(f"payments processor answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise ProcessorUnavailable("payments processor answered something unreadable") from None
        if response.status_code >= 400:
            error = body.get("error") or {}
            raise ProcessorRefused(str(error.get("message") or "Refused by the payments processor")[:200],
                                   str(error.get("code") or ""))
        return body
