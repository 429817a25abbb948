"""Inbound requests: a person asks a provider of a program's public directory for help; the
request is kept for the program and emailed to every recipient the directory names for that
provider or practice (intake coordinator and clinician alike), once each.

Spam is kept out three ways, none of which needs a third party:
- a honeypot: the form carries a ``website`` field people never see; a request that fills it
  is answered like any other and dropped;
- a minimum fill time: the form is fetched first and carries a signed, timestamped token; a
  request sent sooner than ``min_seconds`` after it (a script), later than a day, or for
  another provider is refused;
- rate limits: the gateway's per-address limit on public routes, and here at most
  ``PER_SENDER_PER_HOUR`` stored requests per address (kept only as a keyed hash).

A case manager with a login refers people to the program the same way, without the spam
guards: the request records who referred, from which company and business unit, and the
case manager sees their own and their unit's referrals (referrals.access)."""
import hashlib
import hmac
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, tuple_

from referrals import events, programs
from referrals.access import get_case_manager_referral, parse_id, require_case_manager, visible_to_case_manager
from referrals.models import InboundRequest
from referrals.schemas import CaseManagerReferralSchema, InboundRequestSchema
from shared import audit, notifications, permissions as p
from shared.errors import RateLimited, ValidationFailed
from shared.outbox import emit
from shared.pagination import decode_cursor, page

log = logging.getLogger(__name__)

PER_SENDER_PER_HOUR = 5
FORM_TOKEN_MAX_AGE_SECONDS = 24 * 3600
RECEIVED = {"status": "received"}


@dataclass(frozen=True)
class FormChallenge:
    secret: str
    min_seconds: int

    def _mac(self, slug, provider_id, issued):
        message = f"{slug}|{provider_id}|{issued}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:32]

    def issue(self, slug, provider_id, now=None):
        issued = int(now if now is not None else time.time())
        return f"{issued}.{self._mac(slug, provider_id, issued)}"

    def check(self, token, slug, provider_id, now=None):
        now = now if now is not None else time.time()
        issued, _, mac = str(token).partition(".")
        if not issued.isdigit() or not hmac.compare_digest(mac, self._mac(slug, provider_id, int(issued))):
            raise ValidationFailed("The form has expired; reload it", errors={"form_token": ["Reload the form"]})
        age = now - int(issued)
        if age < self.min_seconds:
            raise ValidationFailed("Sent too quickly", errors={"form_token": ["Wait a moment, then send again"]})
        if age > FORM_TOKEN_MAX_AGE_SECONDS:
            raise ValidationFailed("The form has expired; reload it", errors={"form_token": ["Reload the form"]})

    def sender_hash(self, address):
        return hmac.new(self.secret.encode(), f"sender|{address}".encode(), hashlib.sha256).hexdigest()


def form(challenge, slug, provider_id, lookup):
    lookup(slug, str(parse_id(provider_id, "provider")))  # an unknown provider has no form
    return {"form_token": challenge.issue(slug, provider_id), "min_fill_seconds": challenge.min_seconds}


def submit(session, challenge, slug, provider_id, data, client, lookup, public_base_url):
    """``lookup`` is ``directory.public_provider``: the provider's program, name and recipients."""
    if data.get("website"):
        log.info("inbound request dropped by the honeypot")
        return RECEIVED
    challenge.check(data["form_token"], slug, provider_id)
    found = lookup(slug, str(parse_id(provider_id, "provider")))
    sender = challenge.sender_hash((client or {}).get("ip") or "")
    _limit_sender(session, sender)
    recipients = sorted({address.strip().lower() for address in found.get("recipients") or () if address})
    provider_name = found["provider"].get("name") or ""
    request = InboundRequest(id=uuid.uuid4(), org_id=uuid.UUID(found["org_id"]),
                             provider_id=uuid.UUID(str(found["provider"]["id"])), provider_name=provider_name,
                             name=data["name"], email=data.get("email"), phone=data.get("phone"),
                             message=data["message"], recipient_count=len(recipients), sender_hash=sender)
    session.add(request)
    if recipients:
        notifications.request(
            session, request.org_id, "inbound_referral_request",
            [notifications.recipient(address) for address in recipients],
            {"program_name": programs.program_name(session, request.org_id), "provider_name": provider_name,
             "link": f"{public_base_url}/inbound-requests/{request.id}"})
    emit(session, events.INBOUND_REQUEST_RECEIVED, request.org_id,
         {"inbound_request_id": str(request.id), "provider_id": str(request.provider_id)})
    session.commit()
    return RECEIVED


def _limit_sender(session, sender):
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    recent = session.scalar(select(func.count()).select_from(InboundRequest)
                            .where(InboundRequest.sender_hash == sender, InboundRequest.created_at > since))
    if recent >= PER_SENDER_PER_HOUR:
        raise RateLimited("Too many requests from this address; try again later", retry_after=3600)


def list_requests(session, caller, query):
    caller.require(p.REFERRALS_MANAGE)
    statement = select(InboundRequest).where(InboundRequest.org_id == caller.org_uuid)
    for name in ("provider_id", "case_manager_id"):
        if query.get(name):
            statement = statement.where(getattr(InboundRequest, name) == query[name])
    if query.get("source"):
        from_case_managers = InboundRequest.case_manager_id.is_not(None)
        statement = statement.where(from_case_managers if query["source"] == "case_manager" else ~from_case_managers)
    return _audited_page(session, caller, statement, query, InboundRequestSchema)


def _audited_page(session, caller, statement, query, schema):
    """A page of ``statement``'s requests, newest first; the read is audited (ids only)."""
    after = decode_cursor(query.get("cursor"), key_length=2)
    if after:
        statement = statement.where(tuple_(InboundRequest.created_at, InboundRequest.id)
                                    < tuple_(datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(InboundRequest.created_at.desc(), InboundRequest.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda r: [r.created_at.isoformat(), str(r.id)])
    if items:
        audit.record_for(session, caller, "inbound_request.list", "inbound_request",
                         details={"inbound_request_ids": [str(r.id) for r in items]})
    session.commit()
    return {"items": schema(many=True).dump(items), "next_cursor": next_cursor}


# A case manager's login. ``referrer_scope`` is ``directory.referrer_scope`` on their behalf.

def _case_manager_scope(caller, referrer_scope):
    require_case_manager(caller)
    return referrer_scope()


def refer_as_case_manager(session, caller, data, referrer_scope):
    """A case manager refers someone to the program; staff find it among the inbound requests,
    and the directory hears of it (a first referral onboards the case manager)."""
    scope = _case_manager_scope(caller, referrer_scope)
    referral = InboundRequest(
        id=uuid.uuid4(), org_id=caller.org_uuid, name=data["name"], email=data.get("email"),
        phone=data.get("phone"), message=data["message"], recipient_count=0,
        case_manager_id=uuid.UUID(scope["case_manager_id"]), company_id=uuid.UUID(scope["company_id"]),
        business_unit_id=uuid.UUID(scope["business_unit_id"]) if scope.get("business_unit_id") else None,
        submitted_by=caller.user_uuid)
    session.add(referral)
    emit(session, events.INBOUND_REQUEST_RECEIVED, referral.org_id,
         {"inbound_request_id": str(referral.id), "provider_id": None, "case_manager_id": scope["case_manager_id"]})
    audit.record_for(session, caller, "inbound_request.create", "inbound_request", referral.id,
                     details={"case_manager_id": scope["case_manager_id"]})
    session.commit()
    return CaseManagerReferralSchema().dump(referral)


def case_manager_referrals(session, caller, query, referrer_scope):
    scope = _case_manager_scope(caller, referrer_scope)
    statement = visible_to_case_manager(select(InboundRequest), caller, scope)
    if query.get("case_manager_id"):
        statement = statement.where(InboundRequest.case_manager_id == query["case_manager_id"])
    return _audited_page(session, caller, statement, query, CaseManagerReferralSchema)


def case_manager_referral(session, caller, referral_id, referrer_scope):
    scope = _case_manager_scope(caller, referrer_scope)
    referral = get_case_manager_referral(session, caller, scope, referral_id)
    audit.record_for(session, caller, "inbound_request.read", "inbound_request", referral.id)
    session.commit()
    return CaseManagerReferralSchema().dump(referral)
