"""Companies that refer clients to the program, and their business units (seed 002).

Every function takes the caller's ``org_id`` and scopes by it; another program's company is
NotFound, exactly like a missing one. Functions flush but never commit."""
import uuid

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from directory.errors import NotFound
from directory.models import BusinessUnit, Company
from directory.persistence import unique_conflicts
from shared.pagination import decode_cursor, page, query_fingerprint

_NAME_CONFLICT = {"uq_companies_org_name": ("Another company has this name.", {"name": ["Already in use."]})}
_UNIT_CONFLICT = {"uq_business_units_company_name": ("The company already has a unit of this name.",
                                                      {"name": ["Already in use in this company."]})}


def create_company(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID, data: dict) -> Company:
    company = Company(org_id=org_id, created_by=actor_id, updated_by=actor_id, **data)
    with unique_conflicts(session, _NAME_CONFLICT):
        session.add(company)
    return company


def get_company(session: Session, org_id: uuid.UUID, company_id: uuid.UUID, lock: bool = False) -> Company:
    statement = select(Company).where(Company.org_id == org_id, Company.id == company_id)
    company = session.scalar(statement.with_for_update() if lock else statement)
    if company is None:
        raise NotFound("Company not found.")
    return company


def update_company(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID, company_id: uuid.UUID,
                   changes: dict) -> Company:
    company = get_company(session, org_id, company_id, lock=True)
    with unique_conflicts(session, _NAME_CONFLICT):
        for field, value in changes.items():
            setattr(company, field, value)
        company.updated_by = actor_id
    return company


def list_companies(session: Session, org_id: uuid.UUID, query: dict) -> tuple[list[Company], str | None]:
    """By name (case-insensitive), then id; ``q`` keeps the names containing it."""
    statement = select(Company).where(Company.org_id == org_id)
    if query.get("q"):
        statement = statement.where(Company.name.icontains(query["q"], autoescape=True))
    return _by_name(session, statement, Company, query, query_fingerprint("companies", query.get("q")))


def create_business_unit(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID, company_id: uuid.UUID,
                         data: dict) -> BusinessUnit:
    company = get_company(session, org_id, company_id)
    unit = BusinessUnit(org_id=org_id, company_id=company.id, created_by=actor_id, **data)
    with unique_conflicts(session, _UNIT_CONFLICT):
        session.add(unit)
    return unit


def list_business_units(session: Session, org_id: uuid.UUID, company_id: uuid.UUID,
                        query: dict) -> tuple[list[BusinessUnit], str | None]:
    company = get_company(session, org_id, company_id)
    statement = select(BusinessUnit).where(BusinessUnit.org_id == org_id, BusinessUnit.company_id == company.id)
    return _by_name(session, statement, BusinessUnit, query, query_fingerprint("business_units", str(company.id)))


def _by_name(session: Session, statement, model, query: dict, fingerprint: str) -> tuple[list, str | None]:
    """A keyset page of ``statement`` in (lower(name), id) order. The sort key comes back from
    PostgreSQL, so the cursor compares exactly as the ORDER BY does."""
    sort_name = func.lower(model.name).label("sort_name")
    if after := decode_cursor(query.get("cursor"), fingerprint, key_length=2):
        statement = statement.where(tuple_(sort_name, model.id) > tuple_(after[0], uuid.UUID(after[1])))
    rows = session.execute(statement.add_columns(sort_name).order_by(sort_name, model.id)
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda row: [row.sort_name, str(row[0].id)], fingerprint)
    return [row[0] for row in items], next_cursor
