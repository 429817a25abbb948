"""Programs' names, from identity's organization_created and organization_renamed events (a local
read model): the emails the directory sends (update requests, promotions) are signed with the
program's name without asking identity."""
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from directory.models import ProgramName
from shared.db import upsert_newer
from shared.errors import Unavailable


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


def signature_of(session: Session, org_id: uuid.UUID) -> str:
    """The name a message of the program is signed with. Unknown only in the moment between a
    program's sign-up and identity's event of it reaching the directory: try again then."""
    name = name_of(session, org_id)
    if name is None:
        raise Unavailable("The directory has not yet learnt this program's name; try again in a moment.")
    return name
