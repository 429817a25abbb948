"""Needs Review: the contacts partners recorded, on the program's home list and on each
client's log, and staff marking them reviewed (one or many at once), after which they are
actual, third-party, reviewed contacts with the reviewer and the time.

Reviewing needs ``clients.all``: a contact is part of a client's record, and this service
does not know which clients are assigned to whom (referrals does), so it cannot narrow the
list for staff who only see their assigned clients."""
import uuid
from datetime import datetime, timezone

from sqlalchemy import select, tuple_

from sharing.access import org_of, parse_id
from sharing.models import ClientCard, Contact, Partner
from sharing.schemas import ContactSchema
from shared import audit, permissions as p
from shared.errors import NotFound
from shared.pagination import decode_cursor, page, query_fingerprint

REVIEW_FILTER = {"needed": "needs_review", "done": "reviewed"}


def tags_of(review_status):
    """Every partner contact is third-party; review makes it an actual, reviewed one (seed 003)."""
    return ["actual", "third_party", "reviewed"] if review_status == "reviewed" else ["third_party"]


def _with_names():
    return (select(Contact, Partner.name, ClientCard.first_name, ClientCard.last_name)
            .join(Partner, Partner.id == Contact.partner_id)
            .join(ClientCard, ClientCard.client_id == Contact.client_id))


def list_contacts(session, caller, query):
    caller.require(p.CLIENTS_ALL)
    statement = _with_names().where(Contact.org_id == org_of(caller))
    if query.get("review"):
        statement = statement.where(Contact.review_status == REVIEW_FILTER[query["review"]])
    if query.get("client_id"):
        statement = statement.where(Contact.client_id == query["client_id"])
    scope = query_fingerprint(query.get("review"), str(query.get("client_id")))
    after = decode_cursor(query.get("cursor"), scope=scope, key_length=2)
    if after:
        statement = statement.where(tuple_(Contact.occurred_at, Contact.id)
                                    < tuple_(datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.execute(statement.order_by(Contact.occurred_at.desc(), Contact.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda row: [row.Contact.occurred_at.isoformat(),
                                                                 str(row.Contact.id)], scope)
    if items:
        audit.record_for(session, caller, "contact.list", "contact", details={
            "contact_ids": [str(row.Contact.id) for row in items]})
    session.commit()
    return {"items": [present(*row) for row in items], "next_cursor": next_cursor}


def review_one(session, caller, contact_id):
    return review(session, caller, [parse_id(contact_id, "contact")])["items"][0]


def review(session, caller, contact_ids):
    """Mark contacts reviewed, all or none: an id that is not a contact of this program
    refuses the lot. One already reviewed keeps its first reviewer and time."""
    caller.require(p.CLIENTS_ALL)
    wanted = set(contact_ids)
    rows = session.execute(_with_names().where(Contact.org_id == org_of(caller), Contact.id.in_(wanted))
                           .order_by(Contact.occurred_at.desc(), Contact.id.desc())
                           .with_for_update(of=Contact)).all()
    if len(rows) != len(wanted):
        raise NotFound("No such contact")
    now, reviewer = datetime.now(timezone.utc), caller.user_uuid
    for contact in (row.Contact for row in rows if row.Contact.review_status != "reviewed"):
        contact.review_status, contact.reviewed_by, contact.reviewed_at = "reviewed", reviewer, now
        audit.record_for(session, caller, "contact.review", "contact", contact.id,
                         details={"client_id": str(contact.client_id)})
    session.commit()
    return {"items": [present(*row) for row in rows]}


def present(contact, partner_name, client_first_name, client_last_name):
    return ContactSchema().dump({
        "id": contact.id, "client_id": contact.client_id, "occurred_at": contact.occurred_at,
        "method": contact.method, "duration_minutes": contact.duration_minutes, "note": contact.note,
        "recorded_by": contact.recorded_by, "review_status": contact.review_status,
        "created_at": contact.created_at, "partner_id": contact.partner_id, "partner_name": partner_name,
        "client_first_name": client_first_name, "client_last_name": client_last_name,
        "tags": tags_of(contact.review_status), "reviewed_by": contact.reviewed_by,
        "reviewed_at": contact.reviewed_at})
