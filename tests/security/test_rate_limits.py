"""Rate limits against guessing and flooding. Each attack comes from a loopback address of its
own (127.0.0.x): every limit counts per address, and the run's other tests share 127.0.0.1.

Sign-in: identity's per-account throttle (5 failures) holds however the attacker spells the
email and whatever X-Forwarded-For claims; the gateway's auth bucket stops one address guessing
across many accounts. Public routes: past the bucket's limit, a 429 problem with Retry-After
that a forged X-Forwarded-For does not lift, while other addresses are served; the inbound
request form also keeps at most 5 requests per sender an hour. The gateway buckets are tried on
a second gateway with small limits (the test system's are too large to reach). The account
throttle's window and its generic answers are tests/system/test_sessions.py's."""
import time
import uuid

import pytest

from shared.processes import ProcessGroup
from shared.testing.api import PASSWORD, assert_problem, client_at
from shared.testing.waiting import free_port

pytestmark = [pytest.mark.system, pytest.mark.security]

BUCKET_LIMIT = 5


def assert_rate_limited(response):
    assert_problem(response, 429, "RATE_LIMITED")
    assert int(response.headers["Retry-After"]) >= 1


@pytest.fixture(scope="module")
def limited_gateway(system):
    """A second gateway on the same services, with limits of 5 a minute."""
    gateway = ProcessGroup({**system.environment, "RATE_LIMIT_PUBLIC_PER_MINUTE": str(BUCKET_LIMIT),
                            "RATE_LIMIT_AUTH_PER_MINUTE": str(BUCKET_LIMIT)},
                           log_dir=system.log_dir, gateway_port=free_port())
    gateway.start("gateway", "gateway-limited")
    try:
        gateway.wait_ready()
        yield gateway.base_url
    finally:
        gateway.stop_all(timeout=3)  # it keeps no state: no need to wait out a slow graceful stop


@pytest.fixture(scope="module")
def published(system, program):
    """The program's directory, published, with one provider: (slug, provider id)."""
    slug = f"limits-{uuid.uuid4().hex[:8]}"
    settings = system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                              json={"public_slug": slug, "public_directory_enabled": True})
    assert settings.status_code == 200, settings.text
    provider = system.request("POST", "/api/v1/providers", token=program.access_token,
                              json={"name": "Dr. Rate Limit", "email": "limits@example.org"})
    assert provider.status_code == 201, provider.text
    return slug, provider.json()["id"]


def test_the_account_throttle_holds_whatever_the_spelling_or_claimed_address(system, program):
    login = system.url("/api/v1/auth/login")
    local, domain = program.email.split("@")
    spellings = [program.email.upper(), program.email.title(), program.email.capitalize(),
                 f"{local}@{domain.upper()}", f"{local.upper()}@{domain}"]
    with client_at("127.0.0.11") as attacker:
        for number, email in enumerate(spellings):
            response = attacker.post(login, json={"email": email, "password": "a wrong guess"},
                                     headers={"X-Forwarded-For": f"203.0.113.{number}"})
            assert_problem(response, 401, "UNAUTHORIZED")
        assert_rate_limited(attacker.post(login, json={"email": program.email, "password": PASSWORD},
                                          headers={"X-Forwarded-For": "198.51.100.7"}))


def test_one_address_guessing_across_accounts_meets_the_auth_bucket(limited_gateway):
    login = limited_gateway + "/api/v1/auth/login"

    def guess(client, **headers):
        return client.post(login, json={"email": f"ghost-{uuid.uuid4().hex[:8]}@example.org", "password": "guess"},
                           headers=headers)

    with client_at("127.0.0.12") as attacker, client_at("127.0.0.13") as bystander:
        for _ in range(BUCKET_LIMIT):
            assert_problem(guess(attacker), 401, "UNAUTHORIZED")
        assert_rate_limited(guess(attacker))
        assert_rate_limited(guess(attacker, **{"X-Forwarded-For": "198.51.100.8", "X-Real-IP": "198.51.100.8"}))
        assert_problem(guess(bystander), 401, "UNAUTHORIZED")


def test_a_public_route_answers_429_with_retry_after_past_its_limit(limited_gateway, published):
    slug, _ = published
    search = f"{limited_gateway}/public/directories/{slug}/providers"
    with client_at("127.0.0.14") as attacker, client_at("127.0.0.15") as bystander:
        for _ in range(BUCKET_LIMIT):
            assert attacker.get(search).status_code == 200
        assert_rate_limited(attacker.get(search))
        assert_rate_limited(attacker.get(search, headers={"X-Forwarded-For": "198.51.100.9"}))
        assert bystander.get(search).status_code == 200


def test_the_inbound_form_keeps_five_requests_per_sender_an_hour(system, published):
    slug, provider_id = published
    base = system.url(f"/public/directories/{slug}/providers/{provider_id}")
    with client_at("127.0.0.16") as sender:
        form = sender.get(base + "/request-form").json()
        time.sleep(form["min_fill_seconds"])  # sooner is a script's speed, refused before any limit
        request = {"name": "Flood", "email": "flood@example.org", "message": "Please call.",
                   "form_token": form["form_token"]}
        for _ in range(5):
            assert sender.post(base + "/requests", json=request).status_code == 202
        assert_rate_limited(sender.post(base + "/requests", json=request))
