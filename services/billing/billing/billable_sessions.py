"""Billable sessions: a client seen by a clinician for a catalog service on a date, priced at
the catalog's rate of that moment."""
import uuid
from datetime import datetime

from sqlalchemy import select, tuple_

from billing import catalog, subscriptions
from billing.models import BillableSession
from billing.schemas import SessionSchema
from shared import audit, permissions as p
from shared.errors import NotFound, ValidationFailed
from shared.pagination import decode_cursor, page


def dump(sessions):
    return SessionSchema(many=True).dump([
        {**{c: getattr(s, c) for c in ("id", "client_id", "clinician_id", "service_id", "session_date",
                                       "units", "unit_price_cents", "currency", "invoice_id")},
         "amount_cents": s.units * s.unit_price_cents} for s in sessions])


def record_session(session, caller, data):
    caller.require(p.INVOICING_MANAGE)
    subscriptions.ensure_org_writable(session, caller.org_id)
    try:
        service = catalog.service_of(session, caller.org_id, data["service_id"])
    except NotFound:
        raise ValidationFailed("Unknown service", errors={"service_id": ["Not in this program's catalog"]}) from None
    billable = BillableSession(id=uuid.uuid4(), org_id=caller.org_uuid, client_id=data["client_id"],
                               clinician_id=data["clinician_id"], service_id=service.id,
                               session_date=data["session_date"], units=data["units"],
                               unit_price_cents=service.rate_cents, currency=service.currency,
                               created_by=caller.user_uuid)
    session.add(billable)
    audit.record_for(session, caller, "invoicing.session.create", "billable_session", billable.id)
    session.commit()
    return dump([billable])[0]


def list_sessions(session, caller, query):
    caller.require(p.INVOICING_READ, p.INVOICING_MANAGE)
    statement = select(BillableSession).where(BillableSession.org_id == caller.org_uuid)
    if query.get("client_id"):
        statement = statement.where(BillableSession.client_id == query["client_id"])
    if query.get("uninvoiced"):
        statement = statement.where(BillableSession.invoice_id.is_(None))
    after = decode_cursor(query.get("cursor"))
    if after:
        statement = statement.where(tuple_(BillableSession.created_at, BillableSession.id)
                                    > (datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(BillableSession.created_at, BillableSession.id)
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda s: [s.created_at.isoformat(), str(s.id)])
    return {"items": dump(items), "next_cursor": next_cursor}
