"""Consuming events: idempotent by ``event_id``, retried with backoff, dead-lettered.

``event_handler`` is nameko's, with two changes. The handler receives an ``Event`` whose
``claim(session)`` records the event id in the same transaction as the handler's effect, so a
redelivered event has one effect. A handler that raises is not requeued in a tight loop: the
message goes to ``<queue>.retry`` with a growing per-message TTL, which dead-letters it back to
the queue; after ``max_attempts`` it lands in ``<queue>.dead`` with a log line saying so.
"""
import logging
import random
import uuid
from dataclasses import dataclass

from kombu import Queue
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import EventHandler as NamekoEventHandler
from sqlalchemy.dialects.postgresql import insert

from shared.errors import BROKER_CONNECTION_ERRORS, is_transient
from shared.metrics import DEAD_LETTERED
from shared.outbox import processed_events

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-handoff-attempts"
WAITS_HEADER = "x-handoff-waits"  # retries for a transient error: they spend no attempt
DEFAULT_MAX_ATTEMPTS = 5
MAX_RETRY_DELAY_SECONDS = 60


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    occurred_at: str
    org_id: str | None
    data: dict
    consumer: str

    @classmethod
    def from_envelope(cls, body, consumer):
        return cls(event_id=str(uuid.UUID(body["event_id"])), event_type=body["event_type"],
                   occurred_at=body["occurred_at"], org_id=body.get("org_id"),
                   data=body.get("data") or {}, consumer=consumer)

    def claim(self, session):
        """True the first time this consumer sees this event; False on any redelivery.
        Call it inside the transaction that applies the event's effect."""
        inserted = session.execute(
            insert(processed_events)
            .values(consumer=self.consumer, event_id=uuid.UUID(self.event_id))
            .on_conflict_do_nothing()
            .returning(processed_events.c.event_id)
        ).first()
        return inserted is not None


class EventHandler(NamekoEventHandler):
    def __init__(self, source_service, event_type, max_attempts=DEFAULT_MAX_ATTEMPTS, **kwargs):
        self.max_attempts = max_attempts
        super().__init__(source_service, event_type, **kwargs)

    def setup(self):
        super().setup()
        config = self.container.config
        self.retry_base_seconds = float(config.get("EVENT_RETRY_BASE_SECONDS", 1.0))
        self.retry_queue = Queue(f"{self.queue.name}.retry", durable=True, queue_arguments={
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.queue.name})
        self.dead_queue = Queue(f"{self.queue.name}.dead", durable=True)
        self.publisher = Publisher(config[AMQP_URI_CONFIG_KEY], use_confirms=True)
        self.consumer_name = f"{self.container.service_name}.{self.method_name}"

    def handle_message(self, body, message):
        try:
            event = Event.from_envelope(body, self.consumer_name)
        except (KeyError, TypeError, ValueError):
            self._dead_letter(message, attempts=1, reason="malformed event envelope")
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(event, message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        try:
            if exc_info is not None:
                try:
                    self._retry_or_dead_letter(message, exc_info)
                except Exception:  # broker trouble: keep the original for redelivery
                    log.exception("could not schedule event retry")
                    self.queue_consumer.requeue_message(message)
                    return
            self.queue_consumer.ack_message(message)
        except BROKER_CONNECTION_ERRORS as error:
            # Delivered again once the consumer reconnects; the handler's claim makes that harmless.
            log.warning("event left unacknowledged: broker connection lost",
                        extra={"fields": {"consumer": self.consumer_name, "error": str(error)}})

    def _retry_or_dead_letter(self, message, exc_info):
        headers = dict(message.headers or {})
        reason = exc_info[0].__name__
        if is_transient(exc_info[0]):
            # The database is away, not the event wrong: wait for it as long as it takes,
            # rather than dead-letter good events during an outage.
            attempts = int(headers.get(ATTEMPTS_HEADER, 0))
            headers[WAITS_HEADER] = retries = int(headers.get(WAITS_HEADER, 0)) + 1
        else:
            headers[ATTEMPTS_HEADER] = attempts = retries = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
            if attempts >= self.max_attempts:
                self._dead_letter(message, attempts, reason)
                return
        delay = min(self.retry_base_seconds * (2 ** (retries - 1)), MAX_RETRY_DELAY_SECONDS) \
            * (0.5 + random.random() / 2)
        self.publisher.publish(message.payload, exchange="", routing_key=self.retry_queue.name,
                               headers=headers, expiration=delay, declare=[self.retry_queue])
        log.warning("event handler failed; retry scheduled", extra={"fields": {
            "consumer": self.consumer_name, "attempt": attempts, "delay_seconds": round(delay, 2),
            "error": reason}})

    def _dead_letter(self, message, attempts, reason):
        headers = dict(message.headers or {}, **{ATTEMPTS_HEADER: attempts})
        self.publisher.publish(message.payload, exchange="", routing_key=self.dead_queue.name,
                               headers=headers, declare=[self.dead_queue])
        DEAD_LETTERED.labels(self.container.service_name, self.consumer_name).inc()
        body = message.payload if isinstance(message.payload, dict) else {}
        log.error("event dead-lettered", extra={"fields": {
            "consumer": self.consumer_name, "queue": self.dead_queue.name,
            "event_id": body.get("event_id"), "event_type": body.get("event_type"),
            "attempts": attempts, "error": reason}})


event_handler = EventHandler.decorator
