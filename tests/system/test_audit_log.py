"""The audit log over HTTP: actions land in the program's hash chain, and tampering with the
database is detected."""
import time

import pytest

from shared.testing.api import add_staff_member, assert_problem, log_in, sign_up
from shared.testing.infrastructure import connect

pytestmark = pytest.mark.system


def audit_events(system, token, **params):
    response = system.request("GET", "/api/v1/audit-events", token=token, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def wait_for_events(system, token, count, timeout=15, **params):
    deadline = time.monotonic() + timeout
    while True:
        events = audit_events(system, token, **params)
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_sign_in_and_permission_changes_are_audited(system, infrastructure):
    program = sign_up(system)
    user_id, email = add_staff_member(infrastructure, program, role="therapist")
    log_in(system, email)
    system.request("PATCH", f"/api/v1/staff/{user_id}", token=program.access_token,
                   json={"grants": ["reports.view"]}).raise_for_status()
    events = wait_for_events(system, program.access_token, 3)
    actions = [e["action"] for e in events]
    assert actions[:3] == ["staff.update", "session.login", "organization.signup"], actions
    change = events[0]
    assert change["actor_id"] == program.owner_id and change["resource_id"] == user_id
    assert change["details"]["added"] == ["reports.view"]
    assert events[1]["request_id"]

    only_logins = audit_events(system, program.access_token, action="session.login")
    assert [e["action"] for e in only_logins] == ["session.login"]

    therapist = log_in(system, email)
    assert_problem(system.request("GET", "/api/v1/audit-events", token=therapist), 403)


def test_another_programs_audit_log_is_invisible(system):
    program, other = sign_up(system), sign_up(system)
    wait_for_events(system, other.access_token, 1)
    events = wait_for_events(system, program.access_token, 1)
    assert {e["resource_id"] for e in events} == {program.org_id}


def test_altering_or_removing_a_record_is_detected(system, infrastructure):
    program = sign_up(system)
    user_id, email = add_staff_member(infrastructure, program)
    for _ in range(2):
        log_in(system, email)
    wait_for_events(system, program.access_token, 3)
    verification = system.request("GET", "/api/v1/audit-events/verification", token=program.access_token).json()
    assert verification == {"valid": True, "checked": 3, "problems": []}

    with connect(infrastructure, "identity") as conn, conn.cursor() as cur:
        with pytest.raises(Exception, match="append-only"):
            cur.execute("UPDATE audit_events SET outcome = 'denied' WHERE org_id = %s", (program.org_id,))
        conn.rollback()
        # An attacker with the database superuser's rights goes around the trigger.
        cur.execute("SET session_replication_role = replica")
        cur.execute("UPDATE audit_events SET actor_id = NULL WHERE id = (SELECT min(id) FROM "
                    "audit_events WHERE org_id = %s AND action = 'session.login')", (program.org_id,))
        conn.commit()
    verification = system.request("GET", "/api/v1/audit-events/verification", token=program.access_token).json()
    assert verification["valid"] is False
    assert [p["problem"] for p in verification["problems"]] == ["content does not match its hash"]

    with connect(infrastructure, "identity") as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events WHERE org_id = %s)",
                    (program.org_id,))
        conn.commit()
    verification = system.request("GET", "/api/v1/audit-events/verification", token=program.access_token).json()
    assert "records are missing from the end" in [p["problem"] for p in verification["problems"]]
