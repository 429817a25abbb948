"""The processor's webhooks: signed Stripe-style (``t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">``), refused when the signature is wrong, the timestamp is outside the
tolerance (a captured request replayed later) or the event id was already taken."""
import hashlib
import hmac
import json

from sqlalchemy.dialects.postgresql import insert

from billing.models import ProcessorEvent
from shared.errors import BadRequest, Conflict, Forbidden

SIGNATURE_HEADER = "Payments-Signature"
TOLERANCE_SECONDS = 300


def sign(secret, timestamp, payload):
    signed = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret, timestamp, payload):
    return f"t={timestamp},v1={sign(secret, timestamp, payload)}"


def verify(secret, header, payload, now, tolerance=TOLERANCE_SECONDS):
    """Raise Forbidden unless ``header`` signs ``payload`` (the raw body, exactly as received)
    at a time within ``tolerance`` seconds of ``now``. Several v1 values are allowed (the
    processor sends one per secret while a secret is being rolled)."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if not timestamp or not timestamp.isdigit() or not signatures:
        raise Forbidden("The webhook signature is missing or malformed")
    expected = sign(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise Forbidden("The webhook signature is not valid")
    if abs(now - int(timestamp)) > tolerance:
        raise Forbidden("The webhook timestamp is outside the tolerance")


def parse(payload):
    try:
        event = json.loads(payload)
        return {"id": str(event["id"]), "type": str(event["type"]),
                "object": dict(event["data"]["object"])}
    except (ValueError, KeyError, TypeError):
        raise BadRequest("The webhook body is not a processor event") from None


def take(session, event):
    """Record the event id in the caller's transaction; a replay is refused."""
    taken = session.execute(insert(ProcessorEvent).values(event_id=event["id"], event_type=event["type"])
                            .on_conflict_do_nothing().returning(ProcessorEvent.event_id)).first()
    if taken is None:
        raise Conflict("This webhook event was already received")
