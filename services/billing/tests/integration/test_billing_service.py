"""The billing service in a nameko container against real PostgreSQL and RabbitMQ, with the
payment processor's stand-in: the seat read model fed by identity's events, the processor's
webhooks, and client invoicing's credit notes, reports and read-only refusal."""
import datetime as dt
import json
import time
import uuid

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from billing.plans import PLANS
from billing.service import BillingService
from shared import permissions
from shared.auth import AUTH_CONTEXT_KEY, AuthContext
from shared.errors import Conflict, Forbidden, NotFound, PaymentRequired, ValidationFailed
from shared.outbox import EventPublisher, envelope
from shared.testing.infrastructure import connect
from shared.testing.standins.payments_provider import PaymentsProviderStandIn
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.integration

TODAY = dt.date.today()


@pytest.fixture
def payments():
    with PaymentsProviderStandIn() as standin:
        yield standin


@pytest.fixture
def config(infrastructure, payments):
    return infrastructure.config(PAYMENTS_API_URL=payments.url, PAYMENTS_API_KEY=payments.api_key,
                                 PAYMENTS_WEBHOOK_SECRET=payments.webhook_secret,
                                 PUBLIC_BASE_URL="https://handoff.example")


@pytest.fixture
def billing(container_factory, config):
    container_factory(BillingService, config).start()


class Identity:
    """Publishes what identity would, on identity's exchange."""

    def __init__(self, config):
        self.publisher = EventPublisher(config["AMQP_URI"], "identity")

    def publish(self, event_type, org_id, data, event_id=None, occurred_at=None):
        body = envelope(event_type, org_id, data, event_id)
        if occurred_at:
            body["occurred_at"] = occurred_at.isoformat()
        self.publisher.publish(event_type, body)
        return body

    def new_program(self):
        org_id = str(uuid.uuid4())
        self.publish("organization_created", org_id, {"organization_id": org_id, "name": "Riverside",
                                                      "owner_user_id": str(uuid.uuid4())})
        return org_id


def as_caller(config, org_id, *granted):
    caller = AuthContext(user_id=str(uuid.uuid4()), org_id=org_id, role="biller", permissions=frozenset(granted))
    return ServiceRpcProxy("billing", config, context_data={AUTH_CONTEXT_KEY: caller.to_header()})


def billing_sql(infrastructure, statement, *args):
    with connect(infrastructure, "billing") as conn, conn.cursor() as cur:
        cur.execute(statement, args)
        return cur.fetchall() if cur.description else None


def seats_in_use(config, org_id):
    with as_caller(config, org_id, permissions.BILLING_MANAGE) as billing:
        return billing.get_subscription()["seats_in_use"]


def test_seats_count_each_event_once_and_never_go_back_in_time(billing, config, infrastructure):
    identity = Identity(config)
    org_id = identity.new_program()
    assert wait_until(lambda: trial_opened(infrastructure, org_id), timeout=15)
    staff, partner, case_manager = (str(uuid.uuid4()) for _ in range(3))
    activated = identity.publish("user_activated", org_id, {"user_id": staff, "kind": "staff", "role": "admin"})
    identity.publish("user_activated", org_id, {"user_id": staff, "kind": "staff", "role": "admin"},
                     event_id=activated["event_id"])  # redelivered
    identity.publish("user_activated", org_id, {"user_id": partner, "kind": "partner", "role": "partner"})
    identity.publish("user_activated", org_id, {"user_id": case_manager, "kind": "case_manager",
                                                "role": "case_manager"})
    assert wait_until(lambda: seats_in_use(config, org_id) == 2, timeout=15)  # case managers take no seat

    now = dt.datetime.now(dt.timezone.utc)
    identity.publish("user_deactivated", org_id, {"user_id": partner, "kind": "partner", "role": "partner"},
                     occurred_at=now + dt.timedelta(seconds=5))
    identity.publish("user_activated", org_id, {"user_id": partner, "kind": "partner", "role": "partner"},
                     occurred_at=now)  # arrives late: older than the deactivation
    assert wait_until(lambda: seats_in_use(config, org_id) == 1, timeout=15)
    time.sleep(0.5)
    assert seats_in_use(config, org_id) == 1


def trial_opened(infrastructure, org_id):
    """Whether billing holds the program's subscription (read in its database: asking billing
    would open it)."""
    return bool(billing_sql(infrastructure, "SELECT 1 FROM subscriptions WHERE org_id = %s", org_id))


def test_the_programs_own_request_before_the_event_opens_its_trial_once(billing, config, infrastructure):
    org_id = str(uuid.uuid4())
    limit = PLANS["trial"].seat_limit
    with as_caller(config, org_id, permissions.STAFF_MANAGE) as billing:  # right after sign-up
        assert billing.check_seat_available() == {"seats_in_use": 0, "seat_limit": limit, "available": limit}
    event = Identity(config).publish("organization_created", org_id, {
        "organization_id": org_id, "name": "Riverside", "owner_user_id": str(uuid.uuid4())})
    assert wait_until(lambda: billing_sql(infrastructure, "SELECT 1 FROM processed_events WHERE event_id = %s",
                                          event["event_id"]), timeout=15)
    assert billing_sql(infrastructure, "SELECT plan, status FROM subscriptions WHERE org_id = %s", org_id) == [
        ("trial", "trialing")]
    assert billing_sql(infrastructure, "SELECT old_status, new_status, reason FROM subscription_status_changes "
                                       "WHERE org_id = %s", org_id) == [(None, "trialing", "trial_started")]


def test_seat_limit_and_read_only_refuse_a_new_user(billing, config, infrastructure):
    identity = Identity(config)
    org_id = identity.new_program()
    assert wait_until(lambda: trial_opened(infrastructure, org_id), timeout=15)
    limit = PLANS["trial"].seat_limit
    for _ in range(limit - 1):
        identity.publish("user_activated", org_id, {"user_id": str(uuid.uuid4()), "kind": "staff", "role": "default"})
    assert wait_until(lambda: seats_in_use(config, org_id) == limit - 1, timeout=15)
    with as_caller(config, org_id, permissions.STAFF_MANAGE) as billing:
        assert billing.check_seat_available() == {"seats_in_use": limit - 1, "seat_limit": limit, "available": 1}
        identity.publish("user_activated", org_id, {"user_id": str(uuid.uuid4()), "kind": "partner", "role": "partner"})
        assert wait_until(lambda: seats_in_use(config, org_id) == limit, timeout=15)
        with pytest.raises(Conflict) as refused:
            billing.check_seat_available()
        assert f"All {limit} seats of the Free trial plan are in use" in refused.value.detail
        # A case manager's login is a referrer's, not a seat: it still fits.
        assert billing.check_seat_available(kind="case_manager")["available"] == 0
    with as_caller(config, org_id, permissions.BILLING_MANAGE) as billing:
        assert billing.update_subscription({"plan": "team"})["seat_limit"] == PLANS["team"].seat_limit
        with pytest.raises(Forbidden):
            with as_caller(config, org_id, permissions.INVOICING_MANAGE) as not_billing:
                not_billing.get_subscription()

    billing_sql(infrastructure, "UPDATE subscriptions SET status = 'past_due', read_only = true WHERE org_id = %s",
                org_id)
    with as_caller(config, org_id, permissions.STAFF_MANAGE, permissions.INVOICING_MANAGE) as billing:
        with pytest.raises(PaymentRequired):
            billing.check_seat_available()
        with pytest.raises(PaymentRequired):
            billing.add_service({"code": "90837", "name": "Psychotherapy", "rate_cents": 15000})
        with pytest.raises(PaymentRequired):
            billing.record_session({"client_id": str(uuid.uuid4()), "clinician_id": str(uuid.uuid4()),
                                    "service_id": str(uuid.uuid4()), "session_date": str(TODAY)})


def test_grace_period_over_makes_the_program_read_only_and_says_so(billing, config, infrastructure):
    identity = Identity(config)
    org_id = identity.new_program()
    assert wait_until(lambda: trial_opened(infrastructure, org_id), timeout=15)
    billing_sql(infrastructure, "UPDATE subscriptions SET status = 'past_due', failed_attempts = 3, "
                                "past_due_since = now() - interval '15 days' WHERE org_id = %s", org_id)
    restricted = wait_until(lambda: billing_sql(
        infrastructure, "SELECT payload FROM outbox_events WHERE event_type = 'subscription_restricted' "
                        "AND payload->>'org_id' = %s", org_id), timeout=15)
    assert restricted[0][0]["data"]["past_due_since"]
    with as_caller(config, org_id, permissions.BILLING_MANAGE) as billing:
        subscription = billing.get_subscription()
    assert subscription["read_only"] and subscription["status"] == "past_due"
    assert subscription["history"][0]["reason"] == "restricted_read_only"


def test_webhooks_need_the_signature_of_the_exact_body_and_each_event_counts_once(billing, config, payments):
    payload = payments.event("customer.updated", {"id": "cus_1"})
    with ServiceRpcProxy("billing", config) as billing:
        with pytest.raises(Forbidden):
            billing.payments_webhook(payload, {"Payments-Signature": payments.signature(payload + " ")})
        billing.payments_webhook(payload, {"Payments-Signature": payments.signature(payload)})
        with pytest.raises(Conflict):
            billing.payments_webhook(payload, {"Payments-Signature": payments.signature(payload)})
        unsigned = json.dumps({"id": "evt_x"})
        with pytest.raises(Forbidden):
            billing.payments_webhook(unsigned, {})


def test_credit_notes_correct_an_issued_invoice_and_reports_age_receivables(billing, config):
    org_id = str(uuid.uuid4())
    client_id, clinician = str(uuid.uuid4()), str(uuid.uuid4())
    with as_caller(config, org_id, permissions.INVOICING_MANAGE) as billing:
        service = billing.add_service({"code": "90791", "name": "Intake", "rate_cents": 20000})
        with pytest.raises(Conflict):
            billing.add_service({"code": "90791", "name": "Again", "rate_cents": 1})
        old, recent = (billing.record_session({"client_id": client_id, "clinician_id": clinician,
                                               "service_id": service["id"], "session_date": str(day)})
                       for day in (TODAY - dt.timedelta(days=50), TODAY - dt.timedelta(days=2)))
        first = billing.create_invoice({"client_id": client_id, "session_ids": [old["id"]],
                                        "issued_on": str(TODAY - dt.timedelta(days=45))})
        second = billing.create_invoice({"client_id": client_id, "session_ids": [recent["id"]]})
        assert (first["number"], second["number"]) == ("INV-000001", "INV-000002")
        assert first["claim"] is None and first["charged"]["client_cents"] == 20000
        with pytest.raises(Conflict):
            billing.create_invoice({"client_id": client_id, "session_ids": [recent["id"]]})
        with pytest.raises(ValidationFailed):
            billing.issue_credit_note(first["id"], {"client_cents": 20001, "reason": "Too much"})
        corrected = billing.issue_credit_note(first["id"], {"client_cents": 5000, "reason": "Wrong rate"})
        assert corrected["credited"]["client_cents"] == 5000 and corrected["balance"]["client_cents"] == 15000
        assert corrected["lines"] == first["lines"]  # the issued invoice itself is unchanged
        assert corrected["adjustments"][0]["number"] == "CN-000001"
        billing.record_payment(second["id"], {"amount_cents": 20000, "method": "ach"}, {"Idempotency-Key": "k1"})

        report = billing.billing_report({"from": str(TODAY - dt.timedelta(days=60)), "to": str(TODAY),
                                         "period": "month"})
        aging = {bucket["bucket"]: bucket["client_cents"] for bucket in report["ar_aging"]}
        assert aging == {"0-30": 0, "31-60": 15000, "61-90": 0, "90+": 0}
        assert sum(p["invoiced_cents"] for p in report["revenue_by_period"]) == 40000
        assert sum(p["credited_cents"] for p in report["revenue_by_period"]) == 5000
        assert sum(p["net_cents"] for p in report["revenue_by_period"]) == 35000
        assert report["per_clinician"] == [{"clinician_id": clinician, "sessions": 2, "units": 2,
                                            "invoiced_cents": 40000}]
        listed = billing.list_invoices({"client_id": client_id, "limit": 1})
        assert [i["number"] for i in listed["items"]] == ["INV-000002"] and listed["next_cursor"]
        ledger = billing.client_ledger(client_id)
        assert [(e["kind"], e["balance"]) for e in ledger["entries"]] == [
            ("charge", 20000), ("charge", 40000), ("credit_note", 35000), ("payment", 15000)]
    with as_caller(config, str(uuid.uuid4()), permissions.INVOICING_READ) as stranger:
        with pytest.raises(NotFound):
            stranger.get_invoice(first["id"])
        with pytest.raises(NotFound):
            stranger.client_ledger(client_id)


def test_a_canceled_subscription_ends_at_its_period_read_only_and_can_resume(billing, config, infrastructure):
    identity = Identity(config)
    org_id = identity.new_program()
    assert wait_until(lambda: trial_opened(infrastructure, org_id), timeout=15)
    with as_caller(config, org_id, permissions.BILLING_MANAGE) as billing:
        assert billing.update_subscription({"cancel_at_period_end": True})["cancel_at_period_end"] is True
    billing_sql(infrastructure, "UPDATE subscriptions SET current_period_end = now() - interval '1 minute' "
                                "WHERE org_id = %s", org_id)
    ended = wait_until(lambda: billing_sql(
        infrastructure, "SELECT payload FROM outbox_events WHERE event_type = 'subscription_restricted' "
                        "AND payload->>'org_id' = %s", org_id), timeout=15)
    assert ended[0][0]["data"]["reason"] == "canceled"
    with as_caller(config, org_id, permissions.BILLING_MANAGE) as billing:
        subscription = billing.get_subscription()
        assert subscription["status"] == "canceled" and subscription["read_only"]
        assert subscription["history"][0]["reason"] == "canceled_at_period_end"
        assert not billing_sql(infrastructure, "SELECT 1 FROM subscription_invoices s JOIN subscriptions u "
                                               "ON u.id = s.subscription_id WHERE u.org_id = %s", org_id)
        resumed = billing.update_subscription({"cancel_at_period_end": False})
    assert resumed["status"] == "active" and resumed["history"][0]["reason"] == "resumed"


class IdentityAnswering:
    """Identity's ``billing_contacts`` as a real service on the broker: one program it knows,
    one it has never heard of, and one whose lookup breaks."""
    name = "identity"
    known, broken = set(), set()

    @rpc
    def billing_contacts(self, org_id):
        if org_id in self.broken:
            raise RuntimeError("identity is having a bad day")
        if org_id not in self.known:
            raise NotFound("No such program")
        return {"program_name": "Riverside", "contacts": [{"email": "owner@riverside.example", "name": "Ola"}]}


def test_one_failing_subscription_does_not_stop_the_billing_of_the_others(
        billing, config, infrastructure, container_factory):
    identity = Identity(config)
    known, unknown, broken = identity.new_program(), identity.new_program(), identity.new_program()
    IdentityAnswering.known, IdentityAnswering.broken = {known}, {broken}
    container_factory(IdentityAnswering, config).start()
    for org_id in (known, unknown, broken):
        assert wait_until(lambda: trial_opened(infrastructure, org_id), timeout=15)
    # Renewal day comes with no card on file: each renewal fails and its contacts are looked up.
    billing_sql(infrastructure, "UPDATE subscriptions SET current_period_end = now() - interval '1 second' "
                                "WHERE org_id = ANY(%s::uuid[])", [broken, unknown, known])

    def status(org_id):
        return billing_sql(infrastructure, "SELECT status FROM subscriptions WHERE org_id = %s", org_id)[0][0]

    assert wait_until(lambda: status(known) == "past_due" and status(unknown) == "past_due", timeout=20)
    emails = billing_sql(infrastructure, "SELECT payload->>'org_id' FROM outbox_events "
                                         "WHERE event_type = 'notification_requested' "
                                         "AND payload->>'org_id' = ANY(%s)", [known, unknown, broken])
    assert [row[0] for row in emails] == [known]  # a program identity does not know has nobody to tell
    assert status(broken) == "trialing"  # rolled back whole, and tried again on the next cycle
