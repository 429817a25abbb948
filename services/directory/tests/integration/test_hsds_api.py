"""The HSDS 3.0 read API of a published directory, on PostgreSQL: every answer conforms to the
official HSDS schemas (the reference copy, objects closed), shows public fields only, and the
HSDS query parameters select and page exactly the expected records; an ndjson stream, asked
batch by batch, yields what the pages do."""
import json
import uuid
from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, select

from directory import hsds, hsds_api, providers, settings, terms
from directory.errors import NotFound, ValidationFailed
from directory.models import Provider, hsds_service_id
from directory.schemas import (
    DirectorySettings, HsdsOrganizationQuery, HsdsOrganizationsQuery, HsdsPageQuery, HsdsServicesQuery,
    HsdsTaxonomyTermsQuery, ProviderCreate,
)
from shared.testing.batches import every_batch
from shared.testing.hsds_schemas import errors_of, operation_validator

ACTOR = uuid.uuid4()
BASE_URL = "https://handoff.example"
# Values that exist only in private fields: none may appear in any answer.
PRIVATE = {
    "npi": "1234567893", "email": "margaret.private@example.com", "gender": "Self-described gender",
    "license_number": "LIC-778899", "contact_email": "intake.private@example.com",
    "fees_description": "Private fee note", "schedule_note": "Private hours note",
}
MARGARET = {
    "name": "Margaret Chen", "practice_name": "Charles River Psychotherapy", "credentials": ["LICSW"],
    "licenses": [{"type": "LICSW", "number": PRIVATE["license_number"], "state": "MA", "verified": True}],
    "npi": PRIVATE["npi"], "description": "Warm, practical therapy for adults facing worry.",
    "specialties": ["anxiety", "depression"], "modalities": ["cbt"], "age_groups": ["adult"],
    "languages": ["en", "zh"], "insurance_plans": ["aetna"], "gender": PRIVATE["gender"], "telehealth": True,
    "accepting_new_clients": False, "capacity": 3, "waitlist_weeks": 4, "fee_min": 120, "fee_max": 180,
    "sliding_scale": True, "fees_description": PRIVATE["fees_description"], "email": PRIVATE["email"],
    "website": "https://example.com/chen", "phones": [{"number": "617-555-0101"}],
    "contacts": [{"name": "Ana Lopez", "email": PRIVATE["contact_email"], "phone": "617-555-0102"}],
    "locations": [{"name": "Central Square", "address_1": "1 Main St", "city": "Cambridge", "state": "MA",
                   "postal_code": "02139"}],
    "schedules": [{"days": ["MO"], "opens_at": "09:00", "closes_at": "17:00",
                   "description": PRIVATE["schedule_note"]}],
    "last_verified_on": "2026-01-15",
}


@pytest.fixture
def published(session):
    """A published directory: Margaret Chen, and two plainer providers."""
    org_id, slug = uuid.uuid4(), f"hsds-{uuid.uuid4().hex[:8]}"
    settings.update_settings(session, org_id, ACTOR, DirectorySettings().load(
        {"public_slug": slug, "public_directory_enabled": True}))
    created = {name: providers.create_provider(session, org_id, ACTOR, ProviderCreate().load(data)) for name, data in {
        "Margaret Chen": MARGARET,
        "Ben Brooks": {"name": "Ben Brooks", "specialties": ["trauma_ptsd"], "languages": ["es"],
                       "insurance_plans": ["cigna"]},
        "Cara Diaz": {"name": "Cara Diaz", "kind": "agency", "specialties": ["grief"]},
    }.items()}
    session.flush()
    return org_id, slug, created


def page_query(schema=HsdsServicesQuery, **params):
    return schema().load({key: str(value) for key, value in params.items()})


def assert_conforms(path, document):
    assert errors_of(operation_validator(path), document) == []


def assert_nothing_private(document):
    text = json.dumps(document)
    leaked = {name: value for name, value in PRIVATE.items() if value in text}
    assert not leaked
    # Nor the internal attributes of private fields.
    assert '"code": "capacity"' not in text and '"code": "gender"' not in text


def names(page):
    return [item["name"] for item in page["contents"]]


def test_every_answer_conforms_to_hsds_and_shows_public_fields_only(session, published):
    _, slug, created = published
    margaret = created["Margaret Chen"]

    info = hsds_api.api_info(session, slug, BASE_URL)
    assert_conforms("/", info)
    assert info == {"version": "3.0", "profile": hsds_api.PROFILE_URL, "openapi_url": f"{BASE_URL}/openapi.json"}

    listed = hsds_api.services(session, slug, page_query())
    assert_conforms("/services", listed)
    assert names(listed) == ["Ben Brooks", "Cara Diaz", "Margaret Chen"]
    assert listed["contents"][2]["id"] == hsds.service_id(margaret.id)

    full = hsds_api.services(session, slug, page_query(full="true"))
    # A full listing's items are fully nested services: the Page as /services, each item as /services/{id}.
    assert_conforms("/services", {**full, "contents": []})
    for item in full["contents"]:
        assert_conforms("/services/{id}", item)

    one = hsds_api.service(session, slug, hsds.service_id(margaret.id))
    assert_conforms("/services/{id}", one)
    assert one == full["contents"][2]
    assert one["organization"]["id"] == str(margaret.id)
    assert one["organization"]["name"] == "Charles River Psychotherapy"
    assert {attribute["taxonomy_term"]["code"] for attribute in one["attributes"]} >= {
        "anxiety", "depression", "aetna", "accepting_new_clients"}
    assert one["organization"]["contacts"] == [] and one["organization"]["organization_identifiers"] == []
    assert "email" not in one and "licenses" not in one and one["schedules"] == []

    organizations = hsds_api.organizations(session, slug, page_query(HsdsOrganizationsQuery))
    assert_conforms("/organizations", organizations)
    assert names(organizations) == ["Ben Brooks", "Cara Diaz", "Charles River Psychotherapy"]
    nested = hsds_api.organizations(session, slug, page_query(HsdsOrganizationsQuery, full="true", full_service="true"))
    assert_conforms("/organizations", {**nested, "contents": []})
    for item in nested["contents"]:
        assert_conforms("/organizations/{id}", item)
    organization = hsds_api.organization(session, slug, str(margaret.id), page_query(HsdsOrganizationQuery))
    assert_conforms("/organizations/{id}", organization)
    assert [service["id"] for service in organization["services"]] == [hsds.service_id(margaret.id)]
    assert "attributes" not in organization["services"][0]  # one-to-one fields unless full_service

    taxonomies = hsds_api.taxonomies(session, slug, page_query(HsdsPageQuery, per_page=100))
    assert_conforms("/taxonomies", taxonomies)
    taxonomy_terms = hsds_api.taxonomy_terms(session, slug, page_query(HsdsTaxonomyTermsQuery, per_page=100))
    assert_conforms("/taxonomy_terms", taxonomy_terms)

    for document in (listed, full, one, organizations, nested, organization, taxonomy_terms):
        assert_nothing_private(document)


def test_service_filters_select_exactly_the_matching_services(session, published):
    org_id, slug, created = published
    vocabulary = terms.load_vocabulary(session, org_id)

    def listed(**params):
        return names(hsds_api.services(session, slug, page_query(**params)))

    assert listed(search="anxeity") == ["Margaret Chen"]  # typo-tolerant, as the directory's own search
    assert listed(search="grief") == ["Cara Diaz"]
    assert listed(taxonomy_term_id=vocabulary.get("specialty", "trauma_ptsd").id) == ["Ben Brooks"]
    assert listed(taxonomy_term_id=vocabulary.get("language", "zh").id) == ["Margaret Chen"]
    sliding_scale_term = hsds.internal_term_to_hsds("sliding_scale")["id"]
    assert listed(taxonomy_term_id=sliding_scale_term) == ["Ben Brooks", "Cara Diaz", "Margaret Chen"]
    gender_term = hsds.internal_term_to_hsds("gender")["id"]  # a private field's: no service shows it
    assert listed(taxonomy_term_id=gender_term) == []
    assert listed(taxonomy_term_id=uuid.uuid4()) == []
    assert listed(taxonomy_id=hsds.taxonomy_id("handoff:insurance")) == ["Ben Brooks", "Margaret Chen"]
    assert listed(taxonomy_id=uuid.uuid4()) == []
    assert listed(organization_id=created["Cara Diaz"].id) == ["Cara Diaz"]

    now = session.scalar(select(func.now()))
    assert listed(modified_after=(now - timedelta(minutes=1)).isoformat()) == ["Ben Brooks", "Cara Diaz",
                                                                             "Margaret Chen"]
    assert listed(modified_after=(now + timedelta(minutes=1)).isoformat()) == []
    # A time without an offset is UTC.
    naive_future = (now + timedelta(minutes=1)).astimezone(timezone.utc).replace(tzinfo=None)
    assert listed(modified_after=naive_future.isoformat()) == []


def test_pages_carry_hsds_totals(session, published):
    _, slug, _ = published

    def page(number):
        return hsds_api.services(session, slug, page_query(page=number, per_page=2))

    first, second, beyond = page(1), page(2), page(3)
    assert {key: first[key] for key in first if key != "contents"} == {
        "total_items": 3, "total_pages": 2, "page_number": 1, "size": 2, "first_page": True, "last_page": False,
        "empty": False}
    assert (second["size"], second["first_page"], second["last_page"]) == (1, False, True)
    assert names(first) + names(second) == ["Ben Brooks", "Cara Diaz", "Margaret Chen"]
    assert (beyond["size"], beyond["empty"], beyond["last_page"]) == (0, True, True)

    none = hsds_api.services(session, slug, page_query(search="nothing matches this"))
    assert (none["total_items"], none["total_pages"], none["empty"]) == (0, 0, True)
    assert_conforms("/services", none)


def test_taxonomy_terms_list_the_programs_vocabularies(session, published):
    org_id, slug, _ = published
    languages = hsds.taxonomy_id("handoff:language")
    listed = hsds_api.taxonomy_terms(session, slug, page_query(HsdsTaxonomyTermsQuery, taxonomy_id=languages,
                                                               per_page=100))
    assert listed["total_items"] == sum(1 for term in terms.load_vocabulary(session, org_id) if term.taxonomy == "language")
    assert {term["taxonomy"] for term in listed["contents"]} == {"handoff:language"}
    found = hsds_api.taxonomy_terms(session, slug, page_query(HsdsTaxonomyTermsQuery, search="ANXI"))
    assert [term["code"] for term in found["contents"]] == ["anxiety"]
    internal = hsds_api.taxonomy_terms(session, slug, page_query(
        HsdsTaxonomyTermsQuery, taxonomy_id=hsds.taxonomy_id("handoff")))
    assert {term["code"] for term in internal["contents"]} == set(hsds_api.PUBLIC_INTERNAL_FIELDS)
    taxonomies = hsds_api.taxonomies(session, slug, page_query(HsdsPageQuery, search="insurance"))
    assert [taxonomy["name"] for taxonomy in taxonomies["contents"]] == ["handoff:insurance"]


def test_only_what_the_public_directory_lists_is_found(session, published):
    org_id, slug, created = published
    ben, cara = created["Ben Brooks"], created["Cara Diaz"]
    providers.delete_provider(session, org_id, ACTOR, cara.id)
    with pytest.raises(NotFound):
        hsds_api.service(session, slug, hsds.service_id(cara.id))
    with pytest.raises(NotFound):
        hsds_api.organization(session, slug, str(cara.id), page_query(HsdsOrganizationQuery))

    # A program restricting its directory to its insurance filter plans publishes only those providers.
    settings.update_settings(session, org_id, ACTOR, DirectorySettings().load({
        "public_slug": slug, "public_directory_enabled": True, "insurance_filter_plans": ["aetna"],
        "restrict_to_insurance_filter_plans": True}))
    assert names(hsds_api.services(session, slug, page_query())) == ["Margaret Chen"]
    with pytest.raises(NotFound):
        hsds_api.service(session, slug, hsds.service_id(ben.id))

    # Another program's provider is not found through this directory.
    other = providers.create_provider(session, uuid.uuid4(), ACTOR, ProviderCreate().load({"name": "Elsewhere"}))
    with pytest.raises(NotFound):
        hsds_api.service(session, slug, hsds.service_id(other.id))

    # Switched off, the directory is gone; unknown slugs never existed.
    settings.update_settings(session, org_id, ACTOR, DirectorySettings().load({"public_slug": slug}))
    for call in (lambda: hsds_api.api_info(session, slug, BASE_URL),
                 lambda: hsds_api.services(session, slug, page_query()),
                 lambda: hsds_api.taxonomies(session, slug, page_query(HsdsPageQuery)),
                 lambda: hsds_api.taxonomy_terms(session, "no-such-directory", page_query(HsdsTaxonomyTermsQuery))):
        with pytest.raises(NotFound):
            call()


def test_the_service_id_index_computes_the_mappings_ids(session, published):
    """/services/{id} finds a provider by hsds.service_id through ix_providers_hsds_service_id:
    PostgreSQL's uuid_generate_v5 must agree with Python's uuid5."""
    _, _, created = published
    computed = dict(session.execute(select(Provider.id, hsds_service_id(Provider.id).label("service_id"))
                                    .where(Provider.id.in_([p.id for p in created.values()]))).all())
    assert {str(provider_id): str(service_id) for provider_id, service_id in computed.items()} == {
        str(p.id): hsds.service_id(p.id) for p in created.values()}


def ndjson(listing, session, slug, query):
    """Every batch of the ndjson stream of ``listing`` (an hsds_api list)."""
    return every_batch(lambda after: listing(session, slug, query, after))


def streamed(listing, session, slug, query):
    return [item for batch in ndjson(listing, session, slug, query) for item in batch]


def every_page(listing, session, slug, schema, **params):
    """The contents of every Page of ``listing``, in order."""
    first = listing(session, slug, page_query(schema, per_page=100, **params))
    later = [listing(session, slug, page_query(schema, per_page=100, page=number, **params))["contents"]
             for number in range(2, first["total_pages"] + 1)]
    return first["contents"] + [item for contents in later for item in contents]


def test_ndjson_streams_every_match_a_batch_at_a_time(session, published, monkeypatch):
    monkeypatch.setattr(hsds_api, "NDJSON_BATCH", 2)
    org_id, slug, created = published
    for _ in range(2):  # namesakes: the keyset's id breaks the tie
        providers.create_provider(session, org_id, ACTOR, ProviderCreate().load({"name": "Ben Brooks"}))
    session.flush()

    batches = ndjson(hsds_api.services, session, slug, page_query(format="ndjson", per_page=1))
    assert [len(batch) for batch in batches] == [2, 2, 1]
    listed = [item for batch in batches for item in batch]
    assert listed == every_page(hsds_api.services, session, slug, HsdsServicesQuery)
    assert len({item["id"] for item in listed}) == 5
    assert streamed(hsds_api.services, session, slug, page_query(format="ndjson", full="true")) == every_page(
        hsds_api.services, session, slug, HsdsServicesQuery, full="true")

    def names_streamed(**params):
        return [item["name"] for item in streamed(hsds_api.services, session, slug, page_query(format="ndjson",
                                                                                               **params))]

    assert names_streamed(search="grief") == ["Cara Diaz"]
    assert names_streamed(taxonomy_id=hsds.taxonomy_id("handoff:insurance")) == ["Ben Brooks", "Margaret Chen"]
    assert names_streamed(organization_id=created["Cara Diaz"].id) == ["Cara Diaz"]
    assert names_streamed(modified_after="2999-01-01T00:00:00Z") == []

    nested = page_query(HsdsOrganizationsQuery, format="ndjson", full="true", full_service="true")
    assert streamed(hsds_api.organizations, session, slug, nested) == every_page(
        hsds_api.organizations, session, slug, HsdsOrganizationsQuery, full="true", full_service="true")
    assert streamed(hsds_api.taxonomies, session, slug, page_query(HsdsPageQuery, format="ndjson")) == every_page(
        hsds_api.taxonomies, session, slug, HsdsPageQuery)
    terms_query = page_query(HsdsTaxonomyTermsQuery, format="ndjson")
    assert streamed(hsds_api.taxonomy_terms, session, slug, terms_query) == every_page(
        hsds_api.taxonomy_terms, session, slug, HsdsTaxonomyTermsQuery)


def test_an_ndjson_cursor_serves_only_the_stream_that_made_it(session, published, monkeypatch):
    monkeypatch.setattr(hsds_api, "NDJSON_BATCH", 1)
    _, slug, _ = published
    query = page_query(format="ndjson")
    cursor = hsds_api.services(session, slug, query)["after"]
    assert names(hsds_api.services(session, slug, query, cursor)) == ["Cara Diaz"]
    tampered = cursor[:12] + ("B" if cursor[12] == "A" else "A") + cursor[13:]
    for refused in (lambda: hsds_api.organizations(session, slug, page_query(HsdsOrganizationsQuery, format="ndjson"),
                                                   cursor),
                    lambda: hsds_api.services(session, slug, page_query(format="ndjson", full="true"), cursor),
                    lambda: hsds_api.services(session, slug, query, tampered)):
        with pytest.raises(ValidationFailed):
            refused()


def test_an_ndjson_stream_searches_for_what_its_first_batch_did(session, published, monkeypatch):
    """A misspelt search is corrected once, for the whole stream: a provider added meanwhile
    whose name is the misspelling as typed does not change what the later batches search for."""
    monkeypatch.setattr(hsds_api, "NDJSON_BATCH", 1)
    org_id, slug, _ = published
    query = page_query(format="ndjson", search="traumma")  # corrected to "trauma": Ben Brooks
    providers.create_provider(session, org_id, ACTOR, ProviderCreate().load({"name": "Ada Trauma",
                                                                              "specialties": ["trauma_ptsd"]}))
    session.flush()
    first = hsds_api.services(session, slug, query)
    assert names(first) == ["Ada Trauma"]
    providers.create_provider(session, org_id, ACTOR, ProviderCreate().load({"name": "Bo Traumma"}))
    session.flush()
    assert names(hsds_api.services(session, slug, query, first["after"])) == ["Ben Brooks"]
    assert [item["name"] for item in streamed(hsds_api.services, session, slug, query)] == ["Bo Traumma"]


def test_taxonomies_and_terms_are_found_by_id(session, published):
    org_id, slug, _ = published
    listed = hsds_api.taxonomies(session, slug, page_query(HsdsPageQuery))["contents"]
    for taxonomy in listed:
        found = hsds_api.taxonomy(session, slug, taxonomy["id"])
        assert_conforms("/taxonomies/{id}", found)
        assert found == taxonomy
    grief = terms.load_vocabulary(session, org_id).get("specialty", "grief")
    term = hsds_api.taxonomy_term(session, slug, str(grief.id))
    assert_conforms("/taxonomy_terms/{id}", term)
    assert (term["code"], term["taxonomy"]) == ("grief", "handoff:specialty")
    sliding_scale = hsds.internal_term_to_hsds("sliding_scale")
    assert hsds_api.taxonomy_term(session, slug, sliding_scale["id"]) == sliding_scale

    other_program = terms.load_vocabulary(session, uuid.uuid4()).get("specialty", "grief")  # its own term ids
    for call in (lambda: hsds_api.taxonomy(session, slug, str(uuid.uuid4())),
                 lambda: hsds_api.taxonomy_term(session, slug, str(uuid.uuid4())),
                 lambda: hsds_api.taxonomy_term(session, slug, str(other_program.id)),
                 lambda: hsds_api.taxonomy_term(session, slug, hsds.internal_term_to_hsds("gender")["id"]),
                 lambda: hsds_api.taxonomy(session, "no-such-directory", listed[0]["id"])):
        with pytest.raises(NotFound):
            call()
