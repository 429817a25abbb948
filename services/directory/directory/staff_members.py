"""Who is on a program's staff, from identity's user_activated / user_deactivated events (a
local read model: choosing a case manager's business support officer asks identity nothing)."""
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import StaffMember
from shared.db import upsert_newer


def apply_user_event(session: Session, org_id: str, occurred_at: str, data: dict, active: bool) -> None:
    """Upsert the user. A row only moves forward in time, so an activation delivered after a
    later deactivation changes nothing."""
    upsert_newer(session, StaffMember, "user_id", {
        "user_id": uuid.UUID(data["user_id"]), "org_id": uuid.UUID(org_id), "kind": data["kind"], "active": active,
        "changed_at": datetime.fromisoformat(occurred_at)}, as_of="changed_at")


def is_active_staff(session: Session, org_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """A staff member of the program (not a partner or case-manager login) who is enabled."""
    return session.scalar(select(StaffMember.user_id).where(
        StaffMember.user_id == user_id, StaffMember.org_id == org_id, StaffMember.kind == "staff",
        StaffMember.active)) is not None
