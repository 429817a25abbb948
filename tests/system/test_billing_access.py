"""Who sees billing: the owner and the staff the owner delegates, nobody else (seeds 000, 004)."""
import time

import pytest

from shared.testing.api import add_staff_member, assert_problem, log_in, sign_up

pytestmark = pytest.mark.system


def test_only_the_owner_and_delegates_see_billing(system, infrastructure):
    program = sign_up(system)
    admin_id, admin_email = add_staff_member(infrastructure, program, role="org_admin")
    coordinator_id, coordinator_email = add_staff_member(infrastructure, program, role="default")

    admin = log_in(system, admin_email)
    for path in ("/api/v1/billing/subscription", "/api/v1/billing/delegates"):
        assert_problem(system.request("GET", path, token=admin), 403)

    chosen = system.request("PUT", "/api/v1/billing/delegates", token=program.access_token,
                            json={"user_ids": [coordinator_id]})
    assert chosen.status_code == 200, chosen.text
    assert [d["id"] for d in chosen.json()["delegates"]] == [coordinator_id]

    coordinator = log_in(system, coordinator_email)
    deadline = time.monotonic() + 15
    while system.request("GET", "/api/v1/billing/subscription", token=coordinator).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    # A delegate sees billing but cannot name delegates: that stays the owner's.
    assert_problem(system.request("PUT", "/api/v1/billing/delegates", token=coordinator,
                                  json={"user_ids": [admin_id]}), 403)

    system.request("PUT", "/api/v1/billing/delegates", token=program.access_token,
                   json={"user_ids": []}).raise_for_status()
    deadline = time.monotonic() + 5
    while system.request("GET", "/api/v1/billing/subscription", token=coordinator).status_code != 401:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert_problem(system.request("GET", "/api/v1/billing/subscription",
                                  token=log_in(system, coordinator_email)), 403)


def test_delegates_must_be_staff_of_the_program(system, infrastructure):
    program, other = sign_up(system), sign_up(system)
    stranger_id, _ = add_staff_member(infrastructure, other)
    body = assert_problem(system.request("PUT", "/api/v1/billing/delegates", token=program.access_token,
                                         json={"user_ids": [stranger_id]}), 422)
    assert "user_ids" in body["errors"]


def test_a_program_restricted_for_non_payment_can_read_and_pay_but_not_write(system):
    from shared.outbox import EventPublisher, envelope

    program = sign_up(system)
    billing_events = EventPublisher(system.environment["AMQP_URI"], "billing")
    provider = {"name": "Written while restricted", "specialties": ["anxiety"]}
    # What billing publishes when the grace period of a failed renewal runs out.
    billing_events.publish("subscription_restricted", envelope("subscription_restricted", program.org_id,
                                                               {"subscription_id": "s"}))
    deadline = time.monotonic() + 5
    while (refused := system.request("POST", "/api/v1/providers", token=program.access_token,
                                     json=provider)).status_code != 402:
        assert time.monotonic() < deadline, refused.text
        time.sleep(0.1)
    assert_problem(refused, 402, "PAYMENT_REQUIRED")
    assert system.request("GET", "/api/v1/providers", token=program.access_token).status_code == 200
    assert system.request("PUT", "/api/v1/billing/delegates", token=program.access_token,
                          json={"user_ids": []}).status_code == 200  # billing stays open, to pay
    other = sign_up(system)
    assert system.request("POST", "/api/v1/providers", token=other.access_token, json=provider).status_code == 201

    billing_events.publish("subscription_reinstated", envelope("subscription_reinstated", program.org_id,
                                                               {"subscription_id": "s"}))
    deadline = time.monotonic() + 5
    while system.request("POST", "/api/v1/providers", token=program.access_token, json=provider).status_code != 201:
        assert time.monotonic() < deadline
        time.sleep(0.1)
