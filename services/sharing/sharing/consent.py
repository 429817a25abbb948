"""The consent behind a share, after 42 CFR 2.31: who discloses (``disclosed_by``) what
(``information_disclosed``) to whom (the partner) for which ``purpose``, until when (an
expiry time, an expiry event, or both), agreed by whom (``agreed_by``) on which date
(``agreed_on``), and that it may be revoked (``revocation_acknowledged``).

A share grants access while it is active, its consent has not lapsed and the partner has
sharing enabled. Lapse is checked on every read; a timer also marks lapsed shares expired, so
the record says so without anyone having looked."""
from datetime import datetime

# Agreement dates may be given in the client's local time zone, up to a day ahead of UTC.
AGREED_ON_SLACK_DAYS = 1


def consent_errors(consent, now):
    """Field errors of a consent record that is complete in form but not in substance."""
    errors = {}
    expires_at, agreed_on = consent.get("expires_at"), consent.get("agreed_on")
    if expires_at is None and not (consent.get("expiry_event") or "").strip():
        errors["expires_at"] = ["Give an expiry time, an expiry event, or both."]
    elif expires_at is not None and expires_at <= now:
        errors["expires_at"] = ["The consent must expire in the future."]
    if agreed_on is not None and (agreed_on - now.date()).days > AGREED_ON_SLACK_DAYS:
        errors["agreed_on"] = ["The client cannot have agreed on a future date."]
    if consent.get("revocation_acknowledged") is False:
        errors["revocation_acknowledged"] = ["The client must be told the consent can be revoked."]
    return errors


def has_lapsed(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at <= now


def effective_status(status: str, expires_at: datetime | None, sharing_enabled: bool, now: datetime) -> str:
    """What a share amounts to right now: active, suspended (the partner's sharing is off),
    expired (its consent lapsed, whether or not the timer has marked it yet) or revoked."""
    if status != "active":
        return status
    if has_lapsed(expires_at, now):
        return "expired"
    return "active" if sharing_enabled else "suspended"


def grants_access(status: str, expires_at: datetime | None, sharing_enabled: bool, now: datetime) -> bool:
    return effective_status(status, expires_at, sharing_enabled, now) == "active"
