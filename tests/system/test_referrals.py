"""Issue 6 end to end, every service running behind the gateway with real SMTP and the SMS
stand-in: a referral list of three providers by email, text and print that keeps what was
sent; a referral walked to completion by the provider's emailed link; an inbound request to
every recipient of a public profile, counted for its clinician; who sees which client."""
import time
import uuid

import pytest

from shared.testing.api import add_staff_member, assert_problem, emailed_link, finished_import, log_in, sign_up
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def a_provider(system, program, name, **fields):
    return ok(system.request("POST", "/api/v1/providers", token=program.access_token,
                             json={"name": name, **fields}), 201)


def a_number():
    return "+1555" + str(uuid.uuid4().int)[:7]


def test_a_list_of_three_goes_out_by_email_text_and_print_and_keeps_what_was_sent(system):
    program = sign_up(system)
    providers = [a_provider(system, program, name, email=f"p{i}@example.org", website="https://example.org")
                 for i, name in enumerate(("Ana Ortiz", "Ben Li", "Carla Diaz"))]
    email, phone = f"student-{uuid.uuid4().hex[:8]}@example.org", a_number()
    client = ok(system.request("POST", "/api/v1/clients", token=program.access_token, json={
        "first_name": "Maya", "last_name": "Student", "email": email, "phone": phone,
        "preferred_contact": "text"}), 201)
    created = ok(system.request("POST", "/api/v1/referral-lists", token=program.access_token, json={
        "client_id": client["id"], "items": [{"provider_id": p["id"], "note": "Near campus"} for p in providers]}), 201)

    sent = ok(system.request("POST", f"/api/v1/referral-lists/{created['id']}/send", token=program.access_token,
                             json={"channels": ["email", "sms"]}, headers={"Idempotency-Key": uuid.uuid4().hex}))
    assert sorted(d["channel"] for d in sent["deliveries"]) == ["email", "sms"]

    link = emailed_link(system, email, "/public/referral-lists/")
    mail = system.smtp.messages_to(email)[0]
    assert "Maya" not in mail["Subject"] and "Ben Li" in mail.get_body(("plain",)).get_content()
    [text] = wait_until(lambda: [m for m in system.sms.messages if m.to == phone])
    assert link in text.body
    assert not any(p["name"] in text.body for p in providers) and "Maya" not in text.body

    hosted = ok(system.http.get(link, timeout=10))
    assert [item["snapshot"]["name"] for item in hosted["items"]] == ["Ana Ortiz", "Ben Li", "Carla Diaz"]
    assert "Student" not in str(hosted)
    on_a_phone = system.http.get(link, headers={"Accept": "text/html"}, timeout=10)
    assert on_a_phone.headers["Content-Type"].startswith("text/html") and "Carla Diaz" in on_a_phone.text
    assert on_a_phone.headers["Content-Disposition"].startswith("inline")

    pdf = system.request("GET", f"/api/v1/referral-lists/{created['id']}/pdf", token=program.access_token)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    ok(system.request("PATCH", f"/api/v1/providers/{providers[0]['id']}", token=program.access_token,
                      json={"name": "Ana Ortiz-Renamed"}))
    shown = ok(system.request("GET", f"/api/v1/referral-lists/{created['id']}", token=program.access_token))
    assert shown["items"][0]["snapshot"]["name"] == "Ana Ortiz"
    assert ok(system.http.get(link, timeout=10))["items"][0]["snapshot"]["name"] == "Ana Ortiz"

    assert system.sms.deliver(text.sid, "delivered").status == 204

    def statuses():
        body = ok(system.request("GET", f"/api/v1/referral-lists/{created['id']}", token=program.access_token))
        return {d["channel"]: d["status"] for d in body["deliveries"]}
    assert wait_until(lambda: statuses() == {"email": "sent", "sms": "delivered"}), statuses()


def test_a_referral_walks_to_completed_through_the_providers_link_and_refuses_illegal_steps(system):
    program = sign_up(system)
    provider_email = f"clinician-{uuid.uuid4().hex[:8]}@example.org"
    provider = a_provider(system, program, "Dr. Rosa Vega", email=provider_email)
    client = ok(system.request("POST", "/api/v1/clients", token=program.access_token,
                               json={"first_name": "Theo", "last_name": "Kim"}), 201)
    referral = ok(system.request("POST", "/api/v1/referrals", token=program.access_token, json={
        "client_id": client["id"], "provider_id": provider["id"], "note": "Prefers mornings"}), 201)
    path = f"/api/v1/referrals/{referral['id']}"
    assert referral["status"] == "draft"
    assert_problem(system.request("PATCH", path, token=program.access_token, json={"status": "completed"}), 403)
    ok(system.request("PATCH", path, token=program.access_token, json={"status": "requested"}))
    assert_problem(system.request("PATCH", path, token=program.access_token, json={"status": "draft"}),
                   409, "CONFLICT")

    link = emailed_link(system, provider_email, "/public/referral-responses/")
    view = ok(system.http.get(link, timeout=10))
    assert view["client_first_name"] == "Theo" and view["allowed_statuses"] == ["accepted", "rejected"]
    ok(system.http.post(link, json={"status": "accepted"}, timeout=10))
    assert_problem(system.http.post(link, json={"status": "accepted"}, timeout=10), 409, "CONFLICT")
    assert_problem(system.http.post(link, json={"status": "draft"}, timeout=10), 403)
    assert ok(system.http.post(link, json={"status": "completed"}, timeout=10))["status"] == "completed"
    assert_problem(system.request("PATCH", path, token=program.access_token, json={"status": "requested"}), 409)

    steps = ok(system.request("GET", path + "/history", token=program.access_token))["items"]
    assert [(s["to_status"], s["actor_type"]) for s in steps] == [
        ("draft", "staff"), ("requested", "staff"), ("accepted", "provider"), ("completed", "provider")]
    assert all(s["occurred_at"] for s in steps) and steps[1]["actor_id"] == program.owner_id
    assert ok(system.request("GET", path, token=program.access_token))["accepted_at"]
    # The owner referred, so the owner hears of each answer.
    assert wait_until(lambda: len(system.smtp.messages_to(program.email)) >= 2)


def test_an_inbound_request_reaches_every_recipient_once_and_counts_for_its_clinician(system):
    program = sign_up(system)
    slug = f"dir-{uuid.uuid4().hex[:10]}"
    ok(system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                      json={"public_slug": slug, "public_directory_enabled": True}))
    clinician, intake = (f"{who}-{uuid.uuid4().hex[:8]}@example.org" for who in ("clinician", "intake"))
    provider = a_provider(system, program, "Dr. Lena Park", email=clinician,
                          contacts=[{"name": "Intake desk", "email": intake}])
    other = a_provider(system, program, "Dr. Other")
    base = f"/public/directories/{slug}/providers/{provider['id']}"

    form = ok(system.request("GET", base + "/request-form"))
    time.sleep(form["min_fill_seconds"])
    body = {"name": "Jordan", "email": "jordan@example.org", "message": "Looking for weekly therapy.",
            "form_token": form["form_token"]}
    ok(system.request("POST", base + "/requests", json=body), 202)
    ok(system.request("POST", base + "/requests", json={**body, "website": "http://spam.example"}), 202)
    assert_problem(system.request("POST", base + "/requests", json={**body, "form_token": "1.x"}), 422)

    for address in (clinician, intake):
        assert wait_until(lambda: system.smtp.messages_to(address))
    time.sleep(2)  # a duplicate would have arrived by now
    assert [len(system.smtp.messages_to(a)) for a in (clinician, intake)] == [1, 1]
    assert "weekly therapy" not in system.smtp.messages_to(intake)[0].get_body(("plain",)).get_content()

    listed = ok(system.request("GET", "/api/v1/inbound-requests", token=program.access_token))["items"]
    assert [(r["provider_id"], r["recipient_count"]) for r in listed] == [(provider["id"], 2)]
    report = ok(system.request("GET", "/api/v1/reports/referrals", token=program.access_token))
    counts = {row["key"]: row["inbound_requests"] for row in report["by_provider"]}
    assert counts == {provider["id"]: 1} and other["id"] not in counts
    csv_file = system.request("GET", "/api/v1/reports/referrals", token=program.access_token,
                              params={"format": "csv"})
    assert csv_file.headers["Content-Type"].startswith("text/csv") and "Dr. Lena Park" in csv_file.text


def test_a_clinician_sees_only_assigned_clients_another_program_none_and_reads_are_audited(system, infrastructure):
    program, other = sign_up(system), sign_up(system)
    therapist_id, therapist_email = add_staff_member(infrastructure, program, role="therapist")
    therapist = log_in(system, therapist_email)
    client = ok(system.request("POST", "/api/v1/clients", token=program.access_token,
                               json={"first_name": "Ivy", "last_name": "Chen", "date_of_birth": "2003-05-06"}), 201)
    path = f"/api/v1/clients/{client['id']}"

    assert_problem(system.request("GET", path, token=therapist), 404, "NOT_FOUND")
    assert_problem(system.request("GET", path, token=other.access_token), 404, "NOT_FOUND")
    assert ok(system.request("GET", "/api/v1/clients", token=therapist))["items"] == []
    ok(system.request("PUT", path + "/assignments", token=program.access_token, json={"user_ids": [therapist_id]}))
    assert ok(system.request("GET", path, token=therapist))["first_name"] == "Ivy"
    ok(system.request("GET", path, token=program.access_token))

    def reads():
        events = ok(system.request("GET", "/api/v1/audit-events", token=program.access_token,
                                   params={"action": "client.read", "resource_id": client["id"]}))["items"]
        return sorted(e["actor_id"] for e in events)
    assert wait_until(lambda: reads() == sorted([therapist_id, program.owner_id])), reads()

    twin = ok(system.request("POST", "/api/v1/clients", token=program.access_token,
                             json={"first_name": "IVY", "last_name": "chen", "date_of_birth": "2003-05-06"}), 201)
    assert twin["possible_duplicate_ids"] == [client["id"]]
    merged = ok(system.request("POST", f"{path}/duplicates/{twin['id']}/merge", token=program.access_token))
    assert merged["possible_duplicate_ids"] == []

    refused = assert_problem(system.request("POST", "/api/v1/client-imports", token=program.access_token,
                                            json={"csv": "Name,DOB\nIvy Chen,05/06/2003\n"}), 422)
    assert refused["errors"] == {"csv": ["Missing column(s): first_name, last_name"]}
    many = "".join(f"Person{number},Imported,01/02/1990\n" for number in range(1500))  # three batches
    started = ok(system.request("POST", "/api/v1/client-imports", token=program.access_token, json={
        "csv": "First Name,Last Name,DOB\nIvy,Chen,05/06/2003\n,Missing,\n" + many}), 202)
    assert (started["status"], started["total_rows"], started["processed_rows"]) == ("pending", 1502, 0)
    imported, seen = finished_import(system, program.access_token, started["id"], jobs="/api/v1/client-imports")
    assert (imported["status"], imported["created_count"], imported["duplicate_count"],
            imported["failed_count"]) == ("completed", 1500, 1, 1)
    assert any(0 < processed < 1502 for processed in seen) and seen == sorted(seen), seen
    assert imported["errors"] == [{"row": 2, "field": "first_name", "message": "Missing data for required field."}]
    assert [(d["row"], d["client_ids"], d["action"]) for d in imported["duplicates"]] == [
        (1, [client["id"]], "skipped")]

