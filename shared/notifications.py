"""Asking notify to reach a person: a ``notification_requested`` event written to the caller's
outbox in the same transaction as the change that warrants the message, so the message goes
out if and only if the change committed. notify renders the ``kind``'s template in each
recipient's language and sends one message per (event, recipient, channel)."""
from shared.outbox import emit

NOTIFICATION_REQUESTED = "notification_requested"


def recipient(address, name="", language="en"):
    return {"address": address, "name": name, "language": language or "en"}


def request(session, org_id, kind, recipients, variables, channels=("email",), source_ref=None):
    """``variables`` are the template's; they must never carry secrets beyond the one-time
    link meant for the recipient, nor client health data. With ``source_ref`` (the producer's
    record, e.g. "referral_list:<id>") notify reports each message's status back."""
    data = {"kind": kind, "channels": list(channels), "recipients": list(recipients), "variables": variables}
    if source_ref:
        data["source_ref"] = source_ref
    return emit(session, NOTIFICATION_REQUESTED, org_id, data)
