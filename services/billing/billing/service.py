"""Billing's nameko entrypoints: decode, call the domain, encode."""
import time

from nameko.rpc import RpcProxy

from nameko.timer import timer

from billing import (
    billable_sessions, catalog, events, invoices, ledger, reports, schemas, seats, subscriptions, webhooks,
)
from billing.collection import Collector
from billing.dunning import DunningPolicy
from billing.processor import PaymentsClient
from shared import permissions
from shared.events import event_handler
from shared.schemas import PageQuery, load
from shared.service import ServiceBase
from shared.rpc import rpc

BILLING_CYCLE_SECONDS = 2


class BillingService(ServiceBase):
    name = "billing"
    identity = RpcProxy("identity")

    @property
    def payments(self):
        return PaymentsClient.from_config(self.config)

    def _collector(self):
        return Collector(self.db, self.payments, DunningPolicy.from_config(self.config),
                         contacts_of=self.identity.billing_contacts,
                         billing_link=self.config["PUBLIC_BASE_URL"].rstrip("/") + "/billing/payment-method")

    # -- identity's facts

    @event_handler(*events.ORGANIZATION_CREATED)
    def open_trial_subscription(self, event):
        if event.claim(self.db):
            subscriptions.open_trial(self.db, event.data["organization_id"])
        self.db.commit()

    @event_handler(*events.USER_ACTIVATED)
    def count_activated_user(self, event):
        if event.claim(self.db):
            seats.apply_user_event(self.db, event, active=True)
        self.db.commit()

    @event_handler(*events.USER_DEACTIVATED)
    def count_deactivated_user(self, event):
        if event.claim(self.db):
            seats.apply_user_event(self.db, event, active=False)
        self.db.commit()

    # -- the program's subscription (owner and billing delegates)

    @rpc
    def get_subscription(self):
        caller = self.auth.require(permissions.BILLING_MANAGE)
        return subscriptions.get_subscription(self.db, caller.org_id)

    @rpc
    def update_subscription(self, payload):
        caller = self.auth.require(permissions.BILLING_MANAGE)
        return subscriptions.update_subscription(self.db, caller, load(schemas.SubscriptionUpdateSchema(), payload))

    @rpc
    def check_seat_available(self, kind="staff"):
        """For identity before it invites or enables a user of ``kind``: raises CONFLICT when
        that kind takes a seat and every seat of the plan is taken, PAYMENT_REQUIRED when the
        program is read-only."""
        return subscriptions.seat_availability(self.db, self.auth.current.org_id, kind)

    @rpc
    def restricted_programs(self):
        """Service to service (the gateway); no caller, and only program ids."""
        return subscriptions.restricted_programs(self.db)

    @rpc
    def set_payment_method(self, payload):
        caller = self.auth.require(permissions.BILLING_MANAGE)
        token = load(schemas.PaymentMethodUpdateSchema(), payload)["token"]
        return subscriptions.set_payment_method(self.db, self.payments, caller, token)

    @rpc
    def list_subscription_invoices(self, query):
        caller = self.auth.require(permissions.BILLING_MANAGE)
        return subscriptions.list_invoices(self.db, caller.org_id, load(PageQuery(), query))

    @rpc
    def payments_webhook(self, body, headers, client=None):
        webhooks.verify(self.config["PAYMENTS_WEBHOOK_SECRET"], (headers or {}).get(webhooks.SIGNATURE_HEADER),
                        body, time.time())
        self._collector().apply_webhook(webhooks.parse(body), subscriptions.now_utc())

    @timer(interval=BILLING_CYCLE_SECONDS)
    def run_billing_cycle(self):
        self._collector().run_cycle(subscriptions.now_utc())

    # -- client invoicing (billers)

    @rpc
    def list_services(self, query):
        return catalog.list_services(self.db, self.auth.current, load(PageQuery(), query))

    @rpc
    def add_service(self, payload):
        return catalog.add_service(self.db, self.auth.current, load(schemas.CatalogServiceCreateSchema(), payload))

    @rpc
    def list_sessions(self, query):
        return billable_sessions.list_sessions(self.db, self.auth.current, load(schemas.SessionQuerySchema(), query))

    @rpc
    def record_session(self, payload):
        return billable_sessions.record_session(self.db, self.auth.current,
                                                load(schemas.SessionCreateSchema(), payload))

    @rpc
    def list_invoices(self, query):
        return invoices.list_invoices(self.db, self.auth.current, load(schemas.InvoiceQuerySchema(), query))

    @rpc
    def create_invoice(self, payload):
        return invoices.create_invoice(self.db, self.auth.current, load(schemas.InvoiceCreateSchema(), payload))

    @rpc
    def get_invoice(self, invoice_id):
        return invoices.get_invoice(self.db, self.auth.current, invoice_id)

    @rpc
    def record_payment(self, invoice_id, payload, headers=None):
        key = (headers or {}).get(schemas.IDEMPOTENCY_KEY_HEADER)
        return invoices.record_payment(self.db, self.auth.current, invoice_id,
                                       load(schemas.PaymentCreateSchema(), payload), key)

    @rpc
    def issue_credit_note(self, invoice_id, payload):
        return invoices.issue_credit_note(self.db, self.auth.current, invoice_id,
                                          load(schemas.CreditNoteCreateSchema(), payload))

    @rpc
    def update_claim(self, invoice_id, payload):
        return invoices.update_claim(self.db, self.auth.current, invoice_id, load(schemas.ClaimUpdateSchema(), payload))

    @rpc
    def client_ledger(self, client_id):
        return ledger.client_ledger(self.db, self.auth.current, client_id)

    @rpc
    def billing_report(self, query):
        return reports.billing_report(self.db, self.auth.current, load(schemas.BillingReportQuerySchema(), query))
