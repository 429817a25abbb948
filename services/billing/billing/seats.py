"""Seats in use, from identity's user_activated / user_deactivated events (a local read model:
no call to identity when counting)."""
import uuid
from datetime import datetime

from sqlalchemy import func, select

from billing.models import Seat
from billing.plans import SEAT_KINDS
from shared.db import upsert_newer


def apply_user_event(session, event, active):
    """Upsert the user's seat. ``changed_at`` is the event's time, and a row only moves forward:
    an activation delivered after a later deactivation changes nothing."""
    data = event.data
    upsert_newer(session, Seat, "user_id", {
        "user_id": uuid.UUID(data["user_id"]), "org_id": uuid.UUID(event.org_id), "kind": data["kind"],
        "role": data["role"], "active": active, "changed_at": datetime.fromisoformat(event.occurred_at)},
        as_of="changed_at")


def seats_in_use(session, org_id):
    return session.scalar(select(func.count()).select_from(Seat).where(
        Seat.org_id == org_id, Seat.active, Seat.kind.in_(SEAT_KINDS)))
