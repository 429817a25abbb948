"""The directory's use cases: the caller's permission, the domain call, the commit, the audit
record and the answer's shape. One function per entrypoint; each is one transaction."""
import base64
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from directory import (
    flat, hsds, hsds_package, imports, program_names, providers, schemas, settings, terms, update_requests,
)
from directory.models import Provider
from directory.search import SearchQuery, search_providers
from shared import audit, permissions as p
from shared.files import file_result

PROVIDER = schemas.ProviderOut()
PUBLIC_LIMIT = 50


def create(session, caller, data):
    caller.require(p.PROVIDERS_MANAGE)
    provider = providers.create_provider(session, caller.org_uuid, caller.user_uuid, data)
    audit.record_for(session, caller, "provider.create", "provider", provider.id)
    session.commit()
    return PROVIDER.dump(provider)


def get(session, caller, provider_id):
    caller.require(p.PROVIDERS_READ, p.PROVIDERS_MANAGE)
    return PROVIDER.dump(providers.get_provider(session, caller.org_uuid, uuid.UUID(provider_id)))


def update(session, caller, provider_id, data):
    caller.require(p.PROVIDERS_MANAGE)
    expected_version = data.pop("version", None)
    provider = providers.update_provider(session, caller.org_uuid, caller.user_uuid,
                                         uuid.UUID(provider_id), data, expected_version)
    audit.record_for(session, caller, "provider.update", "provider", provider.id,
                     details={"fields": sorted(data)})
    session.commit()
    return PROVIDER.dump(provider)


def delete(session, caller, provider_id):
    caller.require(p.PROVIDERS_MANAGE)
    providers.delete_provider(session, caller.org_uuid, caller.user_uuid, uuid.UUID(provider_id))
    audit.record_for(session, caller, "provider.delete", "provider", provider_id)
    session.commit()


def history(session, caller, provider_id, query):
    caller.require(p.PROVIDERS_READ, p.PROVIDERS_MANAGE)
    result = providers.provider_history(session, caller.org_uuid, uuid.UUID(provider_id),
                                        limit=query["limit"], cursor=query.get("cursor"))
    return schemas.ProviderHistoryPage().dump(result)


def search(session, caller, query):
    caller.require(p.PROVIDERS_READ, p.PROVIDERS_MANAGE)
    return schemas.SearchResult().dump(search_providers(session, caller.org_uuid, SearchQuery(**query)))


def snapshots(session, caller, provider_ids):
    """What a referral list keeps of each provider at the moment it is built: the record as
    the client will read it, labels instead of codes."""
    caller.require(p.PROVIDERS_READ, p.PROVIDERS_MANAGE, p.REFERRALS_MANAGE)
    org_id = caller.org_uuid
    ids = [uuid.UUID(str(i)) for i in provider_ids]
    rows = session.scalars(select(Provider).where(Provider.org_id == org_id, Provider.id.in_(ids),
                                                  Provider.deleted_at.is_(None))).all()
    vocabulary = terms.load_vocabulary(session, org_id)
    return {"items": [_snapshot(row, vocabulary) for row in rows]}


def _snapshot(provider, vocabulary):
    def labels(taxonomy, codes):
        return [(term.name if (term := vocabulary.get(taxonomy, code)) else code) for code in codes or ()]

    location = next(iter(provider.locations or ()), {})
    address = ", ".join(part for part in (location.get("address_1"), location.get("city"),
                                          location.get("state"), location.get("postal_code")) if part)
    phone = next(iter(provider.phones or ()), {}).get("number")
    return {"id": str(provider.id), "name": provider.name, "practice_name": provider.practice_name,
            "credentials": list(provider.credentials or ()), "phone": phone, "email": provider.email,
            "website": provider.website, "address": address or None,
            "specialties": labels("specialty", provider.specialties),
            "languages": labels("language", provider.languages),
            "insurance_plans": labels("insurance", provider.insurance_plans),
            "telehealth": provider.telehealth, "in_person": provider.in_person,
            "accepting_new_clients": provider.accepting_new_clients}


def get_settings(session, caller):
    return schemas.DirectorySettings().dump(settings.get_settings(session, caller.org_uuid))


def put_settings(session, caller, data):
    caller.require(p.SETTINGS_MANAGE)
    result = settings.update_settings(session, caller.org_uuid, caller.user_uuid, data)
    audit.record_for(session, caller, "directory.settings_update", "directory_settings", caller.org_id)
    session.commit()
    return schemas.DirectorySettings().dump(result)


def taxonomies(session, caller, query):
    caller.require(p.PROVIDERS_READ, p.PROVIDERS_MANAGE)
    rows = terms.list_terms(session, caller.org_uuid, query.get("taxonomy"))
    session.commit()  # the first listing of a new program seeds its default terms
    return {"items": schemas.TaxonomyTermOut(many=True).dump(rows)}


def public_search(session, slug, query):
    directory = settings.find_public_directory(session, slug)
    query = {**query, "limit": min(query.get("limit", 20), PUBLIC_LIMIT)}
    result = search_providers(session, directory.org_id, SearchQuery(**query), schemas.PUBLIC_SEARCH_ITEM_FIELDS)
    return schemas.PublicSearchResult().dump(result)


def public_provider(session, slug, provider_id):
    """A provider of a published directory, with where its inbound requests go (seed 004:
    the intake coordinator and the clinician)."""
    directory = settings.find_public_directory(session, slug)
    provider = providers.get_provider(session, directory.org_id, uuid.UUID(provider_id))
    recipients = [c["email"] for c in provider.contacts or () if c.get("email")]
    if provider.email and provider.email not in recipients:
        recipients.insert(0, provider.email)
    return {"org_id": str(directory.org_id), "provider": schemas.PublicProvider().dump(provider),
            "recipients": recipients}


UPDATE_REQUEST = schemas.UpdateRequestOut()
PROPOSED_CHANGES = schemas.ProposedChange(many=True)


def send_update_request(session, caller, provider_id, data, idempotency_key, public_base_url, ask_program_name):
    caller.require(p.PROVIDERS_MANAGE)
    org_id = caller.org_uuid
    program_name = program_names.signature_of(session, org_id, ask_program_name)
    request, sent = update_requests.send(session, org_id, uuid.UUID(provider_id), caller.user_uuid,
                                         data.get("email"), program_name, public_base_url,
                                         idempotency_key=idempotency_key)
    if sent:
        audit.record_for(session, caller, "provider_update_request.send", "provider", provider_id,
                         details={"update_request_id": str(request.id), "trigger": request.trigger})
    session.commit()
    return _update_request_out(request, session.get(Provider, request.provider_id).name)


def list_update_requests(session, caller, query):
    caller.require(p.PROVIDERS_READ, p.PROVIDERS_MANAGE)
    rows, next_cursor = update_requests.list_requests(session, caller.org_uuid, query)
    return {"items": [_update_request_out(request, name) for request, name in rows], "next_cursor": next_cursor}


def get_update_request(session, caller, update_request_id):
    caller.require(p.PROVIDERS_READ, p.PROVIDERS_MANAGE)
    return _update_request_detail(session, update_requests.get_request(session, caller.org_uuid,
                                                                       uuid.UUID(update_request_id)))


def approve_update_request(session, caller, update_request_id):
    caller.require(p.PROVIDERS_MANAGE)
    request, provider = update_requests.approve(session, caller.org_uuid, uuid.UUID(update_request_id),
                                                caller.user_uuid)
    audit.record_for(session, caller, "provider_update_request.approve", "provider", provider.id,
                     details={"update_request_id": str(request.id), "fields": sorted(request.proposed_changes)})
    session.commit()
    return _update_request_detail(session, request)


def reject_update_request(session, caller, update_request_id, data):
    caller.require(p.PROVIDERS_MANAGE)
    request = update_requests.reject(session, caller.org_uuid, uuid.UUID(update_request_id), caller.user_uuid,
                                     data["reason"])
    audit.record_for(session, caller, "provider_update_request.reject", "provider", request.provider_id,
                     details={"update_request_id": str(request.id), "fields": sorted(request.proposed_changes)})
    session.commit()
    return _update_request_detail(session, request)


def _update_request_out(request, provider_name):
    """The request's columns, with its provider's name and its status now."""
    return UPDATE_REQUEST.dump(request) | {
        "provider_name": provider_name, "status": update_requests.status_of(request, datetime.now(timezone.utc))}


def _update_request_detail(session, request):
    """As listed, with the corrections it holds beside the record's values now."""
    changes = PROPOSED_CHANGES.dump(update_requests.proposed_beside_current(session, request))
    # The provider proposed_beside_current loaded (session.get finds it without a query).
    return _update_request_out(request, session.get(Provider, request.provider_id).name) | {"changes": changes}


def provider_update_form(session, token):
    """What the provider's link shows: their record and the codes they may choose from."""
    request = update_requests.open_request(session, token)
    provider = providers.get_provider(session, request.org_id, request.provider_id)
    active_terms = [term for term in terms.list_terms(session, request.org_id) if term.active]
    return schemas.ProviderUpdateForm().dump({
        "program_name": program_names.name_of(session, request.org_id), "expires_at": request.expires_at,
        "provider": provider, "terms": active_terms})


# What the provider is told became of their corrections.
_SUBMITTED = {
    "completed": "Thank you: your record is up to date in {program}'s directory.",
    update_requests.AWAITING_APPROVAL: "Thank you: {program} received your corrections and will review them; "
                                       "your record changes once they approve them.",
}


def submit_provider_update(session, token, corrections):
    request, provider = update_requests.submit(session, token, corrections)
    status = update_requests.status_of(request, request.completed_at)
    audit.record(session, request.org_id, None, "provider_update_request.complete", "provider", provider.id,
                 details={"update_request_id": str(request.id), "fields": sorted(corrections), "status": status})
    session.commit()
    program_name = program_names.name_of(session, request.org_id)
    return schemas.ProviderUpdateDone().dump({
        "program_name": program_name, "completed_at": request.completed_at, "status": status,
        "message": _SUBMITTED[status].format(program=program_name), "provider": provider})


def send_stale_update_requests(session, public_base_url):
    """The periodic sweep: a request to each provider whose record went stale (one batch)."""
    for request in update_requests.send_stale(session, public_base_url):
        audit.record(session, request.org_id, None, "provider_update_request.send", "provider", request.provider_id,
                     details={"update_request_id": str(request.id), "trigger": request.trigger})
    session.commit()


IMPORT = schemas.ProviderImportOut()


def start_import(session, caller, data):
    caller.require(p.PROVIDERS_MANAGE)
    content = base64.b64decode(data.pop("content_b64"))
    job = imports.start_import(session, caller.org_uuid, caller.user_uuid, data, content)
    audit.record_for(session, caller, "provider_import.create", "provider_import", job.id,
                     details={"format": job.format, "rows": job.total_rows, "dry_run": job.dry_run})
    session.commit()
    return IMPORT.dump(job)


def get_import(session, caller, import_id):
    caller.require(p.PROVIDERS_MANAGE)
    return IMPORT.dump(imports.get_import(session, caller.org_uuid, uuid.UUID(import_id)))


def import_template(caller):
    caller.require(p.PROVIDERS_MANAGE)
    return file_result(flat.template_csv(), "text/csv", "provider-import-template.csv")


def run_imports(session):
    imports.run_imports(session)


def export(session, caller, query):
    caller.require(p.PROVIDERS_READ, p.PROVIDERS_MANAGE)
    org_id = caller.org_uuid
    rows = session.scalars(select(Provider).where(Provider.org_id == org_id, Provider.deleted_at.is_(None))
                           .order_by(Provider.name, Provider.id)).all()
    audit.record_for(session, caller, "provider.export", "provider", details={"format": query["format"],
                                                                              "rows": len(rows)})
    session.commit()
    if query["format"] == "csv":
        return file_result(flat.write_csv([flat.provider_to_row(PROVIDER.dump(row)) for row in rows]),
                           "text/csv", "providers.csv")
    vocabulary = terms.load_vocabulary(session, org_id)
    package = hsds_package.write_package([hsds.provider_to_hsds_service(row, vocabulary) for row in rows])
    return file_result(package, "application/zip", "providers-hsds.zip")
