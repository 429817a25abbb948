"""The provider directory over HTTP: writes need "manage external providers", each program
sees only its own providers, search filters and distance sort return exactly the expected
providers, history keeps every change, and a published directory shows public fields only."""
import uuid

import pytest

from shared.testing.api import add_staff_member, assert_problem, log_in, sign_up

pytestmark = pytest.mark.system


def provider(name, **fields):
    body = {"name": name, "credentials": ["LICSW"], "specialties": ["anxiety"], "languages": ["en"],
            "insurance_plans": ["aetna"], "telehealth": False, "accepting_new_clients": True,
            "email": f"{uuid.uuid4().hex[:8]}@example.org", "npi": None,
            "locations": [{"address_1": "1 Main St", "city": "Cambridge", "state": "MA", "postal_code": "02139"}]}
    body.update(fields)
    return body


@pytest.fixture(scope="module")
def directory(system):
    """A program with a known set of providers around Boston."""
    program = sign_up(system)
    known = {
        "near": provider("Ana Alvarez", specialties=["anxiety", "depression"], languages=["en", "es"],
                         insurance_plans=["aetna", "bcbs"], telehealth=True),
        "mid": provider("Ben Brooks", specialties=["trauma_ptsd"], insurance_plans=["cigna"],
                        locations=[{"city": "Newton", "state": "MA", "postal_code": "02458"}]),
        "far": provider("Cara Chen", specialties=["anxiety"], languages=["zh", "en"], accepting_new_clients=False,
                        locations=[{"city": "Worcester", "state": "MA", "postal_code": "01608"}]),
    }
    ids = {}
    for key, body in known.items():
        response = system.request("POST", "/api/v1/providers", token=program.access_token, json=body)
        assert response.status_code == 201, response.text
        ids[key] = response.json()["id"]
    return program, ids


def names(system, token, **params):
    response = system.request("GET", "/api/v1/providers", token=token, params={"facets": "false", **params})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_search_filters_and_distance(system, directory):
    program, _ = directory
    token = program.access_token
    assert names(system, token) == ["Ana Alvarez", "Ben Brooks", "Cara Chen"]
    assert names(system, token, specialty="anxiety") == ["Ana Alvarez", "Cara Chen"]
    assert names(system, token, language="es") == ["Ana Alvarez"]
    assert names(system, token, insurance="cigna,bcbs") == ["Ana Alvarez", "Ben Brooks"]
    assert names(system, token, telehealth="true") == ["Ana Alvarez"]
    assert names(system, token, accepting_new_clients="false") == ["Cara Chen"]
    assert names(system, token, specialty="anxiety", language="zh") == ["Cara Chen"]
    assert set(names(system, token, q="anxeity")) == {"Ana Alvarez", "Cara Chen"}  # a typo

    by_distance = system.request("GET", "/api/v1/providers", token=token,
                                 params={"near": "02139", "radius_km": "100", "facets": "false"}).json()["items"]
    assert [p["name"] for p in by_distance] == ["Ana Alvarez", "Ben Brooks", "Cara Chen"]
    distances = [p["distance_km"] for p in by_distance]
    assert distances == sorted(distances) and distances[0] < 2 < distances[1] < 20 < distances[2]
    assert names(system, token, near="02139", radius_km="20") == ["Ana Alvarez", "Ben Brooks"]

    faceted = system.request("GET", "/api/v1/providers", token=token).json()
    assert faceted["facets"]["specialty"]["anxiety"] == 2


def test_bad_search_parameters_are_422(system, directory):
    program, _ = directory
    for params in ({"near": "not-a-place"}, {"radius_km": "-1"}, {"limit": "100000"},
                   {"insurance": "no such plan!"}, {"cursor": "forged"}):
        assert_problem(system.request("GET", "/api/v1/providers", token=program.access_token, params=params), 422)


def test_only_managers_write_and_everyone_staff_reads(system, infrastructure, directory):
    program, ids = directory
    _, email = add_staff_member(infrastructure, program, role="default")
    staff = log_in(system, email)
    assert system.request("GET", f"/api/v1/providers/{ids['near']}", token=staff).status_code == 200
    assert_problem(system.request("POST", "/api/v1/providers", token=staff, json=provider("X")), 403)
    assert_problem(system.request("PATCH", f"/api/v1/providers/{ids['near']}", token=staff,
                                  json={"name": "Y"}), 403)
    assert_problem(system.request("DELETE", f"/api/v1/providers/{ids['near']}", token=staff), 403)


def test_another_program_never_sees_these_providers(system, directory):
    _, ids = directory
    other = sign_up(system)
    assert names(system, other.access_token) == []
    assert_problem(system.request("GET", f"/api/v1/providers/{ids['near']}", token=other.access_token), 404)


def test_changes_are_kept_as_field_level_history(system, directory):
    program, ids = directory
    created = system.request("POST", "/api/v1/providers", token=program.access_token,
                             json=provider("Dee Diaz")).json()
    changed = system.request("PATCH", f"/api/v1/providers/{created['id']}", token=program.access_token,
                             json={"accepting_new_clients": False, "version": created["version"]})
    assert changed.status_code == 200, changed.text
    stale = system.request("PATCH", f"/api/v1/providers/{created['id']}", token=program.access_token,
                           json={"name": "Lost update", "version": created["version"]})
    assert_problem(stale, 409)
    history = system.request("GET", f"/api/v1/providers/{created['id']}/history",
                             token=program.access_token).json()["items"]
    latest = history[0]
    assert (latest["field"], latest["old_value"], latest["new_value"]) == ("accepting_new_clients", True, False)
    assert latest["actor_id"] == program.owner_id
    assert system.request("DELETE", f"/api/v1/providers/{created['id']}", token=program.access_token).status_code == 204
    assert_problem(system.request("GET", f"/api/v1/providers/{created['id']}", token=program.access_token), 404)


def test_a_published_directory_shows_public_fields_only(system, directory):
    program, _ = directory
    slug = f"riverside-{uuid.uuid4().hex[:6]}"
    assert_problem(system.request("GET", f"/public/directories/{slug}/providers"), 404)
    settings = system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                              json={"public_slug": slug, "public_directory_enabled": True})
    assert settings.status_code == 200, settings.text
    public = system.request("GET", f"/public/directories/{slug}/providers", params={"specialty": "anxiety"})
    assert public.status_code == 200, public.text
    items = public.json()["items"]
    assert [p["name"] for p in items] == ["Ana Alvarez", "Cara Chen"]
    assert not {"email", "npi", "licenses", "contacts", "capacity"} & set(items[0])


def test_taxonomies_are_seeded_per_program(system, directory):
    program, _ = directory
    terms = system.request("GET", "/api/v1/taxonomies", token=program.access_token,
                           params={"taxonomy": "insurance"}).json()["items"]
    assert {"aetna", "cigna", "medicaid"} <= {t["code"] for t in terms}
