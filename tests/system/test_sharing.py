"""Issue 7 end to end, every service running behind the gateway with real SMTP: seed 003's
walk from a partner organization to a reviewed third-party contact; access that ends at once
on revocation or consent expiry and never reaches another partner or program; partner users
refused everywhere else; the audit log; contacts recorded across a crash of sharing."""
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from gateway.routes import ROUTES
from shared.permissions import PARTNER_PORTAL
from shared.testing.api import PASSWORD, add_staff_member, assert_problem, emailed_link, log_in, sign_up
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system

CARD_KEYS = {"id", "first_name", "last_name", "photo_url", "phone", "email", "preferred_contact", "share_note"}


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def a_consent(**changes):
    return {"purpose": "Coordinate housing support", "information_disclosed": "Name, photo and contact details",
            "disclosed_by": "Riverside Counseling Center", "agreed_by": "The client",
            "expires_at": (datetime.now(timezone.utc) + timedelta(days=90)).isoformat(),
            "agreed_on": date.today().isoformat(), "revocation_acknowledged": True, **changes}


def a_partner(system, program, name=None):
    return ok(system.request("POST", "/api/v1/partners", token=program.access_token, json={
        "name": name or f"Eastside Housing {uuid.uuid4().hex[:6]}", "phone": "+15550001111",
        "address": {"line1": "1 Main St", "city": "Boston", "state": "MA", "postal_code": "02139"},
        "contact_name": "Pat Partner", "contact_email": f"pat-{uuid.uuid4().hex[:8]}@example.org",
        "sharing_enabled": True}), 201)


def a_client(system, program, **fields):
    return ok(system.request("POST", "/api/v1/clients", token=program.access_token, json={
        "first_name": "Maya", "last_name": "Student", "date_of_birth": "2001-04-02", "pronouns": "she/her",
        "phone": "+15551234567", "email": f"maya-{uuid.uuid4().hex[:6]}@example.org",
        "photo_url": "https://photos.example/maya.jpg", "address": {"line1": "9 Elm St"}, **fields}), 201)


def share(system, program, client_id, partner_id, **consent):
    return ok(system.request("POST", f"/api/v1/clients/{client_id}/shares", token=program.access_token, json={
        "partner_id": partner_id, "note": "Please check in weekly", "consent": a_consent(**consent)}), 201)


def a_partner_user(system, infrastructure, program, partner_id):
    return log_in(system, add_staff_member(infrastructure, program, "partner", linked_id=partner_id)[1])


def a_contact(**changes):
    return {"occurred_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(), "method": "in_person",
            "duration_minutes": 30, "note": "Met at the housing office", **changes}


def seats_in_use(system, program):
    return ok(system.request("GET", "/api/v1/billing/subscription", token=program.access_token))["seats_in_use"]


def audit_actions(system, program, count, **params):
    def enough():
        items = ok(system.request("GET", "/api/v1/audit-events", token=program.access_token,
                                  params={"limit": 200, **params}))["items"]
        return items if len(items) >= count else None
    return wait_until(enough, timeout=15) or []


def test_the_seed_walk_from_partner_organization_to_a_reviewed_contact(system):
    program = sign_up(system)
    partner = a_partner(system, program)
    user_email = f"pat-user-{uuid.uuid4().hex[:8]}@example.org"
    invited = ok(system.request("POST", f"/api/v1/partners/{partner['id']}/users", token=program.access_token,
                                json={"email": user_email, "first_name": "Pat", "last_name": "Partner"}), 201)
    assert invited["role"] == "partner" and invited["linked_id"] == partner["id"]
    seats_before = seats_in_use(system, program)
    token = emailed_link(system, user_email, "/invitations/").rsplit("/", 1)[1]
    ok(system.request("POST", f"/public/invitations/{token}/accept",
                      json={"first_name": "Pat", "last_name": "Partner", "password": PASSWORD}), 201)
    # The partner user takes a seat of the program's subscription, like a staff member.
    assert wait_until(lambda: seats_in_use(system, program) == seats_before + 1, timeout=15)

    client = a_client(system, program)
    shared = share(system, program, client["id"], partner["id"])
    assert shared["status"] == "active" and shared["partner_name"] == partner["name"]
    assert shared["consent"]["revocation_acknowledged"] is True

    [email] = system.smtp.wait_for(lambda m: partner["contact_email"] in m["X-Envelope-To"])
    text = email.get_body(("plain",)).get_content()
    assert f"/partner/clients/{client['id']}" in text
    for detail in ("Maya", "Student", "weekly", "housing support", client["email"], "2001"):
        assert detail not in text and detail not in email["Subject"], detail

    partner_token = log_in(system, user_email)
    me = ok(system.request("GET", "/api/v1/me", token=partner_token))
    assert me["user"]["role"] == "partner" and me["permissions"] == [PARTNER_PORTAL]
    [listed] = ok(system.request("GET", "/api/v1/partner/clients", token=partner_token))["items"]
    seen = ok(system.request("GET", f"/api/v1/partner/clients/{client['id']}", token=partner_token))
    assert listed == seen and seen.keys() == CARD_KEYS
    assert seen == {"id": client["id"], "first_name": "Maya", "last_name": "Student",
                    "photo_url": "https://photos.example/maya.jpg", "phone": "+15551234567",
                    "email": client["email"], "preferred_contact": "email", "share_note": "Please check in weekly"}

    contact = ok(system.request("POST", f"/api/v1/partner/clients/{client['id']}/contacts", token=partner_token,
                                json=a_contact()), 201)
    assert contact["review_status"] == "needs_review"
    [mine] = ok(system.request("GET", f"/api/v1/partner/clients/{client['id']}/contacts", token=partner_token))["items"]
    assert mine["id"] == contact["id"]

    [needed] = ok(system.request("GET", "/api/v1/contacts", token=program.access_token,
                                 params={"review": "needed"}))["items"]
    assert needed["id"] == contact["id"] and needed["tags"] == ["third_party"]
    assert (needed["client_first_name"], needed["partner_name"]) == ("Maya", partner["name"])
    reviewed = ok(system.request("POST", f"/api/v1/contacts/{contact['id']}/review", token=program.access_token))
    assert reviewed["tags"] == ["actual", "third_party", "reviewed"]
    assert reviewed["reviewed_by"] == program.owner_id and reviewed["reviewed_at"]
    [on_the_log] = ok(system.request("GET", "/api/v1/contacts", token=program.access_token,
                                     params={"client_id": client["id"]}))["items"]
    assert on_the_log["tags"] == ["actual", "third_party", "reviewed"]
    assert ok(system.request("GET", "/api/v1/contacts", token=program.access_token,
                             params={"review": "needed"}))["items"] == []

    actions = {e["action"] for e in audit_actions(system, program, 1, action="share.create")}
    assert actions == {"share.create"}
    reads = audit_actions(system, program, 3, actor_id=me["user"]["id"])
    assert {"partner.client_list", "partner.client_read", "partner.contact_list"} <= {e["action"] for e in reads}


def test_revocation_and_expiry_end_access_at_once_and_no_one_else_ever_sees_the_client(system, infrastructure):
    program, elsewhere = sign_up(system), sign_up(system)
    partner, other_partner = a_partner(system, program), a_partner(system, program)
    client = a_client(system, program)
    shared = share(system, program, client["id"], partner["id"])
    token = a_partner_user(system, infrastructure, program, partner["id"])
    strangers = [a_partner_user(system, infrastructure, program, other_partner["id"]),
                 a_partner_user(system, infrastructure, elsewhere, a_partner(system, elsewhere)["id"]),
                 a_partner_user(system, infrastructure, elsewhere, partner["id"])]  # a forged link
    path = f"/api/v1/partner/clients/{client['id']}"
    ok(system.request("GET", path, token=token))
    for stranger in strangers:
        assert ok(system.request("GET", "/api/v1/partner/clients", token=stranger))["items"] == []
        for method, suffix, body in (("GET", "", None), ("GET", "/contacts", None), ("POST", "/contacts", a_contact())):
            assert_problem(system.request(method, path + suffix, token=stranger, json=body), 404)

    ok(system.request("PATCH", f"/api/v1/partners/{partner['id']}", token=program.access_token,
                      json={"sharing_enabled": False}))
    assert_problem(system.request("GET", path, token=token), 404)
    ok(system.request("PATCH", f"/api/v1/partners/{partner['id']}", token=program.access_token,
                      json={"sharing_enabled": True}))
    ok(system.request("GET", path, token=token))

    ok(system.request("DELETE", f"/api/v1/shares/{shared['id']}", token=program.access_token), 204)
    assert_problem(system.request("GET", path, token=token), 404)
    assert_problem(system.request("POST", path + "/contacts", token=token, json=a_contact()), 404)
    assert ok(system.request("GET", "/api/v1/partner/clients", token=token))["items"] == []

    soon = datetime.now(timezone.utc) + timedelta(seconds=3)
    share(system, program, client["id"], partner["id"], expires_at=soon.isoformat())
    ok(system.request("GET", path, token=token))
    time.sleep(max(0.0, (soon - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    assert_problem(system.request("GET", path, token=token), 404)
    statuses = [s["status"] for s in ok(system.request("GET", f"/api/v1/clients/{client['id']}/shares",
                                                       token=program.access_token))["items"]]
    assert statuses == ["expired", "revoked"]

    assert audit_actions(system, program, 1, action="share.revoke")[0]["resource_id"] == shared["id"]
    denied = [e for e in audit_actions(system, program, 3, action="partner.client_read") if e["outcome"] == "denied"]
    assert len(denied) >= 2


@pytest.fixture(scope="module")
def partner_token(system, infrastructure):
    program = sign_up(system)
    return a_partner_user(system, infrastructure, program, a_partner(system, program)["id"])


@pytest.mark.parametrize("route", [r for r in ROUTES if r.permissions and PARTNER_PORTAL not in r.permissions],
                         ids=lambda r: r.name)
def test_a_partner_user_is_refused_every_non_partner_route(system, partner_token, route):
    path = route.path
    for converter in ("uuid", "string", "int"):
        path = path.replace(f"<{converter}:", "<")
    path = "/".join(str(uuid.uuid4()) if part.startswith("<") else part for part in path.split("/"))
    assert_problem(system.request(route.method, path, token=partner_token, json={}), 403)


def test_contacts_recorded_while_sharing_is_killed_and_restarted_are_not_lost(system, infrastructure):
    """Partners keep recording while sharing is killed (kill -9) and started again. The
    gateway answers 504 or 503 meanwhile; each client sends again until it gets a 2xx, as a
    client should. Every contact then exists exactly once: an answered one was committed,
    and one sent again after the crash (or redelivered to the restarted service) is not
    recorded twice."""
    program = sign_up(system)
    partner = a_partner(system, program)
    client = a_client(system, program)
    share(system, program, client["id"], partner["id"])
    token = a_partner_user(system, infrastructure, program, partner["id"])
    url = system.url(f"/api/v1/partner/clients/{client['id']}/contacts")
    first_visit = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
    crashed_and_back = threading.Event()
    sent, accepted, statuses = [], [], []

    def record(contact):
        with requests.Session() as http:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    response = http.post(url, json=contact, headers={"Authorization": f"Bearer {token}"}, timeout=30)
                except requests.RequestException:
                    continue
                statuses.append(response.status_code)
                if response.ok:
                    return response.json()["id"]
                assert response.status_code in (502, 503, 504), response.text
                time.sleep(0.2)
        raise AssertionError(f"never accepted: {contact['occurred_at']}")

    def keep_recording(worker):
        visit = 0
        while not crashed_and_back.is_set():
            contact = a_contact(occurred_at=(first_visit + timedelta(days=worker, minutes=visit)).isoformat(),
                                note=f"Visit {worker}.{visit}")
            sent.append(contact)
            accepted.append(record(contact))
            visit += 1
            time.sleep(0.1)

    def crash_and_restart():
        time.sleep(1)
        system.kill("sharing")
        # Down for longer than the gateway's RPC timeout: requests time out (504) while they
        # wait in sharing's queue, so the restarted service sees them and their retries.
        time.sleep(float(system.environment["RPC_TIMEOUT_SECONDS"]) + 1)
        system.start("sharing")
        system.wait_ready()
        time.sleep(1)
        crashed_and_back.set()

    with ThreadPoolExecutor(max_workers=5) as pool:
        workers = [pool.submit(keep_recording, worker) for worker in range(4)]
        pool.submit(crash_and_restart).result()
        for worker in workers:
            worker.result()

    assert any(status >= 500 for status in statuses), "the crash missed every request"
    recorded = ok(system.request("GET", f"/api/v1/partner/clients/{client['id']}/contacts", token=token,
                                 params={"limit": 200}))["items"]
    assert len(recorded) == len(sent) == len(set(accepted))
    assert sorted(c["id"] for c in recorded) == sorted(accepted)
    assert sorted(c["note"] for c in recorded) == sorted(c["note"] for c in sent)
