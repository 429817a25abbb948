"""The optional TOTP second factor over HTTP."""
import time

import pyotp
import pytest

from shared.testing.api import PASSWORD, add_staff_member, assert_problem, log_in, sign_up

pytestmark = pytest.mark.system


def enrol(system, token):
    started = system.request("POST", "/api/v1/me/totp", token=token)
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/")
    confirmed = system.request("POST", "/api/v1/me/totp/confirm", token=token,
                               json={"code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def test_enrolled_user_needs_a_fresh_code_or_a_recovery_code(system):
    program = sign_up(system)
    secret, recovery_codes = enrol(system, program.access_token)
    assert len(recovery_codes) == 10
    credentials = {"email": program.email, "password": PASSWORD}

    missing = assert_problem(system.request("POST", "/api/v1/auth/login", json=credentials), 401)
    assert "totp_code" in missing["errors"]
    replayed = system.request("POST", "/api/v1/auth/login",
                              json={**credentials, "totp_code": pyotp.TOTP(secret).now()})
    assert_problem(replayed, 401)  # the code that confirmed enrolment is spent
    fresh = pyotp.TOTP(secret).at(time.time() + 30)
    assert system.request("POST", "/api/v1/auth/login", json={**credentials, "totp_code": fresh}).status_code == 200

    with_recovery = {**credentials, "recovery_code": recovery_codes[0]}
    assert system.request("POST", "/api/v1/auth/login", json=with_recovery).status_code == 200
    assert_problem(system.request("POST", "/api/v1/auth/login", json=with_recovery), 401)


def test_a_program_can_require_the_second_factor(system, infrastructure):
    program = sign_up(system)
    _, email = add_staff_member(infrastructure, program, role="admin")
    system.request("PATCH", "/api/v1/organization", token=program.access_token,
                   json={"require_totp": True}).raise_for_status()

    token = log_in(system, email)
    me = system.request("GET", "/api/v1/me", token=token).json()
    assert me["second_factor_enrolment_required"] is True and me["permissions"] == []
    assert_problem(system.request("PATCH", "/api/v1/organization", token=token, json={"phone": "1"}), 403)

    secret, _ = enrol(system, token)
    code = pyotp.TOTP(secret).at(time.time() + 30)
    full = system.request("POST", "/api/v1/auth/login",
                          json={"email": email, "password": PASSWORD, "totp_code": code}).json()
    me = system.request("GET", "/api/v1/me", token=full["access_token"]).json()
    assert me["second_factor_enrolment_required"] is False and "settings.manage" in me["permissions"]
    refused = system.request("POST", "/api/v1/me/totp/disable", token=full["access_token"],
                             json={"code": pyotp.TOTP(secret).at(time.time() + 60)})
    assert_problem(refused, 409)
