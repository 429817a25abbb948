"""Billing's tables. Money columns are integer cents beside a currency; invoice totals are
never stored, they are summed from the lines."""
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Uuid,
    func, text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Subscription(Base):
    """A program's subscription: one per program."""
    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    plan: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # trialing | active | past_due | canceled
    seat_limit: Mapped[int] = mapped_column(Integer)
    current_period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The processor's customer and the payment method's token and display details: never a number.
    customer_id: Mapped[str | None] = mapped_column(String(100))
    payment_method_id: Mapped[str | None] = mapped_column(String(100))
    card_brand: Mapped[str | None] = mapped_column(String(30))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None] = mapped_column(Integer)
    card_exp_year: Mapped[int | None] = mapped_column(Integer)
    # Dunning (see billing.dunning)
    open_invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # Ends at current_period_end instead of renewing; the program then keeps its data, read-only.
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    restricted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class SubscriptionStatusChange(Base):
    """Every status change of a subscription, appended, never edited."""
    __tablename__ = "subscription_status_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subscriptions.id"))
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Seat(Base):
    """Read model of identity's users, fed by user_activated / user_deactivated. ``changed_at``
    is the event's time, so an event that arrives late never undoes a newer one."""
    __tablename__ = "seats"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SubscriptionInvoice(Base):
    """What the program owes Handoff for one period, and how collecting it went."""
    __tablename__ = "subscription_invoices"
    __table_args__ = (Index("ix_subscription_invoices_org_created", "org_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subscriptions.id"))
    plan: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | paid
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payment_id: Mapped[str | None] = mapped_column(String(100))  # the processor's latest charge
    charge_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    last_failure: Mapped[str | None] = mapped_column(String(200))  # the processor's decline message
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProcessorEvent(Base):
    """Webhook event ids already taken: a replay is refused."""
    __tablename__ = "processor_events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# -- client invoicing


class OrgSequence(Base):
    """Per-program counters (invoice and credit-note numbers), taken under a row lock."""
    __tablename__ = "org_sequences"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class CatalogService(Base):
    """A service the program bills for, with its code and rate per unit."""
    __tablename__ = "catalog_services"
    __table_args__ = (Index("uq_catalog_services_org_code", "org_id", "code", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    rate_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BillableSession(Base):
    """A session delivered to a client. The client lives in referrals: here it is an opaque id
    scoped by the program. The rate is copied from the catalog when the session is recorded."""
    __tablename__ = "billable_sessions"
    __table_args__ = (Index("ix_billable_sessions_org_client", "org_id", "client_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    clinician_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_services.id"))
    session_date: Mapped[date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Invoice(Base):
    """An issued invoice: immutable. Corrections are credit notes; what is owed is derived."""
    __tablename__ = "invoices"
    __table_args__ = (Index("uq_invoices_org_number", "org_id", "number", unique=True),
                      Index("ix_invoices_org_client", "org_id", "client_id"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    currency: Mapped[str] = mapped_column(String(3))
    insurer: Mapped[str | None] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("client_cents + insurance_cents = amount_cents", name="ck_invoice_lines_split"),
        CheckConstraint("client_cents >= 0 AND insurance_cents >= 0", name="ck_invoice_lines_positive"),
        Index("uq_invoice_lines_session", "session_id", unique=True,
              postgresql_where=text("session_id IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("billable_sessions.id"))
    clinician_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    service_code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    service_date: Mapped[date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    client_cents: Mapped[int] = mapped_column(BigInteger)
    insurance_cents: Mapped[int] = mapped_column(BigInteger)


class InvoiceAdjustment(Base):
    """Everything that changes what an invoice still owes after it is issued, appended:
    payments (client or insurer), credit notes, and a denied claim moving the insurer's unpaid
    part to the client. Signed cents per responsibility: a payment of 30.00 by the client is
    client_cents = -3000; a denial of 80.00 is insurance -8000 and client +8000."""
    __tablename__ = "invoice_adjustments"
    __table_args__ = (
        Index("uq_invoice_adjustments_idempotency", "org_id", "idempotency_key", unique=True,
              postgresql_where=text("idempotency_key IS NOT NULL")),
        Index("ix_invoice_adjustments_org_client", "org_id", "client_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(20))  # payment | credit_note | claim_denied
    number: Mapped[str | None] = mapped_column(String(20))  # a credit note's number
    payer: Mapped[str | None] = mapped_column(String(20))  # client | insurance (payments)
    method: Mapped[str | None] = mapped_column(String(20))  # payments: cash, check, card, ach, ...
    client_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    insurance_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    effective_on: Mapped[date] = mapped_column(Date)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InsuranceClaim(Base):
    """The claim for an invoice's insurance part; its status moves, its history is audited."""
    __tablename__ = "insurance_claims"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    insurer: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # draft | submitted | paid | partially_paid | denied
    denial_reason: Mapped[str | None] = mapped_column(String(500))
    submitted_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
