"""Who reaches what. Staff act within their program (``org_id`` of the auth context); a
partner user reaches only clients whose share with their own partner organization (the
token's ``lnk``) grants access right now. Anything outside answers 404, like a missing record."""
import uuid

from sqlalchemy import or_, select

from sharing.models import Partner, Share
from shared import permissions as p
from shared.errors import Forbidden, NotFound


def parse_id(value, what):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}") from None


def org_of(caller):
    return caller.org_uuid


def partner_of(caller):
    """The partner organization a portal user belongs to."""
    caller.require(p.PARTNER_PORTAL)
    if not caller.linked_id:
        raise Forbidden("This account belongs to no partner organization")
    return uuid.UUID(caller.linked_id)


def granting_access(now):
    """The SQL form of ``consent.grants_access`` (needs ``Partner`` joined to ``Share``)."""
    return (Share.status == "active") & or_(Share.expires_at.is_(None), Share.expires_at > now) \
        & Partner.sharing_enabled.is_(True)


def get_partner(session, caller, partner_id, lock=False):
    statement = select(Partner).where(Partner.id == parse_id(partner_id, "partner"),
                                      Partner.org_id == org_of(caller))
    partner = session.scalars(statement.with_for_update() if lock else statement).first()
    if partner is None:
        raise NotFound("No such partner")
    return partner
