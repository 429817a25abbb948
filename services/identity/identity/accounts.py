"""Sign-up, sign-in, token refresh and sign-out: the service layer over identity's tables.
Each function is one transaction and commits it."""
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from identity import events, throttle, tokens, totp
from identity.models import Organization, User
from identity.passwords import hash_password, needs_rehash, verify_password
from identity.roles import effective_permissions
from identity.schemas import MeSchema, OrganizationSchema, UserSchema
from shared.errors import Conflict, NotFound, Unauthorized
from shared import audit
from shared.outbox import emit

INVALID_CREDENTIALS = "Invalid email or password"


def _email_taken(session, email):
    return session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None


def signup(session, data):
    """A new program and its owner, who signs in at once."""
    if _email_taken(session, data["email"]):
        raise Conflict("An account with this email already exists",
                       errors={"email": ["Already registered"]})
    org = Organization(name=data["organization_name"], timezone=data["timezone"],
                       contact_email=data["email"])
    session.add(org)
    session.flush()
    owner = User(org_id=org.id, email=data["email"], password_hash=hash_password(data["password"]),
                 first_name=data["first_name"], last_name=data["last_name"], role="org_admin",
                 is_owner=True, kind="staff", enabled=True)
    session.add(owner)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("An account with this email already exists",
                       errors={"email": ["Already registered"]}) from None
    emit(session, events.ORGANIZATION_CREATED, org.id,
         {"organization_id": str(org.id), "name": org.name, "owner_user_id": str(owner.id)})
    emit(session, events.USER_ACTIVATED, org.id,
         {"user_id": str(owner.id), "kind": owner.kind, "role": owner.role})
    audit.record(session, org.id, owner.id, "organization.signup", "organization", org.id)
    pair = tokens.token_pair(session, owner)
    session.commit()
    return {"user": UserSchema().dump(owner), "organization": OrganizationSchema().dump(org),
            "tokens": pair}


def login(session, data, address=None):
    throttle.check(session, data["email"], address)
    user = session.scalars(select(User).where(func.lower(User.email) == data["email"])).first()
    valid = verify_password(user.password_hash if user else None, data["password"])
    if user is None or not valid or not user.enabled:
        if user is not None:
            audit.record(session, user.org_id, user.id, "session.login", "user", user.id, outcome="denied")
        throttle.record_failure(session, data["email"], address)  # commits the audit record too
        raise Unauthorized(INVALID_CREDENTIALS)
    if user.totp_enabled:
        try:
            totp.check_second_factor(session, user, data.get("totp_code"), data.get("recovery_code"))
        except Unauthorized:
            throttle.record_failure(session, data["email"], address)
            raise
    throttle.clear(session, data["email"])
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(data["password"])
    user.last_login_at = datetime.now(timezone.utc)
    audit.record(session, user.org_id, user.id, "session.login", "user", user.id)
    pair = tokens.token_pair(session, user)
    session.commit()
    return pair


def refresh(session, data):
    row = tokens.rotate_refresh_token(session, data["refresh_token"])
    user = session.get(User, row.user_id)
    if user is None or not user.enabled:
        tokens.revoke_family(session, row.family_id)
        session.commit()
        raise Unauthorized("Invalid refresh token")
    pair = tokens.token_pair(session, user, family_id=row.family_id)
    session.commit()
    return pair


def logout(session, caller, data):
    """Ends the session the refresh token belongs to (its whole family), if it is the caller's."""
    row = tokens.find_refresh_token(session, data["refresh_token"])
    if row is not None and str(row.user_id) == caller.user_id:
        tokens.revoke_family(session, row.family_id)
        session.commit()


def caller_user(session, caller):
    user = session.scalars(select(User).where(User.id == caller.user_id,
                                              User.org_id == caller.org_id)).first()
    if user is None:
        raise NotFound("No such user")
    return user


def me(session, caller):
    user = caller_user(session, caller)
    org = session.get(Organization, user.org_id)
    enrol = totp.enrolment_required(session, user)
    return MeSchema().dump({"user": user, "organization": org, "second_factor_enrolment_required": enrol,
                            "permissions": [] if enrol else sorted(effective_permissions(user))})
