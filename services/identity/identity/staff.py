"""Program settings, staff and their permissions, and the one owner of a program."""
import uuid

from sqlalchemy import func, select, update

from identity import events, tokens
from identity.models import Organization, RefreshToken, User
from identity.roles import GRANTABLE, STAFF_ROLES, effective_permissions
from identity.schemas import OrganizationSchema, StaffSchema
from shared import audit, permissions as p
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.outbox import emit
from shared.pagination import decode_cursor, page


def get_organization(session, caller):
    return OrganizationSchema().dump(session.get(Organization, caller.org_id))


def update_organization(session, caller, data):
    caller.require(p.SETTINGS_MANAGE)
    org = session.get(Organization, caller.org_id)
    if "name" in data and data["name"] != org.name:
        emit(session, events.ORGANIZATION_RENAMED, org.id, {"organization_id": str(org.id), "name": data["name"]})
    for field, value in data.items():
        setattr(org, field, value)
    audit.record_for(session, caller, "organization.update", "organization", org.id,
                     details={"fields": sorted(data)})
    session.commit()
    return OrganizationSchema().dump(org)


def _staff_member(session, caller, user_id, lock=False):
    query = select(User).where(User.id == uuid.UUID(user_id), User.org_id == caller.org_id)
    user = session.scalars(query.with_for_update() if lock else query).first()
    if user is None:
        raise NotFound("No such staff member")
    return user


def list_staff(session, caller, query):
    caller.require(p.STAFF_MANAGE)
    statement = select(User).where(User.org_id == caller.org_id)
    if query.get("kind"):
        statement = statement.where(User.kind == query["kind"])
    after = decode_cursor(query.get("cursor"))
    if after:
        statement = statement.where(User.id > uuid.UUID(after[0]))
    rows = session.scalars(statement.order_by(User.id).limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda user: [str(user.id)])
    return {"items": StaffSchema(many=True).dump(items), "next_cursor": next_cursor}


def get_staff(session, caller, user_id):
    caller.require(p.STAFF_MANAGE)
    return StaffSchema().dump(_staff_member(session, caller, user_id))


def update_staff(session, caller, user_id, data, check_seat_available):
    """Role, grants, denials, enabled and names. Nobody hands out a permission they do not
    hold, and the owner keeps full rights until ownership is transferred. Enabling a disabled
    account takes a seat: ``check_seat_available(kind=...)`` is billing's word on it."""
    caller.require(p.STAFF_MANAGE)
    user = _staff_member(session, caller, user_id, lock=True)
    before, was_enabled = effective_permissions(user), user.enabled
    if user.kind != "staff" and "role" in data:
        raise ValidationFailed("Only staff roles can be changed here", errors={"role": ["Not a staff account"]})
    if "role" in data and data["role"] not in STAFF_ROLES:
        raise ValidationFailed("Unknown role", errors={"role": [f"One of {', '.join(STAFF_ROLES)}"]})
    for field in ("grants", "denials"):
        unknown = set(data.get(field, ())) - GRANTABLE
        if unknown:
            raise ValidationFailed("Unknown or ungrantable permission",
                                   errors={field: [f"Not grantable: {', '.join(sorted(unknown))}"]})
    if user.is_owner and (data.get("enabled") is False or data.get("role", "org_admin") != "org_admin"
                          or data.get("denials")):
        raise Conflict("The owner cannot be disabled or demoted; transfer ownership first")
    if str(user.id) == caller.user_id and data.get("enabled") is False:
        raise Conflict("You cannot disable your own account")
    if data.get("enabled") and not was_enabled:
        check_seat_available(kind=user.kind)
    for field, value in data.items():
        setattr(user, field, value)
    after = effective_permissions(user)
    escalated = (after - before) - caller.permissions
    if escalated:
        raise Forbidden(f"You cannot grant permissions you do not hold: {', '.join(sorted(escalated))}")
    if after != before or not user.enabled:
        revoke_access(session, user, end_sessions=not user.enabled)
    if user.enabled != was_enabled:
        emit(session, events.USER_ACTIVATED if user.enabled else events.USER_DEACTIVATED, user.org_id,
             {"user_id": str(user.id), "kind": user.kind, "role": user.role})
    audit.record_for(session, caller, "staff.update", "user", user.id, details={
        "fields": sorted(data), "added": sorted(after - before), "removed": sorted(before - after)})
    session.commit()
    return StaffSchema().dump(user)


def revoke_access(session, user, end_sessions=False):
    """Void the user's access tokens everywhere within seconds (every gateway hears the
    broadcast); with ``end_sessions``, every refresh token too, so nothing signs back in."""
    not_before = tokens.record_revocation(session, user.id)
    emit(session, events.ACCESS_REVOKED, user.org_id, {"user_id": str(user.id), "not_before": not_before})
    if end_sessions:
        session.execute(update(RefreshToken).where(RefreshToken.user_id == user.id,
                                                   RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=func.now()))


def transfer_ownership(session, caller, new_owner_id):
    """Hands ownership to another enabled staff member in one transaction. The owner row is
    locked first, so concurrent transfers queue up and only the first finds an owner to move;
    the database's one-owner index would refuse anything else."""
    if not caller.is_owner:
        raise Forbidden("Only the owner can transfer ownership")
    current = session.scalars(select(User).where(User.org_id == caller.org_id, User.is_owner)
                              .with_for_update()).first()
    if current is None or str(current.id) != caller.user_id:
        raise Conflict("You are no longer the owner of this program")
    target = _staff_member(session, caller, new_owner_id, lock=True)
    if target.id == current.id:
        raise Conflict("You already own this program")
    if target.kind != "staff" or not target.enabled:
        raise Conflict("Ownership can only go to an enabled staff member")
    current.is_owner = False
    session.flush()  # the index holds at every instant: first release, then assign
    target.is_owner = True
    target.role = "org_admin"
    target.denials = []
    for user in (current, target):
        revoke_access(session, user)
    audit.record_for(session, caller, "organization.transfer_ownership", "user", target.id)
    session.commit()
    return StaffSchema().dump(target)



def billing_delegates(session, caller):
    caller.require(p.BILLING_MANAGE)
    users = session.scalars(select(User).where(User.org_id == caller.org_id, User.billing_delegate)
                            .order_by(User.email)).all()
    return {"delegates": StaffSchema(many=True, only=("id", "email", "first_name", "last_name")).dump(users)}


def billing_contacts(session, org_id):
    """For billing, which has no caller when a payment fails: the program's name and who hears
    about its payments (the owner and the billing delegates, enabled accounts only)."""
    org = session.get(Organization, uuid.UUID(str(org_id)))
    if org is None:
        raise NotFound("No such program")
    users = session.scalars(select(User).where(User.org_id == org.id, User.enabled,
                                               User.is_owner | User.billing_delegate)
                            .order_by(User.is_owner.desc(), User.email)).all()
    return {"program_name": org.name,
            "contacts": [{"user_id": str(u.id), "email": u.email, "is_owner": u.is_owner,
                          "name": f"{u.first_name} {u.last_name}".strip()} for u in users]}


def set_billing_delegates(session, caller, user_ids):
    """The owner names who besides them sees billing (seed 004's missing feature). Anyone
    added or removed has their tokens renewed so the change applies at once."""
    if not caller.is_owner:
        raise Forbidden("Only the owner can choose billing delegates")
    wanted = {uuid.UUID(str(u)) for u in user_ids}
    staff = {u.id: u for u in session.scalars(
        select(User).where(User.org_id == caller.org_id, User.kind == "staff").with_for_update())}
    unknown = wanted - staff.keys()
    if unknown:
        raise ValidationFailed("Delegates must be staff of this program",
                               errors={"user_ids": [f"Not a staff member: {u}" for u in sorted(map(str, unknown))]})
    for user in staff.values():
        delegate = user.id in wanted and not user.is_owner
        if user.billing_delegate != delegate:
            user.billing_delegate = delegate
            revoke_access(session, user)
            audit.record_for(session, caller, "billing.delegate" if delegate else "billing.undelegate",
                             "user", user.id)
    session.commit()
    return billing_delegates(session, caller)
