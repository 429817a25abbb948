"""External providers, search, directory settings, taxonomies and the public directory."""
from directory import schemas as s
from gateway.routing import Route
from shared.permissions import PROVIDERS_MANAGE, PROVIDERS_READ, SETTINGS_MANAGE

TAG = "directory"
READ = (PROVIDERS_READ, PROVIDERS_MANAGE)

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
          "Every change of a provider, field by field: old, new, who, when",
          permissions=READ, query=s.HistoryQuery, response=s.HistoryPage, tag=TAG),
    Route("POST", "/api/v1/provider-imports", "directory.start_import",
          "Bulk upload: a CSV (see the template) or an HSDS 3.0 data package, applied in the background",
          permissions=(PROVIDERS_MANAGE,), body=s.ProviderImportCreate, max_body_bytes=s.MAX_IMPORT_BODY_BYTES,
          response=s.ProviderImportOut, status=202, tag=TAG),
    Route("GET", "/api/v1/provider-imports/template", "directory.import_template",
          "The CSV import template (our columns, one example row)", permissions=(PROVIDERS_MANAGE,), tag=TAG),
    Route("GET", "/api/v1/provider-imports/<uuid:provider_import_id>", "directory.get_import",
          "An import's status, progress, row-level errors and duplicates",
          permissions=(PROVIDERS_MANAGE,), response=s.ProviderImportOut, tag=TAG),
    Route("GET", "/api/v1/provider-exports", "directory.export_providers",
          "Every provider as CSV (formula-safe) or as a zipped HSDS 3.0 data package",
          permissions=READ, query=s.ExportQuery, tag=TAG),
    Route("GET", "/api/v1/directory/settings", "directory.get_settings",
          "Public URL, public directory on or off, insurance plans that filter search",
          response=s.DirectorySettings, tag=TAG),
    Route("PUT", "/api/v1/directory/settings", "directory.put_settings", "Change the directory settings",
          permissions=(SETTINGS_MANAGE,), body=s.DirectorySettings, response=s.DirectorySettings, tag=TAG),
    Route("GET", "/api/v1/taxonomies", "directory.list_taxonomies",
          "Specialties, modalities, insurance plans, languages, populations, age groups",
          permissions=READ, query=s.TaxonomyQuery, response=s.TaxonomyList, tag=TAG),
    Route("GET", "/public/directories/<string:slug>/providers", "directory.public_search",
          "Search a program's published directory (public fields only)", public=True,
          rate_limit="public", query=s.SearchQuery, response=s.PublicSearchResult, tag="public directory"),
]
