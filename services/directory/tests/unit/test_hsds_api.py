"""What the HSDS read API lets out of a provider record, and its Page arithmetic."""
import uuid
from datetime import datetime, timezone

from directory import hsds, hsds_api
from directory.models import Provider
from directory.providers import EDITABLE_FIELDS, new_provider_values
from directory.schemas import PUBLIC_PROVIDER_FIELDS, ProviderCreate
from directory.taxonomy import default_vocabulary

RECORD = {
    "name": "Margaret Chen", "npi": "1234567893", "email": "private@example.com", "gender": "Woman",
    "capacity": 2, "waitlist_weeks": 3, "fees_description": "Private", "last_verified_on": "2026-01-15",
    "licenses": [{"type": "LICSW", "number": "123456", "state": "MA"}],
    "contacts": [{"name": "Ana Lopez", "email": "intake@example.com"}],
    "schedules": [{"days": ["MO"], "opens_at": "09:00", "closes_at": "17:00"}],
    "specialties": ["anxiety"], "website": "https://example.com", "phones": [{"number": "617-555-0101"}],
}


def provider():
    return Provider(id=uuid.uuid4(), updated_at=datetime(2026, 1, 2, tzinfo=timezone.utc),
                    **new_provider_values(ProviderCreate().load(RECORD)))


def test_private_fields_are_exactly_the_editable_ones_the_public_directory_hides():
    assert hsds_api.PRIVATE_FIELDS == {"licenses", "npi", "gender", "capacity", "waitlist_weeks", "fees_description",
                                       "email", "contacts", "schedules", "last_verified_on"}
    assert hsds_api.PRIVATE_FIELDS.isdisjoint(PUBLIC_PROVIDER_FIELDS)
    assert set(EDITABLE_FIELDS) <= hsds_api.PRIVATE_FIELDS | set(PUBLIC_PROVIDER_FIELDS)


def test_the_public_record_empties_every_private_field_and_keeps_the_rest():
    source = provider()
    record = hsds_api.public_record(source)
    assert {field: record[field] for field in hsds_api.PRIVATE_FIELDS} == {
        "licenses": [], "contacts": [], "schedules": [], "npi": None, "gender": None, "capacity": None,
        "waitlist_weeks": None, "fees_description": None, "email": None, "last_verified_on": None}
    assert (record["name"], record["specialties"], record["website"]) == ("Margaret Chen", ["anxiety"],
                                                                          "https://example.com")
    service = hsds.provider_to_hsds_service(record, default_vocabulary(uuid.uuid4()))
    assert {attribute["taxonomy_term"]["code"] for attribute in service["attributes"]}.isdisjoint({"gender", "capacity"})
    assert source.npi == "1234567893"  # the record itself is untouched


def test_pages_count_from_one_and_say_where_they_are():
    def page(total, number, size):
        return hsds_api._page([{}] * size, total, {"page": number, "per_page": 10})

    assert page(25, 1, 10) | {"contents": None} == {
        "total_items": 25, "total_pages": 3, "page_number": 1, "size": 10, "first_page": True, "last_page": False,
        "empty": False, "contents": None}
    last = page(25, 3, 5)
    assert (last["size"], last["first_page"], last["last_page"]) == (5, False, True)
    nothing = page(0, 1, 0)
    assert (nothing["total_pages"], nothing["first_page"], nothing["last_page"], nothing["empty"]) == (0, True, True, True)
