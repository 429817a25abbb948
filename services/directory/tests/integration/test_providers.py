"""Create, read, update, soft-delete, field-level history, taxonomy and settings rules, on PostgreSQL."""
import uuid
from datetime import date

import pytest

from directory import demo, geo, providers, settings, terms
from directory.errors import Conflict, NotFound, ValidationFailed
from directory.hsds import provider_to_hsds_service
from directory.hsds_api import public_record
from directory.schemas import ProviderCreate, ProviderOut
from directory.search import SearchQuery, search_providers

ACTOR, OTHER_ACTOR = uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def org():
    return uuid.uuid4()


def create(session, org, **data):
    return providers.create_provider(session, org, ACTOR, ProviderCreate().load({"name": "Jane Doe", **data}))


def test_create_fills_defaults_locates_by_postcode_and_reads_back(session, org):
    created = create(session, org, specialties=["anxiety"], locations=[{"postal_code": "02139"}],
                     last_verified_on="2026-01-15")
    read = providers.get_provider(session, org, created.id)
    assert read is created and read.version == 1
    assert (read.kind, read.telehealth, read.in_person, read.accepting_new_clients) == ("individual", False, True, True)
    assert (read.latitude, read.longitude) == geo.postcode_centroid("02139")
    assert uuid.UUID(read.locations[0]["id"])
    assert read.last_verified_on == date(2026, 1, 15)
    dumped = ProviderOut().dump(read)
    assert dumped["id"] == str(created.id) and dumped["created_at"]


def test_update_records_field_level_history(session, org):
    provider = create(session, org, insurance_plans=["aetna"], telehealth=False)
    updated = providers.update_provider(session, org, OTHER_ACTOR, provider.id, {
        "name": "Jane A. Doe", "insurance_plans": ["aetna", "cigna"], "telehealth": False})
    assert updated.version == 2
    history = providers.provider_history(session, org, provider.id)
    latest = [entry for entry in history.items if entry.action == "updated"]
    assert {e.field: (e.old_value, e.new_value, e.actor_id) for e in latest} == {
        "name": ("Jane Doe", "Jane A. Doe", OTHER_ACTOR),
        "insurance_plans": (["aetna"], ["aetna", "cigna"], OTHER_ACTOR),
    }
    assert len({entry.change_id for entry in latest}) == 1
    created = {entry.field: entry.new_value for entry in history.items if entry.action == "created"}
    assert created["name"] == "Jane Doe" and created["insurance_plans"] == ["aetna"]
    assert history.items[0].action == "updated"  # newest first

    # Saving the same values again changes nothing and records nothing.
    providers.update_provider(session, org, ACTOR, provider.id, {"name": "Jane A. Doe"})
    assert provider.version == 2
    assert len(providers.provider_history(session, org, provider.id).items) == len(history.items)


def test_history_pages_walk_every_entry(session, org):
    provider = create(session, org)
    for fee in range(100, 105):
        providers.update_provider(session, org, ACTOR, provider.id, {"fee_min": fee})
    everything = [entry.id for entry in providers.provider_history(session, org, provider.id, limit=100).items]
    walked, cursor = [], None
    while True:
        page = providers.provider_history(session, org, provider.id, limit=3, cursor=cursor)
        walked += [entry.id for entry in page.items]
        if not (cursor := page.next_cursor):
            break
    assert walked == everything and len(everything) == len(set(everything))


def test_unknown_or_inactive_taxonomy_codes_are_rejected(session, org):
    with pytest.raises(ValidationFailed) as error:
        create(session, org, specialties=["anxiety", "astrology"], insurance_plans=["acme_health"])
    assert error.value.errors == {"specialties": ["Unknown or inactive specialty code: astrology."],
                                  "insurance_plans": ["Unknown or inactive insurance code: acme_health."]}

    provider = create(session, org, specialties=["grief"])
    terms.save_term(session, org, ACTOR, "specialty", "grief", "Grief and loss", active=False)
    providers.update_provider(session, org, ACTOR, provider.id, {"specialties": ["grief", "anxiety"]})  # kept
    other = create(session, org)
    with pytest.raises(ValidationFailed):
        providers.update_provider(session, org, ACTOR, other.id, {"specialties": ["grief"]})


def test_a_program_can_add_its_own_terms(session, org):
    with pytest.raises(ValidationFailed):
        create(session, org, insurance_plans=["student_health"])
    terms.save_term(session, org, ACTOR, "insurance", "student_health", "University Student Health Plan")
    assert create(session, org, insurance_plans=["student_health"]).insurance_plans == ["student_health"]
    assert "student_health" in {term.code for term in terms.list_terms(session, org, "insurance")}
    assert "student_health" not in {term.code for term in terms.list_terms(session, uuid.uuid4(), "insurance")}


def test_record_level_rules_apply_to_the_merged_record(session, org):
    provider = create(session, org, fee_min=100, fee_max=150)
    with pytest.raises(ValidationFailed) as error:
        providers.update_provider(session, org, ACTOR, provider.id, {"fee_min": 200})
    assert "fee_min" in error.value.errors
    with pytest.raises(ValidationFailed) as error:
        create(session, org, schedules=[{"location_id": str(uuid.uuid4()), "days": ["MO"],
                                         "opens_at": "09:00", "closes_at": "17:00"}])
    assert "schedules" in error.value.errors


def test_npi_is_unique_within_a_program_only(session, org):
    create(session, org, npi="1234567893")
    with pytest.raises(Conflict) as error:
        create(session, org, name="Someone Else", npi="1234567893")
    assert "npi" in error.value.errors
    assert create(session, uuid.uuid4(), npi="1234567893").npi == "1234567893"
    # The failed insert did not spoil the transaction.
    assert create(session, org, name="Third").name == "Third"


def test_stale_version_is_a_conflict(session, org):
    provider = create(session, org)
    providers.update_provider(session, org, ACTOR, provider.id, {"telehealth": True}, expected_version=1)
    with pytest.raises(Conflict):
        providers.update_provider(session, org, ACTOR, provider.id, {"telehealth": False}, expected_version=1)


def test_soft_delete_hides_the_provider_but_keeps_its_history(session, org):
    provider = create(session, org, specialties=["anxiety"])
    providers.delete_provider(session, org, ACTOR, provider.id)
    with pytest.raises(NotFound):
        providers.get_provider(session, org, provider.id)
    with pytest.raises(NotFound):
        providers.update_provider(session, org, ACTOR, provider.id, {"name": "Back"})
    assert search_providers(session, org, SearchQuery(q="anxiety")).items == []
    assert providers.provider_history(session, org, provider.id).items[0].action == "deleted"
    # The NPI of a deleted provider can be reused.
    assert create(session, org, npi="1234567893") and create(session, uuid.uuid4(), npi="1234567893")


def test_another_programs_provider_is_not_found(session, org):
    provider = create(session, org)
    stranger = uuid.uuid4()
    for attempt in (
        lambda: providers.get_provider(session, stranger, provider.id),
        lambda: providers.update_provider(session, stranger, ACTOR, provider.id, {"name": "Mine"}),
        lambda: providers.delete_provider(session, stranger, ACTOR, provider.id),
        lambda: providers.provider_history(session, stranger, provider.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert providers.get_provider(session, org, provider.id).name == "Jane Doe"


def test_settings_defaults_slug_uniqueness_and_public_lookup(session, org):
    assert settings.get_settings(session, org).public_directory_enabled is False
    settings.update_settings(session, org, ACTOR, {"public_slug": "north-clinic", "public_directory_enabled": True,
                                                   "insurance_filter_plans": ["aetna"]})
    assert settings.find_public_directory(session, "north-clinic").org_id == org
    with pytest.raises(Conflict):
        settings.update_settings(session, uuid.uuid4(), ACTOR, {"public_slug": "north-clinic"})
    with pytest.raises(ValidationFailed):
        settings.update_settings(session, org, ACTOR, {"insurance_filter_plans": ["acme_health"]})
    settings.update_settings(session, org, ACTOR, {"public_slug": "north-clinic", "public_directory_enabled": False})
    with pytest.raises(NotFound):
        settings.find_public_directory(session, "north-clinic")


def test_demo_directory_loads_in_bulk_and_is_searchable(session, org):
    demo.insert_demo_providers(session, org, 300, batch_size=128)
    page = search_providers(session, org, SearchQuery(near="02139", radius_km=5, specialty=["anxiety"], limit=10))
    assert page.items and all(item["distance_km"] <= 5 for item in page.items)
    assert [item["distance_km"] for item in page.items] == sorted(item["distance_km"] for item in page.items)
    assert sum(page.facets["telehealth"].values()) >= len(page.items)
    assert search_providers(session, org, SearchQuery(q="trauma", limit=5)).items
    vocabulary = terms.load_vocabulary(session, org)
    nearest = providers.get_provider(session, org, uuid.UUID(page.items[0]["id"]))
    service = provider_to_hsds_service(public_record(nearest), vocabulary)
    assert service["organization_id"] == page.items[0]["id"]
