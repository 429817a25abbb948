"""External providers, search, update requests, directory settings, taxonomies, the public
directory and its HSDS 3.0 read API."""
from directory import schemas as s
from gateway.routing import Route
from shared.permissions import PROVIDERS_MANAGE, PROVIDERS_READ, SETTINGS_MANAGE

TAG = "directory"
READ = (PROVIDERS_READ, PROVIDERS_MANAGE)
UPDATE_REQUEST = "/api/v1/provider-update-requests/<uuid:update_request_id>"

HSDS = "/public/directories/<string:slug>/hsds"
HSDS_TAG = "HSDS 3.0 read API"


def _hsds(path, rpc, summary, query=None, response=s.HsdsPage):
    # Every HSDS list is a Page, or with format=ndjson every result streamed.
    return Route("GET", HSDS + path, "directory." + rpc, summary, public=True, rate_limit="public",
                 query=query, response=response, streams_ndjson=response is s.HsdsPage, tag=HSDS_TAG)


# Open Referral HSDS 3.0 over a published directory (public fields only); objects as in the
# HSDS JSON schemas, lists in HSDS's Page (or NDJSON).
HSDS_ROUTES = [
    _hsds("/", "hsds_api_info", "HSDS version, profile and OpenAPI document of this API", response=s.HsdsApiInfo),
    _hsds("/services", "hsds_services", "Services (one-to-one fields, or fully nested with full=true)",
          query=s.HsdsServicesQuery),
    _hsds("/services/<uuid:service_id>", "hsds_service", "A fully nested service", response=s.HsdsObject),
    _hsds("/organizations", "hsds_organizations", "Organizations (one-to-one fields, or fully nested with full=true)",
          query=s.HsdsOrganizationsQuery),
    _hsds("/organizations/<uuid:organization_id>", "hsds_organization", "A fully nested organization",
          query=s.HsdsOrganizationQuery, response=s.HsdsObject),
    _hsds("/taxonomies", "hsds_taxonomies", "The taxonomies of the directory's terms", query=s.HsdsPageQuery),
    _hsds("/taxonomies/<uuid:taxonomy_id>", "hsds_taxonomy", "A taxonomy", response=s.HsdsObject),
    _hsds("/taxonomy_terms", "hsds_taxonomy_terms", "The directory's taxonomy terms", query=s.HsdsTaxonomyTermsQuery),
    _hsds("/taxonomy_terms/<uuid:taxonomy_term_id>", "hsds_taxonomy_term", "A taxonomy term", response=s.HsdsObject),
]

ROUTES = [
    Route("GET", "/api/v1/providers", "directory.search_providers",
          "Search providers: text (typo-tolerant), filters, distance from a postcode or point",
          permissions=READ, query=s.SearchQuery, response=s.SearchResult, tag=TAG),
    Route("POST", "/api/v1/providers", "directory.create_provider", "Add a provider by hand",
          permissions=(PROVIDERS_MANAGE,), body=s.ProviderCreate, response=s.ProviderOut, status=201, tag=TAG),
    Route("GET", "/api/v1/providers/<uuid:provider_id>", "directory.get_provider", "One provider",
          permissions=READ, response=s.ProviderOut, tag=TAG),
    Route("PATCH", "/api/v1/providers/<uuid:provider_id>", "directory.update_provider",
          "Change a provider (pass `version` to refuse overwriting someone else's change)",
          permissions=(PROVIDERS_MANAGE,), body=s.ProviderUpdate, response=s.ProviderOut, tag=TAG),
    Route("DELETE", "/api/v1/providers/<uuid:provider_id>", "directory.delete_provider",
          "Remove a provider from the directory (kept, with its history)",
          permissions=(PROVIDERS_MANAGE,), status=204, tag=TAG),
    Route("GET", "/api/v1/providers/<uuid:provider_id>/history", "directory.provider_history",
          "Every change of a provider, field by field: old, new, who (or which update request), when",
          permissions=READ, query=s.HistoryQuery, response=s.ProviderHistoryPage, tag=TAG),
    Route("POST", "/api/v1/providers/<uuid:provider_id>/update-requests", "directory.send_update_request",
          "Email the provider a single-use link to review and correct their record (Idempotency-Key accepted)",
          permissions=(PROVIDERS_MANAGE,), body=s.UpdateRequestCreate, forward_headers=("Idempotency-Key",),
          response=s.UpdateRequestOut, status=201, tag=TAG),
    Route("GET", "/api/v1/provider-update-requests", "directory.list_update_requests",
          "Update requests sent, newest first, with their status (sent, completed, expired, awaiting_approval, "
          "approved, rejected)",
          permissions=READ, query=s.UpdateRequestQuery, response=s.UpdateRequestPage, tag=TAG),
    Route("GET", UPDATE_REQUEST, "directory.get_update_request",
          "One update request, with the corrections it holds for approval beside the record's values now",
          permissions=READ, response=s.UpdateRequestDetail, tag=TAG),
    Route("POST", UPDATE_REQUEST + "/approve", "directory.approve_update_request",
          "Apply the corrections awaiting approval, with history naming the request and the approver "
          "(409 unless awaiting approval, or if the provider was removed)",
          permissions=(PROVIDERS_MANAGE,), response=s.UpdateRequestDetail, tag=TAG),
    Route("POST", UPDATE_REQUEST + "/reject", "directory.reject_update_request",
          "Discard the corrections awaiting approval, with an optional reason (409 unless awaiting approval)",
          permissions=(PROVIDERS_MANAGE,), body=s.UpdateRequestRejection, response=s.UpdateRequestDetail, tag=TAG),
    Route("GET", "/public/provider-updates/<string:token>", "directory.provider_update_form",
          "What a provider's update link shows: their record (410 once used, expired or replaced)", public=True,
          rate_limit="public", response=s.ProviderUpdateForm, problems=(410,), tag="provider updates"),
    Route("POST", "/public/provider-updates/<string:token>", "directory.submit_provider_update",
          "The provider's corrections (once per link; an empty object confirms the record)", public=True,
          rate_limit="public", body=s.ProviderCorrections, response=s.ProviderUpdateDone, problems=(410,),
          tag="provider updates"),
    Route("POST", "/api/v1/provider-imports", "directory.start_import",
          "Bulk upload: a CSV (see the template) or an HSDS 3.0 data package, applied in the background",
          permissions=(PROVIDERS_MANAGE,), body=s.ProviderImportCreate, max_body_bytes=s.MAX_IMPORT_BODY_BYTES,
          upload_field="content_b64", response=s.ProviderImportOut, status=202, tag=TAG),
    Route("GET", "/api/v1/provider-imports/template", "directory.import_template",
          "The CSV import template (our columns, one example row)", permissions=(PROVIDERS_MANAGE,),
          files=("text/csv",), tag=TAG),
    Route("GET", "/api/v1/provider-imports/<uuid:provider_import_id>", "directory.get_import",
          "An import's status, progress, row-level errors and duplicates",
          permissions=(PROVIDERS_MANAGE,), response=s.ProviderImportOut, tag=TAG),
    Route("GET", "/api/v1/provider-exports", "directory.export_providers",
          "Every provider as CSV (formula-safe) or as a zipped HSDS 3.0 data package",
          permissions=READ, query=s.ExportQuery, files=("text/csv", "application/zip"), tag=TAG),
    Route("GET", "/api/v1/directory/settings", "directory.get_settings",
          "Public URL, public directory on or off, insurance plans that filter search, stale period of provider "
          "records, whether providers' corrections need approval",
          response=s.DirectorySettings, tag=TAG),
    Route("PUT", "/api/v1/directory/settings", "directory.put_settings", "Change the directory settings",
          permissions=(SETTINGS_MANAGE,), body=s.DirectorySettings, response=s.DirectorySettings, tag=TAG),
    Route("GET", "/api/v1/taxonomies", "directory.list_taxonomies",
          "Specialties, modalities, insurance plans, languages, populations, age groups",
          permissions=READ, query=s.TaxonomyQuery, response=s.TaxonomyList, tag=TAG),
    Route("GET", "/public/directories/<string:slug>/providers", "directory.public_search",
          "Search a program's published directory (public fields only)", public=True,
          rate_limit="public", query=s.SearchQuery, response=s.PublicSearchResult, tag="public directory"),
    *HSDS_ROUTES,
]
