"""Input built to hurt. Bodies nested far deeper than any request needs, larger than the route's
limit (declared, streamed in chunks, or inside an upload's own bounds), uploads past their row
limit, and a zip bomb: each is refused with a 4xx problem that says why, and nothing is created.
Paths no route can match (a newline, a NUL) and methods no route takes are problems too, not
an HTML page. (tests/system/test_http_edge.py covers malformed JSON and a login body over the
gateway's limit.)"""
import base64
import http.client
import io
import json
import zipfile
from urllib.parse import urlsplit

import pytest

from directory.schemas import MAX_IMPORT_BODY_BYTES, MAX_UPLOAD_BYTES
from shared.testing.api import assert_problem

pytestmark = [pytest.mark.system, pytest.mark.security]

GATEWAY_LIMIT = 1_048_576  # MAX_BODY_BYTES: the gateway's default body limit


@pytest.fixture(autouse=True)
def nothing_is_created(system, program):
    yield
    providers = system.request("GET", "/api/v1/providers", token=program.access_token,
                               params={"facets": "false"}).json()["items"]
    clients = system.request("GET", "/api/v1/clients", token=program.access_token).json()["items"]
    assert providers == [] and clients == []


def post(system, program, path, data, **headers):
    return system.request("POST", path, token=program.access_token, data=data,
                          headers={"Content-Type": "application/json", **headers})


def nested(depth):
    return "[" * depth + "]" * depth


def upload(system, program, content, file_format="csv"):
    return system.request("POST", "/api/v1/provider-imports", token=program.access_token, json={
        "format": file_format, "content_b64": base64.b64encode(content).decode()})


def test_a_body_nested_10000_deep_is_refused_as_such(system, program):
    response = post(system, program, "/api/v1/providers", '{"name": %s}' % nested(10_000))
    assert "nests deeper" in assert_problem(response, 400, "BAD_REQUEST")["detail"]


def test_nesting_the_parser_accepts_is_a_field_error(system, program):
    response = post(system, program, "/api/v1/providers", '{"name": "Deep", "description": %s}' % nested(500))
    assert "description" in assert_problem(response, 422, "VALIDATION_FAILED")["errors"]


def test_a_body_over_the_route_limit_is_413(system, program):
    body = json.dumps({"name": "Big", "description": "x" * GATEWAY_LIMIT})
    assert_problem(post(system, program, "/api/v1/providers", body), 413, "PAYLOAD_TOO_LARGE")


def test_a_chunked_body_over_the_limit_is_413_not_cut_short(system, program):
    # Valid JSON, padded past the limit: were it cut at the limit rather than refused, what is
    # left would still parse as a provider.
    def chunks():
        yield b'{"name": "Streamed"'
        for _ in range(GATEWAY_LIMIT // 65_536 + 1):
            yield b" " * 65_536
        yield b"}"
    assert_problem(post(system, program, "/api/v1/providers", chunks()), 413, "PAYLOAD_TOO_LARGE")


def test_a_declared_length_over_the_limit_is_refused_before_reading(system, program):
    # A client (not requests, which sets the true length) that announces a gigabyte.
    url = urlsplit(system.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.putrequest("POST", "/api/v1/providers")
    for name, value in (("Authorization", f"Bearer {program.access_token}"),
                        ("Content-Type", "application/json"), ("Content-Length", str(10**9))):
        connection.putheader(name, value)
    connection.endheaders(b'{"name": "Liar"}')
    response = connection.getresponse()
    assert response.status == 413 and json.loads(response.read())["code"] == "PAYLOAD_TOO_LARGE"
    connection.close()


def test_an_upload_is_bounded_by_its_own_larger_limit(system, program):
    assert_problem(upload(system, program, b"x" * (MAX_IMPORT_BODY_BYTES * 3 // 4 + 1024)), 413, "PAYLOAD_TOO_LARGE")
    # Under the route's limit once encoded, over the size a decoded file may be.
    too_large = upload(system, program, b"name\n" + b"x" * MAX_UPLOAD_BYTES)
    assert "file" in assert_problem(too_large, 422, "VALIDATION_FAILED")["errors"]
    as_form_part = system.request("POST", "/api/v1/provider-imports", token=program.access_token, data={
        "format": "csv"}, files={"file": ("big.csv", b"x" * (MAX_IMPORT_BODY_BYTES + 1), "text/csv")})
    assert_problem(as_form_part, 413, "PAYLOAD_TOO_LARGE")


def test_uploads_are_bounded_in_rows(system, program):
    providers = upload(system, program, b"name\n" + b"P\n" * 100_001)
    assert "file" in assert_problem(providers, 422, "VALIDATION_FAILED")["errors"]
    clients = system.request("POST", "/api/v1/client-imports", token=program.access_token,
                             json={"csv": "first_name,last_name\n" + "C,D\n" * 5_001})
    assert "csv" in assert_problem(clients, 422, "VALIDATION_FAILED")["errors"]


def test_an_hsds_document_nested_10000_deep_is_refused(system, program):
    response = upload(system, program, nested(10_000).encode(), file_format="hsds_json")
    assert "file" in assert_problem(response, 422, "VALIDATION_FAILED")["errors"]


def test_a_zip_bomb_is_refused_before_it_is_inflated(system, program):
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("services.csv", b"id,name\n" + b"0" * (60 * 1024 * 1024))  # ~60 KiB zipped
    response = upload(system, program, package.getvalue(), file_format="hsds_zip")
    assert "file" in assert_problem(response, 422, "VALIDATION_FAILED")["errors"]


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/v1/providers/a%0Ab", 404),  # nameko's own router cannot match a newline
    ("GET", "/public/directories/a%00b/providers", 404),  # nor ours a NUL: no record could have it
    ("OPTIONS", "/api/v1/me", 405),
])
def test_what_no_route_takes_is_a_problem_not_a_page(system, method, path, status):
    assert_problem(system.request(method, path), status)


def test_a_nul_in_a_forwarded_header_is_a_field_error(system, program):
    """Headers a service receives (an Idempotency-Key it looks records up by) are checked as
    bodies are: a NUL could never reach a query."""
    response = post(system, program, "/api/v1/providers/00000000-0000-4000-8000-000000000000/update-requests", "{}",
                    **{"Idempotency-Key": "a\x00b"})
    assert list(assert_problem(response, 422, "VALIDATION_FAILED")["errors"]) == ["Idempotency-Key"]
