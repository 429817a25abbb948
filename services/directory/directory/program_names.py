"""Programs' names, as identity last told them: staff actions refresh them (``identity.
get_organization``), and messages sent with no staff member acting (stale update requests)
read them here instead of asking identity."""
import uuid

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from directory.models import ProgramName


def remember(session: Session, org_id: uuid.UUID, name: str) -> None:
    statement = insert(ProgramName).values(org_id=org_id, name=name)
    session.execute(statement.on_conflict_do_update(index_elements=[ProgramName.org_id],
                                                    set_={"name": name, "refreshed_at": func.now()}))


def name_of(session: Session, org_id: uuid.UUID) -> str | None:
    program = session.get(ProgramName, org_id)
    return program.name if program else None
