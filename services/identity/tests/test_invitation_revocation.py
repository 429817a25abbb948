"""Who may revoke an invitation, against the real identity database: who may send it. Staff
managers revoke any; a referrer or sharing administrator only the portal logins of their kind
(the directory and sharing revoke an invitation when the change it was sent for is not saved)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from identity.invitations import revoke_invitation
from identity.models import Invitation, Organization
from shared import permissions as p
from shared.auth import AuthContext
from shared.db import make_engine
from shared.errors import Forbidden, NotFound

pytestmark = pytest.mark.integration


@pytest.fixture
def session(infrastructure):
    engine = make_engine(infrastructure.database_url_of("identity"))
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def org_id(session):
    organization = Organization(id=uuid.uuid4(), name="Riverside Counseling")
    session.add(organization)
    session.commit()
    return organization.id


def an_invitation(session, org_id, kind, role):
    invitation = Invitation(org_id=org_id, email=f"{uuid.uuid4().hex}@example.org", kind=kind, role=role,
                            token_hash=uuid.uuid4().hex + uuid.uuid4().hex, invited_by=uuid.uuid4(),
                            expires_at=datetime.now(timezone.utc) + timedelta(days=7))
    session.add(invitation)
    session.commit()
    return invitation


def caller(org_id, *permissions):
    return AuthContext(user_id=str(uuid.uuid4()), org_id=str(org_id), role="admin", permissions=frozenset(permissions))


def is_ended(session, invitation):
    session.refresh(invitation)
    return invitation.expires_at <= datetime.now(timezone.utc)


def test_a_referrer_administrator_revokes_only_case_manager_logins(session, org_id):
    referrers_admin = caller(org_id, p.REFERRERS_MANAGE)
    login = an_invitation(session, org_id, "case_manager", "case_manager")
    revoke_invitation(session, referrers_admin, str(login.id))
    assert is_ended(session, login)
    for kind, role in (("staff", "default"), ("partner", "partner")):
        other = an_invitation(session, org_id, kind, role)
        with pytest.raises(Forbidden):
            revoke_invitation(session, referrers_admin, str(other.id))
        session.rollback()
        assert not is_ended(session, other)


def test_a_staff_manager_revokes_any_and_a_caller_without_either_permission_none(session, org_id):
    partner_login = an_invitation(session, org_id, "partner", "partner")
    with pytest.raises(Forbidden):
        revoke_invitation(session, caller(org_id, p.PROVIDERS_MANAGE), str(partner_login.id))
    revoke_invitation(session, caller(org_id, p.STAFF_MANAGE), str(partner_login.id))
    assert is_ended(session, partner_login)
    with pytest.raises(NotFound):  # another program's invitation is not found, exactly like a missing one
        revoke_invitation(session, caller(uuid.uuid4(), p.STAFF_MANAGE), str(partner_login.id))
