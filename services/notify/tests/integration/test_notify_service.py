"""The notify service in a nameko container against real PostgreSQL, RabbitMQ and SMTP:
redelivered events, dead-lettering after the retry limit, promotions and their unsubscribe link."""
import logging
import time
import uuid

import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from notify.models import Message
from notify.retry import MAX_ATTEMPTS
from notify.service import NotifyService
from shared import permissions
from shared.auth import AUTH_CONTEXT_KEY, AuthContext
from shared.notifications import NOTIFICATION_REQUESTED, recipient
from shared.outbox import EventPublisher, envelope
from shared.testing.waiting import free_port, wait_until

pytestmark = pytest.mark.integration

ORG_ID = str(uuid.uuid4())
PUBLIC_BASE_URL = "https://handoff.example"


def notify_config(infrastructure, smtp_port, **extra):
    return infrastructure.config(
        SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_port, SMTP_TIMEOUT_SECONDS=2, MAIL_FROM="Handoff <no-reply@handoff.test>",
        SMS_API_URL="http://127.0.0.1:9", SMS_ACCOUNT_SID="AC1", SMS_API_KEY="key", SMS_FROM="+15550000000",
        PUBLIC_BASE_URL=PUBLIC_BASE_URL, **extra)


@pytest.fixture
def messages_of(infrastructure):
    engine = create_engine(infrastructure.database_url_of("notify"))

    def read(**where):
        with Session(engine) as session:
            return session.scalars(select(Message).filter_by(**where)).all()
    yield read
    engine.dispose()


def rpc_as_admin(config):
    caller = AuthContext(user_id=str(uuid.uuid4()), org_id=ORG_ID, role="org_admin",
                         permissions=frozenset({permissions.SETTINGS_MANAGE, permissions.REFERRALS_MANAGE}))
    return ServiceRpcProxy("notify", config, context_data={AUTH_CONTEXT_KEY: caller.to_header()})


def test_a_redelivered_event_makes_one_message(container_factory, infrastructure, mail, messages_of):
    config = notify_config(infrastructure, mail.port)
    container_factory(NotifyService, config).start()
    address = f"twice-{uuid.uuid4().hex[:8]}@example.org"
    body = envelope(NOTIFICATION_REQUESTED, ORG_ID, {
        "kind": "password_reset", "channels": ["email"], "recipients": [recipient(address, "Ana", "es")],
        "variables": {"recipient_name": "Ana", "expires_in_minutes": 60, "link": "https://x.example/r/1"}})
    publisher = EventPublisher(config["AMQP_URI"], "billing")
    for _ in range(3):
        publisher.publish(NOTIFICATION_REQUESTED, body)

    assert wait_until(lambda: mail.messages_to(address))
    time.sleep(1)
    assert len(mail.messages_to(address)) == 1
    [message] = messages_of(recipient=address)
    assert (message.status, message.language, message.attempts) == ("sent", "es", 1)
    assert message.body_text is None and message.subject is None  # not kept once sent


def test_after_the_retry_limit_a_message_is_failed_and_dead_lettered(
        container_factory, infrastructure, messages_of, caplog):
    config = notify_config(infrastructure, free_port(), DELIVERY_RETRY_BASE_SECONDS=0.01)  # nobody listens
    container_factory(NotifyService, config).start()
    address = f"nowhere-{uuid.uuid4().hex[:8]}@example.org"
    with caplog.at_level(logging.WARNING, logger="notify.sending"), rpc_as_admin(config) as notify:
        notify.request({"kind": "password_reset", "source_event_id": str(uuid.uuid4()),
                        "recipients": [recipient(address)],
                        "variables": {"recipient_name": "", "expires_in_minutes": 60, "link": "https://x.example"}})
        failed = wait_until(lambda: messages_of(recipient=address, status="failed"))
    assert failed[0].attempts == MAX_ATTEMPTS and "unreachable" in failed[0].last_error
    dead = [r for r in caplog.records if r.getMessage() == "message dead-lettered"]
    assert len(dead) == 1 and dead[0].fields["message_id"] == str(failed[0].id)
    assert address not in caplog.text  # log lines name message ids, never addresses


def test_promotions_go_only_to_subscribers_and_stop_after_unsubscribing(
        container_factory, infrastructure, mail, messages_of):
    config = notify_config(infrastructure, mail.port)
    container_factory(NotifyService, config).start()
    subscriber, other = (f"{name}-{uuid.uuid4().hex[:8]}@example.org" for name in ("fan", "other"))
    variables = {"recipient_name": "", "program_name": "Riverside", "headline": "Spring groups",
                 "message": "Three new groups.", "link": "https://riverside.example/groups"}

    def promote():
        with rpc_as_admin(config) as notify:
            return notify.request({"kind": "promotion", "source_event_id": str(uuid.uuid4()),
                                   "variables": variables, "recipients": [
                                       {**recipient(subscriber), "subscribed": True}, recipient(other)]})

    promote()
    [mail_to_fan] = wait_until(lambda: mail.messages_to(subscriber))
    assert not mail.messages_to(other)
    assert messages_of(recipient=other)[0].last_error == "not subscribed to promotions"
    one_click = mail_to_fan["List-Unsubscribe"].strip().strip("<>")
    assert one_click.startswith(f"{PUBLIC_BASE_URL}/public/unsubscribe/")
    assert f"{PUBLIC_BASE_URL}/unsubscribe/" in mail_to_fan.get_body(("plain",)).get_content()

    with ServiceRpcProxy("notify", config) as notify:  # the public route: no caller
        notify.unsubscribe(one_click.rsplit("/", 1)[1])
        notify.unsubscribe(one_click.rsplit("/", 1)[1])  # a second click changes nothing more
    engine = create_engine(infrastructure.database_url_of("notify"))
    with engine.connect() as connection:
        told = connection.execute(text(
            "SELECT payload FROM outbox_events WHERE event_type = 'promotions_unsubscribed' "
            "AND payload->'data'->>'address' = :address"), {"address": subscriber}).scalars().all()
    engine.dispose()
    assert [(event["org_id"], event["data"]["channel"]) for event in told] == [(ORG_ID, "email")]
    promote()
    assert wait_until(lambda: len(messages_of(recipient=subscriber)) == 2)
    suppressed = wait_until(lambda: messages_of(recipient=subscriber, status="failed"))
    assert suppressed[0].last_error == "recipient unsubscribed from promotions"
    assert len(mail.messages_to(subscriber)) == 1


def test_print_renders_a_referral_list_pdf(container_factory, infrastructure):
    config = notify_config(infrastructure, free_port())
    container_factory(NotifyService, config).start()
    with rpc_as_admin(config) as notify:
        result = notify.render_pdf({"program_name": "Riverside", "language": "es",
                                    "items": [{"name": "José Núñez", "phone": "+1 555 0100"}]})
    file = result["__file__"]
    assert file["content_type"] == "application/pdf" and file["content_b64"].startswith("JVBER")
