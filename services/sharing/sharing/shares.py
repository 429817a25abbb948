"""Sharing a client with a partner under a consent, revoking it, and letting it expire.

Every share, revocation and expiry is audited. The partner's primary contact is emailed that a
client was shared, with no client detail at all: the portal, behind a sign-in, shows the rest."""
import uuid
from datetime import datetime, timezone

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from sharing import cards, events
from sharing.access import org_of, parse_id
from sharing.consent import effective_status, has_lapsed
from sharing.models import Partner, Share
from sharing.schemas import ShareSchema
from shared import audit, notifications, permissions as p
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.outbox import emit
from shared.pagination import decode_cursor, page

CONSENT_FIELDS = ("purpose", "information_disclosed", "disclosed_by", "expires_at", "expiry_event",
                  "agreed_by", "agreed_on", "revocation_acknowledged")
EXPIRY_BATCH = 500


def _now():
    return datetime.now(timezone.utc)


def share_client(session, caller, client_id, data, fetch_card, fetch_me, public_base_url):
    """``fetch_card`` is ``referrals.client_card`` on the caller's behalf (it answers 404 for a
    client the caller does not see); ``fetch_me`` is ``identity.me`` (names for the email)."""
    caller.require(p.SHARING_MANAGE)
    # The calls come first: the client in the path decides 404 before the body is judged, and
    # no transaction is held open while other services answer.
    card, me = fetch_card(client_id), fetch_me()
    partner = _sharing_partner(session, caller, data["partner_id"])
    client_id, now = uuid.UUID(card["id"]), _now()
    _end_lapsed_share_of(session, partner, client_id, now)
    share = Share(id=uuid.uuid4(), org_id=partner.org_id, client_id=client_id, partner_id=partner.id,
                  note=data["note"], status="active", created_by=caller.user_uuid, created_at=now,
                  **data["consent"])
    session.add(share)
    try:
        session.flush()
    except IntegrityError:  # a concurrent share of the same client with the same partner
        session.rollback()
        raise _already_shared() from None
    cards.store(session, partner.org_id, card)
    emit(session, events.CLIENT_SHARED, partner.org_id, _event_data(share))
    audit.record_for(session, caller, "share.create", "share", share.id, details={
        "client_id": str(client_id), "partner_id": str(partner.id)})
    notifications.request(session, partner.org_id, "client_shared", [notifications.recipient(
        partner.contact_email, partner.contact_name, partner.contact_language)], {
        "program_name": me["organization"]["name"], "partner_name": partner.name,
        "staff_name": f"{me['user']['first_name']} {me['user']['last_name']}".strip(),
        "link": f"{public_base_url}/partner/clients/{client_id}"})
    session.commit()
    return present(share, partner, now)


def _sharing_partner(session, caller, partner_id):
    partner = session.scalars(select(Partner).where(Partner.id == partner_id,
                                                    Partner.org_id == org_of(caller))).first()
    if partner is None:
        raise ValidationFailed("No such partner", errors={"partner_id": ["No such partner"]})
    if not partner.sharing_enabled:
        raise ValidationFailed("Sharing is off for this partner",
                               errors={"partner_id": ["Sharing is not enabled for this partner"]})
    return partner


def _end_lapsed_share_of(session, partner, client_id, now):
    """A live share of the pair blocks a new one, unless its consent has lapsed (and the
    timer has not marked it yet): then it expires here."""
    current = session.scalars(select(Share).where(Share.org_id == partner.org_id, Share.client_id == client_id,
                                                  Share.partner_id == partner.id, Share.status == "active")
                              .with_for_update()).first()
    if current is None:
        return
    if not has_lapsed(current.expires_at, now):
        raise _already_shared()
    _expire(session, current)


def _already_shared():
    return Conflict("This client is already shared with this partner; revoke that share first",
                    errors={"partner_id": ["Already shared"]})


def list_client_shares(session, caller, client_id, query, fetch_card):
    """Every share of a client, newest first. ``fetch_card`` makes an unknown client (or
    another program's) answer 404, not an empty list."""
    caller.require(p.SHARING_MANAGE)
    fetch_card(client_id)
    statement = (select(Share, Partner).join(Partner, Partner.id == Share.partner_id)
                 .where(Share.org_id == org_of(caller), Share.client_id == parse_id(client_id, "client")))
    after = decode_cursor(query.get("cursor"), key_length=2)
    if after:
        statement = statement.where(tuple_(Share.created_at, Share.id)
                                    < tuple_(datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.execute(statement.order_by(Share.created_at.desc(), Share.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda row: [row.Share.created_at.isoformat(), str(row.Share.id)])
    audit.record_for(session, caller, "share.list", "client", client_id)
    session.commit()
    now = _now()
    return {"items": [present(share, partner, now) for share, partner in items], "next_cursor": next_cursor}


def revoke(session, caller, share_id):
    """Ends the partner's access at once. Revoking a share that has already ended changes
    nothing."""
    caller.require(p.SHARING_MANAGE)
    share = session.scalars(select(Share).where(Share.id == parse_id(share_id, "share"),
                                                Share.org_id == org_of(caller)).with_for_update()).first()
    if share is None:
        raise NotFound("No such share")
    if share.status != "active":
        return
    share.status, share.ended_at, share.ended_by = "revoked", _now(), caller.user_uuid
    emit(session, events.SHARE_ENDED, share.org_id, {**_event_data(share), "reason": "revoked"})
    audit.record_for(session, caller, "share.revoke", "share", share.id, details={
        "client_id": str(share.client_id), "partner_id": str(share.partner_id)})
    session.commit()


def expire_lapsed(session, now=None):
    """Mark the shares whose consent has lapsed as expired (the timer's work). Access already
    ended at ``expires_at``; this records it. Several instances may run it: rows are claimed
    with SKIP LOCKED."""
    lapsed = session.scalars(select(Share).where(Share.status == "active", Share.expires_at <= (now or _now()))
                             .order_by(Share.expires_at).limit(EXPIRY_BATCH)
                             .with_for_update(skip_locked=True)).all()
    for share in lapsed:
        _expire(session, share)
    session.commit()
    return len(lapsed)


def _expire(session, share):
    share.status, share.ended_at = "expired", share.expires_at
    emit(session, events.SHARE_ENDED, share.org_id, {**_event_data(share), "reason": "expired"})
    audit.record(session, share.org_id, None, "share.expire", "share", share.id, details={
        "client_id": str(share.client_id), "partner_id": str(share.partner_id)})


def _event_data(share):
    return {"share_id": str(share.id), "client_id": str(share.client_id), "partner_id": str(share.partner_id)}


def present(share, partner, now):
    return ShareSchema().dump({
        "id": share.id, "client_id": share.client_id, "partner_id": partner.id, "partner_name": partner.name,
        "note": share.note, "status": effective_status(share.status, share.expires_at, partner.sharing_enabled, now),
        "consent": {field: getattr(share, field) for field in CONSENT_FIELDS},
        "created_by": share.created_by, "created_at": share.created_at,
        "ended_at": share.ended_at, "ended_by": share.ended_by})
