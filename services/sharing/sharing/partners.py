"""Partner organizations (administrators only) and their user accounts, which identity
creates by invitation."""
import uuid

from sqlalchemy import select, tuple_

from sharing.access import get_partner, org_of
from sharing.models import Partner
from sharing.schemas import PartnerSchema
from shared import audit, permissions as p
from shared.db import commit_or_undo
from shared.invitations import invite_portal_user
from shared.errors import Conflict
from shared.pagination import decode_cursor, page


def create_partner(session, caller, data):
    caller.require(p.SHARING_MANAGE)
    _require_unique_name(session, caller, data["name"])
    partner = Partner(id=uuid.uuid4(), org_id=org_of(caller), created_by=caller.user_uuid,
                      address={}, contact_language="en", sharing_enabled=True)
    _apply(partner, data)
    session.add(partner)
    audit.record_for(session, caller, "partner.create", "partner", partner.id,
                     details={"sharing_enabled": partner.sharing_enabled})
    session.commit()
    return PartnerSchema().dump(partner)


def get(session, caller, partner_id):
    caller.require(p.SHARING_MANAGE)
    return PartnerSchema().dump(get_partner(session, caller, partner_id))


def list_partners(session, caller, query):
    caller.require(p.SHARING_MANAGE)
    statement = select(Partner).where(Partner.org_id == org_of(caller))
    after = decode_cursor(query.get("cursor"), key_length=2)
    if after:
        statement = statement.where(tuple_(Partner.name, Partner.id) > tuple_(after[0], uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(Partner.name, Partner.id).limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda partner: [partner.name, str(partner.id)])
    return {"items": PartnerSchema(many=True).dump(items), "next_cursor": next_cursor}


def update_partner(session, caller, partner_id, data):
    """Turning sharing off suspends every share with the partner at once: access is decided on
    each read (``consent.grants_access``), so nothing else needs to change."""
    caller.require(p.SHARING_MANAGE)
    partner = get_partner(session, caller, partner_id, lock=True)
    if "name" in data and data["name"] != partner.name:
        _require_unique_name(session, caller, data["name"])
    _apply(partner, data)
    audit.record_for(session, caller, "partner.update", "partner", partner.id,
                     details={"fields": sorted(data), "sharing_enabled": partner.sharing_enabled})
    session.commit()
    return PartnerSchema().dump(partner)


def invite_user(session, caller, partner_id, data, identity):
    """``identity`` (nameko's proxy) is called on the administrator's behalf: identity checks the
    permission again, emails the single-use invitation and audits it."""
    caller.require(p.SHARING_MANAGE)
    partner = get_partner(session, caller, partner_id)
    # Nothing is written here but the claim of the call (see shared.invitations).
    invitation, undo = invite_portal_user(session, identity, {**data, "kind": "partner", "linked_id": str(partner.id)})
    commit_or_undo(session, undo)
    return invitation


def _apply(partner, data):
    for field, value in data.items():
        setattr(partner, field, value)


def _require_unique_name(session, caller, name):
    taken = session.scalar(select(Partner.id).where(Partner.org_id == org_of(caller), Partner.name == name))
    if taken is not None:
        raise Conflict("A partner with this name exists", errors={"name": ["Already in use"]})
