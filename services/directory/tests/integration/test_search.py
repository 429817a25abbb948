"""Search against a known data set: each filter, combinations, text with typos, distance, tenancy,
facets and pagination return exactly the expected providers."""
import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from directory import geo, providers, schemas, search as search_module, settings, terms
from directory.errors import ValidationFailed
from directory.models import Provider
from directory.search import ITEM_FIELDS, SearchQuery, search_providers

ORG_A, ORG_B = uuid.uuid4(), uuid.uuid4()
ACTOR = uuid.uuid4()


def located(postcode: str) -> list[dict]:
    return [{"postal_code": postcode, "address_1": "1 Main St", "city": "Somewhere", "state": "MA"}]


# name -> record; every org-A provider differs in what the assertions below single out.
DATA_SET = {
    "Margaret Chen": dict(
        credentials=["LICSW"], specialties=["anxiety", "depression"], modalities=["cbt", "act"],
        insurance_plans=["aetna", "bcbs"], languages=["en", "zh"], age_groups=["adult", "older_adult"],
        gender="Woman", telehealth=True, accepting_new_clients=True, locations=located("02139"),
        description="Warm, practical therapy for adults facing worry and low mood."),
    "David Okafor": dict(
        credentials=["PhD"], specialties=["trauma_ptsd", "depression"], modalities=["emdr", "cpt"],
        insurance_plans=["medicaid", "bcbs"], languages=["en", "fr"], age_groups=["adult"], gender="Man",
        telehealth=False, accepting_new_clients=True, locations=located("02108"),
        description="Helping veterans and survivors recover."),
    "Sofia Ramirez": dict(
        credentials=["LMHC"], specialties=["anxiety", "eating_disorders"], modalities=["dbt", "cbt"],
        insurance_plans=["cigna", "uhc"], languages=["en", "es"], age_groups=["teen", "adult"], gender="woman",
        telehealth=True, accepting_new_clients=False, locations=located("02115"),
        description="Skills-based care for teens and young adults."),
    "Riverside Family Services": dict(
        kind="agency", specialties=["family_conflict", "substance_use"],
        modalities=["family_systems", "motivational_interviewing"], insurance_plans=["medicaid", "medicare"],
        languages=["en", "es", "pt"], age_groups=["child", "teen", "adult"], telehealth=True,
        accepting_new_clients=True, locations=located("01608"), description="Community agency in Worcester."),
    "Alex Morgan": dict(
        credentials=["LMFT"], specialties=["relationships", "gender_identity"], modalities=["eft", "gottman"],
        insurance_plans=["aetna", "uhc"], languages=["en"], age_groups=["adult"], gender="Non-binary",
        telehealth=True, in_person=False, accepting_new_clients=True, description="Couples work online."),
    "Priya Natarajan": dict(
        credentials=["MD"], specialties=["bipolar", "adhd", "depression"], modalities=["medication_management"],
        insurance_plans=["medicare", "aetna"], languages=["en", "hi"], age_groups=["adult", "older_adult"],
        gender="Woman", telehealth=False, accepting_new_clients=True, locations=located("01742"),
        description="Psychiatric evaluation and medication."),
    "Jonathan Brooks": dict(
        credentials=["LICSW"], specialties=["grief", "anxiety"], modalities=["psychodynamic"],
        insurance_plans=["bcbs"], languages=["en"], age_groups=["adult"], gender="Man", telehealth=True,
        accepting_new_clients=False, locations=located("10001"), description="Grief and loss in Manhattan."),
}
DELETED = dict(specialties=["anxiety"], insurance_plans=["bcbs"], locations=located("02139"), telehealth=True)
# Org B mirrors org A's best matches, so any tenancy leak shows up in every query.
ORG_B_DATA = {
    "Margaret Chen": DATA_SET["Margaret Chen"],
    "Other Anxiety Clinic": dict(kind="agency", specialties=["anxiety"], insurance_plans=["aetna", "bcbs"],
                                 telehealth=True, locations=located("02139"), gender="Woman"),
}
ALL_A = set(DATA_SET)


@pytest.fixture(scope="module")
def dataset(engine):
    ids = {}
    with Session(engine) as session:
        for name, record in DATA_SET.items():
            ids[name] = providers.create_provider(session, ORG_A, ACTOR, {"name": name, **record}).id
        deleted = providers.create_provider(session, ORG_A, ACTOR, {"name": "Deleted Chen", **DELETED})
        providers.delete_provider(session, ORG_A, ACTOR, deleted.id)
        for name, record in ORG_B_DATA.items():
            ids[("B", name)] = providers.create_provider(session, ORG_B, ACTOR, {"name": name, **record}).id
        session.commit()
    return ids


def search(session, org=ORG_A, **params):
    return search_providers(session, org, SearchQuery(**{"limit": 100, **params}))


def names(result) -> list[str]:
    return [item["name"] for item in result.items]


@pytest.mark.usefixtures("dataset")
@pytest.mark.parametrize("params, expected", [
    ({}, ALL_A),
    ({"insurance": ["aetna"]}, {"Margaret Chen", "Alex Morgan", "Priya Natarajan"}),
    ({"insurance": ["bcbs"]}, {"Margaret Chen", "David Okafor", "Jonathan Brooks"}),
    ({"insurance": ["medicaid", "cigna"]}, {"David Okafor", "Sofia Ramirez", "Riverside Family Services"}),
    ({"specialty": ["anxiety"]}, {"Margaret Chen", "Sofia Ramirez", "Jonathan Brooks"}),
    ({"language": ["es"]}, {"Sofia Ramirez", "Riverside Family Services"}),
    ({"age_group": ["teen"]}, {"Sofia Ramirez", "Riverside Family Services"}),
    ({"modality": ["cbt"]}, {"Margaret Chen", "Sofia Ramirez"}),
    ({"population": ["veterans"]}, set()),
    ({"gender": "WOMAN"}, {"Margaret Chen", "Sofia Ramirez", "Priya Natarajan"}),
    ({"gender": "non-binary"}, {"Alex Morgan"}),
    ({"telehealth": True}, {"Margaret Chen", "Sofia Ramirez", "Riverside Family Services", "Alex Morgan",
                            "Jonathan Brooks"}),
    ({"telehealth": False}, {"David Okafor", "Priya Natarajan"}),
    ({"accepting_new_clients": False}, {"Sofia Ramirez", "Jonathan Brooks"}),
    ({"specialty": ["anxiety"], "telehealth": True, "accepting_new_clients": True}, {"Margaret Chen"}),
    ({"insurance": ["aetna"], "language": ["hi"]}, {"Priya Natarajan"}),
    ({"insurance": ["medicaid"], "age_group": ["teen"], "language": ["pt"]}, {"Riverside Family Services"}),
])
def test_each_filter_and_combination_returns_exactly_the_expected_providers(session, params, expected):
    result = search(session, **params)
    assert set(names(result)) == expected
    assert len(result.items) == len(expected)


@pytest.mark.usefixtures("dataset")
@pytest.mark.parametrize("q, expected_first, expected", [
    ("trauma", "David Okafor", {"David Okafor"}),
    ("eating disorders", "Sofia Ramirez", {"Sofia Ramirez"}),
    ("worry", "Margaret Chen", {"Margaret Chen"}),  # description only
    ("Margret", "Margaret Chen", {"Margaret Chen"}),  # typo in a name
    ("anxeity", None, {"Margaret Chen", "Sofia Ramirez", "Jonathan Brooks"}),  # typo in a specialty label
    ("depresion", None, {"Margaret Chen", "David Okafor", "Priya Natarajan"}),
    ("EMDR", "David Okafor", {"David Okafor"}),  # modality label
    ("licsw", None, {"Margaret Chen", "Jonathan Brooks"}),  # credential
])
def test_text_search_ranks_and_tolerates_typos(session, q, expected_first, expected):
    result = search(session, q=q)
    assert set(names(result)) == expected
    if expected_first:
        assert names(result)[0] == expected_first


@pytest.mark.usefixtures("dataset")
def test_text_search_ranks_a_name_match_above_a_description_match(session):
    assert names(search(session, q="grief"))[0] == "Jonathan Brooks"


@pytest.mark.usefixtures("dataset")
def test_near_a_postcode_sorts_by_distance_and_reports_it(session):
    result = search(session, near="02139", radius_km=10)
    assert names(result) == ["Margaret Chen", "Sofia Ramirez", "David Okafor"]
    center = geo.postcode_centroid("02139")
    for item in result.items:
        location = item["locations"][0]
        assert item["distance_km"] == pytest.approx(
            geo.haversine_km(center, geo.Point(location["latitude"], location["longitude"])), abs=0.001)
    assert result.items[0]["distance_km"] == 0

    wider = search(session, near="02139", radius_km=40)
    assert names(wider) == ["Margaret Chen", "Sofia Ramirez", "David Okafor", "Priya Natarajan"]
    assert names(search(session, near="02139", radius_km=100))[-1] == "Riverside Family Services"
    assert names(search(session, near="02139")) == names(wider)  # default radius 40 km


@pytest.mark.usefixtures("dataset")
def test_near_a_point_with_text_and_filters(session):
    boston_city_hall = "42.3603,-71.0580"
    assert names(search(session, near=boston_city_hall, radius_km=5)) == [
        "David Okafor", "Sofia Ramirez", "Margaret Chen"]
    assert names(search(session, near=boston_city_hall, radius_km=5, q="anxiety", telehealth=True)) == [
        "Sofia Ramirez", "Margaret Chen"]
    assert names(search(session, near="40.7506,-73.9972", radius_km=5)) == ["Jonathan Brooks"]


def in_utc(value):
    return value.astimezone(timezone.utc) if isinstance(value, datetime) else value


@pytest.mark.parametrize("item_schema, item_fields", [
    (schemas.ProviderSearchItem, ITEM_FIELDS), (schemas.PublicSearchItem, schemas.PUBLIC_SEARCH_ITEM_FIELDS)])
def test_items_written_by_the_database_are_the_item_schemas_dump_of_the_records(
        session, dataset, item_schema, item_fields):
    # Timestamps the database would write otherwise than Python: whole seconds, trailing zeros,
    # and a session in another time zone.
    session.execute(text("SET LOCAL timezone = 'America/New_York'"))
    for name, created_at in (("Margaret Chen", "2026-01-02 03:04:05+00"), ("David Okafor", "2026-01-02 03:04:05.50731+00"),
                             ("Sofia Ramirez", "2026-07-02 23:59:59.9+00")):
        session.execute(text("UPDATE providers SET created_at = :at WHERE id = :id"),
                        {"at": created_at, "id": dataset[name]})
    session.expire_all()
    for params in ({}, {"near": "02139", "radius_km": 500}):
        result = search_providers(session, ORG_A, SearchQuery(limit=100, **params), item_fields)
        assert result.items
        for item in result.items:
            record = session.get(Provider, uuid.UUID(item["id"]))
            expected = item_schema().dump({**{field: in_utc(getattr(record, field)) for field in ITEM_FIELDS[:-1]},
                                           "distance_km": item["distance_km"]})
            assert item == json.loads(json.dumps(expected))
            assert (item["distance_km"] is None) == ("near" not in params)


@pytest.mark.usefixtures("dataset")
def test_unknown_postcode_is_a_validation_error(session):
    with pytest.raises(ValidationFailed):
        search(session, near="99999")


def test_tenancy_one_program_never_sees_anothers_providers(session, dataset):
    a_ids = {str(provider_id) for key, provider_id in dataset.items() if not isinstance(key, tuple)}
    b_ids = {str(provider_id) for key, provider_id in dataset.items() if isinstance(key, tuple)}
    for params in ({}, {"q": "Margaret Chen"}, {"q": "anxeity"}, {"near": "02139"}, {"insurance": ["bcbs"]}):
        assert {item["id"] for item in search(session, ORG_A, **params).items} <= a_ids
        assert {item["id"] for item in search(session, ORG_B, **params).items} <= b_ids
    assert set(names(search(session, ORG_B, q="anxiety"))) == {"Margaret Chen", "Other Anxiety Clinic"}
    assert search(session, uuid.uuid4()).items == []


@pytest.mark.usefixtures("dataset")
def test_facets_count_each_value_under_the_other_filters(session):
    result = search(session, specialty=["anxiety"], telehealth=True)
    assert set(names(result)) == {"Margaret Chen", "Sofia Ramirez", "Jonathan Brooks"}
    # Own dimension ignores its own filter: telehealth providers per specialty.
    assert result.facets["specialty"]["anxiety"] == 3
    assert result.facets["specialty"]["relationships"] == 1
    assert "bipolar" not in result.facets["specialty"]
    # Other dimensions count within the full filter set.
    assert result.facets["insurance"] == {"bcbs": 2, "aetna": 1, "cigna": 1, "uhc": 1}
    assert result.facets["telehealth"] == {"true": 3}
    assert result.facets["accepting_new_clients"] == {"false": 2, "true": 1}
    assert result.facets["gender"] == {"man": 1, "woman": 2}


def test_program_settings_choose_the_insurance_plans(session, dataset):
    settings.update_settings(session, ORG_A, ACTOR, {
        "insurance_filter_plans": ["aetna", "medicare"], "restrict_to_insurance_filter_plans": True})
    result = search(session)
    assert set(names(result)) == {"Margaret Chen", "Alex Morgan", "Priya Natarajan", "Riverside Family Services"}
    assert set(result.facets["insurance"]) == {"aetna", "medicare"}


def test_renaming_a_term_reindexes_the_providers_that_use_it(session, dataset):
    assert names(search(session, q="bereavement")) == []
    terms.save_term(session, ORG_A, ACTOR, "specialty", "grief", "Bereavement")
    assert names(search(session, q="bereavement")) == ["Jonathan Brooks"]


@pytest.mark.usefixtures("dataset")
@pytest.mark.parametrize("params", [{}, {"q": "anxiety depression"}, {"q": "anxeity"},
                                    {"near": "02139", "radius_km": 100}, {"telehealth": True}])
def test_cursors_walk_the_whole_result_without_duplicates_or_gaps(session, params):
    everything = [item["id"] for item in search(session, **params).items]
    assert everything
    walked, cursor, pages = [], None, 0
    while True:
        page = search_providers(session, ORG_A, SearchQuery(limit=2, cursor=cursor, **params))
        walked += [item["id"] for item in page.items]
        pages += 1
        assert (page.facets is None) == (cursor is not None)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert walked == everything
    assert pages == (len(everything) + 1) // 2


@pytest.mark.usefixtures("dataset")
def test_a_cursor_from_another_query_is_refused(session):
    cursor = search_providers(session, ORG_A, SearchQuery(limit=1)).next_cursor
    with pytest.raises(ValidationFailed):
        search_providers(session, ORG_A, SearchQuery(limit=1, cursor=cursor, telehealth=True))


def test_providers_at_the_same_distance_are_paged_in_id_order(session):
    org = uuid.uuid4()
    ids = sorted(providers.create_provider(session, org, ACTOR, {"name": f"Same Place {n}",
                                                                 "locations": located("02139")}).id for n in range(5))
    walked, cursor = [], None
    while True:
        page = search_providers(session, org, SearchQuery(near="02139", limit=2, cursor=cursor, facets=False))
        walked += [item["id"] for item in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert walked == [str(provider_id) for provider_id in ids]


def test_facets_of_a_large_result_are_estimated_from_a_sample(session, monkeypatch):
    org = uuid.uuid4()
    for n in range(40):
        providers.create_provider(session, org, ACTOR, {"name": f"Clinician {n}", "specialties": ["anxiety"]})
    exact = search_providers(session, org, SearchQuery())
    assert (exact.facets["specialty"], exact.facets_approximate) == ({"anxiety": 40}, False)
    monkeypatch.setattr(search_module, "FACET_EXACT_LIMIT", 10)
    monkeypatch.setattr(search_module, "FACET_SAMPLE_ROWS", 5)
    monkeypatch.setattr(search_module, "ESTIMATE_BYTES", 128)  # half the rows: a sure estimate of 40 rows
    estimated = search_providers(session, org, SearchQuery())
    assert estimated.facets_approximate
    assert set(estimated.facets["specialty"]) <= {"anxiety"}


@pytest.mark.usefixtures("dataset")
@pytest.mark.parametrize("params", [{"near": "02139", "radius_km": 100}, {"near": "02139", "telehealth": True},
                                    {"near": "02139", "q": "anxiety"}])
def test_a_nearest_first_walk_of_the_distance_index_finds_the_same_page(session, monkeypatch, params):
    by_planner = search(session, **params)
    monkeypatch.setattr(search_module, "NEAREST_WALK_MIN_ROWS", 0)  # as if thousands of rows matched
    walked = search(session, **params)
    assert [item["id"] for item in walked.items] == [item["id"] for item in by_planner.items]
    assert walked.items


def test_a_kept_statement_never_runs_without_its_own_values(session):
    """Statements are built once per shape of search and kept; one run without a value of its
    request fails, rather than running with another request's."""
    shape = search_module._Shape(restricted=False, text=False, near=False, filters=("telehealth",))
    with pytest.raises(StatementError, match="org_id"):
        session.execute(search_module._name_page(shape, after=False), {"filter_telehealth": True, "rows": 1})


@pytest.mark.usefixtures("dataset")
def test_every_page_searches_for_what_the_first_did(session):
    """A misspelt search is corrected once, for every page: a provider added between pages whose
    name is the misspelling as typed does not turn the later pages into another query."""
    page = search_providers(session, ORG_A, SearchQuery(q="anxeity", limit=1, facets=False))
    walked = names(page)
    providers.create_provider(session, ORG_A, ACTOR, {"name": "Anxeity Clinic"})
    while page.next_cursor:
        page = search_providers(session, ORG_A, SearchQuery(q="anxeity", limit=1, cursor=page.next_cursor,
                                                            facets=False))
        walked += names(page)
    assert sorted(walked) == ["Jonathan Brooks", "Margaret Chen", "Sofia Ramirez"]
    assert names(search(session, q="anxeity")) == ["Anxeity Clinic"]  # a new search matches it as typed
