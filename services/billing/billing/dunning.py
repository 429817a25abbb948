"""Dunning, as a state machine over a subscription: what a renewal charge's outcome and the
passing of time do to its status. Plain Python on the subscription's attributes (status,
failed_attempts, past_due_since, next_attempt_at, read_only, restricted_at), no I/O.

    trialing/active --charge fails--> past_due --retry succeeds--> active
    past_due --grace period over--> past_due and read-only (nothing is deleted)
    past_due and read-only --a charge succeeds (e.g. after a new card)--> active, writable
"""
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class DunningPolicy:
    retry_after: tuple      # timedeltas after the first failure at which to charge again
    grace: timedelta        # how long a program stays writable while past due

    @classmethod
    def from_config(cls, config):
        days = str(config.get("DUNNING_RETRY_DAYS", "1,3,5"))
        return cls(retry_after=tuple(timedelta(days=float(d)) for d in days.split(",") if d.strip()),
                   grace=timedelta(days=float(config.get("DUNNING_GRACE_DAYS", 14))))


@dataclass(frozen=True)
class Transition:
    old: str
    new: str
    reason: str


def _move(subscription, status, reason):
    if subscription.status == status:
        return None
    transition = Transition(subscription.status, status, reason)
    subscription.status = status
    return transition


def payment_failed(subscription, now, policy):
    """Past due from the first failure. Retry n comes ``retry_after[n-1]`` after that first
    failure (never in the past); when the schedule is exhausted no retry is planned, and only a
    new payment method brings one."""
    subscription.failed_attempts = (subscription.failed_attempts or 0) + 1
    subscription.past_due_since = subscription.past_due_since or now
    attempt = subscription.failed_attempts
    if attempt <= len(policy.retry_after):
        subscription.next_attempt_at = max(now, subscription.past_due_since + policy.retry_after[attempt - 1])
    else:
        subscription.next_attempt_at = None
    return _move(subscription, "past_due", "payment_failed")


def payment_succeeded(subscription):
    """Paid: active and writable again, the dunning counters cleared. Returns the status
    transition (or None) and whether a read-only restriction was lifted."""
    reinstated = bool(subscription.read_only)
    subscription.failed_attempts = 0
    subscription.past_due_since = None
    subscription.next_attempt_at = None
    subscription.read_only = False
    subscription.restricted_at = None
    return _move(subscription, "active", "payment_succeeded"), reinstated


def payment_method_changed(subscription, now):
    """A new card while past due is worth trying at once."""
    if subscription.status == "past_due":
        subscription.next_attempt_at = now


def grace_expired(subscription, now, policy):
    return (subscription.status == "past_due" and not subscription.read_only
            and subscription.past_due_since is not None
            and subscription.past_due_since + policy.grace <= now)


def restrict(subscription, now):
    subscription.read_only = True
    subscription.restricted_at = now
