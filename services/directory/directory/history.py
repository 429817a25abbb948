"""Field-level change history, the same for every directory record that keeps one (providers,
case managers): one row per changed field with its old and new value as JSON, who and when;
read newest first, a keyset page at a time. The record's own module checks that the record is
the caller's before reading its history."""
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import FieldHistory
from shared.pagination import decode_cursor, encode_cursor, query_fingerprint


@dataclass
class HistoryPage:
    items: list[FieldHistory]
    next_cursor: str | None


@dataclass(frozen=True)
class Trail:
    """The history table of one kind of record, and its column naming the record."""

    model: type[FieldHistory]
    record_field: str

    def record(self, session: Session, org_id: uuid.UUID, record_id: uuid.UUID, actor_id: uuid.UUID | None,
               action: str, changes: dict[str, tuple], **columns) -> None:
        """One row per ``field: (old, new)`` of ``changes`` (JSON values), sharing a change id;
        ``columns``: values of the model's own further columns (who else made the change)."""
        change_id = uuid.uuid4()
        session.add_all(
            self.model(org_id=org_id, change_id=change_id, action=action, field=field, old_value=old,
                       new_value=new, actor_id=actor_id, **{self.record_field: record_id}, **columns)
            for field, (old, new) in changes.items()
        )
        session.flush()

    def page(self, session: Session, org_id: uuid.UUID, record_id: uuid.UUID, limit: int = 50,
             cursor: str | None = None) -> HistoryPage:
        fingerprint = query_fingerprint("history", str(record_id))
        statement = select(self.model).where(self.model.org_id == org_id,
                                             getattr(self.model, self.record_field) == record_id)
        if cursor:
            (last_sequence,) = decode_cursor(cursor, fingerprint, key_length=1)
            statement = statement.where(self.model.sequence < int(last_sequence))
        rows = session.scalars(statement.order_by(self.model.sequence.desc()).limit(limit + 1)).all()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor([rows[-1].sequence], fingerprint)
        return HistoryPage(list(rows), next_cursor)


def changes_between(before: dict, after: dict, fields) -> dict[str, tuple]:
    """``field: (old, new)`` as JSON, for each of ``fields`` whose value really differs."""
    old_json, new_json = jsonable(before), jsonable(after)
    return {field: (old_json[field], new_json[field]) for field in fields if old_json[field] != new_json[field]}


def jsonable(value):
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
