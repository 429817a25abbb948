"""Programs' names, from identity's organization_created and organization_renamed events (a local
read model): the emails the directory sends (update requests, promotions) are signed with the
program's name without asking identity, but for a program whose event has not arrived yet."""
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from directory.models import ProgramName
from shared.db import upsert_newer


def remember(session: Session, org_id: uuid.UUID, name: str, as_of: datetime) -> None:
    """Upsert the name. It only moves forward in time, so a rename delivered after a later one
    changes nothing."""
    upsert_newer(session, ProgramName, "org_id", {"org_id": org_id, "name": name, "refreshed_at": as_of},
                 as_of="refreshed_at")


def apply_event(session: Session, event) -> None:
    """An organization_created or organization_renamed event; data: organization_id, name."""
    remember(session, uuid.UUID(event.data["organization_id"]), event.data["name"],
             datetime.fromisoformat(event.occurred_at))
    session.commit()


def name_of(session: Session, org_id: uuid.UUID) -> str | None:
    program = session.get(ProgramName, org_id)
    return program.name if program else None


def signature_of(session: Session, org_id: uuid.UUID, ask_identity: Callable[[], str]) -> str:
    """The name a message of the program is signed with. Unknown only in the moment between a
    program's sign-up and identity's event of it reaching the directory: then ``ask_identity``
    (the caller's program's name, from identity) answers, and is kept as the event would be."""
    name = name_of(session, org_id)
    if name is None:
        name = ask_identity()
        remember(session, org_id, name, datetime.now(timezone.utc))
    return name
