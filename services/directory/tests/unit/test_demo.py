import itertools

from directory import demo, geo
from directory.schemas import ProviderCreate
from directory.taxonomy import DEFAULT_TERMS, TAXONOMIES

BOSTON = geo.Point(42.3601, -71.0589)


def test_generation_is_deterministic_and_prefix_stable():
    assert list(demo.generate_providers(50, seed=7)) == list(demo.generate_providers(50, seed=7))
    assert list(demo.generate_providers(10, seed=7)) == list(itertools.islice(demo.generate_providers(500, seed=7), 10))
    assert list(demo.generate_providers(10, seed=1)) != list(demo.generate_providers(10, seed=2))


def test_providers_are_valid_realistic_and_around_boston():
    schema = ProviderCreate()
    providers = list(demo.generate_providers(1000))
    codes = {taxonomy: {code for code, _ in terms} for taxonomy, terms in DEFAULT_TERMS.items()}
    for data in providers:
        schema.load(data)
        for taxonomy in TAXONOMIES:
            assert set(data[taxonomy.provider_field]) <= codes[taxonomy.name]
        location = data["locations"][0]
        assert geo.haversine_km(BOSTON, geo.Point(location["latitude"], location["longitude"])) < 30
        assert data["telehealth"] or data["in_person"]
    assert len({data["npi"] for data in providers}) == len(providers)
    kinds = {data["kind"] for data in providers}
    assert kinds == {"individual", "agency"}
    assert 0.5 < sum(data["accepting_new_clients"] for data in providers) / len(providers) < 0.9


def test_a_benchmark_sized_stream_is_lazy():
    stream = demo.generate_providers(100_000)
    assert next(stream)["name"] == next(demo.generate_providers(1))["name"]
