"""Collecting the subscription: renewal charges when a period ends, their outcomes as the
processor reports them by webhook, retries on the dunning schedule, emails to the owner and
billing delegates when a charge fails, and read-only after the grace period.

Every subscription is worked in its own transaction under a row lock taken with SKIP LOCKED,
so several billing instances share the work and never charge one invoice twice. A renewal
invoice is committed before it is charged, and the charge's idempotency key (invoice and
attempt) makes a charge repeated after a crash or a timeout the same charge."""
import logging
import uuid
from datetime import timedelta

from sqlalchemy import select

from billing import dunning, events, subscriptions, webhooks
from billing.models import Subscription, SubscriptionInvoice
from billing.money import format_amount
from billing.plans import PLANS, renewal_plan
from billing.processor import ProcessorRefused, ProcessorUnavailable
from shared import notifications
from shared.errors import NotFound
from shared.outbox import emit

log = logging.getLogger(__name__)

BATCH = 50
PROCESSOR_DOWN_RETRY = timedelta(minutes=10)
SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
NO_PAYMENT_METHOD = "No payment method on file"


class Collector:
    """What collecting needs from outside: the processor, the dunning policy, who to email
    (``contacts_of(org_id)`` -> {program_name, contacts: [{email, name}]}) and the link to
    the billing page."""

    def __init__(self, session, payments, policy, contacts_of, billing_link):
        self.session = session
        self.payments = payments
        self.policy = policy
        self.contacts_of = contacts_of
        self.billing_link = billing_link

    # -- the billing cycle (a timer)

    def run_cycle(self, now):
        period_over = Subscription.status.in_(("trialing", "active")) & Subscription.open_invoice_id.is_(None) \
            & (Subscription.current_period_end <= now)
        renewals = period_over & ~Subscription.cancel_at_period_end
        endings = period_over & Subscription.cancel_at_period_end
        retries = Subscription.open_invoice_id.is_not(None) & (Subscription.next_attempt_at <= now)
        grace_over = (Subscription.status == "past_due") & ~Subscription.read_only \
            & (Subscription.past_due_since <= now - self.policy.grace)
        for condition, work in ((renewals, self._renew), (endings, self._end), (retries, self._retry),
                                (grace_over, self._restrict)):
            for subscription_id in self.session.scalars(select(Subscription.id).where(condition).limit(BATCH)).all():
                self._work_one(subscription_id, condition, work, now)

    def _work_one(self, subscription_id, condition, work, now):
        """One subscription's step in its own transaction. A step that fails is rolled back and
        logged, and the cycle goes on: one bad subscription must not stop every program's billing."""
        try:
            subscription = self.session.scalars(
                select(Subscription).where(Subscription.id == subscription_id, condition)
                .with_for_update(skip_locked=True)).first()
            if subscription is not None:  # another instance has it, or it moved on
                work(subscription, now)
            self.session.commit()
        except Exception:  # noqa: BLE001 - isolate the failure; it is retried on the next cycle
            self.session.rollback()
            log.exception("billing step failed", extra={"fields": {"subscription_id": str(subscription_id),
                                                                   "step": work.__name__}})

    def _renew(self, subscription, now):
        plan = renewal_plan(subscription.plan)
        invoice = SubscriptionInvoice(
            id=uuid.uuid4(), org_id=subscription.org_id, subscription_id=subscription.id, plan=plan.code,
            period_start=subscription.current_period_end,
            period_end=subscriptions.add_month(subscription.current_period_end),
            amount_cents=plan.monthly_price_cents, currency=plan.currency, status="open", attempts=0,
            charge_pending=False)
        self.session.add(invoice)
        subscription.open_invoice_id = invoice.id
        # Charged by the retry step once this is committed: a crash in between cannot lose the
        # invoice and charge a second one under a new idempotency key.
        subscription.next_attempt_at = now

    def _retry(self, subscription, now):
        self._charge(subscription, self.session.get(SubscriptionInvoice, subscription.open_invoice_id), now)

    def _charge(self, subscription, invoice, now):
        subscription.next_attempt_at = None
        invoice.attempts += 1
        if subscription.payment_method_id is None:
            self._failed(subscription, invoice, NO_PAYMENT_METHOD, now)
            return
        try:
            intent = self.payments.charge(
                subscription.customer_id, subscription.payment_method_id, invoice.amount_cents,
                invoice.currency, idempotency_key=f"{invoice.id}:{invoice.attempts}",
                metadata={"invoice_id": invoice.id, "org_id": subscription.org_id})
        except ProcessorUnavailable as error:
            invoice.attempts -= 1
            subscription.next_attempt_at = now + PROCESSOR_DOWN_RETRY
            log.warning("renewal charge deferred", extra={"fields": {"invoice_id": str(invoice.id),
                                                                      "error": str(error)}})
            return
        except ProcessorRefused as refused:
            self._failed(subscription, invoice, refused.message, now)
            return
        invoice.payment_id, invoice.charge_pending = intent["id"], True

    def _end(self, subscription, now):
        """A subscription canceled at its period's end: the program keeps its data, read-only."""
        old_status = subscription.status
        subscription.status, subscription.cancel_at_period_end = "canceled", False
        dunning.restrict(subscription, now)
        subscriptions.record_transition(self.session, subscription,
                                        dunning.Transition(old_status, "canceled", "canceled_at_period_end"))
        emit(self.session, events.SUBSCRIPTION_RESTRICTED, subscription.org_id, {
            "subscription_id": str(subscription.id), "reason": "canceled"})
        log.info("subscription canceled", extra={"fields": {"subscription_id": str(subscription.id)}})

    def _restrict(self, subscription, now):
        if not dunning.grace_expired(subscription, now, self.policy):
            return
        dunning.restrict(subscription, now)
        subscriptions.record_transition(self.session, subscription,
                                        dunning.Transition("past_due", "past_due", "restricted_read_only"))
        emit(self.session, events.SUBSCRIPTION_RESTRICTED, subscription.org_id, {
            "subscription_id": str(subscription.id), "past_due_since": subscription.past_due_since.isoformat()})
        log.info("subscription restricted", extra={"fields": {"subscription_id": str(subscription.id)}})

    # -- the processor's webhooks

    def apply_webhook(self, event, now):
        """Take the event (a replay is refused) and apply a charge outcome we are waiting for;
        anything else is acknowledged and ignored."""
        webhooks.take(self.session, event)
        if event["type"] in (SUCCEEDED, FAILED):
            self._apply_charge_outcome(event, now)
        self.session.commit()

    def _apply_charge_outcome(self, event, now):
        charge = event["object"]
        try:
            invoice_id = uuid.UUID(str((charge.get("metadata") or {}).get("invoice_id")))
        except ValueError:
            return
        invoice = self.session.scalars(select(SubscriptionInvoice).where(
            SubscriptionInvoice.id == invoice_id, SubscriptionInvoice.payment_id == str(charge.get("id")))
            .with_for_update()).first()
        if invoice is None or invoice.status != "open" or not invoice.charge_pending:
            return  # a stale attempt, or one already settled
        subscription = self.session.scalars(select(Subscription).where(
            Subscription.id == invoice.subscription_id).with_for_update()).one()
        if event["type"] == SUCCEEDED:
            self._paid(subscription, invoice, now)
        else:
            reason = str((charge.get("last_payment_error") or {}).get("message") or "Payment declined")
            self._failed(subscription, invoice, reason[:200], now)

    def _paid(self, subscription, invoice, now):
        invoice.status, invoice.paid_at, invoice.charge_pending = "paid", now, False
        plan = PLANS[invoice.plan]
        subscription.plan, subscription.seat_limit = plan.code, plan.seat_limit
        subscription.current_period_start, subscription.current_period_end = invoice.period_start, invoice.period_end
        subscription.open_invoice_id = None
        transition, reinstated = dunning.payment_succeeded(subscription)
        subscriptions.record_transition(self.session, subscription, transition)
        if reinstated:
            emit(self.session, events.SUBSCRIPTION_REINSTATED, subscription.org_id,
                 {"subscription_id": str(subscription.id)})

    def _failed(self, subscription, invoice, reason, now):
        invoice.charge_pending, invoice.last_failure = False, reason
        transition = dunning.payment_failed(subscription, now, self.policy)
        subscriptions.record_transition(self.session, subscription, transition)
        self._tell_billing_contacts(subscription, invoice)

    def _tell_billing_contacts(self, subscription, invoice):
        """One request per person, so each email greets its reader by name."""
        try:
            people = self.contacts_of(str(subscription.org_id))
        except NotFound:  # the program is gone from identity: there is nobody left to tell
            log.warning("no billing contacts for a failed payment",
                        extra={"fields": {"subscription_id": str(subscription.id)}})
            return
        next_attempt = subscription.next_attempt_at.date().isoformat() if subscription.next_attempt_at else ""
        for contact in people["contacts"]:
            notifications.request(self.session, subscription.org_id, "payment_failed",
                                  [notifications.recipient(contact["email"], contact["name"])], {
                                      "recipient_name": contact["name"],
                                      "program_name": people["program_name"],
                                      "amount": format_amount(invoice.amount_cents, invoice.currency),
                                      "next_attempt_on": next_attempt, "link": self.billing_link})
