"""The dunning state machine: failure -> past due with retries on schedule -> active on success;
read-only after the grace period, lifted by a payment."""
from datetime import datetime, timedelta, timezone

from billing import dunning
from billing.models import Subscription

POLICY = dunning.DunningPolicy(retry_after=(timedelta(days=1), timedelta(days=3)), grace=timedelta(days=7))
T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)


def active():
    return Subscription(status="active", failed_attempts=0, read_only=False)


def test_failures_follow_the_retry_schedule_then_stop():
    subscription = active()
    assert dunning.payment_failed(subscription, T0, POLICY) == dunning.Transition("active", "past_due", "payment_failed")
    assert (subscription.past_due_since, subscription.next_attempt_at) == (T0, T0 + timedelta(days=1))
    assert dunning.payment_failed(subscription, T0 + timedelta(days=1), POLICY) is None  # already past due
    assert subscription.next_attempt_at == T0 + timedelta(days=3)
    dunning.payment_failed(subscription, T0 + timedelta(days=3), POLICY)
    assert subscription.failed_attempts == 3 and subscription.next_attempt_at is None
    assert subscription.past_due_since == T0


def test_a_late_failure_never_schedules_in_the_past():
    subscription = active()
    dunning.payment_failed(subscription, T0, POLICY)
    late = T0 + timedelta(days=2)
    dunning.payment_failed(subscription, late, POLICY)
    assert subscription.next_attempt_at == T0 + timedelta(days=3)
    subscription.failed_attempts = 0
    dunning.payment_failed(subscription, late, POLICY)
    assert subscription.next_attempt_at == late


def test_success_returns_to_active_and_clears_dunning():
    subscription = active()
    dunning.payment_failed(subscription, T0, POLICY)
    transition, reinstated = dunning.payment_succeeded(subscription)
    assert transition == dunning.Transition("past_due", "active", "payment_succeeded") and not reinstated
    assert (subscription.failed_attempts, subscription.past_due_since, subscription.next_attempt_at) == (0, None, None)


def test_read_only_after_the_grace_period_until_a_payment():
    subscription = active()
    dunning.payment_failed(subscription, T0, POLICY)
    assert not dunning.grace_expired(subscription, T0 + timedelta(days=6), POLICY)
    assert dunning.grace_expired(subscription, T0 + timedelta(days=7), POLICY)
    dunning.restrict(subscription, T0 + timedelta(days=7))
    assert subscription.read_only and not dunning.grace_expired(subscription, T0 + timedelta(days=8), POLICY)
    _, reinstated = dunning.payment_succeeded(subscription)
    assert reinstated and not subscription.read_only and subscription.status == "active"


def test_a_new_card_while_past_due_is_tried_at_once():
    subscription = active()
    dunning.payment_method_changed(subscription, T0)
    assert subscription.next_attempt_at is None
    dunning.payment_failed(subscription, T0, POLICY)
    dunning.payment_method_changed(subscription, T0 + timedelta(hours=1))
    assert subscription.next_attempt_at == T0 + timedelta(hours=1)


def test_policy_from_config():
    policy = dunning.DunningPolicy.from_config({"DUNNING_RETRY_DAYS": "1, 2.5", "DUNNING_GRACE_DAYS": "10"})
    assert policy.retry_after == (timedelta(days=1), timedelta(days=2.5)) and policy.grace == timedelta(days=10)
