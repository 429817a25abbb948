import pytest
from marshmallow import ValidationError

from directory import schemas


def load_errors(schema, data):
    with pytest.raises(ValidationError) as error:
        schema.load(data)
    return error.value.messages


def test_every_boundary_field_is_described():
    for schema_class in (schemas.ProviderCreate, schemas.ProviderUpdate, schemas.ProviderSearchItem,
                         schemas.SearchQuery, schemas.SearchResult, schemas.DirectorySettings, schemas.License,
                         schemas.Location, schemas.Phone, schemas.Contact, schemas.Schedule, schemas.HistoryPage,
                         schemas.HistoryEntry, schemas.HistoryQuery, schemas.TaxonomyTermOut):
        for name, field in schema_class().fields.items():
            assert field.metadata.get("description"), f"{schema_class.__name__}.{name}"


@pytest.mark.parametrize("schema", [schemas.ProviderCreate(), schemas.SearchQuery(), schemas.DirectorySettings()])
def test_unknown_fields_are_rejected(schema):
    assert load_errors(schema, {"name": "A", "org_id": "x"})["org_id"] == ["Unknown field."]


def test_search_query_loads_each_parameter():
    loaded = schemas.SearchQuery().load({
        "q": "anxiety", "insurance": "aetna,cigna,aetna", "specialty": ["trauma_ptsd"], "language": "es",
        "age_group": "teen", "modality": "cbt", "population": "lgbtq", "gender": "woman", "telehealth": "true",
        "accepting_new_clients": "false", "near": "42.36,-71.05", "radius_km": "10", "limit": "5", "cursor": "abc",
    })
    assert loaded == {
        "q": "anxiety", "insurance": ["aetna", "cigna"], "specialty": ["trauma_ptsd"], "language": ["es"],
        "age_group": ["teen"], "modality": ["cbt"], "population": ["lgbtq"], "gender": "woman", "telehealth": True,
        "accepting_new_clients": False, "near": "42.36,-71.05", "radius_km": 10.0, "limit": 5, "cursor": "abc",
        "facets": True,
    }
    assert schemas.SearchQuery().load({}) == {"limit": 20, "facets": True}


@pytest.mark.parametrize("params, field", [
    ({"q": ""}, "q"), ({"q": "x" * 201}, "q"), ({"insurance": "Aetna!"}, "insurance"),
    ({"specialty": "anxiety,BAD CODE"}, "specialty"), ({"telehealth": "maybe"}, "telehealth"),
    ({"accepting_new_clients": "perhaps"}, "accepting_new_clients"), ({"near": "Boston"}, "near"),
    ({"near": "02139", "radius_km": "0"}, "radius_km"), ({"near": "02139", "radius_km": "900"}, "radius_km"),
    ({"radius_km": "5"}, "radius_km"), ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
    ({"cursor": ""}, "cursor"), ({"gender": ""}, "gender"), ({"language": ",".join(f"l{i}" for i in range(51))}, "language"),
])
def test_search_query_rejects_bad_parameters(params, field):
    assert field in load_errors(schemas.SearchQuery(), params)


def test_provider_create_validates_nested_records_and_npi():
    errors = load_errors(schemas.ProviderCreate(), {
        "name": "Jane Doe", "npi": "1234567890",
        "licenses": [{"type": "LICSW", "number": "1", "state": "ZZ"}],
        "locations": [{"latitude": 42.0}],
        "schedules": [{"days": ["MO"], "opens_at": "17:00", "closes_at": "09:00"}],
    })
    assert errors["npi"] == ["The NPI check digit does not match."]
    assert "state" in errors["licenses"][0]
    assert "latitude" in errors["locations"][0]
    assert "closes_at" in errors["schedules"][0]
    assert "fee_min" in load_errors(schemas.ProviderCreate(), {"name": "Jane Doe", "fee_min": 200, "fee_max": 100})
    assert "name" in load_errors(schemas.ProviderCreate(), {})
    assert schemas.ProviderCreate().load({"name": "Jane Doe", "npi": "1234567893"})["npi"] == "1234567893"


def test_provider_update_is_partial_but_still_validates_nested_objects_whole():
    assert schemas.ProviderUpdate().load({"telehealth": True, "version": 3}) == {"telehealth": True, "version": 3}
    assert schemas.ProviderUpdate().load({"gender": None}) == {"gender": None}
    assert "number" in load_errors(schemas.ProviderUpdate(), {"licenses": [{"type": "LICSW", "state": "MA"}]})["licenses"][0]
    assert load_errors(schemas.ProviderUpdate(), {"version": 2}) == {"_schema": ["Nothing to change."]}


def test_directory_settings_need_a_slug_to_go_public():
    assert "public_slug" in load_errors(schemas.DirectorySettings(), {"public_directory_enabled": True})
    assert "public_slug" in load_errors(schemas.DirectorySettings(), {"public_slug": "Bad Slug"})
    assert schemas.DirectorySettings().load({"public_slug": "north-clinic", "public_directory_enabled": True}) == {
        "public_slug": "north-clinic", "public_directory_enabled": True, "insurance_filter_plans": [],
        "restrict_to_insurance_filter_plans": False, "stale_after_days": None, "corrections_need_approval": False,
    }


def test_a_stored_provider_with_dated_children_dumps():
    """JSONB children keep dates as ISO text; the output schema must dump them as stored."""
    from types import SimpleNamespace

    from directory.demo import generate_providers
    from directory.schemas import ProviderOut

    from datetime import date

    data = next(generate_providers(1))
    stored = SimpleNamespace(**{**data, "last_verified_on": date.fromisoformat(data["last_verified_on"]),
                                "licenses": [{**data["licenses"][0], "expires_on": "2027-03-30"}]})
    assert ProviderOut().dump(stored)["licenses"][0]["expires_on"] == "2027-03-30"
