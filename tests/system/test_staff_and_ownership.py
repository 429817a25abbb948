"""Program settings, staff permissions, ownership and revocation, over HTTP."""
import concurrent.futures
import time

import pytest

from shared.testing.api import add_staff_member, assert_problem, log_in, sign_up
from shared.testing.infrastructure import connect

pytestmark = pytest.mark.system


def test_program_settings_need_the_settings_permission(system, infrastructure):
    program = sign_up(system)
    changed = system.request("PATCH", "/api/v1/organization", token=program.access_token,
                             json={"phone": "+1 555 0100", "timezone": "America/Chicago",
                                   "address": {"city": "Austin", "state": "TX"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["timezone"] == "America/Chicago"
    assert_problem(system.request("PATCH", "/api/v1/organization", token=program.access_token,
                                  json={"timezone": "Mars/Olympus"}), 422)

    _, email = add_staff_member(infrastructure, program, role="therapist")
    therapist = log_in(system, email)
    assert system.request("GET", "/api/v1/organization", token=therapist).status_code == 200
    assert_problem(system.request("PATCH", "/api/v1/organization", token=therapist,
                                  json={"phone": "x"}), 403, "FORBIDDEN")


def test_effective_permissions_follow_role_grants_and_denials(system, infrastructure):
    program = sign_up(system)
    user_id, email = add_staff_member(infrastructure, program, role="therapist")
    updated = system.request("PATCH", f"/api/v1/staff/{user_id}", token=program.access_token,
                             json={"grants": ["reports.view"], "denials": ["referrals.manage"]})
    assert updated.status_code == 200, updated.text
    permissions = updated.json()["permissions"]
    assert "reports.view" in permissions and "referrals.manage" not in permissions
    assert log_in(system, email)  # a fresh token carries the new permissions
    me = system.request("GET", "/api/v1/me", token=log_in(system, email)).json()
    assert me["permissions"] == permissions


def test_nobody_grants_what_they_do_not_hold(system, infrastructure):
    program = sign_up(system)
    admin_id, admin_email = add_staff_member(infrastructure, program, role="admin")
    target_id, _ = add_staff_member(infrastructure, program, role="default")
    system.request("PATCH", f"/api/v1/staff/{admin_id}", token=program.access_token,
                   json={"grants": ["staff.manage"]}).raise_for_status()
    admin = log_in(system, admin_email)
    escalate = system.request("PATCH", f"/api/v1/staff/{target_id}", token=admin,
                              json={"grants": ["audit.view"]})
    assert_problem(escalate, 403, "FORBIDDEN")
    to_org_admin = system.request("PATCH", f"/api/v1/staff/{target_id}", token=admin,
                                  json={"role": "org_admin"})
    assert_problem(to_org_admin, 403, "FORBIDDEN")
    assert_problem(system.request("PATCH", f"/api/v1/staff/{target_id}", token=admin,
                                  json={"grants": ["billing.manage"]}), 422)


def test_the_owner_cannot_be_disabled_or_demoted(system):
    program = sign_up(system)
    for change in ({"enabled": False}, {"role": "default"}, {"denials": ["staff.manage"]}):
        response = system.request("PATCH", f"/api/v1/staff/{program.owner_id}",
                                  token=program.access_token, json=change)
        assert_problem(response, 409, "CONFLICT")


def test_disabling_a_signed_in_user_locks_them_out_within_seconds(system, infrastructure):
    program = sign_up(system)
    user_id, email = add_staff_member(infrastructure, program, role="default")
    token = log_in(system, email)
    assert system.request("GET", "/api/v1/me", token=token).status_code == 200
    system.request("PATCH", f"/api/v1/staff/{user_id}", token=program.access_token,
                   json={"enabled": False}).raise_for_status()
    deadline = time.monotonic() + 5
    while system.request("GET", "/api/v1/me", token=token).status_code != 401:
        assert time.monotonic() < deadline, "still accepted 5 seconds after being disabled"
        time.sleep(0.1)
    assert_problem(system.request("POST", "/api/v1/auth/login",
                                  json={"email": email, "password": "correct horse battery staple"}), 401)


def test_ownership_transfer_keeps_exactly_one_owner_even_when_raced(system, infrastructure):
    program = sign_up(system)
    candidates = [add_staff_member(infrastructure, program, role="admin")[0] for _ in range(4)]

    def transfer(user_id):
        return system.request("POST", "/api/v1/organization/owner", token=program.access_token,
                              json={"user_id": user_id}).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(transfer, candidates))
    assert statuses.count(200) == 1, statuses
    assert all(s in (200, 401, 403, 409) for s in statuses), statuses
    with connect(infrastructure, "identity") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM users WHERE org_id = %s AND is_owner", (program.org_id,))
        assert cur.fetchone()[0] == 1
    # The old owner's billing access went with the ownership.
    deadline = time.monotonic() + 5
    while system.request("GET", "/api/v1/billing/subscription", token=program.access_token).status_code != 401:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_another_programs_staff_member_is_not_found(system, infrastructure):
    program, other = sign_up(system), sign_up(system)
    user_id, _ = add_staff_member(infrastructure, other)
    assert_problem(system.request("GET", f"/api/v1/staff/{user_id}", token=program.access_token), 404)
    assert_problem(system.request("PATCH", f"/api/v1/staff/{user_id}", token=program.access_token,
                                  json={"enabled": False}), 404)
    listed = system.request("GET", "/api/v1/staff", token=program.access_token).json()["items"]
    assert [u["id"] for u in listed] == [program.owner_id]
