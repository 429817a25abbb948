"""Promotions: marketing email to the program's case managers, only to those subscribed to
promotions and with verified contact details (seed 002).

The email goes through notify (``notification_requested`` in this service's outbox, written
with the promotion), which adds the unsubscribe link and holds the message back from an
address that has unsubscribed since. An unsubscribe also clears the case manager's own flag
(directory.case_managers.unsubscribe_from_promotions), so the next promotion leaves them out."""
import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from directory import case_managers
from directory.models import Promotion
from directory.persistence import made_with_idempotency_key, unique_conflicts
from shared import notifications
from shared.pagination import decode_cursor, page

_SAME_KEY = {"uq_promotions_idempotency": ("A promotion with this Idempotency-Key is being sent.", {})}


def send(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID, data: dict, program_name: str,
         idempotency_key: str | None = None) -> tuple[Promotion, bool]:
    """Send PromotionCreate-shaped ``data``, answering the promotion and whether it was sent now:
    asked again with the same ``idempotency_key``, the first one is answered and nothing is sent twice."""
    if (earlier := made_with_idempotency_key(session, Promotion, org_id, idempotency_key)) is not None:
        return earlier, False
    audience = case_managers.promotion_audience(session, org_id)
    promotion = Promotion(org_id=org_id, sent_by=actor_id, idempotency_key=idempotency_key,
                          recipient_count=len(audience), **data)
    with unique_conflicts(session, _SAME_KEY):
        session.add(promotion)
    for person in audience:  # one request each: the email greets its recipient by name
        notifications.request(
            session, org_id, "promotion",
            [{**notifications.recipient(person.email, f"{person.first_name} {person.last_name}"), "subscribed": True}],
            {"recipient_name": person.first_name, "program_name": program_name, "headline": promotion.headline,
             "message": promotion.message, "link": promotion.link},
            source_ref=f"promotion:{promotion.id}")
    return promotion, True


def list_promotions(session: Session, org_id: uuid.UUID, query: dict) -> tuple[list[Promotion], str | None]:
    """Newest first."""
    statement = select(Promotion).where(Promotion.org_id == org_id)
    if after := decode_cursor(query.get("cursor"), "promotions", key_length=2):
        statement = statement.where(tuple_(Promotion.sent_at, Promotion.id)
                                    < tuple_(datetime.fromisoformat(after[0]), uuid.UUID(after[1])))
    rows = session.scalars(statement.order_by(Promotion.sent_at.desc(), Promotion.id.desc())
                           .limit(query["limit"] + 1)).all()
    return page(rows, query["limit"], lambda row: [row.sent_at.isoformat(), str(row.id)], "promotions")
