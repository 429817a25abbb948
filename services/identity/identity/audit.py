"""The audit log: appending records to each program's hash chain, reading and verifying it."""
import hashlib
import json
import uuid
from datetime import datetime

from sqlalchemy import select, text

from identity.models import AuditEvent, AuditHead
from identity.schemas import AuditEventSchema
from shared import permissions as p
from shared.pagination import decode_cursor, page

GENESIS = "0" * 64
CHAINED_FIELDS = ("event_id", "org_id", "actor_id", "action", "resource_type", "resource_id",
                  "outcome", "details", "source", "request_id", "occurred_at")


def _digest(prev_hash, fields):
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _chained_fields(event):
    return {name: _canonical(getattr(event, name)) for name in CHAINED_FIELDS}


def _canonical(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def append(session, event, source, request_id=None):
    """Appends one ``audit_recorded`` event. Appends to one program's chain are serialised
    by a per-program transaction lock (the head row may not exist yet to lock)."""
    org_id = uuid.UUID(event.org_id)
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"audit:{org_id}"})
    head = session.get(AuditHead, org_id)
    data = event.data
    record = AuditEvent(
        event_id=uuid.UUID(event.event_id), org_id=org_id,
        actor_id=uuid.UUID(data["actor_id"]) if data.get("actor_id") else None,
        action=data["action"], resource_type=data["resource_type"],
        resource_id=data.get("resource_id"), outcome=data.get("outcome", "success"),
        details=data.get("details") or {}, source=source, request_id=request_id,
        occurred_at=datetime.fromisoformat(event.occurred_at))
    record.prev_hash = head.last_hash if head else GENESIS
    record.hash = _digest(record.prev_hash, _chained_fields(record))
    session.add(record)
    session.flush()
    if head is None:
        session.add(AuditHead(org_id=org_id, last_id=record.id, last_hash=record.hash, count=1))
    else:
        head.last_id, head.last_hash, head.count = record.id, record.hash, head.count + 1


def list_events(session, caller, query):
    caller.require(p.AUDIT_VIEW)
    statement = select(AuditEvent).where(AuditEvent.org_id == caller.org_uuid)
    for field in ("actor_id", "action", "resource_type", "resource_id"):
        if query.get(field):
            statement = statement.where(getattr(AuditEvent, field) == query[field])
    if query.get("since"):
        statement = statement.where(AuditEvent.occurred_at >= query["since"])
    if query.get("until"):
        statement = statement.where(AuditEvent.occurred_at < query["until"])
    after = decode_cursor(query.get("cursor"))
    if after:
        statement = statement.where(AuditEvent.id < after[0])
    rows = session.scalars(statement.order_by(AuditEvent.id.desc()).limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda event: [event.id])
    return {"items": AuditEventSchema(many=True).dump(items), "next_cursor": next_cursor}


def verify_chain(session, caller):
    """Recomputes the program's chain: an altered record breaks its own hash, a removed one
    breaks its successor's link, a removed tail disagrees with the head."""
    caller.require(p.AUDIT_VIEW)
    org_id = caller.org_uuid
    previous, checked, problems = GENESIS, 0, []
    last = None
    for event in session.scalars(select(AuditEvent).where(AuditEvent.org_id == org_id)
                                 .order_by(AuditEvent.id).execution_options(yield_per=1000)):
        if event.prev_hash != previous:
            problems.append({"id": event.id, "problem": "link to the previous record is broken"})
        if _digest(event.prev_hash, _chained_fields(event)) != event.hash:
            problems.append({"id": event.id, "problem": "content does not match its hash"})
        previous, last, checked = event.hash, event, checked + 1
    head = session.get(AuditHead, org_id)
    if head is not None and (head.count != checked or last is None or head.last_id != last.id
                             or head.last_hash != last.hash):
        problems.append({"id": head.last_id, "problem": "records are missing from the end"})
    return {"valid": not problems, "checked": checked, "problems": problems}
