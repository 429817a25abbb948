"""Update requests on PostgreSQL: the emailed link works once, expires, is replaced by a newer
one, records the provider's corrections as history attributed to the request, refuses what is
not valid without changing anything; and the stale sweep asks exactly the stale providers."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from directory import program_names, providers, settings, update_requests
from directory.errors import Conflict, Gone, NotFound, ValidationFailed
from directory.models import Provider, ProviderUpdateRequest
from directory.schemas import DirectorySettings, ProviderCorrections, ProviderCreate

STAFF = uuid.uuid4()
BASE_URL = "https://handoff.example"
LINK = f"{BASE_URL}/public/provider-updates/"


@pytest.fixture
def org():
    return uuid.uuid4()


def create(session, org, **data):
    return providers.create_provider(session, org, STAFF, ProviderCreate().load(
        {"name": "Jane Doe", "email": "jane@example.org", "specialties": ["anxiety"], **data}))


def send(session, org, provider, **kwargs):
    request, _ = update_requests.send(session, org, provider.id, STAFF, kwargs.pop("email", None),
                                      "Riverside Counseling", BASE_URL, **kwargs)
    return request


def emails(session, org):
    """The update-request notifications written to the outbox for ``org``, oldest first."""
    return [row[0] for row in session.execute(text(
        "SELECT payload->'data' FROM outbox_events WHERE event_type = 'notification_requested' "
        "AND payload->>'org_id' = :org ORDER BY payload->>'occurred_at'"), {"org": str(org)})]


def token_of(email):
    link = email["variables"]["link"]
    assert link.startswith(LINK)
    return link.removeprefix(LINK)


def corrections(**data):
    return ProviderCorrections().load(data)


def test_the_link_goes_by_email_and_only_its_hash_is_kept(session, org):
    provider = create(session, org)
    request = send(session, org, provider)
    [email] = emails(session, org)
    assert email["kind"] == "provider_update_request"
    assert email["recipients"] == [{"address": "jane@example.org", "name": "Jane Doe", "language": "en"}]
    assert email["variables"] | {"link": None} == {"program_name": "Riverside Counseling", "provider_name": "Jane Doe",
                                                   "link": None, "expires_in_days": 14}
    token = token_of(email)
    assert token not in request.token_hash and len(request.token_hash) == 64
    assert request.expires_at - request.sent_at == update_requests.LINK_TTL
    assert update_requests.status_of(request, datetime.now(timezone.utc)) == "sent"
    assert update_requests.open_request(session, token) is request


def test_corrections_apply_once_with_history_attributed_to_the_request(session, org):
    provider = create(session, org, last_verified_on="2024-05-01")
    request = send(session, org, provider)
    token = token_of(emails(session, org)[0])

    done, corrected = update_requests.submit(session, token, corrections(
        specialties=["anxiety", "grief"], accepting_new_clients=False, phones=[{"number": "617-555-0199"}]))
    assert done is request and request.completed_at is not None
    assert corrected.specialties == ["anxiety", "grief"] and corrected.accepting_new_clients is False
    assert corrected.last_verified_on == datetime.now(timezone.utc).date()
    assert update_requests.status_of(request, datetime.now(timezone.utc)) == "completed"

    history = [entry for entry in providers.provider_history(session, org, provider.id).items
               if entry.action == "updated"]
    assert {entry.field for entry in history} == {"specialties", "accepting_new_clients", "phones", "last_verified_on"}
    assert {(entry.actor_id, entry.update_request_id) for entry in history} == {(None, request.id)}
    assert next(e for e in history if e.field == "last_verified_on").old_value == "2024-05-01"

    # The link is spent: reading or using it again is refused and changes nothing.
    version = corrected.version
    for again in (lambda: update_requests.open_request(session, token),
                  lambda: update_requests.submit(session, token, corrections(name="Someone Else"))):
        with pytest.raises(Gone) as error:
            again()
        assert "already used" in error.value.detail
    assert (provider.version, provider.name) == (version, "Jane Doe")


def test_an_empty_submission_confirms_the_record_as_it_is(session, org):
    provider = create(session, org)
    send(session, org, provider)
    request, confirmed = update_requests.submit(session, token_of(emails(session, org)[0]), corrections())
    assert confirmed.last_verified_on == datetime.now(timezone.utc).date()
    [entry] = [e for e in providers.provider_history(session, org, provider.id).items if e.action == "updated"]
    assert (entry.field, entry.old_value, entry.update_request_id) == ("last_verified_on", None, request.id)


def test_an_invalid_submission_changes_nothing_and_leaves_the_link_usable(session, org):
    provider = create(session, org)
    request = send(session, org, provider)
    token = token_of(emails(session, org)[0])
    with pytest.raises(ValidationFailed) as error:
        update_requests.submit(session, token, corrections(specialties=["astrology"], name="Jane Q. Doe"))
    assert error.value.errors == {"specialties": ["Unknown or inactive specialty code: astrology."]}
    assert (provider.name, provider.version, provider.last_verified_on, request.completed_at) == (
        "Jane Doe", 1, None, None)
    update_requests.submit(session, token, corrections(name="Jane Q. Doe"))
    assert provider.name == "Jane Q. Doe"


def test_expired_tampered_and_replaced_links_are_refused(session, org):
    provider = create(session, org)
    long_ago = datetime.now(timezone.utc) - update_requests.LINK_TTL - timedelta(minutes=1)
    expired = send(session, org, provider, now=long_ago)
    expired_token = token_of(emails(session, org)[0])
    assert update_requests.status_of(expired, datetime.now(timezone.utc)) == "expired"
    with pytest.raises(Gone) as error:
        update_requests.submit(session, expired_token, corrections(name="Too Late"))
    assert "expired" in error.value.detail

    first = send(session, org, provider)
    first_token = token_of(emails(session, org)[1])
    tampered = first_token[:-1] + ("A" if first_token[-1] != "A" else "B")
    with pytest.raises(NotFound):
        update_requests.open_request(session, tampered)

    second = send(session, org, provider)
    second_token = token_of(emails(session, org)[2])
    assert update_requests.status_of(first, datetime.now(timezone.utc)) == "expired"  # replaced
    with pytest.raises(Gone):
        update_requests.open_request(session, first_token)
    assert update_requests.open_request(session, second_token) is second
    assert provider.name == "Jane Doe" and provider.version == 1


def test_the_address_is_the_providers_unless_another_is_given(session, org):
    no_email = create(session, org, email=None, name="No Email")
    with pytest.raises(ValidationFailed) as error:
        send(session, org, no_email)
    assert error.value.errors == {"email": ["Give the address to send the link to."]}
    assert emails(session, org) == []
    request = send(session, org, no_email, email="direct@example.org")
    assert request.email == "direct@example.org"
    assert emails(session, org)[0]["recipients"][0]["address"] == "direct@example.org"

    with pytest.raises(NotFound):  # another program's provider
        send(session, uuid.uuid4(), no_email)


def test_an_idempotency_key_sends_once(session, org):
    provider, other = create(session, org), create(session, org, name="Other", email="other@example.org")
    first, sent = update_requests.send(session, org, provider.id, STAFF, None, "Riverside", BASE_URL,
                                       idempotency_key="key-1")
    again, sent_again = update_requests.send(session, org, provider.id, STAFF, None, "Riverside", BASE_URL,
                                             idempotency_key="key-1")
    assert (again, sent, sent_again) == (first, True, False)
    assert len(emails(session, org)) == 1
    with pytest.raises(Conflict):
        send(session, org, other, idempotency_key="key-1")
    with pytest.raises(ValidationFailed):
        send(session, org, provider, idempotency_key="k" * 201)
    assert len(emails(session, org)) == 1


def test_staff_list_requests_by_status_a_page_at_a_time(session, org):
    jane, ben, cara = (create(session, org, name=name, email=f"{name.lower()}@example.org")
                       for name in ("Jane", "Ben", "Cara"))
    now = datetime.now(timezone.utc)
    expired = send(session, org, jane, now=now - timedelta(days=30))
    completed = send(session, org, ben, now=now - timedelta(days=2))
    update_requests.submit(session, token_of(emails(session, org)[1]), corrections())
    sent = send(session, org, cara)
    other_org = uuid.uuid4()
    send(session, other_org, create(session, other_org))  # another program's: never listed here

    def listed(**query):
        rows, _ = update_requests.list_requests(session, org, {"limit": 50, **query})
        return [(request.id, name) for request, name in rows]

    assert listed() == [(sent.id, "Cara"), (completed.id, "Ben"), (expired.id, "Jane")]
    assert listed(status="sent") == [(sent.id, "Cara")]
    assert listed(status="completed") == [(completed.id, "Ben")]
    assert listed(status="expired") == [(expired.id, "Jane")]
    assert listed(provider_id=ben.id) == [(completed.id, "Ben")]

    walked, cursor = [], None
    while True:
        rows, cursor = update_requests.list_requests(session, org, {"limit": 2, "cursor": cursor} if cursor
                                                     else {"limit": 2})
        walked += [request.id for request, _ in rows]
        if cursor is None:
            break
    assert walked == [sent.id, completed.id, expired.id]
    _, unfiltered_cursor = update_requests.list_requests(session, org, {"limit": 1})
    with pytest.raises(ValidationFailed):  # a cursor of another query
        update_requests.list_requests(session, org, {"limit": 1, "status": "sent", "cursor": unfiltered_cursor})


def test_the_stale_sweep_asks_exactly_the_stale_providers_once_per_period(session, org):
    settings.update_settings(session, org, STAFF, DirectorySettings().load({"stale_after_days": 90}))
    program_names.remember(session, org, "Riverside Counseling", datetime.now(timezone.utc))
    today = datetime.now(timezone.utc)
    old = (today - timedelta(days=200)).date().isoformat()
    create(session, org, name="Stale", last_verified_on=old)
    never_verified = create(session, org, name="Never Verified", email="never@example.org")
    session.execute(update(Provider).where(Provider.id == never_verified.id)
                    .values(created_at=today - timedelta(days=120)))
    create(session, org, name="Fresh", last_verified_on=(today - timedelta(days=10)).date().isoformat())
    create(session, org, name="No Email", email=None, last_verified_on=old)
    deleted = create(session, org, name="Deleted", last_verified_on=old)
    providers.delete_provider(session, org, STAFF, deleted.id)
    # A program that asks for no automatic requests, and one whose name the directory never learnt.
    quiet_org, unnamed_org = uuid.uuid4(), uuid.uuid4()
    create(session, quiet_org, last_verified_on=old)
    settings.update_settings(session, unnamed_org, STAFF, DirectorySettings().load({"stale_after_days": 30}))
    create(session, unnamed_org, last_verified_on=old)

    def asked(now):
        mine = {org, quiet_org, unnamed_org}
        return sorted(session.get(Provider, request.provider_id).name
                      for request in update_requests.send_stale(session, BASE_URL, now=now) if request.org_id in mine)

    assert asked(today) == ["Never Verified", "Stale"]
    assert {request.trigger for request in session.scalars(
        select(ProviderUpdateRequest).where(ProviderUpdateRequest.org_id == org))} == {"stale"}
    assert [email["recipients"][0]["address"] for email in emails(session, org)] == [
        "jane@example.org", "never@example.org"]  # the longest unverified first
    assert asked(today + timedelta(days=1)) == []  # asked within the period
    # A period later the ignored requests are sent again, and the fresh record went stale meanwhile.
    assert asked(today + timedelta(days=91)) == ["Fresh", "Never Verified", "Stale"]


def test_a_staff_request_within_the_period_spares_the_provider_an_automatic_one(session, org):
    settings.update_settings(session, org, STAFF, DirectorySettings().load({"stale_after_days": 30}))
    program_names.remember(session, org, "Riverside Counseling", datetime.now(timezone.utc))
    provider = create(session, org, last_verified_on=(date.today() - timedelta(days=100)).isoformat())
    send(session, org, provider)
    assert [r for r in update_requests.send_stale(session, BASE_URL) if r.org_id == org] == []


# Corrections held for staff approval (the program's corrections_need_approval).

APPROVER = uuid.uuid4()


def needing_approval(session, org):
    settings.update_settings(session, org, STAFF, DirectorySettings().load({"corrections_need_approval": True}))


def answered(session, org, provider, **data):
    """A request sent to ``provider`` and answered with ``data``, corrections held for approval."""
    send(session, org, provider)
    request, _ = update_requests.submit(session, token_of(emails(session, org)[-1]), corrections(**data))
    return request


def updates_of(session, org, provider):
    return [entry for entry in providers.provider_history(session, org, provider.id).items if entry.action == "updated"]


def test_with_approval_on_corrections_wait_and_the_record_is_unchanged(session, org):
    needing_approval(session, org)
    provider = create(session, org, last_verified_on="2024-05-01")
    request = send(session, org, provider)
    token = token_of(emails(session, org)[0])

    # Validated exactly as when they apply: refused, nothing held, and the link still works.
    with pytest.raises(ValidationFailed):
        update_requests.submit(session, token, corrections(specialties=["astrology"]))
    assert (request.completed_at, request.proposed_changes) == (None, None)

    held, unchanged = update_requests.submit(session, token, corrections(
        name="Jane Q. Doe", specialties=["anxiety", "grief"], gender=None, accepting_new_clients=True))
    assert held is request and request.completed_at is not None
    assert update_requests.status_of(request, datetime.now(timezone.utc)) == "awaiting_approval"
    # Only what would really change is held (gender and accepting_new_clients are as they were).
    assert request.proposed_changes == {"name": "Jane Q. Doe", "specialties": ["anxiety", "grief"]}
    assert unchanged is provider
    assert (provider.name, provider.specialties, provider.version, provider.last_verified_on) == (
        "Jane Doe", ["anxiety"], 1, date(2024, 5, 1))
    assert updates_of(session, org, provider) == []
    assert update_requests.proposed_beside_current(session, request) == [
        {"field": "name", "current": "Jane Doe", "proposed": "Jane Q. Doe"},
        {"field": "specialties", "current": ["anxiety"], "proposed": ["anxiety", "grief"]}]
    with pytest.raises(Gone):  # the link is spent all the same
        update_requests.submit(session, token, corrections(name="Again"))
    rows, _ = update_requests.list_requests(session, org, {"limit": 50, "status": "awaiting_approval"})
    assert [row[0] for row in rows] == [request]
    for other in ("completed", "sent", "approved", "rejected"):
        assert update_requests.list_requests(session, org, {"limit": 50, "status": other})[0] == []


def test_approved_corrections_apply_with_history_naming_the_request_and_the_approver(session, org):
    needing_approval(session, org)
    provider = create(session, org, last_verified_on="2024-05-01")
    request = answered(session, org, provider, name="Jane Q. Doe", phones=[{"number": "617-555-0199"}])

    approved, corrected = update_requests.approve(session, org, request.id, APPROVER)
    assert approved is request and corrected is provider
    assert (provider.name, provider.phones[0]["number"]) == ("Jane Q. Doe", "617-555-0199")
    assert provider.last_verified_on == datetime.now(timezone.utc).date()
    assert (request.decision, request.decided_by, request.decided_at is not None) == ("approved", APPROVER, True)
    assert update_requests.status_of(request, datetime.now(timezone.utc)) == "approved"
    history = updates_of(session, org, provider)
    assert {entry.field for entry in history} == {"name", "phones", "last_verified_on"}
    assert {(entry.actor_id, entry.update_request_id) for entry in history} == {(APPROVER, request.id)}
    assert [row[0] for row in update_requests.list_requests(session, org, {"limit": 50, "status": "approved"})[0]] == [
        request]

    # Decided once: a second decision is refused and changes nothing.
    for decide in (lambda: update_requests.approve(session, org, request.id, STAFF),
                   lambda: update_requests.reject(session, org, request.id, STAFF, None)):
        with pytest.raises(Conflict) as error:
            decide()
        assert "already approved" in error.value.detail
    assert (request.decided_by, provider.version) == (APPROVER, 2)


def test_rejected_corrections_are_discarded_and_the_record_stays_unverified(session, org):
    needing_approval(session, org)
    provider = create(session, org)
    request = answered(session, org, provider, accepting_new_clients=False)

    rejected = update_requests.reject(session, org, request.id, APPROVER, "We called: they still take clients.")
    assert rejected is request
    assert (request.decision, request.decided_by, request.rejection_reason) == (
        "rejected", APPROVER, "We called: they still take clients.")
    assert (provider.accepting_new_clients, provider.last_verified_on, provider.version) == (True, None, 1)
    assert updates_of(session, org, provider) == []
    assert update_requests.proposed_beside_current(session, request) == [
        {"field": "accepting_new_clients", "current": True, "proposed": False}]  # kept for the record
    with pytest.raises(Conflict) as error:
        update_requests.approve(session, org, request.id, APPROVER)
    assert "already rejected" in error.value.detail
    assert provider.accepting_new_clients is True


def test_a_submission_changing_nothing_confirms_the_record_at_once(session, org):
    needing_approval(session, org)
    for data in ({}, {"name": "Jane Doe", "specialties": ["anxiety"]}):
        provider = create(session, org, name="Jane Doe")
        request = answered(session, org, provider, **data)
        assert update_requests.status_of(request, datetime.now(timezone.utc)) == "completed"
        assert request.proposed_changes is None
        assert provider.last_verified_on == datetime.now(timezone.utc).date()
        [entry] = updates_of(session, org, provider)
        assert (entry.field, entry.actor_id, entry.update_request_id) == ("last_verified_on", None, request.id)


def test_only_corrections_awaiting_approval_are_decided_within_the_program(session, org):
    provider = create(session, org)
    applied = answered(session, org, provider, name="Applied At Once")  # approval off: applied
    needing_approval(session, org)
    unanswered = send(session, org, provider)
    expired = send(session, org, create(session, org, name="Ben"), now=datetime.now(timezone.utc) - timedelta(days=30))
    for request, reason in ((applied, "applied when the provider sent them"), (unanswered, "not answered"),
                            (expired, "expired unanswered")):
        for decide in (lambda: update_requests.approve(session, org, request.id, APPROVER),
                       lambda: update_requests.reject(session, org, request.id, APPROVER, None)):
            with pytest.raises(Conflict) as error:
                decide()
            assert reason in error.value.detail
        assert request.decision is None

    held = answered(session, org, provider, name="Held")
    for other_org, request_id in ((uuid.uuid4(), held.id), (org, uuid.uuid4())):  # another program's; none
        for decide in (lambda: update_requests.approve(session, other_org, request_id, APPROVER),
                       lambda: update_requests.reject(session, other_org, request_id, APPROVER, None),
                       lambda: update_requests.get_request(session, other_org, request_id)):
            with pytest.raises(NotFound):
                decide()
    assert (held.decision, provider.name) == (None, "Applied At Once")


def test_corrections_of_a_provider_deleted_meanwhile_can_only_be_rejected(session, org):
    needing_approval(session, org)
    provider = create(session, org)
    request = answered(session, org, provider, name="Jane Q. Doe")
    providers.delete_provider(session, org, STAFF, provider.id)
    with pytest.raises(Conflict) as error:
        update_requests.approve(session, org, request.id, APPROVER)
    assert "removed from the directory" in error.value.detail
    assert request.decision is None
    assert update_requests.proposed_beside_current(session, request)[0]["current"] == "Jane Doe"
    update_requests.reject(session, org, request.id, APPROVER, None)
    assert request.decision == "rejected"


def test_the_stale_sweep_spares_a_provider_whose_corrections_await_approval(session, org):
    settings.update_settings(session, org, STAFF, DirectorySettings().load(
        {"stale_after_days": 30, "corrections_need_approval": True}))
    program_names.remember(session, org, "Riverside Counseling", datetime.now(timezone.utc))
    provider = create(session, org, last_verified_on=(date.today() - timedelta(days=100)).isoformat())
    request = answered(session, org, provider, name="Jane Q. Doe")
    a_period_later = datetime.now(timezone.utc) + timedelta(days=31)
    assert [r for r in update_requests.send_stale(session, BASE_URL, now=a_period_later) if r.org_id == org] == []
    update_requests.reject(session, org, request.id, APPROVER, None)
    assert [r.provider_id for r in update_requests.send_stale(session, BASE_URL, now=a_period_later)
            if r.org_id == org] == [provider.id]


def test_a_program_name_only_moves_forward_in_time(session, org):
    asked = []

    def ask_identity():
        asked.append(org)
        return "Riverside Counseling"

    # identity's event of the new program has not arrived yet: identity is asked, once.
    assert program_names.signature_of(session, org, ask_identity) == "Riverside Counseling"
    assert program_names.signature_of(session, org, ask_identity) == "Riverside Counseling"
    assert asked == [org]
    now = datetime.now(timezone.utc)
    program_names.remember(session, org, "Riverside Counseling", now - timedelta(seconds=1))  # the event, late
    program_names.remember(session, org, "Riverside Counseling Center", now + timedelta(minutes=1))
    program_names.remember(session, org, "Riverside", now - timedelta(days=1))  # a rename delivered late
    assert program_names.signature_of(session, org, ask_identity) == "Riverside Counseling Center"
    assert asked == [org]
