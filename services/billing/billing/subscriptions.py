"""The program's subscription: plan, status and its history, seats, payment method, invoices."""
import calendar
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert

from billing import dunning, seats
from billing.models import Subscription, SubscriptionInvoice, SubscriptionStatusChange
from billing.plans import PLANS, SEAT_KINDS, TRIAL_DAYS
from billing.processor import ProcessorRefused, ProcessorUnavailable
from billing.schemas import (
    SeatAvailabilitySchema, SubscriptionInvoiceSchema, SubscriptionSchema,
)
from shared import audit
from shared.errors import Conflict, PaymentRequired, Unavailable, ValidationFailed
from shared.pagination import decode_cursor, page

HISTORY_SHOWN = 20


def now_utc():
    return datetime.now(timezone.utc)


def add_month(moment):
    """The same day next month, or that month's last day (31 January -> 28/29 February)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def record_transition(session, subscription, transition):
    if transition is not None:
        session.add(SubscriptionStatusChange(org_id=subscription.org_id, subscription_id=subscription.id,
                                             old_status=transition.old, new_status=transition.new,
                                             reason=transition.reason))


def open_trial(session, org_id):
    """A trial for a new program; does nothing when the program already has a subscription,
    also when another transaction opens it at the same moment (the event and a request)."""
    plan, started = PLANS["trial"], now_utc()
    opened = session.scalar(insert(Subscription).values(
        id=uuid.uuid4(), org_id=uuid.UUID(str(org_id)), plan=plan.code, status="trialing", seat_limit=plan.seat_limit,
        current_period_start=started, current_period_end=started + timedelta(days=TRIAL_DAYS),
    ).on_conflict_do_nothing(index_elements=[Subscription.org_id]).returning(Subscription.id))
    if opened is not None:
        record_transition(session, session.get(Subscription, opened),
                          dunning.Transition(None, "trialing", "trial_started"))


def subscription_of(session, org_id, lock=False):
    """The caller's program's subscription. identity's organization_created event opens it, but
    the program's own first request can come first (an invitation right after sign-up): that
    request opens the trial the event would have, and the event then changes nothing."""
    query = select(Subscription).where(Subscription.org_id == uuid.UUID(str(org_id)))
    query = query.with_for_update() if lock else query
    subscription = session.scalars(query).first()
    if subscription is None:
        open_trial(session, org_id)
        session.commit()
        subscription = session.scalars(query).one()
    return subscription


def describe(session, subscription):
    plan = PLANS[subscription.plan]
    history = session.scalars(select(SubscriptionStatusChange)
                              .where(SubscriptionStatusChange.subscription_id == subscription.id)
                              .order_by(SubscriptionStatusChange.id.desc()).limit(HISTORY_SHOWN)).all()
    method = None
    if subscription.payment_method_id:
        method = {"brand": subscription.card_brand, "last4": subscription.card_last4,
                  "exp_month": subscription.card_exp_month, "exp_year": subscription.card_exp_year}
    return SubscriptionSchema().dump({
        "id": subscription.id, "plan": plan.code, "plan_name": plan.name, "status": subscription.status,
        "seat_limit": subscription.seat_limit, "seats_in_use": seats.seats_in_use(session, subscription.org_id),
        "price_cents": plan.monthly_price_cents, "currency": plan.currency,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end, "read_only": subscription.read_only,
        "past_due_since": subscription.past_due_since, "next_attempt_at": subscription.next_attempt_at,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "payment_method": method,
        "history": history,
    })


def get_subscription(session, org_id):
    return describe(session, subscription_of(session, org_id))


def update_subscription(session, caller, data):
    subscription = subscription_of(session, caller.org_id, lock=True)
    if "plan" in data:
        _change_plan(session, caller, subscription, data["plan"])
    if "cancel_at_period_end" in data:
        _set_cancellation(session, caller, subscription, data["cancel_at_period_end"])
    session.commit()
    return describe(session, subscription)


def _set_cancellation(session, caller, subscription, cancel):
    """Cancel at the renewal date, or keep going; a canceled subscription resumes with a charge
    now, and its program writes again once that payment succeeds."""
    subscription.cancel_at_period_end = cancel
    if not cancel and subscription.status == "canceled":
        record_transition(session, subscription, dunning.Transition("canceled", "active", "resumed"))
        subscription.status = "active"
        subscription.current_period_end = datetime.now(timezone.utc)  # the cycle renews it now
    audit.record_for(session, caller, "billing.cancel" if cancel else "billing.keep", "subscription",
                     subscription.id)


def _change_plan(session, caller, subscription, plan_code):
    """Takes effect now for seats; the new price applies from the next renewal."""
    plan = PLANS[plan_code]
    in_use = seats.seats_in_use(session, subscription.org_id)
    if in_use > plan.seat_limit:
        raise Conflict(f"{in_use} seats are in use and the {plan.name} plan has {plan.seat_limit}; "
                       "deactivate users first", errors={"plan": ["Too few seats for the users in use"]})
    subscription.plan, subscription.seat_limit = plan.code, plan.seat_limit
    audit.record_for(session, caller, "billing.plan.change", "subscription", subscription.id,
                     details={"plan": plan.code})


def seat_availability(session, org_id, kind="staff"):
    """Raises when the program cannot take one more user of ``kind``: read-only after failed
    payments (402), or no seat left on its plan (409) for a kind that takes one (case
    managers, the program's referrers, do not)."""
    subscription = subscription_of(session, org_id)
    ensure_writable(subscription)
    in_use = seats.seats_in_use(session, subscription.org_id)
    if kind in SEAT_KINDS and in_use >= subscription.seat_limit:
        plan = PLANS[subscription.plan]
        raise Conflict(f"All {subscription.seat_limit} seats of the {plan.name} plan are in use: "
                       "upgrade the plan or deactivate a user first",
                       errors={"seats": [f"{in_use} of {subscription.seat_limit} in use"]})
    return SeatAvailabilitySchema().dump({"seats_in_use": in_use, "seat_limit": subscription.seat_limit,
                                          "available": subscription.seat_limit - in_use})


PROGRAM_READ_ONLY = ("Payments for this program have failed for too long: it is read-only until the owner "
                     "updates the payment method")


def ensure_writable(subscription):
    if subscription.read_only:
        raise PaymentRequired(PROGRAM_READ_ONLY)


def ensure_org_writable(session, org_id):
    """For billing's own writes (client invoicing); a program whose subscription billing has
    not heard of yet is not held up."""
    if session.scalar(select(Subscription.read_only).where(Subscription.org_id == uuid.UUID(str(org_id)))):
        raise PaymentRequired(PROGRAM_READ_ONLY)


def set_payment_method(session, payments, caller, token):
    """Attach the processor's token to the program's customer and keep only what a person needs
    to recognise the card. Past due, a new card is charged at the next billing cycle."""
    subscription = subscription_of(session, caller.org_id, lock=True)
    try:
        if subscription.customer_id is None:
            subscription.customer_id = payments.create_customer(subscription.org_id)
            session.commit()  # one customer per program, even if attaching fails below
            subscription = subscription_of(session, caller.org_id, lock=True)
        method = payments.attach_payment_method(token, subscription.customer_id)
    except ProcessorRefused as refused:
        raise ValidationFailed("The payment processor refused this payment method",
                               errors={"token": [refused.message]}) from None
    except ProcessorUnavailable:
        raise Unavailable("The payment processor is not answering; try again shortly") from None
    subscription.payment_method_id = method["id"]
    subscription.card_brand, subscription.card_last4 = method["brand"], method["last4"]
    subscription.card_exp_month, subscription.card_exp_year = method["exp_month"], method["exp_year"]
    dunning.payment_method_changed(subscription, now_utc())
    audit.record_for(session, caller, "billing.payment_method.update", "subscription", subscription.id)
    session.commit()
    return describe(session, subscription)["payment_method"]


def list_invoices(session, org_id, query):
    statement = select(SubscriptionInvoice).where(SubscriptionInvoice.org_id == uuid.UUID(str(org_id)))
    after = decode_cursor(query.get("cursor"))
    if after:
        statement = statement.where(tuple_(SubscriptionInvoice.created_at, SubscriptionInvoice.id)
                                    < (datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(SubscriptionInvoice.created_at.desc(),
                                              SubscriptionInvoice.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"],
                              lambda invoice: [invoice.created_at.isoformat(), str(invoice.id)])
    return {"items": SubscriptionInvoiceSchema(many=True).dump(items), "next_cursor": next_cursor}


def restricted_programs(session):
    """Programs that are read-only for want of payment (the gateway loads them at start)."""
    return [str(org_id) for org_id in session.scalars(select(Subscription.org_id).where(Subscription.read_only))]
