"""The transactional outbox.

``emit`` writes an event in the caller's transaction. After the commit the ``Database``
provider publishes it at once, with publisher confirms; its relay loop marks what was published
and sweeps whatever is still unpublished after a short grace period (a process killed between
commit and publish, a broker that was down). Delivery is therefore at-least-once; consumers are made
idempotent by ``shared.events``.
"""
import logging
import uuid
from datetime import datetime, timezone

from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import (
    Column, DateTime, Index, MetaData, String, Table, Uuid, func, text, update,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.logs import current_request_id

log = logging.getLogger(__name__)

PENDING_KEY = "handoff.outbox.pending"
RELAY_GRACE_SECONDS = 3
RELAY_BATCH = 500

# Platform tables every service database carries; each service's alembic chain creates them.
platform_metadata = MetaData()

outbox_events = Table(
    "outbox_events", platform_metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("request_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Index("ix_outbox_unpublished", "created_at", postgresql_where=text("published_at IS NULL")),
)

processed_events = Table(
    "processed_events", platform_metadata,
    Column("consumer", String(200), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def envelope(event_type, org_id, data, event_id=None):
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "org_id": str(org_id) if org_id else None,
        "data": data,
    }


def emit(session, event_type, org_id, data):
    """Record ``event_type`` in the outbox, inside the session's current transaction."""
    body = envelope(event_type, org_id, data)
    request_id = current_request_id()
    session.execute(outbox_events.insert().values(
        event_id=uuid.UUID(body["event_id"]), event_type=event_type, payload=body,
        request_id=request_id,
    ))
    session.info.setdefault(PENDING_KEY, []).append((event_type, body, request_id))
    return body


def take_pending(session):
    return session.info.pop(PENDING_KEY, None)


def discard_pending(session):
    session.info.pop(PENDING_KEY, None)


class EventPublisher:
    """Publishes envelopes to ``<service>.events`` exactly as nameko's dispatcher would, so
    ordinary ``event_handler(service, event_type)`` consumers receive them."""

    def __init__(self, amqp_uri, service_name):
        self.exchange = get_event_exchange(service_name, {})
        self.publisher = Publisher(
            amqp_uri, use_confirms=True, declare=[self.exchange],
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                          "interval_max": 0.5},
        )

    def publish(self, event_type, body, request_id=None):
        headers = {"nameko.request_id": request_id} if request_id else {}
        self.publisher.publish(body, exchange=self.exchange, routing_key=event_type,
                               headers=headers)


def publish_now(publisher, pending):
    """Called after commit: publishes and returns the ids it published (to be marked by the
    relay, in one statement for many workers, with no second connection per worker). A failure
    here is not the caller's failure: the relay publishes whatever is left."""
    published = []
    try:
        for event_type, body, request_id in pending:
            publisher.publish(event_type, body, request_id)
            published.append(uuid.UUID(body["event_id"]))
    except Exception as exc:  # broker down or slow: the relay will publish the rest
        log.warning("outbox publish deferred to relay", extra={"fields": {"error": str(exc)}})
    return published


def mark_published(engine, event_ids):
    with engine.begin() as conn:
        conn.execute(update(outbox_events)
                     .where(outbox_events.c.event_id.in_(event_ids))
                     .values(published_at=func.now()))


def relay(engine, publisher, grace_seconds=RELAY_GRACE_SECONDS, batch=RELAY_BATCH):
    """Publish events left unpublished for longer than the grace period. Several instances
    may sweep at once: ``SKIP LOCKED`` gives each row to one of them."""
    with engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT event_id, event_type, payload, request_id FROM outbox_events "
            "WHERE published_at IS NULL AND created_at < now() - make_interval(secs => :grace) "
            "ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED"
        ), {"grace": grace_seconds, "batch": batch}).all()
        for row in rows:
            publisher.publish(row.event_type, row.payload, row.request_id)
        if rows:
            conn.execute(update(outbox_events)
                         .where(outbox_events.c.event_id.in_([r.event_id for r in rows]))
                         .values(published_at=func.now()))
            log.info("outbox relay published", extra={"fields": {"count": len(rows)}})
    return len(rows)


def backlog(engine):
    """Unpublished events and the age in seconds of the oldest, for metrics and /ready."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
            "FROM outbox_events WHERE published_at IS NULL")).one()
    return {"unpublished": row[0], "oldest_age_seconds": float(row[1])}
