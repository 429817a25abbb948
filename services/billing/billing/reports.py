"""The billing report over a period: revenue by period, receivables by age, payments by method
and invoiced work per clinician, in one currency. Every figure is summed from invoice lines
and adjustments, the same rows the invoices themselves are derived from."""
from collections import defaultdict

from sqlalchemy import Date, cast, func, select

from billing.models import Invoice, InvoiceAdjustment, InvoiceLine
from billing.schemas import BillingReportSchema
from shared import permissions as p

AGING_BUCKETS = (("0-30", 30), ("31-60", 60), ("61-90", 90), ("90+", None))
PERIOD_LABEL = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}


def _bucket(period, column):
    return cast(func.date_trunc(period, column), Date)


def _age_bucket(days):
    return next(name for name, limit in AGING_BUCKETS if limit is None or days <= limit)


def billing_report(session, caller, query):
    caller.require(p.INVOICING_READ, p.INVOICING_MANAGE)
    org_id = caller.org_uuid
    start, end, period, currency = query["start"], query["end"], query["period"], query["currency"]
    of_program = (Invoice.org_id == org_id) & (Invoice.currency == currency)
    adjusted = select(InvoiceAdjustment).join(Invoice, Invoice.id == InvoiceAdjustment.invoice_id) \
        .where(of_program, InvoiceAdjustment.effective_on.between(start, end)).subquery()
    revenue = defaultdict(lambda: {"invoiced_cents": 0, "credited_cents": 0, "collected_cents": 0})
    issued_in = _bucket(period, Invoice.issued_on)
    for day, cents in session.execute(
            select(issued_in, func.sum(InvoiceLine.amount_cents))
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(of_program, Invoice.issued_on.between(start, end)).group_by(issued_in)):
        revenue[day]["invoiced_cents"] += int(cents)
    effective_in = _bucket(period, adjusted.c.effective_on)
    for day, kind, cents in session.execute(
            select(effective_in, adjusted.c.kind, -func.sum(adjusted.c.client_cents + adjusted.c.insurance_cents))
            .where(adjusted.c.kind.in_(("credit_note", "payment"))).group_by(effective_in, adjusted.c.kind)):
        revenue[day]["credited_cents" if kind == "credit_note" else "collected_cents"] += int(cents)
    return BillingReportSchema().dump({
        "start": start, "end": end, "currency": currency,
        "revenue_by_period": [{"period": day.strftime(PERIOD_LABEL[period]), **figures,
                               "net_cents": figures["invoiced_cents"] - figures["credited_cents"]}
                              for day, figures in sorted(revenue.items())],
        "ar_aging": _aging(session, of_program, end),
        "payments_by_method": [
            {"method": method, "payer": payer, "count": count, "amount_cents": int(cents)}
            for method, payer, count, cents in session.execute(
                select(adjusted.c.method, adjusted.c.payer, func.count(),
                       -func.sum(adjusted.c.client_cents + adjusted.c.insurance_cents))
                .where(adjusted.c.kind == "payment").group_by(adjusted.c.method, adjusted.c.payer)
                .order_by(adjusted.c.method, adjusted.c.payer))],
        "per_clinician": [
            {"clinician_id": clinician, "sessions": count, "units": int(units), "invoiced_cents": int(cents)}
            for clinician, count, units, cents in session.execute(
                select(InvoiceLine.clinician_id, func.count(InvoiceLine.id), func.sum(InvoiceLine.units),
                       func.sum(InvoiceLine.amount_cents))
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .where(of_program, Invoice.issued_on.between(start, end))
                .group_by(InvoiceLine.clinician_id).order_by(func.sum(InvoiceLine.amount_cents).desc()))],
    })


def _aging(session, of_program, as_of):
    """What was still owed at ``as_of`` on each invoice issued by then, by the invoice's age;
    a payer's credit on one invoice does not offset another's debt."""
    owed = defaultdict(lambda: [0, 0])
    issued = {}
    for invoice_id, issued_on, client, insurance in session.execute(
            select(Invoice.id, Invoice.issued_on, func.sum(InvoiceLine.client_cents),
                   func.sum(InvoiceLine.insurance_cents))
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(of_program, Invoice.issued_on <= as_of).group_by(Invoice.id, Invoice.issued_on)):
        issued[invoice_id] = issued_on
        owed[invoice_id] = [int(client), int(insurance)]
    for invoice_id, client, insurance in session.execute(
            select(InvoiceAdjustment.invoice_id, func.sum(InvoiceAdjustment.client_cents),
                   func.sum(InvoiceAdjustment.insurance_cents))
            .join(Invoice, Invoice.id == InvoiceAdjustment.invoice_id)
            .where(of_program, Invoice.issued_on <= as_of, InvoiceAdjustment.effective_on <= as_of)
            .group_by(InvoiceAdjustment.invoice_id)):
        owed[invoice_id][0] += int(client)
        owed[invoice_id][1] += int(insurance)
    buckets = {name: [0, 0] for name, _ in AGING_BUCKETS}
    for invoice_id, (client, insurance) in owed.items():
        bucket = buckets[_age_bucket((as_of - issued[invoice_id]).days)]
        bucket[0] += max(client, 0)
        bucket[1] += max(insurance, 0)
    return [{"bucket": name, "client_cents": client, "insurance_cents": insurance, "total_cents": client + insurance}
            for name, (client, insurance) in buckets.items()]
