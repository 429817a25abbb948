"""A client's ledger: every charge, payment, credit and claim denial on their invoices in date
order, with running balances for the client's part, the insurer's part and both."""
import uuid

from sqlalchemy import func, select

from billing.models import Invoice, InvoiceAdjustment, InvoiceLine
from billing.schemas import LedgerSchema
from shared import permissions as p
from shared.errors import NotFound

DESCRIPTIONS = {
    "credit_note": "Credit note {number}",
    "claim_denied": "Insurance claim denied: moved to the client",
}


def _describe(adjustment):
    if adjustment.kind == "payment":
        return f"Payment by {adjustment.payer} ({adjustment.method})"
    return DESCRIPTIONS[adjustment.kind].format(number=adjustment.number)


def client_ledger(session, caller, client_id):
    """Clients live in referrals; billing knows one by its invoices in the caller's program, so
    a client without any (or another program's) answers 404 alike."""
    caller.require(p.INVOICING_READ, p.INVOICING_MANAGE)
    org_id, client_id = caller.org_uuid, uuid.UUID(str(client_id))
    invoices = session.scalars(select(Invoice).where(Invoice.org_id == org_id, Invoice.client_id == client_id)
                               .order_by(Invoice.issued_on, Invoice.created_at)).all()
    if not invoices:
        raise NotFound("No billing activity for this client")
    numbers = {invoice.id: invoice.number for invoice in invoices}
    charges = {row.invoice_id: row for row in session.execute(
        select(InvoiceLine.invoice_id, func.sum(InvoiceLine.client_cents).label("client"),
               func.sum(InvoiceLine.insurance_cents).label("insurance"))
        .where(InvoiceLine.invoice_id.in_(numbers)).group_by(InvoiceLine.invoice_id))}
    moves = [((invoice.issued_on, 0, invoice.created_at), invoice.issued_on, "charge", invoice.id,
              f"Invoice {invoice.number}", int(charges[invoice.id].client), int(charges[invoice.id].insurance))
             for invoice in invoices]
    adjustments = session.scalars(select(InvoiceAdjustment).where(
        InvoiceAdjustment.org_id == org_id, InvoiceAdjustment.client_id == client_id)).all()
    moves += [((a.effective_on, 1, a.created_at), a.effective_on, a.kind, a.invoice_id, _describe(a),
               a.client_cents, a.insurance_cents) for a in adjustments]
    entries, client_balance, insurance_balance = [], 0, 0
    for _, day, kind, invoice_id, description, client, insurance in sorted(moves, key=lambda m: m[0]):
        client_balance += client
        insurance_balance += insurance
        entries.append({"date": day, "kind": kind, "invoice_id": invoice_id, "invoice_number": numbers[invoice_id],
                        "description": description, "client_cents": client, "insurance_cents": insurance,
                        "client_balance": client_balance, "insurance_balance": insurance_balance,
                        "balance": client_balance + insurance_balance})
    return LedgerSchema().dump({
        "client_id": client_id, "currency": invoices[0].currency, "entries": entries,
        "balance": {"client_cents": client_balance, "insurance_cents": insurance_balance,
                    "total_cents": client_balance + insurance_balance}})
