"""Billing over HTTP with every service running and the payment processor's stand-in: the
subscription and its dunning, who sees billing, seats, signed webhooks, card numbers refused,
and client invoicing with its ledger, report and racing payments."""
import json
import threading
import time
import uuid
from datetime import date, timedelta

import pytest
import requests

from gateway.routes.billing import ROUTES as BILLING_ROUTES
from shared.testing.api import PASSWORD, add_staff_member, assert_problem, emailed_link, log_in, sign_up
from shared.testing.infrastructure import connect
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system

CARD = "4242424242424242"
TODAY = date.today()


def billing_sql(infrastructure, statement, *args):
    with connect(infrastructure, "billing") as conn, conn.cursor() as cur:
        cur.execute(statement, args)
        return cur.fetchall() if cur.description else None


def renewal_arrives(infrastructure, program):
    """The trial's end date comes (the test moves it rather than waiting 14 days)."""
    billing_sql(infrastructure, "UPDATE subscriptions SET current_period_end = now() - interval '1 second' "
                                "WHERE org_id = %s", program.org_id)


def retry_day_arrives(infrastructure, program):
    billing_sql(infrastructure, "UPDATE subscriptions SET next_attempt_at = now() WHERE org_id = %s",
                program.org_id)


def subscription(system, token):
    response = system.request("GET", "/api/v1/billing/subscription", token=token)
    assert response.status_code == 200, response.text
    return response.json()


def subscription_becomes(system, token, status, timeout=30):
    found = wait_until(lambda: subscription(system, token)["status"] == status, timeout=timeout)
    assert found, f"the subscription did not become {status}: {subscription(system, token)}"
    return subscription(system, token)


def set_card(system, token, number=CARD):
    response = system.request("PUT", "/api/v1/billing/payment-method", token=token,
                              json={"token": system.payments.tokenize_card(number, 11, 2031)})
    assert response.status_code == 200, response.text
    return response.json()


def payment_failed_emails(system, address):
    return system.smtp.wait_for(lambda m: address.lower() in m["X-Envelope-To"].lower()
                                and "Payment failed" in m["Subject"])


def test_failed_renewal_goes_past_due_emails_owner_and_delegate_then_a_retry_restores_it(system, infrastructure):
    program = sign_up(system)
    delegate_id, delegate_email = add_staff_member(infrastructure, program, role="default")
    system.request("PUT", "/api/v1/billing/delegates", token=program.access_token,
                   json={"user_ids": [delegate_id]}).raise_for_status()

    assert set_card(system, program.access_token) == {"brand": "visa", "last4": "4242", "exp_month": 11,
                                                      "exp_year": 2031}
    before = subscription(system, program.access_token)
    assert before["status"] == "trialing" and before["payment_method"]["last4"] == "4242"

    system.payments.decline_next(1)
    renewal_arrives(infrastructure, program)
    past_due = subscription_becomes(system, program.access_token, "past_due")
    assert past_due["next_attempt_at"] and not past_due["read_only"]
    for address in (program.email, delegate_email):
        emails = payment_failed_emails(system, address)
        assert len(emails) == 1, address
        assert "$149.00" in emails[0].get_body(("plain",)).get_content()
    [invoice] = system.request("GET", "/api/v1/billing/invoices", token=program.access_token).json()["items"]
    assert (invoice["status"], invoice["attempts"], invoice["amount_cents"]) == ("open", 1, 14900)
    assert invoice["last_failure"] == "Your card was declined."

    retry_day_arrives(infrastructure, program)
    active = subscription_becomes(system, program.access_token, "active")
    assert active["plan"] == "team" and active["seat_limit"] == 25 and active["next_attempt_at"] is None
    assert active["current_period_start"] == invoice["period_start"]
    assert active["current_period_end"] == invoice["period_end"]
    assert [(h["old_status"], h["new_status"]) for h in active["history"]] == [
        ("past_due", "active"), ("trialing", "past_due"), (None, "trialing")]
    [paid] = system.request("GET", "/api/v1/billing/invoices", token=program.access_token).json()["items"]
    assert (paid["id"], paid["status"], paid["attempts"]) == (invoice["id"], "paid", 2)
    charges = [c for c in system.payments.charges if c.metadata.get("invoice_id") == invoice["id"]]
    assert [c.idempotency_key for c in charges] == [f"{invoice['id']}:1", f"{invoice['id']}:2"]


def test_a_non_delegated_admin_gets_403_on_every_billing_route(system, infrastructure):
    program = sign_up(system)
    _, admin_email = add_staff_member(infrastructure, program, role="org_admin")
    admin = log_in(system, admin_email)
    billing_routes = [r for r in BILLING_ROUTES if r.path.startswith("/api/v1/billing/")]
    assert len(billing_routes) == 6
    for route in billing_routes:
        assert_problem(system.request(route.method, route.path, token=admin, json={}), 403)


def test_seats_follow_users_activated_and_deactivated(system):
    program = sign_up(system)
    seats = lambda: subscription(system, program.access_token)["seats_in_use"]  # noqa: E731
    assert wait_until(lambda: seats() == 1, timeout=15), "the owner takes a seat"

    address = f"seat-{uuid.uuid4().hex[:8]}@example.org"
    system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                   json={"email": address, "role": "default"}).raise_for_status()
    token = emailed_link(system, address, "/invitations/").rsplit("/", 1)[1]
    system.request("POST", f"/public/invitations/{token}/accept",
                   json={"first_name": "Sea", "last_name": "Ted", "password": PASSWORD}).raise_for_status()
    assert wait_until(lambda: seats() == 2, timeout=15)

    user_id = next(u["id"] for u in system.request("GET", "/api/v1/staff", token=program.access_token).json()["items"]
                   if u["email"] == address)
    system.request("PATCH", f"/api/v1/staff/{user_id}", token=program.access_token,
                   json={"enabled": False}).raise_for_status()
    assert wait_until(lambda: seats() == 1, timeout=15)
    system.request("PATCH", f"/api/v1/staff/{user_id}", token=program.access_token,
                   json={"enabled": True}).raise_for_status()  # a seat is free again: billing says yes
    assert wait_until(lambda: seats() == 2, timeout=15)


def test_forged_old_and_replayed_webhooks_are_refused_and_change_nothing(system, infrastructure):
    program = sign_up(system)
    set_card(system, program.access_token)
    with system.payments.webhooks_held() as held:
        renewal_arrives(infrastructure, program)
        [genuine] = system.payments.wait_for_held(held, 1)
    assert json.loads(genuine)["type"] == "payment_intent.succeeded"
    history = lambda: subscription(system, program.access_token)["history"]  # noqa: E731
    before = history()

    forged = system.payments.post_webhook(genuine, system.payments.signature(genuine, secret="whsec_guessed"))
    assert forged.status == 403
    stale = int(time.time()) - 3600
    assert system.payments.post_webhook(genuine, system.payments.signature(genuine, timestamp=stale)).status == 403
    altered = genuine.replace("succeeded", "payment_failed")
    assert system.payments.post_webhook(altered, system.payments.signature(genuine)).status == 403
    assert system.payments.post_webhook(genuine, "").status == 403
    assert subscription(system, program.access_token)["status"] == "trialing" and history() == before

    assert system.payments.post_webhook(genuine).status == 204
    assert subscription(system, program.access_token)["status"] == "active"
    after = history()
    replayed = system.payments.post_webhook(genuine)
    assert replayed.status == 409, replayed.body
    assert history() == after and subscription(system, program.access_token)["status"] == "active"


def everything_stored(infrastructure):
    """Every row of every table of every service, as text."""
    from shared.config import SERVICES
    text = []
    for service in SERVICES:
        with connect(infrastructure, service) as conn, conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            for (table,) in cur.fetchall():
                cur.execute(f'SELECT t::text FROM "{table}" t')
                text += [row[0] for row in cur.fetchall()]
    return "\n".join(text)


def test_a_card_number_is_refused_and_stored_and_logged_nowhere(system, infrastructure):
    program = sign_up(system)
    number, spaced = "4000056655665556", "4000 0566 5566 5556"
    for body in ({"token": number}, {"token": "pm_abcdefgh", "card_number": spaced},
                 {"token": "pm_abcdefgh", "card": {"number": int(number), "cvc": "123"}}):
        problem = assert_problem(system.request("PUT", "/api/v1/billing/payment-method",
                                                token=program.access_token, json=body), 422)
        assert "token" in problem["detail"] + json.dumps(problem["errors"])
    invoice = issue_invoice(system, program.access_token, str(uuid.uuid4()))
    assert_problem(system.request("POST", f"/api/v1/invoicing/invoices/{invoice['id']}/payments",
                                  token=program.access_token,
                                  json={"amount_cents": 100, "method": "card", "reference": spaced}), 422)

    stored, logs = everything_stored(infrastructure), system.logs()
    assert '"msg": "request"' in logs
    for text in (number, spaced):
        assert text not in stored and text not in logs
    assert subscription(system, program.access_token)["payment_method"] is None


# -- client invoicing


def created(system, token, path, body, **kwargs):
    response = system.request("POST", path, token=token, json=body, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def issue_invoice(system, token, client_id, clinicians=None, rate_cents=15000, insurance=True):
    clinicians = clinicians or [str(uuid.uuid4())] * 2
    code = f"9{uuid.uuid4().int % 10000:04d}"
    service = created(system, token, "/api/v1/invoicing/services",
                      {"code": code, "name": "Psychotherapy, 60 minutes", "rate_cents": rate_cents})
    sessions = [created(system, token, "/api/v1/invoicing/sessions", {
        "client_id": client_id, "clinician_id": clinician, "service_id": service["id"],
        "session_date": str(TODAY - timedelta(days=7 - i))})["id"] for i, clinician in enumerate(clinicians)]
    body = {"client_id": client_id, "session_ids": sessions}
    if insurance:
        body["insurance"] = {"insurer": "Blue Harbor Health", "copay_cents": 2000, "coinsurance_bps": 2000}
    return created(system, token, "/api/v1/invoicing/invoices", body)


def ledger(system, token, client_id):
    response = system.request("GET", f"/api/v1/clients/{client_id}/ledger", token=token)
    assert response.status_code == 200, response.text
    return response.json()


def balances(system, token, client_id):
    entries = ledger(system, token, client_id)["entries"]
    return [(e["kind"], e["client_balance"], e["insurance_balance"]) for e in entries]


def pay(system, token, invoice_id, amount, payer="client", method="check", key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return created(system, token, f"/api/v1/invoicing/invoices/{invoice_id}/payments",
                   {"amount_cents": amount, "payer": payer, "method": method}, headers=headers)


def test_an_invoice_split_client_and_insurance_through_payments_and_a_denial(system, infrastructure):
    program = sign_up(system)
    _, biller_email = add_staff_member(infrastructure, program, role="biller")
    biller = log_in(system, biller_email)
    client_id, clinicians = str(uuid.uuid4()), [str(uuid.uuid4()), str(uuid.uuid4())]

    invoice = issue_invoice(system, biller, client_id, clinicians)
    # 150.00 per session: the client pays the 20.00 copay plus 20% of the other 130.00.
    assert [(l["amount_cents"], l["client_cents"], l["insurance_cents"]) for l in invoice["lines"]] == \
        [(15000, 4600, 10400)] * 2
    assert invoice["charged"] == {"client_cents": 9200, "insurance_cents": 20800, "total_cents": 30000}
    assert invoice["claim"]["status"] == "draft" and invoice["status"] == "open"
    assert balances(system, biller, client_id) == [("charge", 9200, 20800)]
    assert system.request("PATCH", f"/api/v1/invoicing/invoices/{invoice['id']}", token=biller,
                          json={}).status_code == 405  # issued invoices are immutable

    partial = pay(system, biller, invoice["id"], 5000)["invoice"]
    assert partial["status"] == "partially_paid" and partial["balance"]["client_cents"] == 4200
    assert balances(system, biller, client_id)[-1] == ("payment", 4200, 20800)

    system.request("PUT", f"/api/v1/invoicing/invoices/{invoice['id']}/claim", token=biller,
                   json={"status": "submitted"}).raise_for_status()
    after_insurer = pay(system, biller, invoice["id"], 10400, payer="insurance", method="insurance")["invoice"]
    assert after_insurer["claim"]["status"] == "partially_paid"
    assert balances(system, biller, client_id)[-1] == ("payment", 4200, 10400)

    denied = system.request("PUT", f"/api/v1/invoicing/invoices/{invoice['id']}/claim", token=biller,
                            json={"status": "denied", "denial_reason": "Not covered after visit 1"}).json()
    assert denied["claim"]["status"] == "denied"
    assert denied["balance"] == {"client_cents": 14600, "insurance_cents": 0, "total_cents": 14600}
    assert balances(system, biller, client_id)[-1] == ("claim_denied", 14600, 0)

    over = pay(system, biller, invoice["id"], 15000, method="card")["invoice"]
    assert over["status"] == "overpaid" and over["balance"]["total_cents"] == -400
    final = ledger(system, biller, client_id)
    assert [e["kind"] for e in final["entries"]] == ["charge", "payment", "payment", "claim_denied", "payment"]
    assert final["balance"] == {"client_cents": -400, "insurance_cents": 0, "total_cents": -400}

    report = system.request("GET", f"/api/v1/reports/billing?from={TODAY.replace(day=1)}&to={TODAY}",
                            token=biller)
    assert report.status_code == 200, report.text
    report = report.json()
    [month] = report["revenue_by_period"]  # everything was invoiced and paid today
    assert month["period"] == TODAY.strftime("%Y-%m")
    assert month["invoiced_cents"] == invoice["charged"]["total_cents"]
    assert month["collected_cents"] == 5000 + 10400 + 15000
    assert {(m["method"], m["payer"]): m["amount_cents"] for m in report["payments_by_method"]} == {
        ("check", "client"): 5000, ("insurance", "insurance"): 10400, ("card", "client"): 15000}
    assert sorted((c["clinician_id"], c["invoiced_cents"]) for c in report["per_clinician"]) == \
        sorted((c, 15000) for c in clinicians)
    assert sum(b["total_cents"] for b in report["ar_aging"]) == 0  # the client's credit is not receivable


def test_racing_payments_never_double_count(system):
    program = sign_up(system)
    invoice = issue_invoice(system, program.access_token, str(uuid.uuid4()), insurance=False)
    url = system.url(f"/api/v1/invoicing/invoices/{invoice['id']}/payments")
    headers = {"Authorization": f"Bearer {program.access_token}"}
    answers = []

    def post(amount, key):
        answers.append(requests.post(url, json={"amount_cents": amount, "method": "cash"}, timeout=30,
                                     headers={**headers, "Idempotency-Key": key}))

    same_key = [threading.Thread(target=post, args=(1000, "retry-of-one-payment")) for _ in range(8)]
    distinct = [threading.Thread(target=post, args=(100, f"payment-{i}")) for i in range(12)]
    for thread in same_key + distinct:
        thread.start()
    for thread in same_key + distinct:
        thread.join()
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["payment"]["id"] for a in answers}) == 1 + 12
    final = system.request("GET", f"/api/v1/invoicing/invoices/{invoice['id']}", token=program.access_token).json()
    assert final["paid"]["total_cents"] == 1000 + 12 * 100
    assert final["balance"]["total_cents"] == 30000 - 2200

    reused = system.request("POST", f"/api/v1/invoicing/invoices/{invoice['id']}/payments",
                            token=program.access_token, json={"amount_cents": 999, "method": "cash"},
                            headers={"Idempotency-Key": "retry-of-one-payment"})
    assert_problem(reused, 409)
