"""The HSDS 3.0 read API over HTTP through the gateway: a published directory's services,
organizations and taxonomies as other directories consume them. Every answer conforms to the
official HSDS 3.0 schemas (the HSDS OpenAPI document's schema of its operation, objects
closed), carries public fields only, honours HSDS's query parameters and Page, and a directory
that is not published is not found."""
import uuid

import pytest

from shared.testing.api import assert_problem, sign_up
from shared.testing.hsds_schemas import errors_of, operation_validator

pytestmark = pytest.mark.system

# Values only private fields hold: none may appear in any answer.
PRIVATE = {"npi": "1234567893", "email": "chen.private@example.org", "license": "LIC-4455",
           "contact": "intake.private@example.org", "gender": "Self-described", "fees": "Private fees note"}


def provider(name, **fields):
    return {"name": name, "specialties": ["anxiety"], "languages": ["en"], "insurance_plans": ["aetna"],
            "locations": [{"address_1": "1 Main St", "city": "Cambridge", "state": "MA", "postal_code": "02139"}],
            **fields}


@pytest.fixture(scope="module")
def published(system):
    """A program publishing three providers; one holds every kind of private field."""
    program = sign_up(system)
    slug = f"hsds-{uuid.uuid4().hex[:8]}"
    bodies = {
        "chen": provider("Margaret Chen", practice_name="Charles River Psychotherapy", npi=PRIVATE["npi"],
                         email=PRIVATE["email"], gender=PRIVATE["gender"], fees_description=PRIVATE["fees"],
                         capacity=2, specialties=["anxiety", "depression"], languages=["en", "zh"], telehealth=True,
                         licenses=[{"type": "LICSW", "number": PRIVATE["license"], "state": "MA"}],
                         contacts=[{"name": "Ana Lopez", "email": PRIVATE["contact"]}],
                         phones=[{"number": "617-555-0101"}], website="https://example.org/chen"),
        "brooks": provider("Ben Brooks", specialties=["trauma_ptsd"], insurance_plans=["cigna"]),
        "diaz": provider("Cara Diaz", kind="agency", specialties=["grief"], languages=["es"]),
    }
    ids = {}
    for key, body in bodies.items():
        response = system.request("POST", "/api/v1/providers", token=program.access_token, json=body)
        assert response.status_code == 201, response.text
        ids[key] = response.json()["id"]
    response = system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                              json={"public_slug": slug, "public_directory_enabled": True})
    assert response.status_code == 200, response.text
    return program, slug, ids


def hsds(system, slug, path, **params):
    """The answer of an HSDS route, its body checked for private values."""
    response = system.request("GET", f"/public/directories/{slug}/hsds{path}", params=params)
    assert response.status_code == 200, response.text
    leaked = {name: value for name, value in PRIVATE.items() if value in response.text}
    assert not leaked, f"{path} leaked {leaked}"
    return response.json()


def assert_conforms(operation, document):
    assert errors_of(operation_validator(operation), document) == []


def names(page):
    return [item["name"] for item in page["contents"]]


def service_id_of(system, slug, organization_id):
    [service] = hsds(system, slug, "/services", organization_id=organization_id)["contents"]
    return service["id"]


def test_every_route_answers_conformant_public_hsds(system, published):
    _, slug, ids = published
    info = hsds(system, slug, "/")
    assert_conforms("/", info)
    assert info["profile"].startswith("https://")
    assert info | {"profile": None} == {"version": "3.0", "profile": None, "openapi_url": f"{system.base_url}/openapi.json"}
    assert hsds(system, slug, "") == info  # with or without the trailing slash

    services = hsds(system, slug, "/services")
    assert_conforms("/services", services)
    assert names(services) == ["Ben Brooks", "Cara Diaz", "Margaret Chen"]
    full = hsds(system, slug, "/services", full="true")
    assert_conforms("/services", {**full, "contents": []})  # the Page; its items are full services:
    for item in full["contents"]:
        assert_conforms("/services/{id}", item)

    chen_service = service_id_of(system, slug, ids["chen"])
    service = hsds(system, slug, f"/services/{chen_service}")
    assert_conforms("/services/{id}", service)
    assert service == full["contents"][2]
    assert service["organization"]["name"] == "Charles River Psychotherapy"
    assert {language["code"] for language in service["languages"]} == {"en", "zh"}
    assert {"physical", "virtual"} == {link["location"]["location_type"] for link in service["service_at_locations"]}

    organizations = hsds(system, slug, "/organizations")
    assert_conforms("/organizations", organizations)
    assert names(organizations) == ["Ben Brooks", "Cara Diaz", "Charles River Psychotherapy"]
    nested = hsds(system, slug, "/organizations", full="true", full_service="true")
    for item in nested["contents"]:
        assert_conforms("/organizations/{id}", item)
    organization = hsds(system, slug, f"/organizations/{ids['chen']}")
    assert_conforms("/organizations/{id}", organization)
    assert [s["id"] for s in organization["services"]] == [chen_service]

    taxonomies = hsds(system, slug, "/taxonomies", per_page="100")
    assert_conforms("/taxonomies", taxonomies)
    assert "handoff:specialty" in names(taxonomies)
    terms = hsds(system, slug, "/taxonomy_terms", per_page="100")
    assert_conforms("/taxonomy_terms", terms)
    assert terms["total_items"] > 100 and terms["total_pages"] > 1


def test_query_parameters_select_and_page_exactly(system, published):
    program, slug, ids = published
    specialties = system.request("GET", "/api/v1/taxonomies", token=program.access_token,
                                 params={"taxonomy": "specialty"}).json()["items"]
    grief = next(term["id"] for term in specialties if term["code"] == "grief")  # a term's id is its HSDS id

    assert names(hsds(system, slug, "/services", search="anxeity")) == ["Margaret Chen"]
    assert names(hsds(system, slug, "/services", taxonomy_term_id=grief)) == ["Cara Diaz"]
    languages = next(t["id"] for t in hsds(system, slug, "/taxonomies", search="languages")["contents"])
    assert len(hsds(system, slug, "/services", taxonomy_id=languages)["contents"]) == 3
    assert names(hsds(system, slug, "/services", organization_id=ids["brooks"])) == ["Ben Brooks"]
    assert names(hsds(system, slug, "/services", modified_after="2000-01-01T00:00:00Z")) == [
        "Ben Brooks", "Cara Diaz", "Margaret Chen"]
    assert names(hsds(system, slug, "/services", modified_after="2999-01-01T00:00:00Z")) == []
    assert names(hsds(system, slug, "/organizations", search="charles river")) == ["Charles River Psychotherapy"]
    spanish = hsds(system, slug, "/taxonomy_terms", search="spanish")["contents"]
    assert [(term["code"], term["taxonomy"]) for term in spanish] == [("es", "handoff:language")]

    first = hsds(system, slug, "/services", per_page="2")
    second = hsds(system, slug, "/services", per_page="2", page="2")
    assert {key: first[key] for key in first if key != "contents"} == {
        "total_items": 3, "total_pages": 2, "page_number": 1, "size": 2, "first_page": True, "last_page": False,
        "empty": False}
    assert (second["page_number"], second["size"], second["last_page"]) == (2, 1, True)
    assert names(first) + names(second) == ["Ben Brooks", "Cara Diaz", "Margaret Chen"]


def test_bad_parameters_are_refused_and_unknown_records_not_found(system, published):
    _, slug, ids = published
    base = f"/public/directories/{slug}/hsds"
    for path, params in (("/services", {"per_page": "0"}), ("/services", {"page": "first"}),
                         ("/services", {"taxonomy_term_id": "anxiety"}), ("/services", {"modified_after": "soon"}),
                         ("/organizations", {"per_page": "1000"}), ("/taxonomy_terms", {"taxonomy_id": "x"})):
        assert_problem(system.request("GET", base + path, params=params), 422, "VALIDATION_FAILED")
    ndjson = assert_problem(system.request("GET", base + "/services", params={"format": "ndjson"}), 422)
    assert ndjson["errors"] == {"format": ["Only json is offered; walk the results with page and per_page."]}

    for path in (f"/services/{uuid.uuid4()}", f"/organizations/{uuid.uuid4()}", "/services/not-an-id",
                 f"/services/{ids['chen']}"):  # an organization's id is not its service's
        assert_problem(system.request("GET", base + path), 404, "NOT_FOUND")

    other = sign_up(system)
    elsewhere = system.request("POST", "/api/v1/providers", token=other.access_token, json=provider("Elsewhere"))
    assert_problem(system.request("GET", f"{base}/organizations/{elsewhere.json()['id']}"), 404)


def test_a_directory_not_published_is_not_found(system, published):
    program, _, ids = published
    unpublished = sign_up(system)
    slug = f"hidden-{uuid.uuid4().hex[:8]}"
    assert system.request("PUT", "/api/v1/directory/settings", token=unpublished.access_token,
                          json={"public_slug": slug}).status_code == 200
    for directory in (slug, f"never-{uuid.uuid4().hex[:8]}"):
        for path in ("/", "/services", "/organizations", "/taxonomies", "/taxonomy_terms",
                     f"/organizations/{ids['chen']}"):
            assert_problem(system.request("GET", f"/public/directories/{directory}/hsds{path}"), 404, "NOT_FOUND")


def test_a_deleted_provider_leaves_the_published_directory(system, published):
    program, slug, _ = published
    created = system.request("POST", "/api/v1/providers", token=program.access_token, json=provider("Dee Gone"))
    gone_id = created.json()["id"]
    service_id = service_id_of(system, slug, gone_id)
    assert system.request("DELETE", f"/api/v1/providers/{gone_id}", token=program.access_token).status_code == 204
    assert "Dee Gone" not in names(hsds(system, slug, "/services", per_page="100"))
    assert_problem(system.request("GET", f"/public/directories/{slug}/hsds/services/{service_id}"), 404)
