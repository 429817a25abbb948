"""What the HSDS read API lets out of a provider record, its Page arithmetic and the batches
of its ndjson streams."""
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from directory import hsds, hsds_api
from directory.models import Provider
from directory.providers import EDITABLE_FIELDS, new_provider_values
from directory.schemas import PUBLIC_PROVIDER_FIELDS, HsdsTaxonomyTermsQuery, ProviderCreate
from directory.taxonomy import default_vocabulary
from shared.errors import ValidationFailed
from shared.testing.batches import every_batch

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



def batch(items, query, directory, after=None, listing="taxonomy_terms"):
    """The ndjson batch of ``items`` (held in memory) after the cursor ``after``."""
    return hsds_api._memory_list(items, query, hsds_api.ndjson_batch(listing, directory, query, after))


def stream(items, query, directory):
    """Every batch of an ndjson stream."""
    return every_batch(lambda after: batch(items, query, directory, after))


def test_an_ndjson_stream_yields_every_item_once_a_batch_at_a_time_whatever_the_page():
    directory = SimpleNamespace(org_id=uuid.uuid4())
    items = [{"id": str(number)} for number in range(2 * hsds_api.NDJSON_BATCH + 5)]
    query = HsdsTaxonomyTermsQuery().load({"format": "ndjson", "page": "3", "per_page": "7"})
    batches = stream(items, query, directory)
    assert [len(contents) for contents in batches] == [hsds_api.NDJSON_BATCH, hsds_api.NDJSON_BATCH, 5]
    assert [item for contents in batches for item in contents] == items
    assert stream([], query, directory) == [[]]
    assert hsds_api.ndjson_batch("taxonomy_terms", directory, HsdsTaxonomyTermsQuery().load({}), None) is None


def test_a_cursor_of_another_stream_or_tampered_with_is_refused():
    directory = SimpleNamespace(org_id=uuid.uuid4())
    items = [{"id": str(number)} for number in range(hsds_api.NDJSON_BATCH + 1)]
    query = HsdsTaxonomyTermsQuery().load({"format": "ndjson", "search": "a"})
    cursor = batch(items, query, directory)["after"]
    # page and per_page are no part of a stream: the cursor holds whatever they are.
    same = HsdsTaxonomyTermsQuery().load({"format": "ndjson", "search": "a", "per_page": "3"})
    assert batch(items, same, directory, cursor)["contents"] == items[-1:]

    tampered = cursor[:12] + ("B" if cursor[12] == "A" else "A") + cursor[13:]
    other_search = HsdsTaxonomyTermsQuery().load({"format": "ndjson", "search": "b"})
    for asked, where, after, listing in ((query, directory, cursor, "taxonomies"),
                                         (query, SimpleNamespace(org_id=uuid.uuid4()), cursor, "taxonomy_terms"),
                                         (other_search, directory, cursor, "taxonomy_terms"),
                                         (query, directory, tampered, "taxonomy_terms"),
                                         (query, directory, "not a cursor", "taxonomy_terms")):
        with pytest.raises(ValidationFailed):
            batch(items, asked, where, after, listing)
