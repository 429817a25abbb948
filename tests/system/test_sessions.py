"""Sign-up, sessions and tokens over HTTP, with every service running as its own process."""
import time

import pytest

from shared.testing.api import PASSWORD, assert_problem, sign_up

pytestmark = pytest.mark.system


def test_signup_login_me_refresh_logout(system):
    program = sign_up(system)

    me = system.request("GET", "/api/v1/me", token=program.access_token)
    assert me.status_code == 200
    assert me.json()["user"]["is_owner"] is True
    assert me.json()["organization"]["id"] == program.org_id
    assert "billing.manage" in me.json()["permissions"]

    login = system.request("POST", "/api/v1/auth/login",
                           json={"email": program.email.upper(), "password": PASSWORD})
    assert login.status_code == 200
    pair = login.json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] <= 900

    refreshed = system.request("POST", "/api/v1/auth/refresh",
                               json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200
    new_pair = refreshed.json()
    assert new_pair["refresh_token"] != pair["refresh_token"]
    assert system.request("GET", "/api/v1/me", token=new_pair["access_token"]).status_code == 200

    logout = system.request("POST", "/api/v1/auth/logout", token=new_pair["access_token"],
                            json={"refresh_token": new_pair["refresh_token"]})
    assert logout.status_code == 204
    after = system.request("POST", "/api/v1/auth/refresh",
                           json={"refresh_token": new_pair["refresh_token"]})
    assert_problem(after, 401, "UNAUTHORIZED")


def test_wrong_password_and_unknown_email_get_the_same_answer(system):
    program = sign_up(system)
    wrong = system.request("POST", "/api/v1/auth/login",
                           json={"email": program.email, "password": "not the password"})
    unknown = system.request("POST", "/api/v1/auth/login",
                             json={"email": "nobody@example.org", "password": "not the password"})
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]


def test_refresh_token_reuse_revokes_the_family(system):
    program = sign_up(system)
    first = system.request("POST", "/api/v1/auth/refresh", json={"refresh_token": program.refresh_token})
    assert first.status_code == 200
    second_token = first.json()["refresh_token"]

    reuse = system.request("POST", "/api/v1/auth/refresh", json={"refresh_token": program.refresh_token})
    assert_problem(reuse, 401)
    # The thief's replay also ended the legitimate holder's session.
    assert_problem(system.request("POST", "/api/v1/auth/refresh",
                                  json={"refresh_token": second_token}), 401)


def test_signup_with_a_taken_email_is_a_conflict(system):
    program = sign_up(system)
    again = system.request("POST", "/api/v1/signup", json={
        "organization_name": "Another", "email": program.email, "password": PASSWORD,
        "first_name": "A", "last_name": "B"})
    body = assert_problem(again, 409, "CONFLICT")
    assert "email" in body["errors"]


def test_new_program_gets_a_trial_subscription_through_an_event(system):
    program = sign_up(system)
    deadline = time.monotonic() + 15
    while True:
        response = system.request("GET", "/api/v1/billing/subscription", token=program.access_token)
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "trialing"
    assert response.json()["plan"] == "trial"


def test_jwks_publishes_the_signing_key(system):
    keys = system.request("GET", "/.well-known/jwks.json").json()["keys"]
    assert keys and all(k["kty"] == "OKP" and k["alg"] == "EdDSA" and "d" not in k for k in keys)


def test_repeated_failures_throttle_the_account_then_the_window_lets_it_in(system):
    program = sign_up(system)
    wrong = {"email": program.email, "password": "not the password"}
    for _ in range(5):
        assert_problem(system.request("POST", "/api/v1/auth/login", json=wrong), 401)
    right = {"email": program.email, "password": PASSWORD}
    throttled = system.request("POST", "/api/v1/auth/login", json=right)
    assert_problem(throttled, 429, "RATE_LIMITED")
    assert int(throttled.headers["Retry-After"]) >= 1
    # An unknown account is throttled the same way, so the answer reveals nothing.
    ghost = {"email": "ghost@example.org", "password": "x"}
    for _ in range(5):
        system.request("POST", "/api/v1/auth/login", json=ghost)
    assert_problem(system.request("POST", "/api/v1/auth/login", json=ghost), 429)
    time.sleep(4.5)  # LOGIN_THROTTLE_WINDOW_SECONDS in the test system
    assert system.request("POST", "/api/v1/auth/login", json=right).status_code == 200
