"""Referral lists: providers chosen for a client (or an anonymous walk-in), each kept as a
snapshot with a note; edited while draft; sent by email and text through notify, printed
through notify; shown on a hosted page whose expiring link the text message carries.

Delivery: each send is one notification request whose event id is the send's id; notify
reports every message's progress back (``message_status_changed``) and the list shows the
latest status per channel."""
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, tuple_

from referrals import events, programs
from referrals.access import get_record, visible_records
from referrals.clients import referenced_client, require_contactable
from referrals.models import (
    Client, ReferralList, ReferralListDelivery, ReferralListItem, ReferralListLink, ReferralListSend,
)
from referrals.schemas import DeliverySchema, ListItemSchema, PublicListSchema, ReferralListSchema
from referrals.snapshots import take_snapshots
from referrals.tokens import hash_token, new_token
from shared import audit, notifications, permissions as p
from shared.errors import Conflict, Gone, NotFound, ValidationFailed
from shared.outbox import emit
from shared.pagination import decode_cursor, page

LINK_TTL = timedelta(days=30)
# The channel a client's preferred contact method asks for; "phone" means a call, not a message.
PREFERRED_CHANNEL = {"email": "email", "text": "sms"}
# Statuses only move forward, whatever order notify's reports arrive in.
DELIVERY_RANK = {"queued": 0, "sent": 1, "delivered": 2, "failed": 2, "bounced": 2}


def create_list(session, caller, data, fetch_snapshots):
    caller.require(p.REFERRALS_MANAGE)
    client = referenced_client(session, caller, data["client_id"]) if data.get("client_id") else None
    referral_list = ReferralList(id=uuid.uuid4(), org_id=caller.org_uuid,
                                 client_id=client.id if client else None, title=data.get("title"),
                                 note=data.get("note"), status="draft", created_by=caller.user_uuid,
                                 language=data.get("language") or (client.language if client else "en"))
    session.add(referral_list)
    session.flush()
    _replace_items(session, referral_list, data["items"], fetch_snapshots)
    audit.record_for(session, caller, "referral_list.create", "referral_list", referral_list.id,
                     details={"client_id": str(client.id) if client else None})
    session.commit()
    return present(session, referral_list)


def _replace_items(session, referral_list, items, fetch_snapshots):
    """Providers already on the list keep the snapshot taken when they were added."""
    current = _items(session, referral_list.id)
    kept = {item.provider_id: item.snapshot for item in current}
    fresh = take_snapshots([i["provider_id"] for i in items if i["provider_id"] not in kept], fetch_snapshots)
    for item in current:
        session.delete(item)
    session.flush()
    session.add_all(ReferralListItem(list_id=referral_list.id, position=position, provider_id=item["provider_id"],
                                     note=item.get("note"),
                                     snapshot=kept.get(item["provider_id"]) or fresh[str(item["provider_id"])])
                    for position, item in enumerate(items))


def _items(session, list_id):
    return session.scalars(select(ReferralListItem).where(ReferralListItem.list_id == list_id)
                           .order_by(ReferralListItem.position)).all()


def _get(session, caller, list_id, lock=False):
    caller.require(p.REFERRALS_MANAGE)
    return get_record(session, caller, ReferralList, list_id, "referral list", lock=lock)


def get_list(session, caller, list_id):
    referral_list = _get(session, caller, list_id)
    _audit_read(session, caller, "referral_list.read", referral_list)
    session.commit()
    return present(session, referral_list)


def _audit_read(session, caller, action, referral_list):
    if referral_list.client_id:  # a walk-in list names nobody
        audit.record_for(session, caller, action, "referral_list", referral_list.id,
                         details={"client_id": str(referral_list.client_id)})


def list_lists(session, caller, query):
    caller.require(p.REFERRALS_MANAGE)
    statement = visible_records(select(ReferralList), ReferralList, caller)
    for name in ("client_id", "status"):
        if query.get(name):
            statement = statement.where(getattr(ReferralList, name) == query[name])
    after = decode_cursor(query.get("cursor"), key_length=2)
    if after:
        statement = statement.where(tuple_(ReferralList.created_at, ReferralList.id)
                                    < tuple_(datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(ReferralList.created_at.desc(), ReferralList.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda r: [r.created_at.isoformat(), str(r.id)])
    return {"items": [present(session, r) for r in items], "next_cursor": next_cursor}


def update_list(session, caller, list_id, data, fetch_snapshots):
    referral_list = _get(session, caller, list_id, lock=True)
    if referral_list.status != "draft":
        raise Conflict("A sent list cannot change; start a new list")
    for name in ("title", "note", "language"):
        if name in data:
            setattr(referral_list, name, data[name])
    if "items" in data:
        _replace_items(session, referral_list, data["items"], fetch_snapshots)
    referral_list.updated_at = datetime.now(timezone.utc)
    audit.record_for(session, caller, "referral_list.update", "referral_list", referral_list.id,
                     details={"fields": sorted(data)})
    session.commit()
    return present(session, referral_list)


def send_list(session, caller, list_id, data, idempotency_key, fetch_me, public_base_url):
    """Send by the channels asked for (default: the client's preferred one). A client who asked
    not to be contacted is never sent to; a number that texted STOP is suppressed by notify,
    and its delivery shows as failed."""
    referral_list = _get(session, caller, list_id, lock=True)
    if idempotency_key:
        earlier = session.scalars(select(ReferralListSend).where(
            ReferralListSend.list_id == referral_list.id, ReferralListSend.idempotency_key == idempotency_key)).first()
        if earlier is not None:
            return present(session, referral_list)
    items = _items(session, referral_list.id)
    if not items:
        raise Conflict("The list has no providers yet")
    client = session.get(Client, referral_list.client_id) if referral_list.client_id else None
    if client is not None:
        require_contactable(client)
    addresses = recipients_for(client, data)
    profile = programs.sync_caller(session, caller, fetch_me)
    token, token_hash = new_token()
    session.add(ReferralListLink(token_hash=token_hash, list_id=referral_list.id,
                                 expires_at=datetime.now(timezone.utc) + LINK_TTL))
    name = client.first_name if client else ""
    request = notifications.request(
        session, caller.org_id, "referral_list",
        [notifications.recipient(address, name, referral_list.language) for address in addresses.values()],
        {"program_name": programs.program_name(session, referral_list.org_id),
         "client_first_name": name or None, "staff_name": programs.display_name(profile),
         "providers": [_template_provider(item) for item in items],
         "link": f"{public_base_url}/public/referral-lists/{token}"},
        channels=list(addresses), source_ref=f"referral_list:{referral_list.id}")
    send = ReferralListSend(id=uuid.UUID(request["event_id"]), list_id=referral_list.id,
                            org_id=referral_list.org_id, idempotency_key=idempotency_key,
                            sent_by=caller.user_uuid)
    session.add(send)
    session.flush()
    session.add_all(ReferralListDelivery(send_id=send.id, channel=channel, recipient=address, status="queued")
                    for channel, address in addresses.items())
    referral_list.status, referral_list.sent_at = "sent", datetime.now(timezone.utc)
    emit(session, events.REFERRAL_LIST_SENT, caller.org_id, {
        "referral_list_id": str(referral_list.id), "send_id": str(send.id), "channels": list(addresses),
        "provider_ids": [str(item.provider_id) for item in items]})
    audit.record_for(session, caller, "referral_list.send", "referral_list", referral_list.id,
                     details={"channels": list(addresses)})
    session.commit()
    return present(session, referral_list)


def recipients_for(client, data):
    """{channel: address}, from the request or else the client's record."""
    channels = data.get("channels")
    if not channels:
        preferred = PREFERRED_CHANNEL.get(client.preferred_contact) if client else None
        channels = [preferred] if preferred else [c for c, f in (("email", "email"), ("sms", "phone")) if data.get(f)]
    if not channels:
        raise ValidationFailed("Choose how to send the list", errors={"channels": ["Choose email, sms or both"]})
    addresses, errors = {}, {}
    for channel in channels:
        field = "email" if channel == "email" else "phone"
        address = data.get(field) or (getattr(client, field) if client else None)
        if address:
            addresses[channel] = address
        else:
            errors[field] = [f"No {'email address' if field == 'email' else 'mobile number'} to send to"]
    if errors:
        raise ValidationFailed("A recipient is missing", errors=errors)
    return addresses


def _template_provider(item):
    snapshot = item.snapshot
    return {"name": snapshot.get("name"), "credentials": snapshot.get("credentials"),
            "phone": snapshot.get("phone"), "email": snapshot.get("email"), "website": snapshot.get("website")}


def record_delivery(session, data):
    """notify's report on one message of a send; a later report never moves a status back."""
    try:
        send_id = uuid.UUID(str(data.get("source_event_id")))
    except ValueError:
        return
    delivery = session.scalars(select(ReferralListDelivery).where(
        ReferralListDelivery.send_id == send_id, ReferralListDelivery.channel == data.get("channel"))
        .with_for_update()).first()
    status = data.get("status")
    if delivery is None or DELIVERY_RANK.get(status, -1) <= DELIVERY_RANK[delivery.status]:
        return
    delivery.status, delivery.detail = status, (data.get("detail") or None)


def print_document(session, caller, list_id, query):
    """The document notify renders as PDF."""
    referral_list = _get(session, caller, list_id)
    client = session.get(Client, referral_list.client_id) if referral_list.client_id else None
    _audit_read(session, caller, "referral_list.print", referral_list)
    session.commit()
    return {"program_name": programs.program_name(session, referral_list.org_id),
            "language": referral_list.language, "paper": query["paper"],
            "date": (referral_list.sent_at or datetime.now(timezone.utc)).date().isoformat(),
            "client_first_name": client.first_name if client else None,
            "items": [{**item.snapshot, "note": item.note} for item in _items(session, referral_list.id)]}


def public_list(session, token):
    """The hosted page: the list and nothing else (no client, no staff member)."""
    link = session.get(ReferralListLink, hash_token(token))
    if link is None:
        raise NotFound("This link is not valid")
    if link.expires_at <= datetime.now(timezone.utc):
        raise Gone("This link has expired; ask your program to send the list again")
    referral_list = session.get(ReferralList, link.list_id)
    return PublicListSchema().dump({
        "program_name": programs.program_name(session, referral_list.org_id), "title": referral_list.title,
        "note": referral_list.note, "language": referral_list.language, "sent_at": referral_list.sent_at,
        "items": _items(session, referral_list.id)})


def present(session, referral_list):
    deliveries = session.scalars(
        select(ReferralListDelivery)
        .join(ReferralListSend, ReferralListSend.id == ReferralListDelivery.send_id)
        .where(ReferralListSend.list_id == referral_list.id)
        .order_by(ReferralListSend.sent_at, ReferralListDelivery.channel)).all()
    body = ReferralListSchema(exclude=("items", "deliveries")).dump(referral_list)
    body["items"] = ListItemSchema(many=True).dump(_items(session, referral_list.id))
    body["deliveries"] = DeliverySchema(many=True).dump(deliveries)
    return body

