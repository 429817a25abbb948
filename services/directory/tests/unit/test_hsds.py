"""The HSDS mapping validates against the official HSDS 3.0 compiled schemas and round-trips."""
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from directory import demo, hsds
from directory.providers import new_provider_values
from directory.schemas import ProviderCreate
from directory.taxonomy import default_vocabulary

# The design kit lies beside the checkout (../shared), in development and in CI alike.
COMPILED_SCHEMAS = Path(__file__).resolve().parents[4].parent / "shared/reference/hsds-3.0/schema/compiled"
ORG = uuid.UUID("00000000-0000-0000-0000-0000000000aa")
VOCABULARY = default_vocabulary(ORG)


@pytest.fixture(scope="module")
def validators():
    def validator(name):
        schema = json.loads((COMPILED_SCHEMAS / f"{name}.json").read_text())
        return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    return {name: validator(name) for name in ("service", "organization")}


def stored_provider(data: dict) -> dict:
    """What a provider looks like once created: loaded by the schema, normalized, with id and timestamps."""
    return {"id": uuid.uuid4(), "updated_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            **new_provider_values(ProviderCreate().load(data))}


FULL_PROVIDER = {
    "kind": "individual", "name": "Margaret Chen", "practice_name": "Charles River Psychotherapy",
    "credentials": ["LICSW", "PhD"],
    "licenses": [{"type": "LICSW", "number": "123456", "state": "MA", "expires_on": "2027-06-30", "verified": True},
                 {"type": "Psychologist", "number": "A-77", "state": "NH", "verified": False}],
    "npi": "1234567893", "description": "Warm, practical therapy for adults.",
    "specialties": ["anxiety", "depression"], "modalities": ["cbt", "act"], "age_groups": ["teen", "adult"],
    "populations": ["college_students"], "languages": ["en", "zh"], "insurance_plans": ["aetna", "bcbs"],
    "gender": "Woman", "telehealth": True, "in_person": True, "accepting_new_clients": False, "capacity": 2,
    "waitlist_weeks": 3, "fee_min": 120, "fee_max": 180, "sliding_scale": True, "fees_description": "Sliding scale.",
    "email": "margaret@example.com", "website": "https://example.com/chen",
    "phones": [{"number": "617-555-0101", "type": "voice", "description": "Office"}],
    "contacts": [{"name": "Ana Lopez", "title": "Intake coordinator", "email": "intake@example.com",
                  "phone": "617-555-0102"}],
    "locations": [{"id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5", "name": "Central Square", "address_1": "1 Main St",
                   "address_2": "Suite 2", "city": "Cambridge", "state": "MA", "postal_code": "02139",
                   "latitude": 42.3647, "longitude": -71.1042}],
    "schedules": [{"location_id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5", "days": ["MO", "WE"],
                   "opens_at": "09:00", "closes_at": "17:00", "description": "Office hours"},
                  {"days": ["TH"], "opens_at": "18:00", "closes_at": "20:00"}],
    "last_verified_on": "2026-01-15",
}


def assert_valid(validator, document):
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(error.absolute_path)}: {error.message}" for error in errors[:10])


def test_service_and_organization_validate_against_hsds_3(validators):
    provider = stored_provider(FULL_PROVIDER)
    service = hsds.provider_to_hsds_service(provider, VOCABULARY)
    assert_valid(validators["service"], service)
    assert_valid(validators["organization"], hsds.provider_to_hsds_organization(provider))

    assert service["organization_id"] == str(provider["id"]) == service["organization"]["id"]
    assert {link["location"]["location_type"] for link in service["service_at_locations"]} == {"physical", "virtual"}
    assert service["organization"]["organization_identifiers"][0]["identifier"] == "1234567893"
    assert (service["minimum_age"], service["maximum_age"]) == (14, 64)
    anxiety = next(a for a in service["attributes"] if a["taxonomy_term"]["code"] == "anxiety")
    assert anxiety["taxonomy_term_id"] == str(VOCABULARY.get("specialty", "anxiety").id)


def test_mapping_is_deterministic():
    provider = stored_provider(FULL_PROVIDER)
    assert hsds.provider_to_hsds_service(provider, VOCABULARY) == hsds.provider_to_hsds_service(provider, VOCABULARY)


def test_a_minimal_provider_validates_too(validators):
    provider = stored_provider({"name": "Riverside Family Services", "kind": "agency"})
    assert_valid(validators["service"], hsds.provider_to_hsds_service(provider, VOCABULARY))


def test_demo_providers_validate(validators):
    for data in demo.generate_providers(40):
        assert_valid(validators["service"], hsds.provider_to_hsds_service(stored_provider(data), VOCABULARY))


def test_service_maps_back_to_the_same_provider():
    provider = stored_provider(FULL_PROVIDER)
    imported = ProviderCreate().load(hsds.provider_from_hsds(hsds.provider_to_hsds_service(provider, VOCABULARY),
                                                             VOCABULARY))
    assert new_provider_values(imported) == {key: value for key, value in provider.items()
                                             if key not in ("id", "updated_at")}


def test_foreign_terms_are_matched_by_label_and_unknown_ones_dropped():
    service = {
        "id": str(uuid.uuid4()), "name": "Elsewhere Clinic", "status": "active",
        "attributes": [
            {"id": str(uuid.uuid4()), "taxonomy_term": {"id": str(uuid.uuid4()), "name": "Depression",
                                                         "taxonomy": "Open Eligibility", "code": "x1"}},
            {"id": str(uuid.uuid4()), "taxonomy_term": {"id": str(uuid.uuid4()), "name": "Basket weaving",
                                                         "taxonomy": "Open Eligibility"}},
        ],
        "languages": [{"id": str(uuid.uuid4()), "name": "Spanish"}],
    }
    data = hsds.provider_from_hsds(service, VOCABULARY)
    assert data["specialties"] == ["depression"]
    assert data["languages"] == ["es"]
    assert ProviderCreate().load(data)["name"] == "Elsewhere Clinic"
