"""The program's subscription (owner and billing delegates only), the processor's webhooks,
and client invoicing (billers)."""
from billing import schemas as s
from billing.webhooks import SIGNATURE_HEADER
from identity import schemas as identity_schemas
from gateway.routing import Route
from shared.permissions import BILLING_MANAGE, INVOICING_MANAGE, INVOICING_READ
from shared.schemas import PageQuery

INVOICING = "invoicing"
# Billers record and correct; whoever may read invoicing may also see it (admins).
READ = (INVOICING_READ, INVOICING_MANAGE)
MANAGE = (INVOICING_MANAGE,)

ROUTES = [
    Route("GET", "/api/v1/billing/subscription", "billing.get_subscription",
          "The program's plan, status, seats in use, renewal date, payment method and history",
          permissions=(BILLING_MANAGE,), response=s.SubscriptionSchema, tag="billing"),
    Route("PATCH", "/api/v1/billing/subscription", "billing.update_subscription",
          "Change the plan (refused when more seats are in use than the plan has)",
          permissions=(BILLING_MANAGE,), body=s.SubscriptionUpdateSchema, response=s.SubscriptionSchema,
          tag="billing"),
    Route("PUT", "/api/v1/billing/payment-method", "billing.set_payment_method",
          "Set the card by the payment processor's token (a request carrying a card number is refused)",
          permissions=(BILLING_MANAGE,), body=s.PaymentMethodUpdateSchema, response=s.PaymentMethodSchema,
          tag="billing"),
    Route("GET", "/api/v1/billing/invoices", "billing.list_subscription_invoices",
          "The program's subscription invoices, newest first", permissions=(BILLING_MANAGE,),
          query=PageQuery, response=s.SubscriptionInvoicePageSchema, tag="billing"),
    # Who may see billing is identity's to decide: it puts billing.manage in their tokens.
    Route("GET", "/api/v1/billing/delegates", "identity.billing_delegates",
          "Staff the owner has delegated billing to", permissions=(BILLING_MANAGE,),
          response=identity_schemas.BillingDelegatesOutSchema, tag="billing"),
    Route("PUT", "/api/v1/billing/delegates", "identity.set_billing_delegates",
          "Choose the billing delegates (owner only)", permissions=(BILLING_MANAGE,),
          body=identity_schemas.BillingDelegatesSchema,
          response=identity_schemas.BillingDelegatesOutSchema, tag="billing"),
    Route("POST", "/webhooks/payments", "billing.payments_webhook",
          "Payment processor events (signed over the raw body; old or replayed events refused)",
          public=True, rate_limit="webhook", body_format="raw", forward_headers=(SIGNATURE_HEADER,),
          status=204, problems=(403, 409), tag="billing"),
]

ROUTES += [
    Route("GET", "/api/v1/invoicing/services", "billing.list_services", "The service catalog, by code",
          permissions=READ, query=PageQuery, response=s.CatalogServicePageSchema, tag=INVOICING),
    Route("POST", "/api/v1/invoicing/services", "billing.add_service", "Add a service with its code and rate",
          permissions=MANAGE, body=s.CatalogServiceCreateSchema, response=s.CatalogServiceSchema, status=201,
          tag=INVOICING),
    Route("GET", "/api/v1/invoicing/sessions", "billing.list_sessions", "Billable sessions",
          permissions=READ, query=s.SessionQuerySchema, response=s.SessionPageSchema, tag=INVOICING),
    Route("POST", "/api/v1/invoicing/sessions", "billing.record_session",
          "Record a billable session (priced at the catalog's current rate)", permissions=MANAGE,
          body=s.SessionCreateSchema, response=s.SessionSchema, status=201, tag=INVOICING),
    Route("GET", "/api/v1/invoicing/invoices", "billing.list_invoices", "Invoices, newest first",
          permissions=READ, query=s.InvoiceQuerySchema, response=s.InvoiceSummaryPageSchema, tag=INVOICING),
    Route("POST", "/api/v1/invoicing/invoices", "billing.create_invoice",
          "Issue an invoice for a client's sessions, split between client and insurer", permissions=MANAGE,
          body=s.InvoiceCreateSchema, response=s.InvoiceSchema, status=201, tag=INVOICING),
    Route("GET", "/api/v1/invoicing/invoices/<uuid:invoice_id>", "billing.get_invoice",
          "An invoice with its lines, adjustments, claim and balances", permissions=READ,
          response=s.InvoiceSchema, tag=INVOICING),
    Route("POST", "/api/v1/invoicing/invoices/<uuid:invoice_id>/payments", "billing.record_payment",
          "Record a payment by the client or the insurer (send an Idempotency-Key)", permissions=MANAGE,
          body=s.PaymentCreateSchema, forward_headers=(s.IDEMPOTENCY_KEY_HEADER,), response=s.PaymentResultSchema,
          status=201, tag=INVOICING),
    Route("POST", "/api/v1/invoicing/invoices/<uuid:invoice_id>/credit-notes", "billing.issue_credit_note",
          "Correct an issued invoice by crediting part of what it charged", permissions=MANAGE,
          body=s.CreditNoteCreateSchema, response=s.InvoiceSchema, status=201, tag=INVOICING),
    Route("PUT", "/api/v1/invoicing/invoices/<uuid:invoice_id>/claim", "billing.update_claim",
          "Mark the insurance claim submitted or denied (a denial moves the unpaid part to the client)",
          permissions=MANAGE, body=s.ClaimUpdateSchema, response=s.InvoiceSchema, tag=INVOICING),
    Route("GET", "/api/v1/clients/<uuid:client_id>/ledger", "billing.client_ledger",
          "A client's charges, payments, credits and denials with running balances", permissions=READ,
          response=s.LedgerSchema, tag=INVOICING),
    Route("GET", "/api/v1/reports/billing", "billing.billing_report",
          "Revenue by period, receivables aging, payments by method and per clinician", permissions=READ,
          query=s.BillingReportQuerySchema, response=s.BillingReportSchema, tag=INVOICING),
]
