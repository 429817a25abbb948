"""Update requests over HTTP through the gateway, with the real notify and mail catcher: staff
who manage providers email a provider a single-use, expiring link; the provider reviews and
corrects their own record through it, once, and the changes land in the record's history
attributed to the request; used, expired, replaced or tampered links are refused and change
nothing; staff list the requests with their status; stale records get one automatically."""
import uuid
from datetime import datetime, timezone

import pytest

from shared.testing.api import add_staff_member, assert_problem, emailed_link, log_in, sign_up
from shared.testing.infrastructure import connect
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system

MARKER = "/public/provider-updates/"


@pytest.fixture(scope="module")
def program(system):
    return sign_up(system, name="Riverside Counseling")


def a_provider(system, program, **fields):
    email = f"provider-{uuid.uuid4().hex[:10]}@example.org"
    response = system.request("POST", "/api/v1/providers", token=program.access_token, json={
        "name": "Jane Doe", "email": email, "specialties": ["anxiety"], "languages": ["en"], **fields})
    assert response.status_code == 201, response.text
    return response.json()


def send_request(system, program, provider_id, **kwargs):
    return system.request("POST", f"/api/v1/providers/{provider_id}/update-requests", token=program.access_token,
                          **{"json": {}, **kwargs})


def record(system, program, provider_id):
    response = system.request("GET", f"/api/v1/providers/{provider_id}", token=program.access_token)
    assert response.status_code == 200, response.text
    return response.json()


def requests_of(system, program, provider_id, **params):
    response = system.request("GET", "/api/v1/provider-update-requests", token=program.access_token,
                              params={"provider_id": provider_id, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def public_path(link):
    return link.removeprefix(link.split(MARKER)[0])


def test_a_provider_corrects_their_record_once_through_the_emailed_link(system, program):
    provider = a_provider(system, program, last_verified_on="2024-01-10")
    sent = send_request(system, program, provider["id"])
    assert sent.status_code == 201, sent.text
    request = sent.json()
    assert (request["status"], request["trigger"], request["email"], request["provider_name"]) == (
        "sent", "staff", provider["email"], "Jane Doe")
    assert request["sent_by"] == program.owner_id

    link = public_path(emailed_link(system, provider["email"], MARKER))
    shown = system.request("GET", link)
    assert shown.status_code == 200, shown.text
    form = shown.json()
    assert form["program_name"] == "Riverside Counseling"
    assert form["provider"]["name"] == "Jane Doe" and form["provider"]["email"] == provider["email"]
    assert {"specialty", "insurance"} <= {term["taxonomy"] for term in form["terms"]}
    assert system.request("GET", link).status_code == 200  # looking (or a mail scanner) does not spend the link

    # Not valid: refused field by field, nothing changes, and the link still works.
    refused = assert_problem(system.request("POST", link, json={"specialties": ["astrology"], "name": "X"}), 422)
    assert refused["errors"] == {"specialties": ["Unknown or inactive specialty code: astrology."]}
    for bad in ({"last_verified_on": "2030-01-01"}, {"version": 9}, {"npi": "123"}, {"org_id": program.org_id}):
        assert_problem(system.request("POST", link, json=bad), 422, "VALIDATION_FAILED")
    assert_problem(system.request("POST", link, data="{not json", headers={"Content-Type": "application/json"}), 400)
    assert record(system, program, provider["id"])["version"] == provider["version"]

    done = system.request("POST", link, json={"specialties": ["anxiety", "grief"], "accepting_new_clients": False})
    assert done.status_code == 200, done.text
    assert done.json()["provider"]["specialties"] == ["anxiety", "grief"]
    corrected = record(system, program, provider["id"])
    assert corrected["specialties"] == ["anxiety", "grief"] and corrected["accepting_new_clients"] is False
    assert corrected["last_verified_on"] == datetime.now(timezone.utc).date().isoformat()

    history = system.request("GET", f"/api/v1/providers/{provider['id']}/history",
                             token=program.access_token).json()["items"]
    by_provider = [entry for entry in history if entry["update_request_id"] == request["id"]]
    assert {entry["field"] for entry in by_provider} == {"specialties", "accepting_new_clients", "last_verified_on"}
    assert {entry["actor_id"] for entry in by_provider} == {None}

    # Spent: the link answers Gone and changes nothing.
    assert_problem(system.request("GET", link), 410, "GONE")
    reused = assert_problem(system.request("POST", link, json={"name": "Someone Else"}), 410, "GONE")
    assert "already used" in reused["detail"]
    assert record(system, program, provider["id"])["name"] == "Jane Doe"
    [listed] = requests_of(system, program, provider["id"])
    assert (listed["id"], listed["status"], listed["completed_at"] is not None) == (request["id"], "completed", True)


def test_expired_replaced_and_tampered_links_are_refused(system, infrastructure, program):
    provider = a_provider(system, program)
    first = send_request(system, program, provider["id"]).json()
    first_link = public_path(emailed_link(system, provider["email"], MARKER))
    tampered = first_link[:-1] + ("A" if first_link[-1] != "A" else "B")
    assert_problem(system.request("GET", tampered), 404, "NOT_FOUND")
    assert_problem(system.request("POST", tampered, json={"name": "Tampered"}), 404, "NOT_FOUND")

    # A second request replaces the first: only the newest link works.
    other_address = f"direct-{uuid.uuid4().hex[:8]}@example.org"
    second = send_request(system, program, provider["id"], json={"email": other_address}).json()
    assert second["email"] == other_address
    second_link = public_path(emailed_link(system, other_address, MARKER))
    replaced = assert_problem(system.request("POST", first_link, json={"name": "Replaced"}), 410, "GONE")
    assert "replaced by a newer one" in replaced["detail"]
    assert system.request("GET", second_link).status_code == 200

    # The second link's time runs out.
    with connect(infrastructure, "directory") as conn, conn.cursor() as cur:
        cur.execute("UPDATE provider_update_requests SET expires_at = now() - interval '1 second' WHERE id = %s",
                    (second["id"],))
    assert_problem(system.request("GET", second_link), 410, "GONE")
    assert_problem(system.request("POST", second_link, json={"name": "Too Late"}), 410, "GONE")
    assert record(system, program, provider["id"])["version"] == provider["version"]
    assert {(item["id"], item["status"]) for item in requests_of(system, program, provider["id"])} == {
        (first["id"], "expired"), (second["id"], "expired")}
    assert requests_of(system, program, provider["id"], status="sent") == []


def test_only_managers_send_and_bad_requests_are_refused(system, infrastructure, program):
    provider = a_provider(system, program)
    _, email = add_staff_member(infrastructure, program, role="default")
    staff = log_in(system, email)
    assert_problem(system.request("POST", f"/api/v1/providers/{provider['id']}/update-requests", token=staff,
                                  json={}), 403, "FORBIDDEN")
    assert system.request("GET", "/api/v1/provider-update-requests", token=staff).status_code == 200  # staff read

    without_email = a_provider(system, program, email=None)
    refused = assert_problem(send_request(system, program, without_email["id"]), 422, "VALIDATION_FAILED")
    assert refused["errors"] == {"email": ["Give the address to send the link to."]}
    assert_problem(send_request(system, program, provider["id"], json={"email": "nope"}), 422)
    assert_problem(send_request(system, program, provider["id"], json={"unknown": 1}), 422)
    assert_problem(send_request(system, program, str(uuid.uuid4())), 404)
    assert_problem(system.request("GET", "/api/v1/provider-update-requests", token=program.access_token,
                                  params={"status": "pending"}), 422)
    other = sign_up(system)
    assert_problem(send_request(system, other, provider["id"]), 404)  # another program's provider
    assert requests_of(system, program, without_email["id"]) == []

    # The same Idempotency-Key sends once.
    key = {"Idempotency-Key": uuid.uuid4().hex}
    once = send_request(system, program, provider["id"], headers=key).json()
    again = send_request(system, program, provider["id"], headers=key)
    assert again.status_code == 201 and again.json()["id"] == once["id"]
    assert len(system.smtp.wait_for(lambda m: provider["email"] in m["X-Envelope-To"], count=2, timeout=3)) == 1


def test_stale_records_get_an_update_request_automatically(system):
    program = sign_up(system, name="Eastside Clinic")
    assert_problem(system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                                  json={"stale_after_days": 7}), 422)
    stale = a_provider(system, program, name="Long Unverified", last_verified_on="2020-03-01")
    fresh = a_provider(system, program, name="Just Verified",
                       last_verified_on=datetime.now(timezone.utc).date().isoformat())
    settings = system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                              json={"stale_after_days": 180})
    assert settings.status_code == 200 and settings.json()["stale_after_days"] == 180

    link = public_path(emailed_link(system, stale["email"], MARKER))  # the sweep runs every second here
    form = system.request("GET", link).json()
    assert (form["program_name"], form["provider"]["name"]) == ("Eastside Clinic", "Long Unverified")
    [automatic] = requests_of(system, program, stale["id"])
    assert (automatic["trigger"], automatic["sent_by"], automatic["status"]) == ("stale", None, "sent")
    assert system.request("POST", link, json={}).status_code == 200  # "all correct": verified today
    assert record(system, program, stale["id"])["last_verified_on"] == datetime.now(timezone.utc).date().isoformat()

    assert requests_of(system, program, fresh["id"]) == []
    assert len(requests_of(system, program, stale["id"])) == 1  # once, not at every sweep


# Corrections held for staff approval (the program's corrections_need_approval).

@pytest.fixture(scope="module")
def reviewed(system, infrastructure):
    """A program whose providers' corrections wait for approval, an admin who approves them and a
    staff member who only reads the directory."""
    program = sign_up(system, name="Harbor Health")
    turned_on = system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                               json={"corrections_need_approval": True})
    assert turned_on.status_code == 200 and turned_on.json()["corrections_need_approval"] is True, turned_on.text
    admin_id, admin_email = add_staff_member(infrastructure, program, role="admin")
    _, reader_email = add_staff_member(infrastructure, program, role="default")
    return program, (admin_id, log_in(system, admin_email)), log_in(system, reader_email)


def answered_request(system, program, provider, corrections):
    """An update request sent to ``provider`` and answered with ``corrections``; the answer."""
    request = send_request(system, program, provider["id"]).json()
    answer = system.request("POST", public_path(emailed_link(system, provider["email"], MARKER)), json=corrections)
    assert answer.status_code == 200, answer.text
    return request, answer.json()


def decide(system, token, request_id, decision, **kwargs):
    return system.request("POST", f"/api/v1/provider-update-requests/{request_id}/{decision}", token=token, **kwargs)


def detail(system, token, request_id):
    return system.request("GET", f"/api/v1/provider-update-requests/{request_id}", token=token)


def history_of(system, program, provider_id):
    response = system.request("GET", f"/api/v1/providers/{provider_id}/history", token=program.access_token)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_held_corrections_change_the_record_only_once_staff_approve_them(system, reviewed):
    program, (admin_id, admin), reader = reviewed
    provider = a_provider(system, program, last_verified_on="2024-01-10")
    request, answer = answered_request(system, program, provider, {
        "specialties": ["anxiety", "grief"], "accepting_new_clients": False, "languages": ["en"]})
    assert answer["status"] == "awaiting_approval"
    assert "Harbor Health received your corrections and will review them" in answer["message"]
    assert answer["provider"]["specialties"] == ["anxiety"]  # unchanged until approved

    unchanged = record(system, program, provider["id"])
    assert (unchanged["specialties"], unchanged["accepting_new_clients"], unchanged["last_verified_on"],
            unchanged["version"]) == (["anxiety"], True, "2024-01-10", provider["version"])
    assert [entry for entry in history_of(system, program, provider["id"]) if entry["action"] == "updated"] == []
    [listed] = requests_of(system, program, provider["id"], status="awaiting_approval")
    assert listed["id"] == request["id"] and listed["decided_by"] is None

    # Staff who read the directory see the corrections beside the record; only managers decide.
    shown = detail(system, reader, request["id"])
    assert shown.status_code == 200, shown.text
    assert shown.json()["changes"] == [  # languages is as it was: nothing to approve there
        {"field": "specialties", "current": ["anxiety"], "proposed": ["anxiety", "grief"]},
        {"field": "accepting_new_clients", "current": True, "proposed": False}]
    assert_problem(decide(system, reader, request["id"], "approve"), 403, "FORBIDDEN")
    assert_problem(decide(system, reader, request["id"], "reject", json={}), 403, "FORBIDDEN")
    assert record(system, program, provider["id"])["version"] == provider["version"]

    approved = decide(system, admin, request["id"], "approve")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["decided_by"], body["decided_at"] is not None) == ("approved", admin_id, True)
    today = datetime.now(timezone.utc).date().isoformat()
    corrected = record(system, program, provider["id"])
    assert (corrected["specialties"], corrected["accepting_new_clients"], corrected["last_verified_on"]) == (
        ["anxiety", "grief"], False, today)
    by_request = [entry for entry in history_of(system, program, provider["id"])
                  if entry["update_request_id"] == request["id"]]
    assert {entry["field"] for entry in by_request} == {"specialties", "accepting_new_clients", "last_verified_on"}
    assert {entry["actor_id"] for entry in by_request} == {admin_id}

    # Decided once.
    for decision in ("approve", "reject"):
        refused = assert_problem(decide(system, admin, request["id"], decision), 409, "CONFLICT")
        assert "already approved" in refused["detail"]
    assert record(system, program, provider["id"])["version"] == corrected["version"]
    assert [item["id"] for item in requests_of(system, program, provider["id"], status="approved")] == [request["id"]]


def test_rejected_corrections_are_discarded(system, reviewed):
    program, (admin_id, admin), _ = reviewed
    provider = a_provider(system, program)
    request, answer = answered_request(system, program, provider, {"name": "Someone Else"})
    assert answer["status"] == "awaiting_approval"

    for bad in ({"reason": "x" * 1001}, {"decision": "approved"}):
        assert_problem(decide(system, admin, request["id"], "reject", json=bad), 422, "VALIDATION_FAILED")
    assert requests_of(system, program, provider["id"])[0]["status"] == "awaiting_approval"

    rejected = decide(system, admin, request["id"], "reject", json={"reason": "Not the name on their license."})
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert (body["status"], body["decided_by"], body["rejection_reason"]) == (
        "rejected", admin_id, "Not the name on their license.")
    assert body["changes"] == [{"field": "name", "current": "Jane Doe", "proposed": "Someone Else"}]
    kept = record(system, program, provider["id"])
    assert (kept["name"], kept["last_verified_on"], kept["version"]) == ("Jane Doe", None, provider["version"])
    assert [entry for entry in history_of(system, program, provider["id"]) if entry["action"] == "updated"] == []
    refused = assert_problem(decide(system, admin, request["id"], "approve"), 409, "CONFLICT")
    assert "already rejected" in refused["detail"]
    assert [item["id"] for item in requests_of(system, program, provider["id"], status="rejected")] == [request["id"]]


def test_nothing_to_decide_is_refused_and_changes_nothing(system, reviewed):
    program, (_, admin), _ = reviewed
    provider = a_provider(system, program)

    # "All correct" has nothing to approve: the record is verified at once.
    confirmed, answer = answered_request(system, program, provider, {})
    assert answer["status"] == "completed" and "up to date" in answer["message"]
    assert record(system, program, provider["id"])["last_verified_on"] == datetime.now(timezone.utc).date().isoformat()
    assert detail(system, admin, confirmed["id"]).json()["changes"] == []
    refused = assert_problem(decide(system, admin, confirmed["id"], "approve"), 409, "CONFLICT")
    assert "nothing to approve" in refused["detail"]

    unanswered = send_request(system, program, provider["id"]).json()
    for decision in ("approve", "reject"):
        refused = assert_problem(decide(system, admin, unanswered["id"], decision), 409, "CONFLICT")
        assert "has not answered" in refused["detail"]

    # Unknown ids and another program's request answer 404, as does a malformed id.
    held_for = a_provider(system, program)
    held, _ = answered_request(system, program, held_for, {"name": "Held"})
    other = sign_up(system)
    for token, request_id in ((other.access_token, held["id"]), (admin, str(uuid.uuid4()))):
        assert_problem(detail(system, token, request_id), 404, "NOT_FOUND")
        for decision in ("approve", "reject"):
            assert_problem(decide(system, token, request_id, decision), 404, "NOT_FOUND")
    assert_problem(detail(system, admin, "not-an-id"), 404)
    assert requests_of(system, program, held_for["id"], status="awaiting_approval")[0]["id"] == held["id"]
    assert record(system, program, held_for["id"])["name"] == "Jane Doe"

    # The provider was removed meanwhile: the corrections can only be rejected.
    assert system.request("DELETE", f"/api/v1/providers/{held_for['id']}", token=admin).status_code == 204
    refused = assert_problem(decide(system, admin, held["id"], "approve"), 409, "CONFLICT")
    assert "removed from the directory" in refused["detail"]
    assert decide(system, admin, held["id"], "reject").json()["status"] == "rejected"


def test_a_renamed_program_signs_its_next_update_request_with_the_new_name(system, infrastructure):
    program = sign_up(system, name="Harbor Counseling")
    renamed = system.request("PATCH", "/api/v1/organization", token=program.access_token,
                             json={"name": "Harbor Counseling Center"})
    assert renamed.status_code == 200, renamed.text

    def known_name():  # the directory learns it from identity's event, not by asking
        with connect(infrastructure, "directory") as conn, conn.cursor() as cur:
            cur.execute("SELECT name FROM program_names WHERE org_id = %s", (program.org_id,))
            return (cur.fetchone() or [None])[0]

    assert wait_until(lambda: known_name() == "Harbor Counseling Center")
    provider = a_provider(system, program)
    assert send_request(system, program, provider["id"]).status_code == 201
    link = public_path(emailed_link(system, provider["email"], MARKER))
    assert system.request("GET", link).json()["program_name"] == "Harbor Counseling Center"
