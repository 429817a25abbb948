"""The referrer pieces that need no database: the boundary schemas, the value-list edit rules,
the history's change detection and the business support officer's assignment date."""
import uuid
from datetime import date

import pytest
from marshmallow import ValidationError

from directory import schemas
from directory.case_managers import _assign_officer_date
from directory.errors import Conflict, ValidationFailed
from directory.history import changes_between, jsonable
from directory.referrer_options import RECRUITMENT_STATUSES, VALUE_LISTS
from directory.value_lists import plan_replacement

COMPANY = str(uuid.uuid4())


def load_errors(schema, data):
    with pytest.raises(ValidationError) as error:
        schema.load(data)
    return error.value.messages


def test_every_referrer_boundary_field_is_described():
    for schema_class in (schemas.CompanyCreate, schemas.CompanyOut, schemas.CompanyQuery, schemas.BusinessUnitOut,
                         schemas.CaseManagerCreate, schemas.CaseManagerUpdate, schemas.CaseManagerOut,
                         schemas.CaseManagerQuery, schemas.RecruitmentQuery, schemas.RecruitmentView,
                         schemas.OfficerRecruitment, schemas.ValueListUpdate, schemas.ValueListOut,
                         schemas.PromotionCreate, schemas.PromotionOut):
        for name, field in schema_class().fields.items():
            assert field.metadata.get("description"), f"{schema_class.__name__}.{name}"


def test_a_case_manager_needs_company_and_names_all_reported_at_once():
    assert load_errors(schemas.CaseManagerCreate(), {"has_login": True}) == {
        "company_id": ["Missing data for required field."], "first_name": ["Missing data for required field."],
        "last_name": ["Missing data for required field."], "email": ["Required for a case manager with a login."]}
    assert load_errors(schemas.CaseManagerCreate(), {"company_id": COMPANY, "first_name": "", "last_name": "R"}) == {
        "first_name": ["Length must be between 1 and 100."]}


def test_email_is_required_exactly_when_a_login_is_given():
    base = {"company_id": COMPANY, "first_name": "Alex", "last_name": "Romero"}
    assert "email" not in schemas.CaseManagerCreate().load(base)
    assert schemas.CaseManagerCreate().load({**base, "has_login": False})["has_login"] is False
    assert load_errors(schemas.CaseManagerCreate(), {**base, "has_login": True, "email": None}) == {
        "email": ["Required for a case manager with a login."]}
    loaded = schemas.CaseManagerCreate().load({**base, "has_login": True, "email": "Alex@Acme.Example"})
    assert loaded["email"] == "alex@acme.example"
    assert load_errors(schemas.CaseManagerUpdate(), {"has_login": True, "email": None}) == {
        "email": ["Required for a case manager with a login."]}
    assert schemas.CaseManagerUpdate().load({"has_login": True}) == {"has_login": True}  # the record's email counts


def test_case_manager_fields_are_checked_and_the_system_fields_are_not_the_clients():
    errors = load_errors(schemas.CaseManagerCreate(), {
        "company_id": "acme", "first_name": "A", "last_name": "B", "email": "not-an-email", "phone": "call me",
        "postcode": "ABC", "state": "ZZ", "linkedin_url": "https://example.org/me", "recruitment_status": "hired",
        "position": " Case Manager", "business_support_officer_assigned_on": "yesterday",
        "created_by": str(uuid.uuid4()), "version": 3})
    assert set(errors) == {"company_id", "email", "phone", "postcode", "state", "linkedin_url", "recruitment_status",
                           "position", "business_support_officer_assigned_on", "created_by", "version"}
    assert errors["created_by"] == ["Unknown field."]
    assert load_errors(schemas.CaseManagerUpdate(), {}) == {"_schema": ["Nothing to change."]}
    assert load_errors(schemas.CaseManagerUpdate(), {"first_name": None}) == {"first_name": ["Field may not be null."]}


@pytest.mark.parametrize("status", RECRUITMENT_STATUSES)
def test_each_recruitment_status_can_be_set_and_filtered_on(status):
    assert schemas.CaseManagerUpdate().load({"recruitment_status": status}) == {"recruitment_status": status}
    assert schemas.CaseManagerQuery().load({"recruitment_status": status})["recruitment_status"] == [status]


def test_the_case_manager_query_takes_a_filter_per_field():
    record_fields = set(schemas.CaseManagerFields().fields) | {"created_by"}
    query_fields = set(schemas.CaseManagerQuery().fields)
    assert record_fields - {"business_support_officer_assigned_on"} <= query_fields
    assert {"business_support_officer_assigned_from", "business_support_officer_assigned_until", "q"} <= query_fields
    assert load_errors(schemas.CaseManagerQuery(), {"recruitment_status": "hired"}) == {
        "recruitment_status": {0: ["Must be one of: recruiting, onboarding, onboarded, non_booking_contact."]}}


def test_a_value_list_edit_is_whole_trimmed_and_without_duplicates():
    assert load_errors(schemas.ValueListUpdate(), {"values": []}) == {"values": ["Length must be between 1 and 200."]}
    assert load_errors(schemas.ValueListUpdate(), {"values": ["Nurse", "nurse"]}) == {
        "values": ["'nurse' is listed twice."]}
    assert load_errors(schemas.ValueListUpdate(), {"values": ["Nurse "]}) == {
        "values": {0: ["No leading or trailing spaces."]}}
    assert schemas.ValueListUpdate().load({"values": ["Nurse"]}) == {"values": ["Nurse"], "remap": {}}


def test_every_value_list_names_a_case_manager_field():
    assert {spec.field for spec in VALUE_LISTS.values()} <= set(schemas.CaseManagerFields().fields)
    for spec in VALUE_LISTS.values():
        schemas.ValueListUpdate().load({"values": list(spec.defaults)})


def test_removing_unused_values_needs_no_remapping():
    assert plan_replacement(["A", "B"], ["A"], {}, {"A": 2}) == {}
    assert plan_replacement(["A", "B"], ["A", "C"], {"B": "C"}, {}) == {}  # nothing to move


def test_a_value_in_use_is_only_removed_with_a_replacement_that_stays():
    with pytest.raises(Conflict) as error:
        plan_replacement(["A", "B", "C"], ["A"], {"C": "A"}, {"B": 2, "C": 1})
    assert error.value.errors == {"values": [
        "'B' is used by 2 case manager(s): keep it, or remap it to a value that stays."]}
    with pytest.raises(ValidationFailed) as error:
        plan_replacement(["A", "B"], ["A", "B"], {"A": "B", "B": "Z"}, {"A": 1})
    assert error.value.errors == {"remap": ["'A' is not a removed value of the list.",
                                            "'B' is not a removed value of the list.",
                                            "'B' cannot become 'Z', which is not in the list."]}
    assert plan_replacement(["A", "B", "C"], ["A"], {"B": "A", "C": "A"}, {"B": 2, "C": 1}) == {"B": "A", "C": "A"}


def test_history_records_only_real_changes_as_json():
    officer = uuid.uuid4()
    before = {"first_name": "Alex", "officer": None, "on": date(2026, 1, 5), "verified": False}
    after = {"first_name": "Alex", "officer": officer, "on": date(2026, 1, 5), "verified": True}
    assert changes_between(before, after, before) == {"officer": (None, str(officer)), "verified": (False, True)}
    assert jsonable({"on": [date(2026, 1, 5)], "id": officer}) == {"on": ["2026-01-05"], "id": str(officer)}


def test_an_officer_is_assigned_today_unless_a_date_is_given():
    officer = uuid.uuid4()
    values = {"business_support_officer_id": officer, "business_support_officer_assigned_on": None}
    _assign_officer_date(values, officer_changed=True, date_given=False)
    assert values["business_support_officer_assigned_on"] == date.today()

    values = {"business_support_officer_id": officer, "business_support_officer_assigned_on": date(2026, 1, 5)}
    _assign_officer_date(values, officer_changed=True, date_given=True)
    assert values["business_support_officer_assigned_on"] == date(2026, 1, 5)
    _assign_officer_date(values, officer_changed=False, date_given=False)
    assert values["business_support_officer_assigned_on"] == date(2026, 1, 5)

    values = {"business_support_officer_id": None, "business_support_officer_assigned_on": date(2026, 1, 5)}
    _assign_officer_date(values, officer_changed=True, date_given=False)
    assert values["business_support_officer_assigned_on"] is None

