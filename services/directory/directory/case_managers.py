"""Case managers (seed 002): the people at referring companies, their recruitment status and
their field-level history.

Every function takes the caller's ``org_id`` and scopes by it; another program's case manager
is NotFound, exactly like a missing one. Functions flush but never commit. Changes the system
makes on its own (a first referral, an unsubscribe) are recorded in history with no actor."""
import uuid
from datetime import date, datetime, timezone

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from directory import search, search_index, staff_members, value_lists
from directory.errors import Conflict, NotFound, ValidationFailed
from directory.history import HistoryPage, Trail, changes_between, jsonable
from directory.models import BusinessUnit, CaseManager, CaseManagerHistory, Company
from directory.referrer_options import (
    LOGIN_NEEDS_EMAIL, ONBOARDED, ONBOARDED_BY_FIRST_REFERRAL, RECRUITING, RECRUITMENT_STATUSES, VALUE_LISTS,
)
from shared.pagination import decode_cursor, page, query_fingerprint

EDITABLE_FIELDS = (
    "company_id", "business_unit_id", "title", "first_name", "last_name", "email", "phone", "mobile",
    "position", "suburb", "postcode", "state", "linkedin_url", "referral_source",
    "business_support_officer_id", "business_support_officer_assigned_on",
    "contact_verified", "subscribed_to_promotions", "recruitment_status", "has_login",
)
CREATE_DEFAULTS = {"contact_verified": False, "subscribed_to_promotions": False,
                   "recruitment_status": RECRUITING, "has_login": False}
# Fields whose words text search finds (see search_index.text_document).
SEARCH_FIELDS = ("title", "first_name", "last_name", "email", "phone", "mobile", "position", "referral_source",
                 "suburb", "postcode", "state")
# List filters: text fields match ignoring case; the others match exactly.
TEXT_FILTERS = ("title", "first_name", "last_name", "email", "phone", "mobile", "position", "suburb", "postcode",
                "state", "linkedin_url", "referral_source")
EXACT_FILTERS = ("company_id", "business_unit_id", "business_support_officer_id", "created_by", "contact_verified",
                 "subscribed_to_promotions", "has_login")
VALUE_LIST_OF_FIELD = {spec.field: spec.name for spec in VALUE_LISTS.values()}
HISTORY = Trail(CaseManagerHistory, "case_manager_id")


def create_case_manager(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID,
                        data: dict) -> tuple[CaseManager, bool]:
    """Add a case manager from CaseManagerCreate-shaped ``data``; also answers whether they were
    given a login (the caller then has identity invite them)."""
    values = {**dict.fromkeys(EDITABLE_FIELDS), **CREATE_DEFAULTS, **data}
    _assign_officer_date(values, officer_changed=values["business_support_officer_id"] is not None,
                         date_given="business_support_officer_assigned_on" in data)
    _validate(session, org_id, values, current={})
    case_manager = CaseManager(org_id=org_id, created_by=actor_id, updated_by=actor_id, version=1, **values)
    if values["has_login"]:
        case_manager.login_invited_at = datetime.now(timezone.utc)
    case_manager.search_vector = _search_document(values)
    session.add(case_manager)
    session.flush()
    HISTORY.record(session, org_id, case_manager.id, actor_id, "created",
                   {field: (None, value) for field, value in jsonable(values).items() if value is not None})
    return case_manager, values["has_login"]


def get_case_manager(session: Session, org_id: uuid.UUID, case_manager_id: uuid.UUID,
                     lock: bool = False) -> CaseManager:
    statement = select(CaseManager).where(CaseManager.org_id == org_id, CaseManager.id == case_manager_id)
    case_manager = session.scalar(statement.with_for_update() if lock else statement)
    if case_manager is None:
        raise NotFound("Case manager not found.")
    return case_manager


def update_case_manager(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID, case_manager_id: uuid.UUID,
                        changes: dict, expected_version: int | None = None) -> tuple[CaseManager, bool]:
    """Apply CaseManagerUpdate-shaped ``changes``; also answers whether a login was just given."""
    case_manager = get_case_manager(session, org_id, case_manager_id, lock=True)
    if expected_version is not None and expected_version != case_manager.version:
        raise Conflict("The case manager was changed by someone else; reload and try again.",
                       {"version": [f"Current version is {case_manager.version}."]})
    current = _editable(case_manager)
    values = {**current, **changes}
    _assign_officer_date(values, officer_changed=values["business_support_officer_id"]
                         != current["business_support_officer_id"],
                         date_given="business_support_officer_assigned_on" in changes)
    _validate(session, org_id, values, current)
    _apply(session, case_manager, actor_id, values)
    return case_manager, values["has_login"] and not current["has_login"]


def history(session: Session, org_id: uuid.UUID, case_manager_id: uuid.UUID, limit: int = 50,
            cursor: str | None = None) -> HistoryPage:
    get_case_manager(session, org_id, case_manager_id)
    return HISTORY.page(session, org_id, case_manager_id, limit, cursor)


def search_case_managers(session: Session, org_id: uuid.UUID, query: dict) -> tuple[list[CaseManager], str | None]:
    """CaseManagerQuery-shaped ``query``: every filter given must hold; by last name, first
    name, then id."""
    conditions = [CaseManager.org_id == org_id]
    conditions += [func.lower(getattr(CaseManager, field)) == query[field].strip().lower()
                   for field in TEXT_FILTERS if field in query]
    conditions += [getattr(CaseManager, field) == query[field] for field in EXACT_FILTERS if field in query]
    if query.get("recruitment_status"):
        conditions.append(CaseManager.recruitment_status.in_(query["recruitment_status"]))
    if "business_support_officer_assigned_from" in query:
        conditions.append(CaseManager.business_support_officer_assigned_on
                          >= query["business_support_officer_assigned_from"])
    if "business_support_officer_assigned_until" in query:
        conditions.append(CaseManager.business_support_officer_assigned_on
                          <= query["business_support_officer_assigned_until"])
    if query.get("q"):
        conditions.append(CaseManager.search_vector.op("@@")(search.web_query(query["q"])))

    fingerprint = query_fingerprint("case_managers", {k: v for k, v in query.items() if k not in ("limit", "cursor")})
    sort_key = (CaseManager.last_name, CaseManager.first_name, CaseManager.id)
    if after := decode_cursor(query.get("cursor"), fingerprint, key_length=3):
        conditions.append(tuple_(*sort_key) > tuple_(after[0], after[1], uuid.UUID(after[2])))
    rows = session.scalars(select(CaseManager).where(*conditions).order_by(*sort_key).limit(query["limit"] + 1)).all()
    return page(rows, query["limit"], lambda row: [row.last_name, row.first_name, str(row.id)], fingerprint)


def recruitment_counts(session: Session, org_id: uuid.UUID, company_id: uuid.UUID | None = None) -> dict:
    """Case managers per recruitment status, and per business support officer and status."""
    statement = (select(CaseManager.business_support_officer_id, CaseManager.recruitment_status, func.count())
                 .where(CaseManager.org_id == org_id)
                 .group_by(CaseManager.business_support_officer_id, CaseManager.recruitment_status))
    if company_id is not None:
        statement = statement.where(CaseManager.company_id == company_id)
    by_status = dict.fromkeys(RECRUITMENT_STATUSES, 0)
    officers: dict[uuid.UUID | None, dict] = {}
    for officer_id, status, count in session.execute(statement):
        by_status[status] += count
        officer = officers.setdefault(officer_id, {"business_support_officer_id": officer_id, "total": 0,
                                                   "by_status": dict.fromkeys(RECRUITMENT_STATUSES, 0)})
        officer["total"] += count
        officer["by_status"][status] += count
    def most_first(officer):
        return -officer["total"], str(officer["business_support_officer_id"] or "")
    return {"total": sum(by_status.values()), "by_status": by_status,
            "by_business_support_officer": sorted(officers.values(), key=most_first)}


def note_referral(session: Session, org_id: uuid.UUID, case_manager_id: uuid.UUID) -> bool:
    """A case manager made a referral: one not yet Onboarded now is (seed 002: Onboarded means
    requesting bookings). True when the status changed."""
    case_manager = session.scalar(select(CaseManager).where(CaseManager.org_id == org_id,
                                                            CaseManager.id == case_manager_id).with_for_update())
    if case_manager is None or case_manager.recruitment_status not in ONBOARDED_BY_FIRST_REFERRAL:
        return False
    _apply(session, case_manager, None, {**_editable(case_manager), "recruitment_status": ONBOARDED})
    return True


def unsubscribe_from_promotions(session: Session, org_id: uuid.UUID, email: str) -> int:
    """Someone used the unsubscribe link of a promotion: the program's case managers with that
    address are no longer subscribed. Answers how many changed."""
    rows = session.scalars(select(CaseManager).where(
        CaseManager.org_id == org_id, func.lower(CaseManager.email) == email.strip().lower(),
        CaseManager.subscribed_to_promotions).with_for_update()).all()
    for case_manager in rows:
        _apply(session, case_manager, None, {**_editable(case_manager), "subscribed_to_promotions": False})
    return len(rows)


def promotion_audience(session: Session, org_id: uuid.UUID) -> list[CaseManager]:
    """Who a promotion goes to: subscribed to promotions, contact details verified, an email."""
    return list(session.scalars(select(CaseManager).where(
        CaseManager.org_id == org_id, CaseManager.subscribed_to_promotions, CaseManager.contact_verified,
        CaseManager.email.is_not(None)).order_by(CaseManager.id)))


def value_usage(session: Session, org_id: uuid.UUID, field: str) -> dict[str, int]:
    """How many case managers have each value of ``field``."""
    column = getattr(CaseManager, field)
    return dict(session.execute(select(column, func.count()).where(CaseManager.org_id == org_id, column.is_not(None))
                                .group_by(column)).all())


def remap_values(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID, field: str,
                 mapping: dict[str, str]) -> None:
    """Give the case managers with a removed value of a value list its replacement (with history)."""
    column = getattr(CaseManager, field)
    rows = session.scalars(select(CaseManager).where(CaseManager.org_id == org_id, column.in_(list(mapping)))
                           .with_for_update()).all()
    for case_manager in rows:
        _apply(session, case_manager, actor_id, {**_editable(case_manager), field: mapping[getattr(case_manager, field)]})


def _editable(case_manager: CaseManager) -> dict:
    return {field: getattr(case_manager, field) for field in EDITABLE_FIELDS}


def _assign_officer_date(values: dict, officer_changed: bool, date_given: bool) -> None:
    """A business support officer newly set is assigned today, unless a date is given; without
    an officer there is no assignment date."""
    if officer_changed and not date_given:
        values["business_support_officer_assigned_on"] = date.today() if values["business_support_officer_id"] else None


def _apply(session: Session, case_manager: CaseManager, actor_id: uuid.UUID | None, values: dict) -> None:
    """Write ``values`` (all editable fields) and one history row per field that really changed."""
    changed = changes_between(_editable(case_manager), values, EDITABLE_FIELDS)
    if not changed:
        return
    for field in changed:
        setattr(case_manager, field, values[field])
    if "has_login" in changed:
        case_manager.login_invited_at = datetime.now(timezone.utc)
    if changed.keys() & set(SEARCH_FIELDS):
        case_manager.search_vector = _search_document(values)
    case_manager.version += 1
    case_manager.updated_by = actor_id
    session.flush()
    HISTORY.record(session, case_manager.org_id, case_manager.id, actor_id, "updated", changed)


def _search_document(values: dict):
    return search_index.text_document(*(values[field] for field in SEARCH_FIELDS))


def _validate(session: Session, org_id: uuid.UUID, values: dict, current: dict) -> None:
    """Rules that need the program's data or the record as a whole (shape is the schemas')."""
    def changed(field):
        return values[field] != current.get(field)

    errors: dict[str, list[str]] = {}
    if changed("company_id") and session.scalar(
            select(Company.id).where(Company.org_id == org_id, Company.id == values["company_id"])) is None:
        errors["company_id"] = ["No such company."]
    if values["business_unit_id"] and (changed("business_unit_id") or changed("company_id")):
        unit_company = session.scalar(select(BusinessUnit.company_id).where(
            BusinessUnit.org_id == org_id, BusinessUnit.id == values["business_unit_id"]))
        if unit_company is None:
            errors["business_unit_id"] = ["No such business unit."]
        elif unit_company != values["company_id"]:
            errors["business_unit_id"] = ["Not a business unit of the case manager's company."]
    for field, list_name in VALUE_LIST_OF_FIELD.items():
        if values[field] is not None and changed(field):
            value_lists.lock(session, org_id, list_name, exclusive=False)
            allowed, _ = value_lists.current(session, org_id, list_name)
            if values[field] not in allowed:
                errors[field] = [f"Not in the {list_name} value list; add it there first."]
    officer = values["business_support_officer_id"]
    if officer and changed("business_support_officer_id") and not staff_members.is_active_staff(session, org_id,
                                                                                                   officer):
        errors["business_support_officer_id"] = ["Not an active staff member of the program."]
    if values["business_support_officer_assigned_on"] and not officer:
        errors["business_support_officer_assigned_on"] = ["Only with a business support officer."]
    if values["has_login"] and not values["email"]:
        errors["email"] = [LOGIN_NEEDS_EMAIL]
    if current.get("has_login") and not values["has_login"]:
        errors["has_login"] = ["A login is not taken back here: disable it under staff (kind case_manager)."]
    if errors:
        raise ValidationFailed("The case manager is not valid.", errors)
