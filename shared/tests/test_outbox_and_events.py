"""The event mechanism every service relies on, against real PostgreSQL and RabbitMQ:
an event committed but never published (the process died) is published by the relay; a
duplicate delivery has one effect; a handler that keeps failing ends in the dead-letter queue."""
import time
import uuid

import pytest
from kombu import Connection
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, create_engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from shared import migrations, outbox
from shared.config import service_database_url
from shared.db import claim_rpc_call
from shared.errors import Unavailable
from shared.events import event_handler
from shared.rpc import rpc
from shared.service import ServiceBase
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.integration

effects_metadata = MetaData()
effects = Table("effects", effects_metadata, Column("event_id", Uuid), Column("value", Integer))


class Producer(ServiceBase):
    name = "outboxtest_producer"

    @rpc
    def make(self, value):
        outbox.emit(self.db, "thing_made", None, {"value": value})
        self.db.commit()


class Recorder(ServiceBase):
    """A service whose RPC has an effect, to see what a redelivered request does."""
    name = "outboxtest_recorder"

    told = []  # what record_and_tell asked of "another service" (an effect outside its database)

    @rpc
    def record(self, value):
        self.db.execute(effects.insert().values(event_id=uuid.uuid4(), value=value))
        self.db.commit()
        return value

    @rpc
    def record_and_tell(self, value):
        self.db.execute(effects.insert().values(event_id=uuid.uuid4(), value=value))
        claim_rpc_call(self.db)
        Recorder.told.append(value)
        self.db.commit()
        return value


class Consumer(ServiceBase):
    name = "outboxtest_consumer"

    @event_handler("outboxtest_producer", "thing_made")
    def on_thing_made(self, event):
        if event.claim(self.db):
            self.db.execute(effects.insert().values(event_id=event.event_id, value=event.data["value"]))
        self.db.commit()

    @event_handler("outboxtest_producer", "poison", max_attempts=3)
    def on_poison(self, event):
        raise RuntimeError("this handler cannot cope")

    outage_left = 0  # how many more deliveries find the database away

    @event_handler("outboxtest_producer", "during_outage", max_attempts=3)
    def on_during_outage(self, event):
        if Consumer.outage_left > 0:
            Consumer.outage_left -= 1
            raise OperationalError("SELECT 1", {}, Exception("the database system is shutting down"))
        if event.claim(self.db):
            self.db.execute(effects.insert().values(event_id=event.event_id, value=event.data["value"]))
        self.db.commit()

    @rpc
    def while_database_away(self):
        raise OperationalError("SELECT 1", {}, Exception("could not connect to server"))


@pytest.fixture
def config(infrastructure):
    config = infrastructure.config()
    urls = [service_database_url(config, name) for name in (Producer.name, Consumer.name, Recorder.name)]
    for url in urls:
        migrations.ensure_database(url)
        engine = create_engine(url)
        outbox.platform_metadata.create_all(engine)
        effects_metadata.create_all(engine)
        engine.dispose()
    yield config
    for url in urls:
        migrations.drop_database(url)


def effect_values(config):
    engine = create_engine(service_database_url(config, Consumer.name))
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(select(effects.c.value)).scalars())
    finally:
        engine.dispose()


def test_an_event_reaches_its_consumer_once(container_factory, config):
    container_factory(Consumer, config).start()
    container_factory(Producer, config).start()
    with ServiceRpcProxy(Producer.name, config) as producer:
        producer.make(7)
    assert wait_until(lambda: effect_values(config) == [7])


def test_an_event_committed_but_never_published_is_published_by_the_relay(container_factory, config):
    # What a producer killed between its commit and its publish leaves behind: a committed
    # outbox row that nobody published (a plain session has no publish-after-commit hook).
    engine = create_engine(service_database_url(config, Producer.name))
    with Session(engine) as session:
        outbox.emit(session, "thing_made", None, {"value": 42})
        session.commit()
    container_factory(Consumer, config).start()
    container_factory(Producer, config).start()  # the restarted producer's relay finds it
    assert wait_until(lambda: effect_values(config) == [42])
    with engine.connect() as conn:
        unpublished = conn.execute(select(func.count()).select_from(outbox.outbox_events)
                                   .where(outbox.outbox_events.c.published_at.is_(None))).scalar()
    engine.dispose()
    assert unpublished == 0


def test_a_duplicate_delivery_has_one_effect(container_factory, config):
    container_factory(Consumer, config).start()
    publisher = outbox.EventPublisher(config["AMQP_URI"], Producer.name)
    body = outbox.envelope("thing_made", None, {"value": 5})
    for _ in range(3):
        publisher.publish("thing_made", body)
    distinct = outbox.envelope("thing_made", None, {"value": 6})
    publisher.publish("thing_made", distinct)
    assert wait_until(lambda: effect_values(config) == [5, 6])
    time.sleep(1)  # any late duplicate would have landed by now
    assert effect_values(config) == [5, 6]


POISON_DEAD_QUEUE = f"evt-{Producer.name}-poison--{Consumer.name}.on_poison.dead"
OUTAGE_QUEUE = f"evt-{Producer.name}-during_outage--{Consumer.name}.on_during_outage"


def dead_letter_count(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        try:
            return channel.queue_declare(queue=queue, passive=True).message_count
        except Exception:
            return 0
        finally:
            channel.close()


def test_a_failing_handler_is_retried_then_dead_lettered(container_factory, config, caplog):
    container_factory(Consumer, config).start()
    before = dead_letter_count(config["AMQP_URI"], POISON_DEAD_QUEUE)
    publisher = outbox.EventPublisher(config["AMQP_URI"], Producer.name)
    body = outbox.envelope("poison", None, {"id": str(uuid.uuid4())})
    publisher.publish("poison", body)
    assert wait_until(lambda: dead_letter_count(config["AMQP_URI"], POISON_DEAD_QUEUE) == before + 1,
                      timeout=30)

    def logged(message):
        return [r for r in caplog.records if r.getMessage() == message]
    # The handler logs right after it publishes to the dead-letter queue, which the test may see first.
    dead = wait_until(lambda: logged("event dead-lettered"), timeout=5)
    assert len(logged("event handler failed; retry scheduled")) == 2 and len(dead) == 1
    assert dead[0].fields["event_id"] == body["event_id"]


def test_an_event_waits_out_a_database_outage_longer_than_its_attempts(container_factory, config):
    """Five failed deliveries against max_attempts=3: transient errors spend no attempt."""
    Consumer.outage_left = 5
    container_factory(Consumer, config).start()
    before = dead_letter_count(config["AMQP_URI"], f"{OUTAGE_QUEUE}.dead")
    outbox.EventPublisher(config["AMQP_URI"], Producer.name).publish(
        "during_outage", outbox.envelope("during_outage", None, {"value": 42}))
    assert wait_until(lambda: 42 in effect_values(config), timeout=30)
    assert Consumer.outage_left == 0 and effect_values(config).count(42) == 1
    assert dead_letter_count(config["AMQP_URI"], f"{OUTAGE_QUEUE}.dead") == before


def test_a_call_that_finds_the_database_away_is_unavailable_not_a_bug(container_factory, config):
    container_factory(Consumer, config).start()
    with ServiceRpcProxy(Consumer.name, config) as consumer, pytest.raises(Unavailable):
        consumer.while_database_away()


def test_a_malformed_envelope_is_dead_lettered_at_once(container_factory, config):
    container_factory(Consumer, config).start()
    before = dead_letter_count(config["AMQP_URI"], POISON_DEAD_QUEUE)
    publisher = outbox.EventPublisher(config["AMQP_URI"], Producer.name)
    publisher.publish("poison", {"not": "an envelope"})
    assert wait_until(lambda: dead_letter_count(config["AMQP_URI"], POISON_DEAD_QUEUE) == before + 1,
                      timeout=15)


def deliver_twice(config, method, value):
    """Answers to the same request (one correlation id) delivered twice, as RabbitMQ delivers it
    again when the service died after doing the work but before acknowledging it."""
    import json

    from kombu import Exchange, Producer as KombuProducer, Queue

    replies = Queue(f"test-replies-{uuid.uuid4().hex}", exchange=Exchange("nameko-rpc", type="topic"),
                    routing_key=f"replies-{uuid.uuid4().hex}", auto_delete=True)
    with Connection(config["AMQP_URI"]) as conn:
        channel = conn.channel()
        replies(channel).declare()
        producer = KombuProducer(channel, exchange=Exchange("nameko-rpc", type="topic"))
        request = json.dumps({"args": [], "kwargs": {"value": value}})
        call_id = f"call-{uuid.uuid4().hex}"
        for _ in range(2):
            producer.publish(request, routing_key=f"{Recorder.name}.{method}", correlation_id=call_id,
                             reply_to=replies.routing_key, content_type="application/json")
        answers = []
        consumer = conn.Consumer(replies, callbacks=[lambda body, message: (answers.append(body), message.ack())],
                                 accept=["json"])
        with consumer:
            deadline = time.monotonic() + 15
            while len(answers) < 2 and time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=1)
                except Exception:
                    pass
    return answers


def recorded_effects(config):
    engine = create_engine(service_database_url(config, Recorder.name))
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(effects)).scalar()
    finally:
        engine.dispose()


def test_a_redelivered_rpc_request_has_one_effect(container_factory, config):
    """The copy carries the same correlation id and must not apply."""
    container_factory(Recorder, config).start()
    answers = deliver_twice(config, "record", 9)
    assert sorted(a["result"] for a in answers if a["error"] is None) == [9]
    assert [a["error"]["exc_type"] for a in answers if a["error"]] == ["Conflict"]
    assert recorded_effects(config) == 1


def test_a_redelivered_rpc_request_that_claims_first_asks_another_service_once(container_factory, config):
    """A call that asks another service for an effect before committing (an invitation) claims
    first: the copy stops at the claim, before asking again."""
    Recorder.told.clear()
    container_factory(Recorder, config).start()
    answers = deliver_twice(config, "record_and_tell", 4)
    assert [a["error"]["exc_type"] for a in answers if a["error"]] == ["Conflict"]
    assert Recorder.told == [4]
    assert recorded_effects(config) == 1
