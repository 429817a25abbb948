"""Closed-loop referrals: one client, one provider, followed to closure.

Every status change is a row of history (who, when, why); a referral is never deleted, only
cancelled or marked entered-in-error. When a referral is requested the provider is emailed a
link to answer without an account; their answers reach the staff member who referred."""
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime, func, literal, select, tuple_

from referrals import events, programs
from referrals.access import get_record, visible_records
from referrals.clients import referenced_client
from referrals.models import (
    Client, Program, Referral, ReferralList, ReferralStatusChange, StaffProfile,
)
from referrals.schemas import HistorySchema, ReferralForProviderSchema, ReferralSchema
from referrals.snapshots import take_snapshots
from referrals.status import OPEN_STATUSES, PROGRAM, PROVIDER, allowed_next, check_transition
from referrals.tokens import hash_token, new_token
from shared import audit, notifications, permissions as p
from shared.errors import Gone, NotFound, ValidationFailed
from shared.outbox import emit
from shared.pagination import decode_cursor, page

RESPONSE_LINK_TTL = timedelta(days=60)


def status_label(status):
    return status.replace("-", " ").capitalize()


def create_referral(session, caller, data, fetch_snapshots, fetch_me, public_base_url):
    caller.require(p.REFERRALS_MANAGE)
    client = referenced_client(session, caller, data["client_id"])
    if data.get("referral_list_id"):
        try:
            get_record(session, caller, ReferralList, data["referral_list_id"], "referral list")
        except NotFound:
            raise ValidationFailed("No such referral list",
                                   errors={"referral_list_id": ["No such referral list"]}) from None
    snapshot = take_snapshots([data["provider_id"]], fetch_snapshots, field="provider_id")[str(data["provider_id"])]
    referral = Referral(id=uuid.uuid4(), org_id=client.org_id, client_id=client.id,
                        provider_id=data["provider_id"], provider_snapshot=snapshot,
                        provider_email=data.get("provider_email") or snapshot.get("email"),
                        referral_list_id=data.get("referral_list_id"), note=data.get("note"),
                        status="draft", created_by=caller.user_uuid,
                        status_changed_at=datetime.now(timezone.utc))
    session.add(referral)
    session.flush()
    _record_change(session, referral, None, PROGRAM, caller.user_id, None)
    audit.record_for(session, caller, "referral.create", "referral", referral.id,
                     details={"client_id": str(client.id)})
    if data["status"] == "requested":
        _request(session, caller, referral, fetch_me, public_base_url)
    session.commit()
    return ReferralSchema().dump(referral)


def _record_change(session, referral, from_status, actor_type, actor_id, reason):
    session.add(ReferralStatusChange(referral_id=referral.id, org_id=referral.org_id, from_status=from_status,
                                     to_status=referral.status, reason=reason, actor_type=actor_type,
                                     actor_id=uuid.UUID(actor_id) if actor_id else None))


def _change_status(session, referral, wanted, actor_type, actor_id, reason):
    check_transition(referral.status, wanted, actor_type)
    before = referral.status
    now = datetime.now(timezone.utc)
    referral.status, referral.status_reason = wanted, reason
    referral.status_changed_at, referral.reminded_at = now, None
    if wanted == "accepted":
        referral.accepted_at = now
    _record_change(session, referral, before, actor_type, actor_id, reason)
    emit(session, events.REFERRAL_STATUS_CHANGED, referral.org_id, {
        "referral_id": str(referral.id), "provider_id": str(referral.provider_id),
        "from_status": before, "to_status": wanted, "actor_type": actor_type})


def _request(session, caller, referral, fetch_me, public_base_url, reason=None):
    """draft → requested: the provider gets a link to answer by."""
    if not referral.provider_email:
        raise ValidationFailed("The provider has no email address to send the request to",
                               errors={"provider_email": ["Give the provider's email address"]})
    _change_status(session, referral, "requested", PROGRAM, caller.user_id, reason)
    referral.requested_at = referral.status_changed_at
    token, referral.response_token_hash = new_token()
    referral.response_token_expires_at = referral.requested_at + RESPONSE_LINK_TTL
    profile = programs.sync_caller(session, caller, fetch_me)
    provider_name = referral.provider_snapshot.get("name") or ""
    notifications.request(
        session, referral.org_id, "referral_response_request",
        [notifications.recipient(referral.provider_email, provider_name)],
        {"program_name": programs.program_name(session, referral.org_id), "provider_name": provider_name,
         "staff_name": programs.display_name(profile), "respond_by": None,
         "link": f"{public_base_url}/public/referral-responses/{token}"})


def _get(session, caller, referral_id, lock=False):
    caller.require(p.REFERRALS_MANAGE)
    return get_record(session, caller, Referral, referral_id, "referral", lock=lock)


def get_referral(session, caller, referral_id):
    referral = _get(session, caller, referral_id)
    audit.record_for(session, caller, "referral.read", "referral", referral.id,
                     details={"client_id": str(referral.client_id)})
    session.commit()
    return ReferralSchema().dump(referral)


def history(session, caller, referral_id):
    referral = _get(session, caller, referral_id)
    changes = session.scalars(select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral.id)
                              .order_by(ReferralStatusChange.occurred_at, ReferralStatusChange.id)).all()
    audit.record_for(session, caller, "referral.history", "referral", referral.id,
                     details={"client_id": str(referral.client_id)})
    session.commit()
    return HistorySchema().dump({"items": changes})


def list_referrals(session, caller, query):
    caller.require(p.REFERRALS_MANAGE)
    statement = visible_records(select(Referral), Referral, caller)
    for name in ("client_id", "provider_id", "status"):
        if query.get(name):
            statement = statement.where(getattr(Referral, name) == query[name])
    after = decode_cursor(query.get("cursor"), key_length=2)
    if after:
        statement = statement.where(tuple_(Referral.created_at, Referral.id)
                                    < tuple_(datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(Referral.created_at.desc(), Referral.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda r: [r.created_at.isoformat(), str(r.id)])
    return {"items": ReferralSchema(many=True).dump(items), "next_cursor": next_cursor}


def update_referral(session, caller, referral_id, data, fetch_me, public_base_url):
    """The program's side: its note, the provider's address and the program's statuses."""
    referral = _get(session, caller, referral_id, lock=True)
    for name in ("note", "provider_email"):
        if name in data:
            setattr(referral, name, data[name])
    wanted = data.get("status")
    if wanted == "requested" and referral.status == "draft":
        _request(session, caller, referral, fetch_me, public_base_url, data.get("reason"))
    elif wanted:
        _change_status(session, referral, wanted, PROGRAM, caller.user_id, data.get("reason"))
    audit.record_for(session, caller, "referral.update", "referral", referral.id,
                     details={"fields": sorted(data), "client_id": str(referral.client_id)})
    session.commit()
    return ReferralSchema().dump(referral)


def _by_token(session, token, lock=False):
    statement = select(Referral).where(Referral.response_token_hash == hash_token(token))
    referral = session.scalars(statement.with_for_update() if lock else statement).first()
    if referral is None:
        raise NotFound("This link is not valid")
    if referral.response_token_expires_at <= datetime.now(timezone.utc):
        raise Gone("This link has expired; contact the program that referred the client")
    return referral


def for_provider(session, token):
    """What the provider's link shows: the program, the client's first name, the note and the
    answers open to them now."""
    referral = _by_token(session, token)
    client = session.get(Client, referral.client_id)
    return ReferralForProviderSchema().dump({
        "program_name": programs.program_name(session, referral.org_id),
        "provider_name": referral.provider_snapshot.get("name") or "", "client_first_name": client.first_name,
        "note": referral.note, "status": referral.status, "requested_at": referral.requested_at,
        "allowed_statuses": allowed_next(referral.status, PROVIDER)})


def respond(session, token, data, public_base_url):
    """The provider answers through its link; the staff member who referred hears of it."""
    referral = _by_token(session, token, lock=True)
    _change_status(session, referral, data["status"], PROVIDER, None, data.get("reason"))
    referrer = session.get(StaffProfile, referral.created_by)
    if referrer is not None:
        notifications.request(
            session, referral.org_id, "referral_status_changed",
            [notifications.recipient(referrer.email, referrer.first_name)],
            {"recipient_name": referrer.first_name, "provider_name": referral.provider_snapshot.get("name") or "",
             "status": status_label(referral.status), "link": f"{public_base_url}/referrals/{referral.id}"})
    audit.record(session, referral.org_id, None, "referral.provider_response", "referral", referral.id,
                 details={"status": referral.status})
    session.commit()
    return for_provider(session, token)


def remind_stale(session, public_base_url, now=None):
    """Email the referring staff member about each open referral with no change for the
    program's number of days; once per quiet spell (a change or a reminder restarts it)."""
    now = now or datetime.now(timezone.utc)
    quiet_since = literal(now, DateTime(timezone=True)) - func.make_interval(0, 0, 0, Program.stale_referral_days)
    rows = session.execute(
        select(Referral, Program.stale_referral_days, StaffProfile)
        .join(Program, Program.org_id == Referral.org_id)
        .outerjoin(StaffProfile, StaffProfile.user_id == Referral.created_by)
        .where(Referral.status.in_(OPEN_STATUSES), Program.stale_referral_days > 0,
               Referral.status_changed_at <= quiet_since,
               (Referral.reminded_at.is_(None)) | (Referral.reminded_at <= quiet_since))
        .limit(500).with_for_update(of=Referral, skip_locked=True)).all()
    for referral, days, referrer in rows:
        referral.reminded_at = now
        if referrer is None:
            continue
        notifications.request(
            session, referral.org_id, "referral_reminder",
            [notifications.recipient(referrer.email, referrer.first_name)],
            {"recipient_name": referrer.first_name, "provider_name": referral.provider_snapshot.get("name") or "",
             "status": status_label(referral.status), "days": days,
             "link": f"{public_base_url}/referrals/{referral.id}"})
    session.commit()
    return len(rows)
