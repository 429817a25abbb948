"""Route table, rate limiter, problem documents and OpenAPI, without any service running."""
import json

from gateway.openapi import build_spec
from gateway.problems import problem
from gateway.ratelimit import RateLimiter
from gateway.routes import ROUTES
from gateway.routing import build_map


def test_every_route_maps_to_a_service_method_and_is_unique():
    url_map = build_map(ROUTES)
    assert len(list(url_map.iter_rules())) == len(ROUTES)
    for route in ROUTES:
        assert route.service in {"identity", "directory", "referrals", "sharing", "billing", "notify"}
        assert route.public or route.path.startswith("/api/v1/"), route.name
        if route.public:
            assert route.rate_limit, f"public route without a rate limit: {route.name}"


def test_rate_limiter_counts_per_key_and_window():
    now = [0.0]
    limiter = RateLimiter({"b": (2, 60)}, clock=lambda: now[0])
    assert limiter.check("b", "1.1.1.1") is None
    assert limiter.check("b", "1.1.1.1") is None
    assert limiter.check("b", "1.1.1.1") >= 1
    assert limiter.check("b", "2.2.2.2") is None
    now[0] = 61
    assert limiter.check("b", "1.1.1.1") is None


def test_problem_document_shape():
    response = problem("NOT_FOUND", "Not found", "No such provider", errors={"id": ["unknown"]})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data())
    assert body["code"] == "NOT_FOUND" and body["errors"] == {"id": ["unknown"]}


def test_openapi_covers_every_route_with_security_and_problems():
    spec = build_spec(ROUTES)
    assert spec["openapi"] == "3.1.0"
    for route in ROUTES:
        path = route.path.replace("<uuid:", "{").replace("<string:", "{").replace("<", "{").replace(">", "}")
        operation = spec["paths"][path][route.method.lower()]
        assert operation["security"] == ([] if route.public else [{"bearer": []}])
        assert "422" in operation["responses"]


def test_openapi_lists_every_status_a_route_can_answer():
    paths = build_spec(ROUTES)["paths"]

    def statuses(method, path):
        return set(paths[path][method]["responses"])

    login = statuses("post", "/api/v1/auth/login")
    assert {"200", "400", "401", "413", "414", "422", "429", "500", "503", "504"} <= login
    assert not {"402", "403", "409"} & login
    assert {"401", "402", "403", "404", "409"} <= statuses("patch", "/api/v1/providers/{provider_id}")
    assert "404" in statuses("post", "/api/v1/organization/owner")  # the id is in the body
    assert "402" not in statuses("put", "/api/v1/billing/payment-method")  # paying stays open
    assert paths["/api/v1/auth/login"]["post"]["responses"]["429"]["headers"]["Retry-After"]["required"]
    report = paths["/api/v1/reports/referrals"]["get"]["responses"]["200"]["content"]
    assert report.keys() == {"application/json", "text/csv"}


def test_read_only_programs_may_read_pay_and_sign_in_but_not_write():
    from gateway.restrictions import ReadOnlyPrograms

    programs = ReadOnlyPrograms()
    programs.restrict("org-1")
    assert programs.refuses("org-1", "POST", "/api/v1/providers")
    assert programs.refuses("org-1", "DELETE", "/api/v1/providers/<uuid:provider_id>")
    assert not programs.refuses("org-1", "GET", "/api/v1/providers")
    assert not programs.refuses("org-1", "PUT", "/api/v1/billing/payment-method")
    assert not programs.refuses("org-1", "POST", "/api/v1/auth/logout")
    assert not programs.refuses("org-2", "POST", "/api/v1/providers")
    programs.reinstate("org-1")
    assert not programs.refuses("org-1", "POST", "/api/v1/providers")
