"""Nothing secret reaches a log line: not passwords, not access or refresh tokens, not the
one-time links mailed to people. The logs of every process of the run are read as written."""
import re

import pytest

from shared.testing.api import PASSWORD, sign_up
from shared.testing.infrastructure import connect

pytestmark = pytest.mark.system

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.")


def test_no_secrets_in_any_log(system, infrastructure):
    program = sign_up(system)
    login = system.request("POST", "/api/v1/auth/login",
                           json={"email": program.email, "password": PASSWORD}).json()
    system.request("POST", "/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    system.request("POST", "/api/v1/auth/login", json={"email": program.email, "password": "wrong guess 123"})
    system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                   json={"email": "invitee@example.org", "role": "default"})
    system.request("POST", "/public/password-resets", json={"email": program.email})
    system.request("GET", "/api/v1/me?token=should-not-be-logged", token=program.access_token)

    with connect(infrastructure, "identity") as conn, conn.cursor() as cur:
        cur.execute("SELECT payload->'data'->'variables'->>'link' FROM outbox_events "
                    "WHERE event_type = 'notification_requested'")
        one_time_links = [row[0] for row in cur.fetchall()]
    logs = system.logs()
    assert '"msg": "request"' in logs  # the logs are really being captured
    secrets = [PASSWORD, "wrong guess 123", program.access_token, program.refresh_token,
               login["access_token"], login["refresh_token"], "should-not-be-logged"]
    secrets += [link.rsplit("/", 1)[1] for link in one_time_links]
    for secret in secrets:
        assert secret not in logs
    assert not JWT.search(logs)
