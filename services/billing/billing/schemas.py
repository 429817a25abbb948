"""Billing's boundary: what its RPCs accept and answer (the gateway validates with these too)."""
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from billing.cards import contains_card_number
from billing.plans import PLANS
from shared.schemas import PageQuery, StrictSchema, page_of

CENTS = validate.Range(min=0, max=10**11)
CURRENCY = validate.Regexp(r"^[a-z]{3}$", error="An ISO 4217 code in lower case, e.g. usd.")
PAID_PLANS = sorted(code for code, plan in PLANS.items() if plan.paid)
PAYMENT_METHODS = ("cash", "check", "card", "ach", "insurance", "other")
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
CARD_NUMBER_REFUSED = ("Card numbers are never accepted: add the card with the payment processor's "
                       "form and send its token.")


class CardFreeSchema(StrictSchema):
    """Refuses a request that carries anything like a card number, in any field, before any
    other check: the error names no value, so the number is echoed nowhere."""

    @pre_load
    def refuse_card_numbers(self, data, **kwargs):
        if contains_card_number(data):
            raise ValidationError({"_schema": [CARD_NUMBER_REFUSED]})
        return data


def amount_field(**kwargs):
    return fields.Integer(strict=True, validate=CENTS, metadata={"description": "Cents (minor units)"},
                          **kwargs)


# -- the program's subscription


class PaymentMethodSchema(StrictSchema):
    brand = fields.String()
    last4 = fields.String()
    exp_month = fields.Integer()
    exp_year = fields.Integer()


class PaymentMethodUpdateSchema(CardFreeSchema):
    token = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_]{6,100}$"),
                          metadata={"description": "The processor's payment-method token (never a card number)"})


class StatusChangeSchema(StrictSchema):
    old_status = fields.String(allow_none=True)
    new_status = fields.String()
    reason = fields.String()
    occurred_at = fields.DateTime()


class SubscriptionSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    plan = fields.String()
    plan_name = fields.String()
    status = fields.String(metadata={"enum": ["trialing", "active", "past_due", "canceled"]})
    seat_limit = fields.Integer()
    seats_in_use = fields.Integer()
    price_cents = fields.Integer()
    currency = fields.String()
    current_period_start = fields.DateTime(allow_none=True)
    current_period_end = fields.DateTime(metadata={"description": "The renewal date"})
    read_only = fields.Boolean(metadata={"description": "Past due beyond the grace period: nothing "
                                                        "can be changed until a payment succeeds"})
    past_due_since = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    payment_method = fields.Nested(PaymentMethodSchema, allow_none=True)
    cancel_at_period_end = fields.Boolean()
    history = fields.List(fields.Nested(StatusChangeSchema))


class SubscriptionUpdateSchema(StrictSchema):
    plan = fields.String(validate=validate.OneOf(PAID_PLANS))
    cancel_at_period_end = fields.Boolean(metadata={
        "description": "true: end at the renewal date instead of renewing; false: keep (or, once "
                       "canceled, resume) the subscription"})

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("Give a plan or cancel_at_period_end", "_schema")


class SeatAvailabilitySchema(StrictSchema):
    seats_in_use = fields.Integer()
    seat_limit = fields.Integer()
    available = fields.Integer()


class SubscriptionInvoiceSchema(StrictSchema):
    id = fields.UUID()
    plan = fields.String()
    period_start = fields.DateTime()
    period_end = fields.DateTime()
    amount_cents = fields.Integer()
    currency = fields.String()
    status = fields.String(metadata={"enum": ["open", "paid"]})
    attempts = fields.Integer()
    last_failure = fields.String(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


SubscriptionInvoicePageSchema = page_of(SubscriptionInvoiceSchema)


# -- client invoicing


class CatalogServiceCreateSchema(CardFreeSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9.-]{1,20}$"),
                         metadata={"description": "Billing code, e.g. a CPT code such as 90837"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    rate_cents = amount_field(required=True)
    currency = fields.String(load_default="usd", validate=CURRENCY)


class CatalogServiceSchema(StrictSchema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    rate_cents = fields.Integer()
    currency = fields.String()
    active = fields.Boolean()


CatalogServicePageSchema = page_of(CatalogServiceSchema)


class SessionCreateSchema(CardFreeSchema):
    client_id = fields.UUID(required=True)
    clinician_id = fields.UUID(required=True, metadata={"description": "The staff member who saw the client"})
    service_id = fields.UUID(required=True)
    session_date = fields.Date(required=True)
    units = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=96))


class SessionSchema(StrictSchema):
    id = fields.UUID()
    client_id = fields.UUID()
    clinician_id = fields.UUID()
    service_id = fields.UUID()
    session_date = fields.Date()
    units = fields.Integer()
    unit_price_cents = fields.Integer()
    amount_cents = fields.Integer()
    currency = fields.String()
    invoice_id = fields.UUID(allow_none=True)


SessionPageSchema = page_of(SessionSchema)


class SessionQuerySchema(PageQuery):
    client_id = fields.UUID()
    uninvoiced = fields.Boolean(metadata={"description": "Only sessions not on an invoice yet"})


class CoverageSchema(StrictSchema):
    insurer = fields.String(required=True, validate=validate.Length(min=1, max=200))
    copay_cents = amount_field(load_default=0)
    coinsurance_bps = fields.Integer(load_default=0, strict=True, validate=validate.Range(0, 10_000),
                                     metadata={"description": "Client's share after the copay, in "
                                                              "basis points (2000 = 20%)"})


class InvoiceCreateSchema(CardFreeSchema):
    client_id = fields.UUID(required=True)
    session_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=100))
    insurance = fields.Nested(CoverageSchema, load_default=None,
                              metadata={"description": "Omit when the client pays everything"})
    issued_on = fields.Date(load_default=None, metadata={"description": "Defaults to today"})


class InvoiceQuerySchema(PageQuery):
    client_id = fields.UUID()


class SplitSchema(StrictSchema):
    client_cents = fields.Integer()
    insurance_cents = fields.Integer()
    total_cents = fields.Integer()


class InvoiceLineSchema(StrictSchema):
    session_id = fields.UUID(allow_none=True)
    clinician_id = fields.UUID()
    service_code = fields.String()
    description = fields.String()
    service_date = fields.Date()
    units = fields.Integer()
    unit_price_cents = fields.Integer()
    amount_cents = fields.Integer()
    client_cents = fields.Integer()
    insurance_cents = fields.Integer()


class AdjustmentSchema(StrictSchema):
    id = fields.UUID()
    kind = fields.String(metadata={"enum": ["payment", "credit_note", "claim_denied"]})
    number = fields.String(allow_none=True)
    payer = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    client_cents = fields.Integer()
    insurance_cents = fields.Integer()
    reference = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    effective_on = fields.Date()
    created_at = fields.DateTime()


class ClaimSchema(StrictSchema):
    insurer = fields.String()
    status = fields.String(metadata={"enum": ["draft", "submitted", "paid", "partially_paid", "denied"]})
    denial_reason = fields.String(allow_none=True)
    submitted_on = fields.Date(allow_none=True)


class InvoiceSchema(StrictSchema):
    id = fields.UUID()
    number = fields.String()
    client_id = fields.UUID()
    currency = fields.String()
    issued_on = fields.Date()
    status = fields.String(metadata={"enum": ["open", "partially_paid", "paid", "overpaid"]})
    lines = fields.List(fields.Nested(InvoiceLineSchema))
    charged = fields.Nested(SplitSchema, metadata={"description": "Sum of the lines"})
    credited = fields.Nested(SplitSchema)
    paid = fields.Nested(SplitSchema)
    balance = fields.Nested(SplitSchema, metadata={"description": "Still owed; negative is a credit"})
    claim = fields.Nested(ClaimSchema, allow_none=True)
    adjustments = fields.List(fields.Nested(AdjustmentSchema))


class InvoiceSummarySchema(StrictSchema):
    id = fields.UUID()
    number = fields.String()
    client_id = fields.UUID()
    currency = fields.String()
    issued_on = fields.Date()
    status = fields.String()
    charged = fields.Nested(SplitSchema)
    balance = fields.Nested(SplitSchema)


InvoiceSummaryPageSchema = page_of(InvoiceSummarySchema)


class PaymentCreateSchema(CardFreeSchema):
    amount_cents = amount_field(required=True)
    payer = fields.String(load_default="client", validate=validate.OneOf(("client", "insurance")))
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    received_on = fields.Date(load_default=None, metadata={"description": "Defaults to today"})
    reference = fields.String(load_default=None, validate=validate.Length(max=100),
                              metadata={"description": "Check number, remittance id... never card data"})

    @validates_schema
    def positive(self, data, **kwargs):
        if data.get("amount_cents") == 0:
            raise ValidationError({"amount_cents": ["Must be more than zero."]})


class PaymentResultSchema(StrictSchema):
    payment = fields.Nested(AdjustmentSchema)
    invoice = fields.Nested(InvoiceSchema)


class CreditNoteCreateSchema(CardFreeSchema):
    client_cents = amount_field(load_default=0)
    insurance_cents = amount_field(load_default=0)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))

    @validates_schema
    def something_credited(self, data, **kwargs):
        if not data.get("client_cents") and not data.get("insurance_cents"):
            raise ValidationError({"_schema": ["Credit the client's part, the insurer's part, or both."]})


class ClaimUpdateSchema(CardFreeSchema):
    status = fields.String(required=True, validate=validate.OneOf(("submitted", "denied")),
                           metadata={"description": "paid and partially_paid follow from insurer payments"})
    denial_reason = fields.String(load_default=None, validate=validate.Length(max=500))


class LedgerEntrySchema(StrictSchema):
    date = fields.Date()
    kind = fields.String(metadata={"enum": ["charge", "payment", "credit_note", "claim_denied"]})
    invoice_id = fields.UUID()
    invoice_number = fields.String()
    description = fields.String()
    client_cents = fields.Integer()
    insurance_cents = fields.Integer()
    client_balance = fields.Integer()
    insurance_balance = fields.Integer()
    balance = fields.Integer()


class LedgerSchema(StrictSchema):
    client_id = fields.UUID()
    currency = fields.String()
    entries = fields.List(fields.Nested(LedgerEntrySchema))
    balance = fields.Nested(SplitSchema)


class BillingReportQuerySchema(StrictSchema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    period = fields.String(load_default="month", validate=validate.OneOf(("day", "week", "month")))
    currency = fields.String(load_default="usd", validate=CURRENCY)

    @validates_schema
    def start_not_after_end(self, data, **kwargs):
        if "start" in data and "end" in data and data["start"] > data["end"]:
            raise ValidationError({"from": ["Must not be after 'to'."]})


class RevenueSchema(StrictSchema):
    period = fields.String()
    invoiced_cents = fields.Integer()
    credited_cents = fields.Integer()
    net_cents = fields.Integer()
    collected_cents = fields.Integer()


class AgingBucketSchema(StrictSchema):
    bucket = fields.String(metadata={"enum": ["0-30", "31-60", "61-90", "90+"]})
    client_cents = fields.Integer()
    insurance_cents = fields.Integer()
    total_cents = fields.Integer()


class MethodTotalSchema(StrictSchema):
    method = fields.String()
    payer = fields.String()
    count = fields.Integer()
    amount_cents = fields.Integer()


class ClinicianTotalSchema(StrictSchema):
    clinician_id = fields.UUID()
    sessions = fields.Integer()
    units = fields.Integer()
    invoiced_cents = fields.Integer()


class BillingReportSchema(StrictSchema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    currency = fields.String()
    revenue_by_period = fields.List(fields.Nested(RevenueSchema))
    ar_aging = fields.List(fields.Nested(AgingBucketSchema),
                           metadata={"description": "Outstanding at 'to', by age of the invoice"})
    payments_by_method = fields.List(fields.Nested(MethodTotalSchema))
    per_clinician = fields.List(fields.Nested(ClinicianTotalSchema))
