"""Client invoices: issued from billable sessions with each line split between the client and
the insurer, immutable once issued. What happens afterwards is appended as adjustments
(payments, credit notes, a denied claim moving the insurer's part to the client), and every
amount owed is derived from lines and adjustments, never stored.

Payments on one invoice are serialised by a lock on the invoice row, and an Idempotency-Key
is unique per program in the database, so racing or retried requests never count twice."""
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from billing import subscriptions
from billing.models import (
    BillableSession, CatalogService, InsuranceClaim, Invoice, InvoiceAdjustment, InvoiceLine, OrgSequence,
)
from billing.money import split_responsibility
from billing.schemas import InvoiceSchema, InvoiceSummarySchema, PaymentResultSchema
from shared import audit, permissions as p
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.pagination import decode_cursor, page

# Which claim status may follow which, when a biller sets it (paid and partially_paid follow
# from the insurer's payments).
CLAIM_MOVES = {"submitted": {"draft", "denied"}, "denied": {"draft", "submitted", "partially_paid"}}
MAX_IDEMPOTENCY_KEY = 100


@dataclass(frozen=True)
class Split:
    client: int = 0
    insurance: int = 0

    @property
    def total(self):
        return self.client + self.insurance

    def __add__(self, other):
        return Split(self.client + other.client, self.insurance + other.insurance)

    def __neg__(self):
        return Split(-self.client, -self.insurance)

    def dump(self):
        return {"client_cents": self.client, "insurance_cents": self.insurance, "total_cents": self.total}


@dataclass(frozen=True)
class InvoiceState:
    charged: Split
    credited: Split
    paid: Split
    balance: Split

    @property
    def status(self):
        if self.balance.total < 0:
            return "overpaid"
        if self.balance.total == 0 and self.charged.total > 0:
            return "paid"
        return "partially_paid" if self.paid.total else "open"


def state_of(lines, adjustments):
    """What an invoice was charged, credited and paid, and what is still owed per payer."""
    charged = sum((Split(line.client_cents, line.insurance_cents) for line in lines), Split())
    moves = {kind: sum((Split(a.client_cents, a.insurance_cents) for a in adjustments if a.kind == kind), Split())
             for kind in ("payment", "credit_note", "claim_denied")}
    balance = charged + moves["payment"] + moves["credit_note"] + moves["claim_denied"]
    return InvoiceState(charged=charged, credited=-moves["credit_note"], paid=-moves["payment"], balance=balance)


def next_number(session, org_id, name):
    statement = insert(OrgSequence).values(org_id=org_id, name=name, value=1)
    statement = statement.on_conflict_do_update(index_elements=[OrgSequence.org_id, OrgSequence.name],
                                                set_={"value": OrgSequence.value + 1})
    return session.scalar(statement.returning(OrgSequence.value))


def _invoice(session, caller, invoice_id, lock=False):
    query = select(Invoice).where(Invoice.id == uuid.UUID(str(invoice_id)), Invoice.org_id == caller.org_uuid)
    invoice = session.scalars(query.with_for_update() if lock else query).first()
    if invoice is None:
        raise NotFound("No such invoice")
    return invoice


def _details(session, invoice):
    lines = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                            .order_by(InvoiceLine.service_date, InvoiceLine.id)).all()
    adjustments = session.scalars(select(InvoiceAdjustment).where(InvoiceAdjustment.invoice_id == invoice.id)
                                  .order_by(InvoiceAdjustment.created_at, InvoiceAdjustment.id)).all()
    return lines, adjustments, session.get(InsuranceClaim, invoice.id)


def _view(session, invoice):
    lines, adjustments, claim = _details(session, invoice)
    state = state_of(lines, adjustments)
    return {"id": invoice.id, "number": invoice.number, "client_id": invoice.client_id, "currency": invoice.currency,
            "issued_on": invoice.issued_on, "status": state.status, "lines": lines,
            "charged": state.charged.dump(), "credited": state.credited.dump(), "paid": state.paid.dump(),
            "balance": state.balance.dump(), "claim": claim, "adjustments": adjustments}


def describe(session, invoice):
    return InvoiceSchema().dump(_view(session, invoice))


def get_invoice(session, caller, invoice_id):
    caller.require(p.INVOICING_READ, p.INVOICING_MANAGE)
    return describe(session, _invoice(session, caller, invoice_id))


def create_invoice(session, caller, data):
    """Issue an invoice for uninvoiced sessions of one client. With insurance, each line's
    client part is the copay plus the coinsurance share of the rest; the insurer owes the
    remainder, and a draft claim is opened for it."""
    caller.require(p.INVOICING_MANAGE)
    org_id = caller.org_uuid
    subscriptions.ensure_org_writable(session, org_id)
    wanted = set(data["session_ids"])
    sessions = session.scalars(select(BillableSession).where(
        BillableSession.org_id == org_id, BillableSession.id.in_(wanted))
        .order_by(BillableSession.session_date, BillableSession.id).with_for_update()).all()
    unknown = wanted - {s.id for s in sessions}
    if unknown:
        raise ValidationFailed("Unknown sessions", errors={"session_ids": [f"Not a session of this program: {u}"
                                                                           for u in sorted(map(str, unknown))]})
    if any(s.client_id != data["client_id"] for s in sessions):
        raise ValidationFailed("Every session must be the client's", errors={"session_ids": ["Another client's session"]})
    if len({s.currency for s in sessions}) > 1:
        raise ValidationFailed("Sessions in several currencies", errors={"session_ids": ["One currency per invoice"]})
    if any(s.invoice_id for s in sessions):
        raise Conflict("A session is already on an invoice", errors={"session_ids": ["Already invoiced"]})
    coverage = data["insurance"]
    invoice = Invoice(id=uuid.uuid4(), org_id=org_id, client_id=data["client_id"], currency=sessions[0].currency,
                      number=f"INV-{next_number(session, org_id, 'invoice'):06d}",
                      insurer=coverage["insurer"] if coverage else None,
                      issued_on=data["issued_on"] or date.today(), created_by=caller.user_uuid)
    session.add(invoice)
    services = {row.id: row for row in session.execute(
        select(CatalogService.id, CatalogService.code, CatalogService.name)
        .where(CatalogService.id.in_({s.service_id for s in sessions})))}
    insurance_total = 0
    for billable in sessions:
        amount = billable.units * billable.unit_price_cents
        client, insurance = split_responsibility(amount, **({"copay_cents": coverage["copay_cents"],
                                                              "coinsurance_bps": coverage["coinsurance_bps"]}
                                                             if coverage else {"insured": False}))
        insurance_total += insurance
        session.add(InvoiceLine(org_id=org_id, invoice_id=invoice.id, session_id=billable.id,
                                clinician_id=billable.clinician_id, service_code=services[billable.service_id].code,
                                description=services[billable.service_id].name, service_date=billable.session_date,
                                units=billable.units, unit_price_cents=billable.unit_price_cents,
                                amount_cents=amount, client_cents=client, insurance_cents=insurance))
        billable.invoice_id = invoice.id
    if insurance_total:
        session.add(InsuranceClaim(invoice_id=invoice.id, org_id=org_id, insurer=coverage["insurer"], status="draft"))
    session.flush()
    audit.record_for(session, caller, "invoicing.invoice.issue", "invoice", invoice.id)
    session.commit()
    return describe(session, invoice)


def list_invoices(session, caller, query):
    caller.require(p.INVOICING_READ, p.INVOICING_MANAGE)
    statement = select(Invoice).where(Invoice.org_id == caller.org_uuid)
    if query.get("client_id"):
        statement = statement.where(Invoice.client_id == query["client_id"])
    after = decode_cursor(query.get("cursor"))
    if after:
        statement = statement.where(tuple_(Invoice.created_at, Invoice.id)
                                    < (datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(Invoice.created_at.desc(), Invoice.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda i: [i.created_at.isoformat(), str(i.id)])
    states = states_of(session, [i.id for i in items])
    return {"items": InvoiceSummarySchema(many=True).dump([
        {"id": i.id, "number": i.number, "client_id": i.client_id, "currency": i.currency,
         "issued_on": i.issued_on, "status": states[i.id].status, "charged": states[i.id].charged.dump(),
         "balance": states[i.id].balance.dump()} for i in items]), "next_cursor": next_cursor}


def states_of(session, invoice_ids):
    """Each invoice's state from two grouped queries, for lists and reports."""
    lines, adjustments = {i: [] for i in invoice_ids}, {i: [] for i in invoice_ids}
    for line in session.execute(select(InvoiceLine.invoice_id, InvoiceLine.client_cents, InvoiceLine.insurance_cents)
                                .where(InvoiceLine.invoice_id.in_(invoice_ids))):
        lines[line.invoice_id].append(line)
    for adjustment in session.execute(select(InvoiceAdjustment.invoice_id, InvoiceAdjustment.kind,
                                             InvoiceAdjustment.client_cents, InvoiceAdjustment.insurance_cents)
                                      .where(InvoiceAdjustment.invoice_id.in_(invoice_ids))):
        adjustments[adjustment.invoice_id].append(adjustment)
    return {i: state_of(lines[i], adjustments[i]) for i in invoice_ids}


def _fingerprint(invoice_id, data):
    canonical = json.dumps({"invoice_id": str(invoice_id), **data}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replayed(session, org_id, key, fingerprint):
    """The payment an earlier request with this key made, if any; a different request under the
    same key is a client bug, refused rather than guessed at."""
    earlier = session.scalars(select(InvoiceAdjustment).where(
        InvoiceAdjustment.org_id == org_id, InvoiceAdjustment.idempotency_key == key)).first()
    if earlier is not None and earlier.request_fingerprint != fingerprint:
        raise Conflict("This Idempotency-Key was used for a different request")
    return earlier


def record_payment(session, caller, invoice_id, data, idempotency_key=None):
    """A payment by the client or the insurer. Partial payments leave a balance; an overpayment
    leaves a credit (a negative balance) rather than being refused: the money was received."""
    caller.require(p.INVOICING_MANAGE)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed("Invalid Idempotency-Key", errors={"Idempotency-Key": [f"1 to {MAX_IDEMPOTENCY_KEY} characters"]})
    invoice = _invoice(session, caller, invoice_id, lock=True)
    fingerprint = _fingerprint(invoice.id, data)
    earlier = idempotency_key and _replayed(session, invoice.org_id, idempotency_key, fingerprint)
    if earlier:
        return _payment_result(session, invoice, earlier)
    subscriptions.ensure_org_writable(session, invoice.org_id)
    claim = session.get(InsuranceClaim, invoice.id, with_for_update=True)
    by_insurer = data["payer"] == "insurance"
    if by_insurer and claim is None:
        raise ValidationFailed("This invoice has no insurance part", errors={"payer": ["No claim on this invoice"]})
    if by_insurer and claim.status == "denied":
        raise Conflict("The claim was denied; its part was moved to the client")
    amount = data["amount_cents"]
    payment = InvoiceAdjustment(
        id=uuid.uuid4(), org_id=invoice.org_id, invoice_id=invoice.id, client_id=invoice.client_id, kind="payment",
        payer=data["payer"], method=data["method"], client_cents=0 if by_insurer else -amount,
        insurance_cents=-amount if by_insurer else 0, reference=data["reference"],
        effective_on=data["received_on"] or date.today(), idempotency_key=idempotency_key,
        request_fingerprint=fingerprint, created_by=caller.user_uuid)
    session.add(payment)
    try:
        session.flush()
    except IntegrityError:  # the same key raced in on another invoice: the index kept one
        session.rollback()
        earlier = _replayed(session, caller.org_uuid, idempotency_key, fingerprint)
        return _payment_result(session, _invoice(session, caller, earlier.invoice_id), earlier)
    if by_insurer:
        lines, adjustments, _ = _details(session, invoice)
        claim.status = "paid" if state_of(lines, adjustments).balance.insurance <= 0 else "partially_paid"
    audit.record_for(session, caller, "invoicing.payment.record", "invoice", invoice.id,
                     details={"payer": data["payer"], "method": data["method"]})
    session.commit()
    return _payment_result(session, invoice, payment)


def _payment_result(session, invoice, payment):
    return PaymentResultSchema().dump({"payment": payment, "invoice": _view(session, invoice)})


def issue_credit_note(session, caller, invoice_id, data):
    """The one way to correct an issued invoice: credit part of what a payer was charged."""
    caller.require(p.INVOICING_MANAGE)
    invoice = _invoice(session, caller, invoice_id, lock=True)
    subscriptions.ensure_org_writable(session, invoice.org_id)
    lines, adjustments, _ = _details(session, invoice)
    state = state_of(lines, adjustments)
    creditable = Split(state.charged.client - state.credited.client, state.charged.insurance - state.credited.insurance)
    errors = {field: [f"At most {limit} can still be credited"]
              for field, wanted, limit in (("client_cents", data["client_cents"], creditable.client),
                                           ("insurance_cents", data["insurance_cents"], creditable.insurance))
              if wanted > limit}
    if errors:
        raise ValidationFailed("More than was charged", errors=errors)
    note = InvoiceAdjustment(
        id=uuid.uuid4(), org_id=invoice.org_id, invoice_id=invoice.id, client_id=invoice.client_id,
        kind="credit_note", number=f"CN-{next_number(session, invoice.org_id, 'credit_note'):06d}",
        client_cents=-data["client_cents"], insurance_cents=-data["insurance_cents"], reason=data["reason"],
        effective_on=date.today(), created_by=caller.user_uuid)
    session.add(note)
    audit.record_for(session, caller, "invoicing.credit_note.issue", "invoice", invoice.id)
    session.commit()
    return describe(session, invoice)


def update_claim(session, caller, invoice_id, data):
    """Submitted, or denied: a denial moves what the insurer still owed to the client."""
    caller.require(p.INVOICING_MANAGE)
    invoice = _invoice(session, caller, invoice_id, lock=True)
    subscriptions.ensure_org_writable(session, invoice.org_id)
    claim = session.get(InsuranceClaim, invoice.id, with_for_update=True)
    if claim is None:
        raise Conflict("This invoice has no insurance part to claim")
    status = data["status"]
    if claim.status not in CLAIM_MOVES[status]:
        raise Conflict(f"A {claim.status} claim cannot become {status}")
    if status == "submitted":
        claim.submitted_on = date.today()
    else:
        lines, adjustments, _ = _details(session, invoice)
        unpaid = state_of(lines, adjustments).balance.insurance
        claim.denial_reason = data["denial_reason"]
        if unpaid > 0:
            session.add(InvoiceAdjustment(
                id=uuid.uuid4(), org_id=invoice.org_id, invoice_id=invoice.id, client_id=invoice.client_id,
                kind="claim_denied", client_cents=unpaid, insurance_cents=-unpaid, reason=data["denial_reason"],
                effective_on=date.today(), created_by=caller.user_uuid))
    claim.status = status
    audit.record_for(session, caller, f"invoicing.claim.{status}", "invoice", invoice.id)
    session.commit()
    return describe(session, invoice)

