"""Walks the route table for tenancy: for every route addressing a record by id, the owner of
another program (who holds every staff permission; on partner-portal routes, one of its partner
users; on case-manager-portal routes, one of its case managers' logins) gets 404 for a record
that exists, exactly as for a missing one. A route whose id kind has no factory here fails the
walk, so a new route is covered by adding one line below, not a new test."""
import base64
import re
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from gateway.routes import ROUTES
from shared.permissions import CASE_MANAGER_PORTAL, PARTNER_PORTAL
from shared.testing.api import add_staff_member, log_in, sign_up
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system

ID_PARAM = re.compile(r"<uuid:(\w+)>")


def a_staff_member(system, infrastructure, program):
    return add_staff_member(infrastructure, program)[0]


def a_message(system, infrastructure, program):
    system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                   json={"email": f"walk-{time.monotonic_ns()}@example.org", "role": "default"}).raise_for_status()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        items = system.request("GET", "/api/v1/messages", token=program.access_token).json()["items"]
        if items:
            return items[0]["id"]
        time.sleep(0.2)
    raise AssertionError("no message was logged")


def an_invitation(system, infrastructure, program):
    response = system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                              json={"email": f"walk-{time.monotonic_ns()}@example.org", "role": "default"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def a_provider(system, infrastructure, program):
    response = system.request("POST", "/api/v1/providers", token=program.access_token,
                              json={"name": "Walk Provider", "specialties": ["anxiety"]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def an_update_request(system, infrastructure, program):
    response = system.request("POST", "/api/v1/providers", token=program.access_token,
                              json={"name": "Walk Provider", "email": "walk-provider@example.org"})
    assert response.status_code == 201, response.text
    path = f"/api/v1/providers/{response.json()['id']}/update-requests"

    def send():  # 503 until identity's event of the new program reaches the directory (emails carry its name)
        answer = system.request("POST", path, token=program.access_token, json={})
        return None if answer.status_code == 503 else (answer,)

    (sent,) = wait_until(send)
    assert sent.status_code == 201, sent.text
    return sent.json()["id"]


def created(system, program, path, body):
    response = system.request("POST", path, token=program.access_token, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def a_client(system, infrastructure, program):
    return created(system, program, "/api/v1/clients", {"first_name": "Walk", "last_name": "Client"})


def a_client_import(system, infrastructure, program):
    response = system.request("POST", "/api/v1/client-imports", token=program.access_token,
                              json={"csv": "first_name,last_name\nWalk,Imported\n"})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def a_provider_import(system, infrastructure, program):
    response = system.request("POST", "/api/v1/provider-imports", token=program.access_token, json={
        "format": "csv", "content_b64": base64.b64encode(b"name\nWalk Imported\n").decode()})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def a_referral_list(system, infrastructure, program):
    return created(system, program, "/api/v1/referral-lists", {"items": []})


def a_referral(system, infrastructure, program):
    return created(system, program, "/api/v1/referrals", {
        "client_id": a_client(system, infrastructure, program),
        "provider_id": a_provider(system, infrastructure, program)})


def an_invoice(system, infrastructure, program):
    client_id = str(uuid.uuid4())
    service_id = created(system, program, "/api/v1/invoicing/services",
                         {"code": "90834", "name": "Psychotherapy, 45 minutes", "rate_cents": 12000})
    session_id = created(system, program, "/api/v1/invoicing/sessions", {
        "client_id": client_id, "clinician_id": program.owner_id, "service_id": service_id,
        "session_date": "2025-03-03"})
    return created(system, program, "/api/v1/invoicing/invoices", {
        "client_id": client_id, "session_ids": [session_id],
        "insurance": {"insurer": "Walk Health", "copay_cents": 2000}})


CONSENT = {"purpose": "Walk", "information_disclosed": "Contact details", "disclosed_by": "Walk Program",
           "expires_at": (datetime.now(timezone.utc) + timedelta(days=30)).isoformat(), "agreed_by": "The client",
           "agreed_on": date.today().isoformat(), "revocation_acknowledged": True}
CONTACT = {"occurred_at": "2025-01-02T10:00:00Z", "method": "phone", "duration_minutes": 10}


def a_partner(system, infrastructure, program):
    return created(system, program, "/api/v1/partners", {
        "name": f"Walk Partner {uuid.uuid4().hex[:6]}", "contact_name": "Pat", "contact_email": "pat@example.org"})


def a_partner_user(system, infrastructure, program):
    partner_id = a_partner(system, infrastructure, program)
    return partner_id, log_in(system, add_staff_member(infrastructure, program, "partner", linked_id=partner_id)[1])


def a_share(system, infrastructure, program, client_id=None, partner_id=None):
    client_id = client_id or a_client(system, infrastructure, program)
    partner_id = partner_id or a_partner(system, infrastructure, program)
    return created(system, program, f"/api/v1/clients/{client_id}/shares", {"partner_id": partner_id, "consent": CONSENT})


def a_contact(system, infrastructure, program):
    client_id = a_client(system, infrastructure, program)
    partner_id, token = a_partner_user(system, infrastructure, program)
    a_share(system, infrastructure, program, client_id, partner_id)
    response = system.request("POST", f"/api/v1/partner/clients/{client_id}/contacts", token=token, json=CONTACT)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def a_company(system, infrastructure, program):
    return created(system, program, "/api/v1/companies", {"name": f"Walk Company {uuid.uuid4().hex[:6]}"})


def a_case_manager(system, infrastructure, program):
    return created(system, program, "/api/v1/case-managers", {
        "company_id": a_company(system, infrastructure, program), "first_name": "Walk", "last_name": "Manager"})


def a_case_manager_user(system, infrastructure, program):
    case_manager_id = a_case_manager(system, infrastructure, program)
    return case_manager_id, log_in(system, add_staff_member(infrastructure, program, "case_manager",
                                                            linked_id=case_manager_id)[1])


def a_case_manager_referral(system, infrastructure, program):
    _, token = a_case_manager_user(system, infrastructure, program)
    response = system.request("POST", "/api/v1/case-manager/referrals", token=token, json={
        "name": "Walk Client", "email": "walk-client@example.org", "message": "Walk"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


# One factory per kind of id: it creates such a record in ``program`` and returns its id.
FACTORIES = {
    "user_id": a_staff_member,
    "message_id": a_message,
    "invitation_id": an_invitation,
    "provider_id": a_provider,
    "client_id": a_client,
    "duplicate_id": a_client,
    "import_id": a_client_import,
    "provider_import_id": a_provider_import,
    "update_request_id": an_update_request,
    "list_id": a_referral_list,
    "referral_id": a_referral,
    "invoice_id": an_invoice,
    "partner_id": a_partner,
    "share_id": a_share,
    "contact_id": a_contact,
    "company_id": a_company,
    "case_manager_id": a_case_manager,
    "case_manager_referral_id": a_case_manager_referral,
}

# Routes that refuse an empty body get a valid one, so the walk reaches the tenancy check.
BODIES = {
    "PATCH /api/v1/providers/<uuid:provider_id>": {"name": "Renamed"},
    "POST /api/v1/invoicing/invoices/<uuid:invoice_id>/payments": {"amount_cents": 100, "method": "cash"},
    "POST /api/v1/invoicing/invoices/<uuid:invoice_id>/credit-notes": {"client_cents": 100, "reason": "Walk"},
    "PUT /api/v1/invoicing/invoices/<uuid:invoice_id>/claim": {"status": "submitted"},
    "POST /api/v1/partners/<uuid:partner_id>/users": {"email": "walk-partner@example.org"},
    "POST /api/v1/clients/<uuid:client_id>/shares": {"partner_id": str(uuid.uuid4()), "consent": CONSENT},
    "POST /api/v1/partner/clients/<uuid:client_id>/contacts": CONTACT,
    "PATCH /api/v1/companies/<uuid:company_id>": {"name": "Renamed"},
    "POST /api/v1/companies/<uuid:company_id>/business-units": {"name": "Walk Unit"},
    "PATCH /api/v1/case-managers/<uuid:case_manager_id>": {"first_name": "Renamed"},
}

ROUTES_WITH_IDS = [r for r in ROUTES if not r.public and ID_PARAM.search(r.path)]


@pytest.fixture(scope="module")
def programs(system):
    return sign_up(system), sign_up(system)


@pytest.fixture(scope="module")
def records(system, infrastructure, programs):
    _, other = programs
    kinds = {kind for route in ROUTES_WITH_IDS for kind in ID_PARAM.findall(route.path)}
    missing = kinds - FACTORIES.keys()
    assert not missing, f"add a factory for these ids: {sorted(missing)}"
    return {kind: FACTORIES[kind](system, infrastructure, other) for kind in kinds}


@pytest.fixture(scope="module")
def partner_token(system, infrastructure, programs):
    """Portal routes are walked by a partner user of the first program."""
    return a_partner_user(system, infrastructure, programs[0])[1]


@pytest.fixture(scope="module")
def case_manager_token(system, infrastructure, programs):
    """Case-manager portal routes are walked by a case manager's login of the first program."""
    return a_case_manager_user(system, infrastructure, programs[0])[1]


@pytest.mark.parametrize("route", ROUTES_WITH_IDS, ids=lambda r: r.name)
def test_another_programs_record_is_not_found(system, programs, records, partner_token, case_manager_token,
                                              route):
    program, _ = programs
    path = ID_PARAM.sub(lambda m: records[m.group(1)], route.path)
    token = program.access_token
    if PARTNER_PORTAL in route.permissions:
        token = partner_token
    elif CASE_MANAGER_PORTAL in route.permissions:
        token = case_manager_token
    response = system.request(route.method, path, token=token, json=BODIES.get(route.name, {}))
    # A 422 here means the route needs an entry in BODIES.
    assert response.status_code == 404, f"{route.name}: {response.status_code} {response.text}"
