"""Seats in use, from identity's user_activated / user_deactivated events (a local read model:
no call to identity when counting)."""
import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from billing.models import Seat
from billing.plans import SEAT_KINDS


def apply_user_event(session, event, active):
    """Upsert the user's seat. ``changed_at`` is the event's time, and a row only moves forward:
    an activation delivered after a later deactivation changes nothing."""
    data = event.data
    changed_at = datetime.fromisoformat(event.occurred_at)
    statement = insert(Seat).values(user_id=uuid.UUID(data["user_id"]), org_id=uuid.UUID(event.org_id),
                                    kind=data["kind"], role=data["role"], active=active,
                                    changed_at=changed_at)
    session.execute(statement.on_conflict_do_update(
        index_elements=[Seat.user_id],
        set_={"active": statement.excluded.active, "kind": statement.excluded.kind,
              "role": statement.excluded.role, "changed_at": statement.excluded.changed_at},
        where=Seat.changed_at <= statement.excluded.changed_at))


def seats_in_use(session, org_id):
    return session.scalar(select(func.count()).select_from(Seat).where(
        Seat.org_id == org_id, Seat.active, Seat.kind.in_(SEAT_KINDS)))
