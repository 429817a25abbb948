"""Clients, referral lists, closed-loop referrals, inbound requests and the referral report."""
from referrals import schemas as s
from gateway.routing import Route
from shared.permissions import (
    CLIENTS_ALL, CLIENTS_ASSIGNED, REFERRALS_MANAGE, REPORTS_VIEW, SETTINGS_MANAGE,
)

CLIENTS = (CLIENTS_ALL, CLIENTS_ASSIGNED)
REFERRALS = (REFERRALS_MANAGE,)
CLIENT = "/api/v1/clients/<uuid:client_id>"
LIST = "/api/v1/referral-lists/<uuid:list_id>"
REFERRAL = "/api/v1/referrals/<uuid:referral_id>"
PUBLIC_PROVIDER = "/public/directories/<string:slug>/providers/<uuid:provider_id>"

ROUTES = [
    Route("GET", "/api/v1/clients", "referrals.list_clients",
          "Clients in view (all of the program's, or those assigned to the caller), by name",
          permissions=CLIENTS, query=s.ClientQuerySchema, response=s.ClientPageSchema, tag="clients"),
    Route("POST", "/api/v1/clients", "referrals.create_client",
          "Add a client (possible duplicates by name and date of birth are listed, never merged)",
          permissions=CLIENTS, body=s.ClientCreateSchema, response=s.ClientSchema, status=201, tag="clients"),
    Route("GET", CLIENT, "referrals.get_client", "One client (the read is audited)",
          permissions=CLIENTS, response=s.ClientSchema, tag="clients"),
    Route("PATCH", CLIENT, "referrals.update_client", "Change a client's details",
          permissions=CLIENTS, body=s.ClientUpdateSchema, response=s.ClientSchema, tag="clients"),
    Route("PUT", CLIENT + "/assignments", "referrals.set_client_assignments",
          "Set the staff assigned to a client", permissions=(CLIENTS_ALL,), body=s.AssignmentsSchema,
          response=s.ClientSchema, tag="clients"),
    Route("POST", CLIENT + "/duplicates/<uuid:duplicate_id>/merge", "referrals.merge_clients",
          "Merge a duplicate record into this client (the duplicate stays, marked merged)",
          permissions=(CLIENTS_ALL,), response=s.ClientSchema, tag="clients"),
    Route("POST", "/api/v1/client-imports", "referrals.import_clients",
          "Import clients from CSV text, applied in the background; poll the import for its progress and report",
          permissions=CLIENTS, body=s.ClientImportCreateSchema, response=s.ClientImportSchema, status=202,
          tag="clients"),
    Route("GET", "/api/v1/client-imports/<uuid:import_id>", "referrals.get_client_import",
          "An import's status, progress, row-level errors and duplicates",
          permissions=CLIENTS, response=s.ClientImportSchema, tag="clients"),
]

ROUTES += [
    Route("GET", "/api/v1/referral-lists", "referrals.list_referral_lists", "Referral lists, newest first",
          permissions=REFERRALS, query=s.ReferralListQuerySchema, response=s.ReferralListPageSchema,
          tag="referral lists"),
    Route("POST", "/api/v1/referral-lists", "referrals.create_referral_list",
          "Start a list for a client or a walk-in; each provider is kept as a snapshot",
          permissions=REFERRALS, body=s.ReferralListCreateSchema, response=s.ReferralListSchema, status=201,
          tag="referral lists"),
    Route("GET", LIST, "referrals.get_referral_list", "A list with its items and delivery status per channel",
          permissions=REFERRALS, response=s.ReferralListSchema, tag="referral lists"),
    Route("PATCH", LIST, "referrals.update_referral_list", "Edit a draft list",
          permissions=REFERRALS, body=s.ReferralListUpdateSchema, response=s.ReferralListSchema,
          tag="referral lists"),
    Route("POST", LIST + "/send", "referrals.send_referral_list",
          "Send by email and/or text (honours do-not-contact and opt-outs; Idempotency-Key accepted)",
          permissions=REFERRALS, body=s.SendSchema, forward_headers=("Idempotency-Key",),
          response=s.ReferralListSchema, tag="referral lists"),
    Route("GET", LIST + "/pdf", "referrals.print_referral_list", "The list as a PDF to print",
          permissions=REFERRALS, query=s.PrintQuerySchema, files=("application/pdf",), tag="referral lists"),
    Route("GET", "/public/referral-lists/<string:token>", "referrals.public_referral_list",
          "The hosted list a text message links to (expiring link; the list and nothing else); "
          "an HTML page for browsers (Accept: text/html), else JSON", public=True, rate_limit="public",
          forward_headers=("Accept",), response=s.PublicListSchema, files=("text/html",), problems=(410,),
          tag="referral lists"),
]

ROUTES += [
    Route("GET", "/api/v1/referrals", "referrals.list_referrals", "Referrals, newest first",
          permissions=REFERRALS, query=s.ReferralQuerySchema, response=s.ReferralPageSchema, tag="referrals"),
    Route("POST", "/api/v1/referrals", "referrals.create_referral",
          "Refer a client to a provider (as draft, or requested: the provider is emailed a link to answer)",
          permissions=REFERRALS, body=s.ReferralCreateSchema, response=s.ReferralSchema, status=201,
          tag="referrals"),
    Route("GET", REFERRAL, "referrals.get_referral", "One referral", permissions=REFERRALS,
          response=s.ReferralSchema, tag="referrals"),
    Route("PATCH", REFERRAL, "referrals.update_referral",
          "Change the note, the provider's address or a program status (409 when it cannot follow)",
          permissions=REFERRALS, body=s.ReferralUpdateSchema, response=s.ReferralSchema, tag="referrals"),
    Route("GET", REFERRAL + "/history", "referrals.referral_history",
          "Every status the referral went through, who set it and when", permissions=REFERRALS,
          response=s.HistorySchema, tag="referrals"),
    Route("GET", "/public/referral-responses/<string:token>", "referrals.referral_for_provider",
          "What the provider's emailed link shows, with the answers open to them", public=True,
          rate_limit="public", response=s.ReferralForProviderSchema, problems=(410,), tag="referrals"),
    Route("POST", "/public/referral-responses/<string:token>", "referrals.provider_response",
          "The provider accepts, declines or reports progress without an account", public=True,
          rate_limit="public", body=s.ResponseSchema, response=s.ReferralForProviderSchema,
          problems=(403, 409, 410), tag="referrals"),
    Route("GET", "/api/v1/referral-settings", "referrals.get_referral_settings",
          "When staff are reminded of referrals that have not moved",
          permissions=(REFERRALS_MANAGE, SETTINGS_MANAGE), response=s.ReferralSettingsSchema, tag="referrals"),
    Route("PUT", "/api/v1/referral-settings", "referrals.put_referral_settings",
          "Set the number of quiet days before a reminder", permissions=(SETTINGS_MANAGE,),
          body=s.ReferralSettingsSchema, response=s.ReferralSettingsSchema, tag="referrals"),
]

ROUTES += [
    Route("GET", PUBLIC_PROVIDER + "/request-form", "referrals.inbound_request_form",
          "Open the request form of a provider's public profile (a signed token to send back)",
          public=True, rate_limit="public", response=s.InboundFormSchema, tag="inbound requests"),
    Route("POST", PUBLIC_PROVIDER + "/requests", "referrals.submit_inbound_request",
          "Ask a provider of a public directory for help; emailed to each of its recipients",
          public=True, rate_limit="public", body=s.InboundRequestCreateSchema,
          response=s.InboundAcceptedSchema, status=202, tag="inbound requests"),
    Route("GET", "/api/v1/inbound-requests", "referrals.list_inbound_requests",
          "Requests received through the public directory, newest first", permissions=REFERRALS,
          query=s.InboundQuerySchema, response=s.InboundRequestPageSchema, tag="inbound requests"),
    Route("GET", "/api/v1/reports/referrals", "referrals.referral_report",
          "Referral counts by provider, staff member, status and period; format=csv for a file",
          permissions=(REPORTS_VIEW,), query=s.ReportQuerySchema, response=s.ReferralReportSchema,
          files=("text/csv",), tag="reports"),
]
