"""The gateway's edge behaviour: errors are problem+json and never a 500 for bad input; a
stuck service makes its routes answer 504 while the others keep serving."""
import json
import os
import signal
import time

import pytest

from shared.testing.api import PASSWORD, assert_problem, sign_up
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system


def test_malformed_json_is_400(system):
    response = system.request("POST", "/api/v1/auth/login", data=b'{"email": "a@b.c", ',
                              headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "BAD_REQUEST")


def test_non_json_body_is_400(system):
    response = system.request("POST", "/api/v1/auth/login", data=b"email=a",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(response, 400, "BAD_REQUEST")


def test_validation_failure_is_422_with_field_errors(system):
    response = system.request("POST", "/api/v1/signup", json={
        "organization_name": "", "email": "not-an-email", "password": "short",
        "first_name": "A", "last_name": "B", "surprise": 1})
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert {"organization_name", "email", "password", "surprise"} <= body["errors"].keys()


def test_json_that_is_not_an_object_is_422(system):
    response = system.request("POST", "/api/v1/auth/login", json=["a", "b"])
    assert_problem(response, 422, "VALIDATION_FAILED")


def test_deeply_nested_json_is_refused_not_a_crash(system):
    body = "[" * 100_000 + "]" * 100_000
    response = system.request("POST", "/api/v1/auth/login", data=body,
                              headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 413, 422), response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_oversize_body_is_413(system):
    response = system.request("POST", "/api/v1/auth/login",
                              data=json.dumps({"email": "a@b.c", "password": "x" * 2_000_000}),
                              headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


def test_unknown_route_is_404_and_wrong_method_is_405(system):
    assert_problem(system.request("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND")
    assert_problem(system.request("DELETE", "/api/v1/me"), 405)


def test_operator_endpoints(system):
    assert system.request("GET", "/health").json() == {"status": "ok"}
    ready = system.request("GET", "/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    spec = system.request("GET", "/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/signup" in spec["paths"]
    asset = system.request("GET", "/docs/swagger-ui-bundle.js")
    assert asset.status_code == 200 and "javascript" in asset.headers["Content-Type"]
    assert system.request("GET", "/docs").headers["Content-Type"].startswith("text/html")
    metrics = system.request("GET", "/metrics").text
    assert "handoff_gateway_requests_total" in metrics


def test_request_id_follows_the_request_through_rpc_outbox_and_events(system):
    program = sign_up(system)
    login = system.request("POST", "/api/v1/auth/login", headers={"X-Request-ID": "trace-me-1234"},
                           json={"email": program.email, "password": PASSWORD})
    assert login.headers["X-Request-ID"] == "trace-me-1234"
    # identity wrote the login's audit record to its outbox; its own consumer stored it.
    events = wait_until(lambda: system.request(
        "GET", "/api/v1/audit-events", token=program.access_token,
        params={"action": "session.login"}).json()["items"])
    assert events[0]["request_id"] == "trace-me-1234"
    assert '"request_id": "trace-me-1234"' in system.logs()  # the gateway's access line
    generated = system.request("GET", "/api/v1/unknown-route").headers["X-Request-ID"]
    assert len(generated) == 32 and generated != "trace-me-1234"


def test_a_stuck_service_answers_504_and_other_routes_keep_serving(system):
    program = sign_up(system)
    billing = system.processes["billing"]
    os.kill(billing.pid, signal.SIGSTOP)  # alive but not answering
    try:
        started = time.monotonic()
        stuck = system.request("GET", "/api/v1/billing/subscription", token=program.access_token)
        elapsed = time.monotonic() - started
        assert_problem(stuck, 504, "TIMEOUT")
        assert elapsed < 5 + 3  # RPC_TIMEOUT_SECONDS in the test system, plus slack
        assert system.request("GET", "/api/v1/me", token=program.access_token).status_code == 200
    finally:
        os.kill(billing.pid, signal.SIGCONT)


def test_metrics_gather_every_service_into_one_valid_page(system):
    from prometheus_client.parser import text_string_to_metric_families

    sign_up(system)  # some RPC and event work in identity and billing
    page = system.request("GET", "/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(page)}  # parses: no duplicates
    services = {s.labels.get("service") for s in families["handoff_outbox_unpublished"].samples}
    assert services == {"identity", "directory", "referrals", "sharing", "billing", "notify"}
    signups = [s for s in families["handoff_worker_seconds"].samples
               if s.labels.get("entrypoint") == "signup" and s.name.endswith("_count")]
    assert signups and signups[0].value >= 1 and signups[0].labels["kind"] == "rpc"
    assert "handoff_outbox_oldest_unpublished_seconds" in families
    assert "handoff_workers_in_flight" in families
    assert "handoff_gateway_request_seconds" in families
    assert page.count("# TYPE handoff_worker_seconds histogram") == 1
