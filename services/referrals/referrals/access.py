"""Who sees which client: staff with ``clients.all`` see every client of their program, a
clinician with ``clients.assigned`` only those assigned to them. Lists and referrals follow
their client; a walk-in list (no client) is seen by its author and by ``clients.all``.
A case manager's login sees only case managers' referrals: their own and their business
unit's (``visible_to_case_manager``), none of the program's clients, lists or referrals.
Anything outside the caller's view answers 404, exactly like a missing record."""
import uuid

from sqlalchemy import and_, exists, or_, select

from referrals.models import Client, ClientAssignment, InboundRequest
from shared import permissions as p
from shared.errors import NotFound


def parse_id(value, what):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}") from None


def require_clients(caller):
    return caller.require(p.CLIENTS_ALL, p.CLIENTS_ASSIGNED)


def sees_all(caller):
    return caller.has(p.CLIENTS_ALL)


def assigned_to(caller, client_id_column):
    """A condition: the client in ``client_id_column`` is assigned to the caller."""
    return exists().where(ClientAssignment.client_id == client_id_column,
                          ClientAssignment.user_id == caller.user_uuid)


def visible_clients(statement, caller):
    statement = statement.where(Client.org_id == caller.org_uuid)
    return statement if sees_all(caller) else statement.where(assigned_to(caller, Client.id))


def visible_records(statement, model, caller):
    """``model`` (a list or referral) scoped to the program and, for a clinician, to their
    clients (and their own walk-in lists)."""
    statement = statement.where(model.org_id == caller.org_uuid)
    if sees_all(caller):
        return statement
    own_walk_in = model.client_id.is_(None) & (model.created_by == caller.user_uuid)
    return statement.where(or_(assigned_to(caller, model.client_id), own_walk_in))


def get_client(session, caller, client_id, lock=False):
    require_clients(caller)
    statement = visible_clients(select(Client).where(Client.id == parse_id(client_id, "client")), caller)
    client = session.scalars(statement.with_for_update() if lock else statement).first()
    if client is None:
        raise NotFound("No such client")
    return client


def get_record(session, caller, model, record_id, what, lock=False):
    statement = visible_records(select(model).where(model.id == parse_id(record_id, what)), model, caller)
    record = session.scalars(statement.with_for_update(of=model) if lock else statement).first()
    if record is None:
        raise NotFound(f"No such {what}")
    return record


def require_case_manager(caller):
    return caller.require(p.CASE_MANAGER_PORTAL)


def visible_to_case_manager(statement, caller, scope):
    """Inbound requests a case manager sees: the referrals they made, and those made from their
    business unit (seed 002: a unit's colleagues see each other's bookings). ``scope`` is the
    directory's answer for the caller (``directory.referrer_scope``): their record, company and
    current unit. A referral keeps the unit it was made from, so it stays with that unit."""
    statement = statement.where(InboundRequest.org_id == caller.org_uuid)
    own = InboundRequest.case_manager_id == uuid.UUID(scope["case_manager_id"])
    if not scope.get("business_unit_id"):
        return statement.where(own)
    colleagues = and_(InboundRequest.company_id == uuid.UUID(scope["company_id"]),
                      InboundRequest.business_unit_id == uuid.UUID(scope["business_unit_id"]))
    return statement.where(or_(own, colleagues))


def get_case_manager_referral(session, caller, scope, referral_id):
    statement = visible_to_case_manager(
        select(InboundRequest).where(InboundRequest.id == parse_id(referral_id, "referral")), caller, scope)
    referral = session.scalars(statement).first()
    if referral is None:
        raise NotFound("No such referral")
    return referral
