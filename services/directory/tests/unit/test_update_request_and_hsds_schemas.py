"""The boundary of update requests and of the HSDS read API: what a provider may correct through
their link, the settings' stale period, and HSDS's query parameters; and the request statuses."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

from directory import schemas, update_requests
from directory.models import ProviderUpdateRequest


def load_errors(schema, data):
    with pytest.raises(ValidationError) as error:
        schema.load(data)
    return error.value.messages


def test_every_new_boundary_field_is_described():
    for schema_class in (schemas.ProviderCorrections, schemas.UpdateRequestCreate, schemas.UpdateRequestOut,
                         schemas.UpdateRequestQuery, schemas.ProviderUpdateForm, schemas.ProviderUpdateDone,
                         schemas.ProviderHistoryEntry, schemas.HsdsServicesQuery, schemas.HsdsOrganizationsQuery,
                         schemas.HsdsOrganizationQuery, schemas.HsdsTaxonomyTermsQuery, schemas.HsdsPage,
                         schemas.HsdsApiInfo):
        for name, field in schema_class().fields.items():
            assert field.metadata.get("description"), f"{schema_class.__name__}.{name}"


def test_a_provider_corrects_what_staff_edit_but_the_verification_date():
    corrections = schemas.ProviderCorrections()
    assert corrections.load({}) == {}  # confirms the record as it is
    assert corrections.load({"accepting_new_clients": False, "fee_max": None}) == {
        "accepting_new_clients": False, "fee_max": None}
    assert load_errors(corrections, {"last_verified_on": "2026-01-01"}) == {"last_verified_on": ["Unknown field."]}
    assert load_errors(corrections, {"version": 2}) == {"version": ["Unknown field."]}
    assert load_errors(corrections, {"org_id": str(uuid.uuid4())}) == {"org_id": ["Unknown field."]}
    # The staff edit's rules hold: nested records whole, check digits, ranges.
    assert load_errors(corrections, {"licenses": [{"type": "LICSW"}]}) == {"licenses": {0: {
        "number": ["Missing data for required field."], "state": ["Missing data for required field."]}}}
    assert load_errors(corrections, {"npi": "1234567890"}) == {"npi": ["The NPI check digit does not match."]}
    assert load_errors(corrections, {"fee_min": 200, "fee_max": 100}) == {"fee_min": ["Must not exceed fee_max."]}
    assert "name" in load_errors(corrections, {"name": ""})


def test_the_stale_period_is_off_or_at_least_a_month():
    settings = schemas.DirectorySettings()
    assert settings.load({})["stale_after_days"] is None
    assert settings.load({"stale_after_days": 30})["stale_after_days"] == 30
    for days in (0, 29, 3651, "often"):
        assert "stale_after_days" in load_errors(settings, {"stale_after_days": days})


def test_update_request_statuses():
    now = datetime.now(timezone.utc)
    request = ProviderUpdateRequest(sent_at=now, expires_at=now + timedelta(days=14), completed_at=None)
    assert update_requests.status_of(request, now) == "sent"
    assert update_requests.status_of(request, now + timedelta(days=14)) == "expired"
    request.completed_at = now
    assert update_requests.status_of(request, now + timedelta(days=30)) == "completed"
    assert load_errors(schemas.UpdateRequestQuery(), {"status": "pending"})["status"]
    assert load_errors(schemas.UpdateRequestCreate(), {"email": "not an address"})["email"]


def test_hsds_query_parameters():
    query = schemas.HsdsServicesQuery().load({"page": "2", "per_page": "10", "full": "true",
                                              "modified_after": "2026-01-02T03:04:05"})
    assert (query["page"], query["per_page"], query["full"], query["format"]) == (2, 10, True, "json")
    assert query["modified_after"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)  # no offset: UTC
    assert schemas.HsdsServicesQuery().load({}) == {"page": 1, "per_page": 25, "full": False, "format": "json"}
    for bad in ({"page": "0"}, {"per_page": "101"}, {"per_page": "x"}, {"taxonomy_term_id": "anxiety"},
                {"modified_after": "yesterday"}, {"search": ""}, {"minimal": "true"}):
        assert load_errors(schemas.HsdsServicesQuery(), bad)
    assert schemas.HsdsServicesQuery().load({"format": "ndjson"})["format"] == "ndjson"
    assert list(load_errors(schemas.HsdsServicesQuery(), {"format": "xml"})) == ["format"]
    assert load_errors(schemas.HsdsOrganizationsQuery(), {"taxonomy_term_id": str(uuid.uuid4())})
