"""One owner per program is a database guarantee, not only an application rule."""
import uuid

import psycopg2
import pytest

from shared.testing.infrastructure import connect

pytestmark = pytest.mark.integration


def test_a_second_owner_for_one_program_is_refused_by_the_database(infrastructure):
    org_id = uuid.uuid4()
    with connect(infrastructure, "identity") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO organizations (id, name, timezone) VALUES (%s, 'P', 'UTC')", (str(org_id),))
        insert_owner = ("INSERT INTO users (id, org_id, email, first_name, last_name, role, is_owner, "
                        "billing_delegate, enabled, kind) "
                        "VALUES (%s, %s, %s, 'A', 'B', 'org_admin', true, false, true, 'staff')")
        cur.execute(insert_owner, (str(uuid.uuid4()), str(org_id), f"{uuid.uuid4().hex}@example.org"))
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute(insert_owner, (str(uuid.uuid4()), str(org_id), f"{uuid.uuid4().hex}@example.org"))
        conn.rollback()
