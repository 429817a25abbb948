"""Issue 9 end to end, every service running behind the gateway with real SMTP: seed 002's
case managers of companies and business units, refused with field errors when incomplete and
saved with nothing when refused; recruitment statuses set, filtered on and counted; value
lists that never orphan a value; a case manager's login that sees its business unit's
referrals and nothing else, and is onboarded by its first referral; promotions that reach
only subscribed, verified case managers until they unsubscribe."""
import uuid

import pytest

from shared.testing.api import PASSWORD, add_staff_member, assert_problem, emailed_link, log_in, sign_up
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system

STATUSES = ("recruiting", "onboarding", "onboarded", "non_booking_contact")


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def a_company(system, program, name=None):
    return ok(system.request("POST", "/api/v1/companies", token=program.access_token, json={
        "name": name or f"Acme Insurance {uuid.uuid4().hex[:6]}", "phone": "617-555-0100", "state": "MA"}), 201)


def a_unit(system, program, company, name="Workers Comp"):
    return ok(system.request("POST", f"/api/v1/companies/{company['id']}/business-units",
                             token=program.access_token, json={"name": name}), 201)


def a_case_manager(system, program, company, **fields):
    return ok(system.request("POST", "/api/v1/case-managers", token=program.access_token, json={
        "company_id": company["id"], "first_name": "Alex", "last_name": "Romero", **fields}), 201)


def case_managers(system, program, **params):
    return ok(system.request("GET", "/api/v1/case-managers", token=program.access_token,
                             params={"limit": 200, **params}))["items"]


def an_address(name):
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


def test_case_managers_are_refused_with_field_errors_and_nothing_is_saved(system):
    program = sign_up(system)
    company = a_company(system, program)
    other_company = a_company(system, program)
    foreign_unit = a_unit(system, program, other_company)

    body = assert_problem(system.request("POST", "/api/v1/case-managers", token=program.access_token, json={}),
                          422, "VALIDATION_FAILED")
    assert set(body["errors"]) == {"company_id", "first_name", "last_name"}
    valid = {"company_id": company["id"], "first_name": "Alex", "last_name": "Romero"}
    refusals = [
        ({**valid, "first_name": ""}, "first_name"),
        ({"company_id": company["id"], "first_name": "Alex"}, "last_name"),
        ({**valid, "company_id": str(uuid.uuid4())}, "company_id"),
        ({**valid, "business_unit_id": foreign_unit["id"]}, "business_unit_id"),
        ({**valid, "position": "Astronaut"}, "position"),
        ({**valid, "referral_source": "Billboard"}, "referral_source"),
        ({**valid, "business_support_officer_id": str(uuid.uuid4())}, "business_support_officer_id"),
        ({**valid, "business_support_officer_assigned_on": "2026-01-05"}, "business_support_officer_assigned_on"),
        ({**valid, "recruitment_status": "hired"}, "recruitment_status"),
        ({**valid, "state": "ZZ"}, "state"),
        ({**valid, "email": "not-an-address"}, "email"),
        ({**valid, "linkedin_url": "https://example.org/alex"}, "linkedin_url"),
        ({**valid, "created_by": program.owner_id}, "created_by"),
        ({**valid, "has_login": True}, "email"),
    ]
    for payload, field in refusals:
        body = assert_problem(system.request("POST", "/api/v1/case-managers", token=program.access_token,
                                             json=payload), 422, "VALIDATION_FAILED")
        assert list(body["errors"]) == [field], (payload, body)
    assert_problem(system.request("POST", "/api/v1/case-managers", token=program.access_token, data="{",
                                  headers={"Content-Type": "application/json"}), 400)
    assert case_managers(system, program) == []

    saved = a_case_manager(system, program, company, position="Case Manager", referral_source="Website")
    assert saved["created_by"] == program.owner_id and saved["email"] is None and saved["has_login"] is False
    refused = system.request("PATCH", f"/api/v1/case-managers/{saved['id']}", token=program.access_token,
                             json={"has_login": True, "title": "Dr"})
    assert assert_problem(refused, 422)["errors"] == {"email": ["Required for a case manager with a login."]}
    unchanged = ok(system.request("GET", f"/api/v1/case-managers/{saved['id']}", token=program.access_token))
    assert (unchanged["title"], unchanged["has_login"], unchanged["version"]) == (None, False, 1)
    conflict = system.request("PATCH", f"/api/v1/case-managers/{saved['id']}", token=program.access_token,
                              json={"title": "Dr", "version": 7})
    assert assert_problem(conflict, 409)["errors"] == {"version": ["Current version is 1."]}


def test_each_recruitment_status_is_set_filtered_on_counted_and_in_history(system):
    program = sign_up(system)
    company = a_company(system, program)
    unit = a_unit(system, program, company)
    people = [a_case_manager(system, program, company, first_name=f"Person{i}", business_unit_id=unit["id"])
              for i in range(len(STATUSES))]
    for person, status in zip(people, STATUSES):
        changed = ok(system.request("PATCH", f"/api/v1/case-managers/{person['id']}", token=program.access_token,
                                    json={"recruitment_status": status, "contact_verified": True}))
        assert changed["recruitment_status"] == status
    for person, status in zip(people, STATUSES):
        assert [found["id"] for found in case_managers(system, program, recruitment_status=status)] == [person["id"]]
    both = case_managers(system, program, recruitment_status=["onboarding", "onboarded"])
    assert {found["id"] for found in both} == {people[1]["id"], people[2]["id"]}
    assert_problem(system.request("GET", "/api/v1/case-managers", token=program.access_token,
                                  params={"recruitment_status": "hired"}), 422)
    assert [p["id"] for p in case_managers(system, program, q="person2")] == [people[2]["id"]]
    assert len(case_managers(system, program, business_unit_id=unit["id"], contact_verified="true")) == 4

    # The owner is a business support officer once the directory has heard of them from identity.
    def assign_owner():
        response = system.request("PATCH", f"/api/v1/case-managers/{people[0]['id']}", token=program.access_token,
                                  json={"business_support_officer_id": program.owner_id})
        return response if response.status_code == 200 else None
    assigned = ok(wait_until(assign_owner, timeout=15))
    assert assigned["business_support_officer_assigned_on"]

    view = ok(system.request("GET", "/api/v1/case-managers/recruitment", token=program.access_token))
    assert view["total"] == 4 and view["by_status"] == dict.fromkeys(STATUSES, 1)
    assert {row["business_support_officer_id"]: row["total"] for row in view["by_business_support_officer"]} == {
        program.owner_id: 1, None: 3}

    history = ok(system.request("GET", f"/api/v1/case-managers/{people[1]['id']}/history",
                                token=program.access_token))["items"]
    status_changes = [(e["old_value"], e["new_value"], e["actor_id"]) for e in history
                      if e["field"] == "recruitment_status"]
    assert status_changes == [("recruiting", "onboarding", program.owner_id), (None, "recruiting", program.owner_id)]


def test_value_lists_are_program_settings_and_never_orphan_a_value(system, infrastructure):
    program = sign_up(system)
    company = a_company(system, program)
    person = a_case_manager(system, program, company, position="Team Leader")
    positions = ok(system.request("GET", "/api/v1/value-lists/positions", token=program.access_token))
    assert positions["field"] == "position" and positions["usage"]["Team Leader"] == 1
    kept = [value for value in positions["values"] if value != "Team Leader"] + ["Team Lead"]

    refused = system.request("PUT", "/api/v1/value-lists/positions", token=program.access_token, json={"values": kept})
    assert "Team Leader" in assert_problem(refused, 409, "CONFLICT")["errors"]["values"][0]
    assert ok(system.request("GET", "/api/v1/value-lists/positions", token=program.access_token)) == positions

    edited = ok(system.request("PUT", "/api/v1/value-lists/positions", token=program.access_token,
                               json={"values": kept, "remap": {"Team Leader": "Team Lead"}}))
    assert edited["values"] == kept and edited["usage"]["Team Lead"] == 1
    moved = ok(system.request("GET", f"/api/v1/case-managers/{person['id']}", token=program.access_token))
    assert moved["position"] == "Team Lead"
    assert_problem(system.request("GET", "/api/v1/value-lists/hobbies", token=program.access_token), 404)

    # An admin denied program settings still keeps case managers, so reads the lists, but edits none.
    staff_id, staff_email = add_staff_member(infrastructure, program, role="admin")
    ok(system.request("PATCH", f"/api/v1/staff/{staff_id}", token=program.access_token,
                      json={"denials": ["settings.manage"]}))
    admin = log_in(system, staff_email)
    assert ok(system.request("GET", "/api/v1/value-lists/referral-sources", token=admin))["values"]
    assert_problem(system.request("PUT", "/api/v1/value-lists/positions", token=admin, json={"values": kept}), 403)


def test_a_case_managers_login_sees_its_business_units_referrals_and_nothing_else(system, infrastructure):
    program = sign_up(system)
    company, other_company = a_company(system, program), a_company(system, program)
    unit, other_unit = a_unit(system, program, company, "Claims"), a_unit(system, program, company, "Rehab")
    elsewhere_unit = a_unit(system, program, other_company, "Claims")

    email = an_address("alex")
    alex = a_case_manager(system, program, company, email=email, business_unit_id=unit["id"],
                          recruitment_status="onboarding", has_login=True)
    assert alex["has_login"] and alex["login_invited_at"]
    token = emailed_link(system, email, "/invitations/").rsplit("/", 1)[1]
    ok(system.request("POST", f"/public/invitations/{token}/accept",
                      json={"first_name": "Alex", "last_name": "Romero", "password": PASSWORD}), 201)
    alex_token = log_in(system, email)
    me = ok(system.request("GET", "/api/v1/me", token=alex_token))
    assert me["user"]["role"] == "case_manager" and me["permissions"] == ["case_manager.portal"]

    def login_for(case_manager):
        return log_in(system, add_staff_member(infrastructure, program, "case_manager",
                                               linked_id=case_manager["id"])[1])

    colleague = a_case_manager(system, program, company, first_name="Casey", business_unit_id=unit["id"])
    other_unit_manager = a_case_manager(system, program, company, first_name="Drew", business_unit_id=other_unit["id"])
    other_company_manager = a_case_manager(system, program, other_company, first_name="Eli",
                                           business_unit_id=elsewhere_unit["id"])

    def refer(login, name):
        return ok(system.request("POST", "/api/v1/case-manager/referrals", token=login, json={
            "name": name, "email": an_address("client"), "message": "Needs counseling after a workplace injury"}), 201)

    colleagues = refer(login_for(colleague), "Jordan Client")
    other_units = refer(login_for(other_unit_manager), "Riley Client")
    other_companys = refer(login_for(other_company_manager), "Sam Client")
    assert colleagues["business_unit_id"] == unit["id"] and colleagues["case_manager_id"] == colleague["id"]

    seen = ok(system.request("GET", f"/api/v1/case-manager/referrals/{colleagues['id']}", token=alex_token))
    assert seen == colleagues
    for hidden in (other_units, other_companys):
        assert_problem(system.request("GET", f"/api/v1/case-manager/referrals/{hidden['id']}", token=alex_token), 404)

    # Nothing of the program's own clients and referrals: their routes are refused, their ids unknown.
    provider = ok(system.request("POST", "/api/v1/providers", token=program.access_token, json={"name": "Ana Ortiz"}),
                  201)
    client = ok(system.request("POST", "/api/v1/clients", token=program.access_token,
                               json={"first_name": "Maya", "last_name": "Student"}), 201)
    staff_referral = ok(system.request("POST", "/api/v1/referrals", token=program.access_token,
                                       json={"client_id": client["id"], "provider_id": provider["id"]}), 201)
    for path in (f"/api/v1/case-manager/referrals/{staff_referral['id']}",
                 f"/api/v1/case-manager/referrals/{client['id']}"):
        assert_problem(system.request("GET", path, token=alex_token), 404)
    for path in ("/api/v1/clients", f"/api/v1/clients/{client['id']}", f"/api/v1/referrals/{staff_referral['id']}",
                 "/api/v1/inbound-requests", "/api/v1/case-managers", f"/api/v1/companies/{company['id']}"):
        assert_problem(system.request("GET", path, token=alex_token), 403)

    refused = system.request("POST", "/api/v1/case-manager/referrals", token=alex_token,
                             json={"name": "No Way To Reach", "message": "?"})
    assert list(assert_problem(refused, 422)["errors"]) == ["email"]
    assert ok(system.request("GET", f"/api/v1/case-managers/{alex['id']}",
                             token=program.access_token))["recruitment_status"] == "onboarding"

    first = refer(alex_token, "Taylor Client")
    listed = ok(system.request("GET", "/api/v1/case-manager/referrals", token=alex_token))["items"]
    assert [item["id"] for item in listed] == [first["id"], colleagues["id"]]  # newest first, own unit only

    def onboarded():
        record = ok(system.request("GET", f"/api/v1/case-managers/{alex['id']}", token=program.access_token))
        return record["recruitment_status"] == "onboarded"
    assert wait_until(onboarded, timeout=15)
    history = ok(system.request("GET", f"/api/v1/case-managers/{alex['id']}/history",
                                token=program.access_token))["items"]
    assert (history[0]["field"], history[0]["old_value"], history[0]["new_value"], history[0]["actor_id"]) == (
        "recruitment_status", "onboarding", "onboarded", None)

    inbox = ok(system.request("GET", "/api/v1/inbound-requests", token=program.access_token,
                              params={"source": "case_manager"}))["items"]
    assert {item["id"] for item in inbox} == {first["id"], colleagues["id"], other_units["id"], other_companys["id"]}
    assert {item["case_manager_id"] for item in inbox} == {alex["id"], colleague["id"], other_unit_manager["id"],
                                                          other_company_manager["id"]}


def test_a_promotion_reaches_only_subscribed_verified_case_managers_and_unsubscribing_stops_the_next(system):
    program = sign_up(system)
    company = a_company(system, program)
    fan, loyal, unverified, unsubscribed = (an_address(name) for name in ("fan", "loyal", "unverified", "quiet"))
    fan_record = a_case_manager(system, program, company, email=fan, contact_verified=True,
                                subscribed_to_promotions=True)
    a_case_manager(system, program, company, first_name="Lee", email=loyal, contact_verified=True,
                   subscribed_to_promotions=True)
    a_case_manager(system, program, company, email=unverified, subscribed_to_promotions=True)
    a_case_manager(system, program, company, email=unsubscribed, contact_verified=True)

    assert_problem(system.request("POST", "/api/v1/promotions", token=program.access_token,
                                  json={"headline": "", "message": "Hi", "link": "javascript:alert(1)"}), 422)
    spring = {"headline": "Spring groups", "message": "Three new support groups in April.",
              "link": "https://riverside.example/groups"}
    sent = ok(system.request("POST", "/api/v1/promotions", token=program.access_token, json=spring,
                             headers={"Idempotency-Key": "spring-1"}), 202)
    again = ok(system.request("POST", "/api/v1/promotions", token=program.access_token, json=spring,
                              headers={"Idempotency-Key": "spring-1"}), 202)
    assert sent["recipient_count"] == 2 and again["id"] == sent["id"]

    [email] = system.smtp.wait_for(lambda m: fan in m["X-Envelope-To"])
    system.smtp.wait_for(lambda m: loyal in m["X-Envelope-To"])
    assert "Hello Alex" in email.get_body(("plain",)).get_content() and email["Subject"] == "Spring groups"
    one_click = email["List-Unsubscribe"].strip().strip("<>")
    ok(system.http.post(one_click, timeout=10), 204)

    def unsubscribed_in_directory():
        record = ok(system.request("GET", f"/api/v1/case-managers/{fan_record['id']}", token=program.access_token))
        return not record["subscribed_to_promotions"]
    assert wait_until(unsubscribed_in_directory, timeout=15)
    [change] = [e for e in ok(system.request("GET", f"/api/v1/case-managers/{fan_record['id']}/history",
                                             token=program.access_token))["items"]
                if e["field"] == "subscribed_to_promotions" and e["action"] == "updated"]
    assert (change["old_value"], change["new_value"], change["actor_id"]) == (True, False, None)

    summer = ok(system.request("POST", "/api/v1/promotions", token=program.access_token,
                               json={**spring, "headline": "Summer groups"}), 202)
    assert summer["recipient_count"] == 1
    system.smtp.wait_for(lambda m: loyal in m["X-Envelope-To"] and m["Subject"] == "Summer groups")
    assert len(system.smtp.messages_to(fan)) == 1
    assert system.smtp.messages_to(unverified) == [] and system.smtp.messages_to(unsubscribed) == []
    listed = ok(system.request("GET", "/api/v1/promotions", token=program.access_token))["items"]
    assert [item["id"] for item in listed] == [summer["id"], sent["id"]]
