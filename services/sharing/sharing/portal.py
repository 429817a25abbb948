"""The partner portal: the clients currently shared with the caller's partner organization,
each as its card (name, photo, basic contact) and share note, and the contacts the partner
records with them. Every read is audited, a refused one too (outcome "denied"), so the log
shows a partner still trying after a revocation."""
import uuid
from datetime import datetime, timezone

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert

from sharing.access import granting_access, org_of, parse_id, partner_of
from sharing.models import ClientCard, Contact, Partner, Share
from sharing.schemas import PartnerClientSchema, PartnerContactSchema
from shared import audit
from shared.errors import Conflict, NotFound
from shared.pagination import decode_cursor, page

def _now():
    return datetime.now(timezone.utc)


def _shared_with(caller):
    """Shares granting the caller's partner access now, with the client's card."""
    return (select(Share, ClientCard)
            .join(Partner, Partner.id == Share.partner_id)
            .join(ClientCard, ClientCard.client_id == Share.client_id)
            .where(Share.org_id == org_of(caller), Share.partner_id == partner_of(caller),
                   granting_access(_now())))


def list_clients(session, caller, query):
    statement = _shared_with(caller)
    after = decode_cursor(query.get("cursor"), key_length=3)
    if after:
        statement = statement.where(tuple_(ClientCard.last_name, ClientCard.first_name, ClientCard.client_id)
                                    > tuple_(after[0], after[1], uuid.UUID(after[2])))
    rows = session.execute(statement.order_by(ClientCard.last_name, ClientCard.first_name, ClientCard.client_id)
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"],
                              lambda row: [row.ClientCard.last_name, row.ClientCard.first_name,
                                           str(row.ClientCard.client_id)])
    audit.record_for(session, caller, "partner.client_list", "partner", caller.linked_id,
                     details={"client_ids": [str(row.ClientCard.client_id) for row in items]})
    session.commit()
    return {"items": [_client(share, card) for share, card in items], "next_cursor": next_cursor}


def get_client(session, caller, client_id):
    share, card = _visible(session, caller, client_id, "partner.client_read")
    audit.record_for(session, caller, "partner.client_read", "client", card.client_id)
    session.commit()
    return _client(share, card)


def record_contact(session, caller, client_id, data):
    """Recorded once however often it is sent: a retry after a timeout, or the request
    redelivered to a restarted service, finds the same contact (and a different one at the
    same time by the same method is a conflict, not a second record)."""
    share, card = _visible(session, caller, client_id, "partner.contact_create", lock=True)
    values = {"org_id": share.org_id, "client_id": share.client_id, "recorded_by": caller.user_uuid,
              "occurred_at": data["occurred_at"], "method": data["method"]}
    contact_id = session.scalar(
        insert(Contact).values(id=uuid.uuid4(), partner_id=share.partner_id, share_id=share.id,
                               duration_minutes=data["duration_minutes"], note=data["note"],
                               review_status="needs_review", **values)
        .on_conflict_do_nothing(constraint="uq_contacts_natural").returning(Contact.id))
    if contact_id is not None:
        audit.record_for(session, caller, "partner.contact_create", "contact", contact_id,
                         details={"client_id": str(share.client_id)})
    contact = session.scalars(select(Contact).where(*(getattr(Contact, k) == v for k, v in values.items()))).one()
    session.commit()
    if (contact.duration_minutes, contact.note) != (data["duration_minutes"], data["note"]):
        raise Conflict("A contact at this time by this method is already recorded",
                       errors={"occurred_at": ["Already recorded with other details"]})
    return PartnerContactSchema().dump(contact)


def list_contacts(session, caller, client_id, query):
    """The contacts the caller's partner organization recorded with the client."""
    share, card = _visible(session, caller, client_id, "partner.contact_list")
    statement = select(Contact).where(Contact.org_id == share.org_id, Contact.client_id == share.client_id,
                                      Contact.partner_id == share.partner_id)
    after = decode_cursor(query.get("cursor"), key_length=2)
    if after:
        statement = statement.where(tuple_(Contact.occurred_at, Contact.id)
                                    < tuple_(datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(Contact.occurred_at.desc(), Contact.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda c: [c.occurred_at.isoformat(), str(c.id)])
    audit.record_for(session, caller, "partner.contact_list", "client", card.client_id)
    session.commit()
    return {"items": PartnerContactSchema(many=True).dump(items), "next_cursor": next_cursor}


def _visible(session, caller, client_id, action, lock=False):
    """The share granting the caller access to the client, with its card; else the refusal
    is audited and the client is not found. ``lock`` holds off a revocation until the caller's
    write commits."""
    statement = _shared_with(caller).where(Share.client_id == parse_id(client_id, "client"))
    row = session.execute(statement.with_for_update(read=True, of=Share) if lock else statement).first()
    if row is None:
        audit.record_for(session, caller, action, "client", client_id, outcome="denied")
        session.commit()
        raise NotFound("No such client")
    return row


def _client(share, card):
    return PartnerClientSchema().dump({"id": card.client_id, "first_name": card.first_name,
                                       "last_name": card.last_name, "photo_url": card.photo_url,
                                       "phone": card.phone, "email": card.email,
                                       "preferred_contact": card.preferred_contact, "share_note": share.note})
