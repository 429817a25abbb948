"""The program's service catalog: codes and rates that billable sessions are priced from."""
import uuid

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from billing import subscriptions
from billing.models import CatalogService
from billing.schemas import CatalogServiceSchema
from shared import audit, permissions as p
from shared.errors import Conflict, NotFound
from shared.pagination import decode_cursor, page


def add_service(session, caller, data):
    caller.require(p.INVOICING_MANAGE)
    subscriptions.ensure_org_writable(session, caller.org_id)
    service = CatalogService(id=uuid.uuid4(), org_id=caller.org_uuid, active=True, **data)
    session.add(service)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("A service with this code already exists", errors={"code": ["Already in the catalog"]}) from None
    audit.record_for(session, caller, "invoicing.service.create", "catalog_service", service.id)
    session.commit()
    return CatalogServiceSchema().dump(service)


def list_services(session, caller, query):
    caller.require(p.INVOICING_READ, p.INVOICING_MANAGE)
    statement = select(CatalogService).where(CatalogService.org_id == caller.org_uuid)
    after = decode_cursor(query.get("cursor"))
    if after:
        statement = statement.where(tuple_(CatalogService.code, CatalogService.id) > (after[0], uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(CatalogService.code, CatalogService.id)
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda service: [service.code, str(service.id)])
    return {"items": CatalogServiceSchema(many=True).dump(items), "next_cursor": next_cursor}


def service_of(session, org_id, service_id):
    service = session.scalars(select(CatalogService).where(
        CatalogService.id == service_id, CatalogService.org_id == uuid.UUID(str(org_id)))).first()
    if service is None or not service.active:
        raise NotFound("No such service in the catalog")
    return service
