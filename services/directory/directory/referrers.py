"""The referrer use cases (seed 002): the caller's permission, the domain call, the commit, the
audit record and the answer's shape. One function per entrypoint; each is one transaction.
Calls to other services come in as an argument (``identity``, nameko's proxy), made on the
caller's behalf."""
import uuid

from directory import case_managers, companies, program_names, promotions, schemas, staff_members, value_lists
from directory.errors import NotFound
from shared import audit, permissions as p
from shared.db import commit_or_undo
from shared.invitations import invite_portal_user
from shared.errors import Forbidden

COMPANY = schemas.CompanyOut()
BUSINESS_UNIT = schemas.BusinessUnitOut()
CASE_MANAGER = schemas.CaseManagerOut()
PROMOTION = schemas.PromotionOut()
MANAGE = p.REFERRERS_MANAGE


def _page(schema, result):
    items, next_cursor = result
    return {"items": schema.dump(items, many=True), "next_cursor": next_cursor}


# Companies and business units

def create_company(session, caller, data):
    caller.require(MANAGE)
    company = companies.create_company(session, caller.org_uuid, caller.user_uuid, data)
    audit.record_for(session, caller, "company.create", "company", company.id)
    session.commit()
    return COMPANY.dump(company)


def get_company(session, caller, company_id):
    caller.require(MANAGE)
    return COMPANY.dump(companies.get_company(session, caller.org_uuid, uuid.UUID(company_id)))


def update_company(session, caller, company_id, data):
    caller.require(MANAGE)
    company = companies.update_company(session, caller.org_uuid, caller.user_uuid, uuid.UUID(company_id), data)
    audit.record_for(session, caller, "company.update", "company", company.id, details={"fields": sorted(data)})
    session.commit()
    return COMPANY.dump(company)


def list_companies(session, caller, query):
    caller.require(MANAGE)
    return _page(COMPANY, companies.list_companies(session, caller.org_uuid, query))


def create_business_unit(session, caller, company_id, data):
    caller.require(MANAGE)
    unit = companies.create_business_unit(session, caller.org_uuid, caller.user_uuid, uuid.UUID(company_id), data)
    audit.record_for(session, caller, "business_unit.create", "business_unit", unit.id,
                     details={"company_id": company_id})
    session.commit()
    return BUSINESS_UNIT.dump(unit)


def list_business_units(session, caller, company_id, query):
    caller.require(MANAGE)
    return _page(BUSINESS_UNIT, companies.list_business_units(session, caller.org_uuid, uuid.UUID(company_id), query))


# Case managers

def create_case_manager(session, caller, data, identity):
    caller.require(MANAGE)
    case_manager, login_given = case_managers.create_case_manager(session, caller.org_uuid, caller.user_uuid, data)
    audit.record_for(session, caller, "case_manager.create", "case_manager", case_manager.id)
    commit_or_undo(session, _invite(session, case_manager, identity) if login_given else None)
    return CASE_MANAGER.dump(case_manager)


def get_case_manager(session, caller, case_manager_id):
    caller.require(MANAGE)
    return CASE_MANAGER.dump(case_managers.get_case_manager(session, caller.org_uuid, uuid.UUID(case_manager_id)))


def update_case_manager(session, caller, case_manager_id, data, identity):
    caller.require(MANAGE)
    expected_version = data.pop("version", None)
    case_manager, login_given = case_managers.update_case_manager(
        session, caller.org_uuid, caller.user_uuid, uuid.UUID(case_manager_id), data, expected_version)
    audit.record_for(session, caller, "case_manager.update", "case_manager", case_manager.id,
                     details={"fields": sorted(data)})
    commit_or_undo(session, _invite(session, case_manager, identity) if login_given else None)
    return CASE_MANAGER.dump(case_manager)


def _invite(session, case_manager, identity):
    """identity creates the login (role case_manager, linked to this record) and emails the
    invitation, before this transaction commits: when identity refuses (say, the address
    already has an account) the case manager's change is not saved either. Answers the Undo
    that revokes the invitation, should the commit fail."""
    _, undo = invite_portal_user(session, identity, {
        "kind": "case_manager", "linked_id": str(case_manager.id), "email": case_manager.email,
        "first_name": case_manager.first_name, "last_name": case_manager.last_name})
    return undo


def case_manager_history(session, caller, case_manager_id, query):
    caller.require(MANAGE)
    result = case_managers.history(session, caller.org_uuid, uuid.UUID(case_manager_id),
                                   limit=query["limit"], cursor=query.get("cursor"))
    return schemas.HistoryPage().dump(result)


def search_case_managers(session, caller, query):
    caller.require(MANAGE)
    return _page(CASE_MANAGER, case_managers.search_case_managers(session, caller.org_uuid, query))


def recruitment(session, caller, query):
    caller.require(MANAGE, p.REPORTS_VIEW)
    counts = case_managers.recruitment_counts(session, caller.org_uuid, query.get("company_id"))
    return schemas.RecruitmentView().dump(counts)


def referrer_scope(session, caller):
    """For the referrals service, on a case manager's behalf: whose referrals they may see."""
    caller.require(p.CASE_MANAGER_PORTAL)
    try:
        case_manager = case_managers.get_case_manager(session, caller.org_uuid, uuid.UUID(str(caller.linked_id)))
    except (NotFound, ValueError):
        raise Forbidden("This login is not linked to a case manager of the program.") from None
    return {"case_manager_id": str(case_manager.id), "company_id": str(case_manager.company_id),
            "business_unit_id": str(case_manager.business_unit_id) if case_manager.business_unit_id else None}


def note_referral(session, event):
    """referrals' inbound_request_received: a case manager's referral may onboard them."""
    if event.data.get("case_manager_id") and event.claim(session):
        case_managers.note_referral(session, uuid.UUID(event.org_id), uuid.UUID(event.data["case_manager_id"]))
    session.commit()


def note_unsubscribe(session, event):
    """notify's promotions_unsubscribed: the address no longer wants the program's promotions."""
    if event.claim(session):
        case_managers.unsubscribe_from_promotions(session, uuid.UUID(event.org_id), event.data["address"])
    session.commit()


def note_staff_change(session, event, active):
    staff_members.apply_user_event(session, event.org_id, event.occurred_at, event.data, active)
    session.commit()


# Value lists

def get_value_list(session, caller, name):
    caller.require(MANAGE, p.SETTINGS_MANAGE)
    return _value_list(session, caller.org_uuid, value_lists.spec(name))


def put_value_list(session, caller, name, data):
    """Replace a list; values removed while in use must be remapped (see value_lists)."""
    caller.require(p.SETTINGS_MANAGE)
    spec, org_id = value_lists.spec(name), caller.org_uuid
    value_lists.lock(session, org_id, name, exclusive=True)
    values, _ = value_lists.current(session, org_id, name)
    usage = case_managers.value_usage(session, org_id, spec.field)
    remapping = value_lists.plan_replacement(values, data["values"], data["remap"], usage)
    case_managers.remap_values(session, org_id, caller.user_uuid, spec.field, remapping)
    value_lists.store(session, org_id, caller.user_uuid, name, data["values"])
    audit.record_for(session, caller, "value_list.update", "value_list", details={
        "name": name, "values": len(data["values"]), "remapped": sorted(remapping)})
    session.commit()
    return _value_list(session, org_id, spec)


def _value_list(session, org_id, spec):
    values, updated_at = value_lists.current(session, org_id, spec.name)
    usage = case_managers.value_usage(session, org_id, spec.field)
    return schemas.ValueListOut().dump({
        "name": spec.name, "field": spec.field, "description": spec.description, "values": values,
        "usage": {value: usage.get(value, 0) for value in values}, "updated_at": updated_at})


# Promotions

def send_promotion(session, caller, data, idempotency_key, ask_program_name):
    caller.require(MANAGE)
    program_name = program_names.signature_of(session, caller.org_uuid, ask_program_name)
    promotion, sent = promotions.send(session, caller.org_uuid, caller.user_uuid, data, program_name, idempotency_key)
    if sent:
        audit.record_for(session, caller, "promotion.send", "promotion", promotion.id,
                         details={"recipients": promotion.recipient_count})
        session.commit()
    return PROMOTION.dump(promotion)


def list_promotions(session, caller, query):
    caller.require(MANAGE)
    return _page(PROMOTION, promotions.list_promotions(session, caller.org_uuid, query))
