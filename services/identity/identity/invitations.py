"""Joining by invitation and resetting a forgotten password: both by a single-use, expiring
link sent by email, of which only a hash is stored."""
import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from identity import events, tokens
from identity.models import Invitation, Organization, PasswordReset, User
from identity.passwords import hash_password
from identity.roles import ROLES, STAFF_ROLES
from identity.schemas import InvitationSchema
from identity.staff import revoke_access
from shared import audit, notifications, permissions as p
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.outbox import emit

INVITATION_DAYS = 7
RESET_MINUTES = 60
INVALID_LINK = "This link is invalid, already used or expired"


def _new_token():
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def _hashed(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _now():
    return datetime.now(timezone.utc)


def _email_taken(session, email):
    return session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None


# Portal accounts: who may invite them, and the role they get.
PORTAL_KINDS = {"partner": (p.SHARING_MANAGE, "partner"),
                "case_manager": (p.REFERRERS_MANAGE, "case_manager")}


def invite(session, caller, data, public_base_url):
    """Staff invitations need staff.manage and a role whose permissions the inviter holds."""
    caller.require(p.STAFF_MANAGE)
    if data["role"] not in STAFF_ROLES:
        raise ValidationFailed("Unknown role", errors={"role": [f"One of {', '.join(STAFF_ROLES)}"]})
    beyond = ROLES[data["role"]] - caller.permissions
    if beyond:
        raise Forbidden(f"You cannot invite someone with permissions you do not hold: {', '.join(sorted(beyond))}")
    return _invite(session, caller, data, public_base_url, kind="staff", linked_id=None)


def invite_portal_user(session, caller, data, public_base_url):
    """A partner user (seed 003) or a case manager's login (seed 002), created by the sharing
    or directory service on behalf of an administrator of the program."""
    permission, role = PORTAL_KINDS[data["kind"]]
    caller.require(permission)
    return _invite(session, caller, {**data, "role": role}, public_base_url,
                   kind=data["kind"], linked_id=data["linked_id"])


def _invite(session, caller, data, public_base_url, kind, linked_id):
    if _email_taken(session, data["email"]):
        raise Conflict("Someone with this email already has an account",
                       errors={"email": ["Already registered"]})
    token, token_hash = _new_token()
    invitation = Invitation(org_id=caller.org_id, email=data["email"], kind=kind, role=data["role"],
                            linked_id=linked_id,
                            first_name=data.get("first_name", ""), last_name=data.get("last_name", ""),
                            token_hash=token_hash, invited_by=caller.user_id,
                            expires_at=_now() + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    session.flush()
    inviter = session.get(User, caller.user_id)
    org = session.get(Organization, caller.org_id)
    notifications.request(session, caller.org_id, "invitation", [notifications.recipient(
        invitation.email, f"{invitation.first_name} {invitation.last_name}".strip(), data.get("language"))], {
        "program_name": org.name, "inviter_name": f"{inviter.first_name} {inviter.last_name}",
        "recipient_name": invitation.first_name, "expires_in_days": INVITATION_DAYS,
        "link": f"{public_base_url}/invitations/{token}"})
    audit.record_for(session, caller, "staff.invite", "invitation", invitation.id,
                     details={"role": invitation.role, "kind": kind})
    session.commit()
    return InvitationSchema().dump(invitation)


def list_invitations(session, caller):
    caller.require(p.STAFF_MANAGE)
    rows = session.scalars(select(Invitation).where(Invitation.org_id == caller.org_id,
                                                    Invitation.accepted_at.is_(None),
                                                    Invitation.expires_at > _now())
                           .order_by(Invitation.created_at.desc()).limit(200)).all()
    return {"items": InvitationSchema(many=True).dump(rows)}


def revoke_invitation(session, caller, invitation_id):
    """A pending invitation's link stops working at once: it went to the wrong address, or the
    person is not joining after all. The invitation is kept, ended now, and the revocation
    audited. Revoking an ended one again changes nothing; an accepted one is a Conflict (the
    person has an account: disable it instead). Who may invite someone may revoke the
    invitation: staff.manage, or for a portal login the permission of its kind."""
    caller.require(p.STAFF_MANAGE, *(permission for permission, _ in PORTAL_KINDS.values()))
    invitation = session.scalars(select(Invitation).where(Invitation.id == uuid.UUID(invitation_id),
                                                          Invitation.org_id == caller.org_id)
                                 .with_for_update()).first()
    if invitation is None:
        raise NotFound("No such invitation")
    if invitation.kind in PORTAL_KINDS:
        caller.require(p.STAFF_MANAGE, PORTAL_KINDS[invitation.kind][0])
    else:
        caller.require(p.STAFF_MANAGE)
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was accepted; disable the account instead")
    if invitation.expires_at > _now():
        invitation.expires_at = _now()
        audit.record_for(session, caller, "staff.revoke_invitation", "invitation", invitation.id,
                         details={"kind": invitation.kind})
    session.commit()


def accept(session, token, data):
    invitation = session.scalars(select(Invitation).where(Invitation.token_hash == _hashed(token))
                                 .with_for_update()).first()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= _now():
        raise NotFound(INVALID_LINK)
    if _email_taken(session, invitation.email):
        raise Conflict("Someone with this email already has an account")
    user = User(org_id=invitation.org_id, email=invitation.email, kind=invitation.kind,
                role=invitation.role, linked_id=invitation.linked_id,
                first_name=data["first_name"], last_name=data["last_name"],
                password_hash=hash_password(data["password"]), enabled=True)
    session.add(user)
    session.flush()
    invitation.accepted_at, invitation.user_id = _now(), user.id
    emit(session, events.USER_ACTIVATED, user.org_id,
         {"user_id": str(user.id), "kind": user.kind, "role": user.role})
    audit.record(session, user.org_id, user.id, "staff.accept_invitation", "user", user.id)
    pair = tokens.token_pair(session, user)
    session.commit()
    return pair


def request_password_reset(session, email, public_base_url):
    """Answers the same whether or not the account exists; only a real, enabled account is
    emailed."""
    user = session.scalars(select(User).where(func.lower(User.email) == email, User.enabled)).first()
    if user is None:
        return
    token, token_hash = _new_token()
    session.add(PasswordReset(user_id=user.id, token_hash=token_hash,
                              expires_at=_now() + timedelta(minutes=RESET_MINUTES)))
    notifications.request(session, user.org_id, "password_reset", [notifications.recipient(
        user.email, user.first_name)], {"recipient_name": user.first_name,
                                        "expires_in_minutes": RESET_MINUTES,
                                        "link": f"{public_base_url}/password-resets/{token}"})
    audit.record(session, user.org_id, user.id, "session.password_reset_requested", "user", user.id)
    session.commit()


def reset_password(session, token, password):
    reset = session.scalars(select(PasswordReset).where(PasswordReset.token_hash == _hashed(token))
                            .with_for_update()).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= _now():
        raise NotFound(INVALID_LINK)
    user = session.get(User, reset.user_id)
    if not user.enabled:
        raise NotFound(INVALID_LINK)
    reset.used_at = _now()
    user.password_hash = hash_password(password)
    revoke_access(session, user, end_sessions=True)  # whoever knew the old password is out
    audit.record(session, user.org_id, user.id, "session.password_reset", "user", user.id)
    session.commit()
