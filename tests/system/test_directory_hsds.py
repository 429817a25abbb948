"""The HSDS 3.0 read API over HTTP through the gateway: a published directory's services,
organizations and taxonomies as other directories consume them. Every answer conforms to the
official HSDS 3.0 schemas (the HSDS OpenAPI document's schema of its operation, objects
closed), carries public fields only, honours HSDS's query parameters and Page (or, with
format=ndjson, streams every result), and a directory that is not published is not found."""
import json
import uuid

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from directory import flat
from directory.schemas import HSDS_MAX_PER_PAGE
from shared.errors import ValidationFailed
from shared.testing.api import assert_problem, finished_import, sign_up, upload_providers
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
    unknown_format = assert_problem(system.request("GET", base + "/services", params={"format": "xml"}), 422)
    assert list(unknown_format["errors"]) == ["format"]

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


# More providers than one batch of an ndjson stream (a batch is the largest page), and a few more.
CROWD = 2 * HSDS_MAX_PER_PAGE + 30


@pytest.fixture(scope="module")
def crowded(system):
    """A published directory of CROWD providers, imported; every tenth treats grief."""
    program = sign_up(system)
    rows = [{"name": f"Provider {number:03d}", "specialties": "grief" if number % 10 == 0 else "anxiety",
             "postal_code": "02139"} for number in range(CROWD)]
    response = upload_providers(system, program.access_token, flat.write_csv(rows))
    assert response.status_code == 202, response.text
    job, _ = finished_import(system, program.access_token, response.json()["id"])
    assert (job["status"], job["created_count"]) == ("completed", CROWD), job
    slug = f"crowd-{uuid.uuid4().hex[:8]}"
    response = system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                              json={"public_slug": slug, "public_directory_enabled": True})
    assert response.status_code == 200, response.text
    return program, slug


def ndjson(system, slug, path, **params):
    """The lines of an HSDS list streamed as ndjson, each parsed."""
    response = system.request("GET", f"/public/directories/{slug}/hsds{path}", params={"format": "ndjson", **params})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers["Transfer-Encoding"] == "chunked"  # streamed, not one body of known length
    leaked = {name: value for name, value in PRIVATE.items() if value in response.text}
    assert not leaked, f"{path} leaked {leaked}"
    return [json.loads(line) for line in response.text.splitlines()]


def every_page(system, slug, path, **params):
    """The contents of every JSON Page of an HSDS list, in order."""
    first = hsds(system, slug, path, per_page=HSDS_MAX_PER_PAGE, **params)
    later = [hsds(system, slug, path, per_page=HSDS_MAX_PER_PAGE, page=number, **params)["contents"]
             for number in range(2, first["total_pages"] + 1)]
    return first["contents"] + [item for contents in later for item in contents]


def test_ndjson_streams_every_visible_result_with_the_filters_applied(system, crowded, published):
    program, slug = crowded
    gone = next(organization["id"] for organization in every_page(system, slug, "/organizations")
                if organization["name"] == "Provider 007")
    assert system.request("DELETE", f"/api/v1/providers/{gone}", token=program.access_token).status_code == 204

    services = ndjson(system, slug, "/services", page="2", per_page="5")  # no pages in a stream
    assert len(services) == CROWD - 1 > 2 * HSDS_MAX_PER_PAGE  # every batch, the deleted provider not among them
    assert services == every_page(system, slug, "/services")
    first_page = hsds(system, slug, "/services")
    assert_conforms("/services", {**first_page, "contents": services})  # each line an HSDS service
    full = ndjson(system, slug, "/services", full="true")
    assert [service["id"] for service in full] == [service["id"] for service in services]
    for service in full[:3]:
        assert_conforms("/services/{id}", service)

    specialties = system.request("GET", "/api/v1/taxonomies", token=program.access_token,
                                 params={"taxonomy": "specialty"}).json()["items"]
    grief = next(term["id"] for term in specialties if term["code"] == "grief")
    grieving = ndjson(system, slug, "/services", taxonomy_term_id=grief)
    assert [service["name"] for service in grieving] == [f"Provider {number:03d}" for number in range(0, CROWD, 10)]
    specialty = next(taxonomy["id"] for taxonomy in hsds(system, slug, "/taxonomies")["contents"]
                     if taxonomy["name"] == "handoff:specialty")
    for params in ({"search": "Provider 01"}, {"taxonomy_id": specialty}, {"full": "true", "taxonomy_term_id": grief},
                   {"organization_id": gone}, {"modified_after": "2999-01-01T00:00:00Z"}):
        assert ndjson(system, slug, "/services", **params) == every_page(system, slug, "/services", **params)
    assert ndjson(system, slug, "/organizations", full="true", full_service="true") == every_page(
        system, slug, "/organizations", full="true", full_service="true")
    terms = ndjson(system, slug, "/taxonomy_terms")
    assert terms == every_page(system, slug, "/taxonomy_terms") and len(terms) > HSDS_MAX_PER_PAGE
    assert ndjson(system, slug, "/taxonomies", search="languages") == hsds(
        system, slug, "/taxonomies", search="languages")["contents"]
    # Another program's directory streams its own providers only.
    assert "Provider 001" not in {service["name"] for service in ndjson(system, published[1], "/services")}


def test_an_ndjson_stream_refused_at_its_start_is_a_problem(system, crowded):
    _, slug = crowded
    for path in ("/services", "/organizations", "/taxonomies", "/taxonomy_terms"):
        assert_problem(system.request("GET", f"/public/directories/never-{uuid.uuid4().hex[:8]}/hsds{path}",
                                      params={"format": "ndjson"}), 404, "NOT_FOUND")
    base = f"/public/directories/{slug}/hsds"
    for params in ({"format": "ndjson", "taxonomy_term_id": "grief"}, {"format": "ndjson", "after": "x"}):
        assert_problem(system.request("GET", base + "/services", params=params), 422, "VALIDATION_FAILED")


def test_a_cursor_tampered_with_or_of_another_stream_is_refused_by_the_service(system, crowded):
    _, slug = crowded
    with ServiceRpcProxy("directory", {"AMQP_URI": system.environment["AMQP_URI"]}) as directory:
        first = directory.hsds_services(slug, {"format": "ndjson"})
        assert len(first["contents"]) == HSDS_MAX_PER_PAGE and first["after"]
        after = first["after"]
        assert directory.hsds_services(slug, {"format": "ndjson"}, after=after)["contents"][0]["id"] != first[
            "contents"][-1]["id"]
        tampered = after[:12] + ("B" if after[12] == "A" else "A") + after[13:]
        for refused in (lambda: directory.hsds_services(slug, {"format": "ndjson"}, after=tampered),
                        lambda: directory.hsds_services(slug, {"format": "ndjson", "search": "x"}, after=after),
                        lambda: directory.hsds_organizations(slug, {"format": "ndjson"}, after=after)):
            with pytest.raises(ValidationFailed):
                refused()


def test_taxonomies_and_terms_by_id(system, published):
    program, slug, _ = published
    base = f"/public/directories/{slug}/hsds"
    taxonomies = hsds(system, slug, "/taxonomies")["contents"]
    for taxonomy in taxonomies:
        found = hsds(system, slug, f"/taxonomies/{taxonomy['id']}")
        assert_conforms("/taxonomies/{id}", found)
        assert found == taxonomy
    spanish = hsds(system, slug, "/taxonomy_terms", search="spanish")["contents"][0]
    found = hsds(system, slug, f"/taxonomy_terms/{spanish['id']}")
    assert_conforms("/taxonomy_terms/{id}", found)
    assert found == spanish

    elsewhere = sign_up(system)
    their_terms = system.request("GET", "/api/v1/taxonomies", token=elsewhere.access_token,
                                 params={"taxonomy": "language"}).json()["items"]
    their_spanish = next(term["id"] for term in their_terms if term["code"] == "es")
    for path in (f"/taxonomies/{uuid.uuid4()}", "/taxonomies/not-an-id", f"/taxonomy_terms/{uuid.uuid4()}",
                 f"/taxonomy_terms/{their_spanish}", f"/taxonomy_terms/{taxonomies[0]['id']}"):
        assert_problem(system.request("GET", base + path), 404, "NOT_FOUND")
    assert_problem(system.request("GET", f"/public/directories/never-{uuid.uuid4().hex[:8]}/hsds/taxonomies/"
                                         f"{taxonomies[0]['id']}"), 404, "NOT_FOUND")
