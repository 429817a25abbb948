"""Update requests (DESIGN 5.3): a provider is emailed a single-use, expiring link by which they
review and correct their own record.

Only the token's hash is kept. The link shows the record as often as it is opened (mail
scanners open links too) and takes one submission: the corrections, validated as a staff
edit is, applied with field-level history attributed to the request (no staff actor,
``update_request_id`` set), and the record marked verified today; a submission with no
corrections confirms the record as it is. After that, once the link expired, or once a newer
request for the same provider replaced it, the link answers Gone and changes nothing. A
submission that is not valid changes nothing either, and leaves the link usable.

Approval: when the program's settings say ``corrections_need_approval``, a valid submission
that would change some field is held on the request (``proposed_changes``, the values as they
would be stored) and the provider is left as it is: the link is spent all the same, and the
request awaits approval. Staff see each held field beside its current value, then approve
(applied then, with history attributed to the request and to the approving staff member, and
the record verified that day) or reject (discarded, the record not verified). A submission
that changes nothing has nothing to approve: it confirms the record at once, as without the
setting. Approving applies the held values over whatever the record holds by then, validated
again; a provider deleted meanwhile can only be rejected.

Stale records: when a program sets ``stale_after_days``, the periodic sweep sends a request
to each provider last verified (``last_verified_on``, else the day it was added) longer ago
than that and with an email address to send it to, at most once per that many days: a
provider who ignores the request is asked again a period later, not at every sweep, and one
whose corrections await approval is not asked until staff decide. A staff
edit does not count as verification; the provider's answer does, or staff setting
``last_verified_on`` after checking the record themselves.
"""
import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import Date, DateTime, cast, exists, func, literal, select, tuple_, update
from sqlalchemy.orm import Session

from directory import providers, settings
from directory.errors import Conflict, Gone, NotFound, ValidationFailed
from directory.history import jsonable
from directory.models import DirectorySettings, ProgramName, Provider, ProviderUpdateRequest
from directory.persistence import made_with_idempotency_key, unique_conflicts
from shared import notifications
from shared.pagination import decode_cursor, page, query_fingerprint

LINK_TTL = timedelta(days=14)
LINK_PATH = "/public/provider-updates/"
SWEEP_BATCH = 200  # requests sent per sweep; the rest wait for the next sweep
_SAME_KEY = {"uq_provider_update_requests_idempotency": (
    "An update request with this Idempotency-Key is being sent.", {})}
AWAITING_APPROVAL = "awaiting_approval"
# Why a request in each other status cannot be approved or rejected.
_NOT_AWAITING = {
    "sent": "The provider has not answered this request yet; there is nothing to approve or reject.",
    "expired": "This request expired unanswered; there is nothing to approve or reject.",
    "completed": "These corrections applied when the provider sent them (the program did not require approval "
                 "then); there is nothing to approve or reject.",
    "approved": "These corrections were already approved.",
    "rejected": "These corrections were already rejected.",
}


def send(session: Session, org_id: uuid.UUID, provider_id: uuid.UUID, actor_id: uuid.UUID | None,
         email: str | None, program_name: str, public_base_url: str, trigger: str = "staff",
         idempotency_key: str | None = None, now: datetime | None = None) -> tuple[ProviderUpdateRequest, bool]:
    """Email the provider a new link, to ``email`` or else the provider's own address; the link of
    an earlier request still open stops working. Answers the request and whether it was sent now:
    asked again with the same ``idempotency_key``, the first request is answered and nothing sent."""
    earlier = made_with_idempotency_key(session, ProviderUpdateRequest, org_id, idempotency_key)
    if earlier is not None:
        if earlier.provider_id != provider_id:
            raise Conflict("This Idempotency-Key was used for another provider's update request.")
        return earlier, False
    # Locked, so that two requests sent at once leave exactly one link working.
    provider = providers.get_provider(session, org_id, provider_id, lock=True)
    address = email or provider.email
    if not address:
        raise ValidationFailed("The provider has no email address to send the request to.",
                               {"email": ["Give the address to send the link to."]})
    now = now or datetime.now(timezone.utc)
    session.execute(update(ProviderUpdateRequest).where(
        ProviderUpdateRequest.provider_id == provider_id, ProviderUpdateRequest.completed_at.is_(None),
        ProviderUpdateRequest.expires_at > now).values(expires_at=now))
    token = secrets.token_urlsafe(24)
    request = ProviderUpdateRequest(org_id=org_id, provider_id=provider_id, token_hash=_hash(token), email=address,
                                    trigger=trigger, sent_by=actor_id, sent_at=now, expires_at=now + LINK_TTL,
                                    idempotency_key=idempotency_key)
    with unique_conflicts(session, _SAME_KEY):
        session.add(request)
    notifications.request(
        session, org_id, "provider_update_request", [notifications.recipient(address, provider.name)],
        {"program_name": program_name, "provider_name": provider.name, "link": f"{public_base_url}{LINK_PATH}{token}",
         "expires_in_days": LINK_TTL.days})
    return request, True


def open_request(session: Session, token: str, lock: bool = False) -> ProviderUpdateRequest:
    """The request of a link that still works: NotFound for a link that never existed, Gone for
    one used, expired or replaced."""
    statement = select(ProviderUpdateRequest).where(ProviderUpdateRequest.token_hash == _hash(token))
    request = session.scalar(statement.with_for_update() if lock else statement)
    if request is None:
        raise NotFound("This link is not valid; check that it was copied whole.")
    if request.completed_at is not None:
        raise Gone("This link was already used and the corrections were received; ask the program for a new "
                   "link to change anything else.")
    if request.expires_at <= datetime.now(timezone.utc):
        raise Gone("This link has expired or was replaced by a newer one; use the latest email, or ask the "
                   "program for a new link.")
    return request


def submit(session: Session, token: str, corrections: dict,
           now: datetime | None = None) -> tuple[ProviderUpdateRequest, Provider]:
    """The provider's ProviderCorrections-shaped ``corrections`` through the link, once: applied,
    or held for approval (see the module's docstring). Answers the request and the record as it is now."""
    request = open_request(session, token, lock=True)
    now = now or datetime.now(timezone.utc)
    needs_approval = settings.get_settings(session, request.org_id).corrections_need_approval
    proposed = needs_approval and providers.proposed_changes(session, request.org_id, request.provider_id,
                                                             corrections)
    if proposed:
        request.proposed_changes = {field: new for field, (_, new) in proposed.items()}
        provider = providers.get_provider(session, request.org_id, request.provider_id)
    else:
        provider = _apply(session, request, None, corrections, now)
    request.completed_at = now
    return request, provider


def get_request(session: Session, org_id: uuid.UUID, request_id: uuid.UUID,
                lock: bool = False) -> ProviderUpdateRequest:
    statement = select(ProviderUpdateRequest).where(ProviderUpdateRequest.org_id == org_id,
                                                    ProviderUpdateRequest.id == request_id)
    request = session.scalar(statement.with_for_update() if lock else statement)
    if request is None:
        raise NotFound("Update request not found.")
    return request


def approve(session: Session, org_id: uuid.UUID, request_id: uuid.UUID, actor_id: uuid.UUID,
            now: datetime | None = None) -> tuple[ProviderUpdateRequest, Provider]:
    """Apply the corrections the request holds, as ``actor_id`` approving them."""
    now = now or datetime.now(timezone.utc)
    request = _awaiting_decision(session, org_id, request_id, now)
    provider = providers.get_provider(session, request.org_id, request.provider_id, include_deleted=True)
    if provider.deleted_at is not None:
        raise Conflict("The provider was removed from the directory after sending these corrections; "
                       "reject them to close the request.")
    provider = _apply(session, request, actor_id, request.proposed_changes, now)
    _decide(request, "approved", actor_id, now)
    return request, provider


def reject(session: Session, org_id: uuid.UUID, request_id: uuid.UUID, actor_id: uuid.UUID,
           reason: str | None, now: datetime | None = None) -> ProviderUpdateRequest:
    """Discard the corrections the request holds; the record stays as it is, and unverified."""
    now = now or datetime.now(timezone.utc)
    request = _awaiting_decision(session, org_id, request_id, now)
    _decide(request, "rejected", actor_id, now)
    request.rejection_reason = reason
    return request


def proposed_beside_current(session: Session, request: ProviderUpdateRequest) -> list[dict]:
    """The corrections the request holds, field by field in the record's order, beside the
    provider's values now (JSON): ``{field, current, proposed}``. Empty when none were held."""
    proposed = request.proposed_changes or {}
    provider = providers.get_provider(session, request.org_id, request.provider_id, include_deleted=True)
    return [{"field": field, "current": jsonable(getattr(provider, field)), "proposed": proposed[field]}
            for field in providers.EDITABLE_FIELDS if field in proposed]


def status_of(request: ProviderUpdateRequest, now: datetime) -> str:
    if request.decision is not None:
        return request.decision
    if request.proposed_changes is not None:
        return AWAITING_APPROVAL
    if request.completed_at is not None:
        return "completed"
    return "sent" if request.expires_at > now else "expired"


def _apply(session: Session, request: ProviderUpdateRequest, actor_id: uuid.UUID | None, changes: dict,
           now: datetime) -> Provider:
    """``changes`` written with history naming the request (and ``actor_id``), the record verified today."""
    return providers.update_provider(session, request.org_id, actor_id, request.provider_id,
                                     {**changes, "last_verified_on": now.date()}, update_request_id=request.id)


def _awaiting_decision(session: Session, org_id: uuid.UUID, request_id: uuid.UUID,
                       now: datetime) -> ProviderUpdateRequest:
    # Locked, so that of two decisions at once the second finds the first's.
    request = get_request(session, org_id, request_id, lock=True)
    status = status_of(request, now)
    if status != AWAITING_APPROVAL:
        raise Conflict(_NOT_AWAITING[status])
    return request


def _decide(request: ProviderUpdateRequest, decision: str, actor_id: uuid.UUID, now: datetime) -> None:
    request.decision, request.decided_by, request.decided_at = decision, actor_id, now


def list_requests(session: Session, org_id: uuid.UUID, query: dict,
                  now: datetime | None = None) -> tuple[list[tuple[ProviderUpdateRequest, str]], str | None]:
    """UpdateRequestQuery-shaped ``query``: (request, provider name) newest first, and the next cursor."""
    now = now or datetime.now(timezone.utc)
    statement = (select(ProviderUpdateRequest, Provider.name)
                 .join(Provider, Provider.id == ProviderUpdateRequest.provider_id)
                 .where(ProviderUpdateRequest.org_id == org_id))
    if "provider_id" in query:
        statement = statement.where(ProviderUpdateRequest.provider_id == query["provider_id"])
    if status := query.get("status"):
        statement = statement.where(_in_status(status, now))
    scope = query_fingerprint("update_requests", query.get("provider_id"), status)
    if after := decode_cursor(query.get("cursor"), scope, key_length=2):
        statement = statement.where(tuple_(ProviderUpdateRequest.sent_at, ProviderUpdateRequest.id)
                                    < tuple_(datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.execute(statement.order_by(ProviderUpdateRequest.sent_at.desc(), ProviderUpdateRequest.id.desc())
                           .limit(query["limit"] + 1)).all()
    return page([tuple(row) for row in rows], query["limit"],
                lambda row: [row[0].sent_at.isoformat(), str(row[0].id)], scope)


def send_stale(session: Session, public_base_url: str, now: datetime | None = None,
               batch: int = SWEEP_BATCH) -> list[ProviderUpdateRequest]:
    """One sweep: a request to each stale provider (see the module's docstring), up to ``batch``,
    the longest unverified first. Providers another sweep is handling are skipped."""
    now = now or datetime.now(timezone.utc)
    period = DirectorySettings.stale_after_days
    verified_on = func.coalesce(Provider.last_verified_on, cast(Provider.created_at, Date))
    asked_within_period = exists().where(
        ProviderUpdateRequest.provider_id == Provider.id,
        ProviderUpdateRequest.sent_at > literal(now, DateTime(timezone=True)) - func.make_interval(0, 0, 0, period))
    # Corrections the provider sent are waiting for staff: asking again would be noise.
    awaiting_approval = exists().where(ProviderUpdateRequest.provider_id == Provider.id,
                                       _in_status(AWAITING_APPROVAL, now))
    rows = session.execute(
        select(Provider.org_id, Provider.id, ProgramName.name)
        .join(DirectorySettings, DirectorySettings.org_id == Provider.org_id)
        # Its emails are signed with the program's name (directory.program_names).
        .join(ProgramName, ProgramName.org_id == Provider.org_id)
        .where(period.is_not(None), Provider.deleted_at.is_(None), Provider.email.is_not(None),
               verified_on < literal(now.date(), Date) - period, ~asked_within_period,
               ~awaiting_approval)
        .order_by(verified_on, Provider.id).limit(batch)
        .with_for_update(of=Provider, skip_locked=True)).all()
    return [send(session, org_id, provider_id, None, None, program_name, public_base_url, trigger="stale", now=now)[0]
            for org_id, provider_id, program_name in rows]


def _in_status(status: str, now: datetime):
    """status_of's rule as SQL."""
    request = ProviderUpdateRequest
    if status in ("approved", "rejected"):
        return request.decision == status
    if status == AWAITING_APPROVAL:
        return request.proposed_changes.is_not(None) & request.decision.is_(None)
    if status == "completed":
        return request.completed_at.is_not(None) & request.proposed_changes.is_(None)
    live = request.expires_at > now
    return request.completed_at.is_(None) & (live if status == "sent" else ~live)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
