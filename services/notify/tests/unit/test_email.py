"""Real emails to a real SMTP server (the aiosmtpd stand-in) on loopback."""

import pytest

from notify.delivery import DeliveryError
from notify.email import OutgoingEmail, SmtpSettings, send_email
from shared.testing.standins.smtp_server import SmtpServerStandIn

SENDER = "notifications@handoff.example"


@pytest.fixture
def smtp_server():
    with SmtpServerStandIn() as server:
        yield server


def settings_for(server: SmtpServerStandIn, **overrides) -> SmtpSettings:
    return SmtpSettings(host=server.host, port=server.port, sender_address=SENDER, timeout=5, **overrides)


def an_email(**overrides) -> OutgoingEmail:
    fields = dict(
        to="maria@example.org",
        to_name="María López",
        subject="Su lista de proveedores de Riverside",
        text="Hola, María: aquí está su lista.",
        html="<p>Hola, María: aquí está su lista.</p>",
    )
    return OutgoingEmail(**{**fields, **overrides})


def test_an_email_arrives_as_multipart_alternative_with_its_headers(smtp_server):
    message_id = send_email(settings_for(smtp_server), an_email())

    [received] = smtp_server.wait_for(1)
    message = received.message
    assert received.mail_from == SENDER
    assert received.rcpt_tos == ("maria@example.org",)
    assert message["Message-ID"] == message_id
    assert message_id.startswith("<") and message_id.endswith("@handoff.example>")
    assert message["Date"]
    assert message["From"].addresses[0].addr_spec == SENDER
    assert message["To"].addresses[0].display_name == "María López"
    assert message["Subject"] == "Su lista de proveedores de Riverside"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Hola, María: aquí está su lista."
    assert message.get_body(("html",)).get_content().strip() == "<p>Hola, María: aquí está su lista.</p>"
    assert "List-Unsubscribe" not in message
    assert "Reply-To" not in message


def test_each_email_gets_its_own_message_id(smtp_server):
    first = send_email(settings_for(smtp_server), an_email())
    second = send_email(settings_for(smtp_server), an_email())
    assert first != second


def test_promotional_mail_offers_one_click_unsubscribe(smtp_server):
    unsubscribe_url = "https://handoff.example/public/unsubscribe/abc123"
    send_email(settings_for(smtp_server), an_email(unsubscribe_url=unsubscribe_url))

    message = smtp_server.wait_for(1)[0].message
    assert message["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_reply_to_is_set_when_given(smtp_server):
    send_email(settings_for(smtp_server), an_email(reply_to="intake@riverside.example"))
    assert smtp_server.wait_for(1)[0].message["Reply-To"] == "intake@riverside.example"


def test_logs_in_when_credentials_are_configured():
    with SmtpServerStandIn(username="mailer", password="s3cret") as server:
        send_email(settings_for(server, username="mailer", password="s3cret"), an_email())
        assert len(server.wait_for(1)) == 1

        with pytest.raises(DeliveryError) as refused:
            send_email(settings_for(server, username="mailer", password="wrong"), an_email())
        assert refused.value.transient  # our configuration, not the message


def test_a_server_that_is_down_is_a_transient_failure_and_mail_flows_once_it_is_back(smtp_server):
    smtp_server.stop()
    with pytest.raises(DeliveryError) as down:
        send_email(settings_for(smtp_server), an_email())
    assert down.value.transient

    smtp_server.start()
    send_email(settings_for(smtp_server), an_email())
    assert len(smtp_server.wait_for(1)) == 1


def test_a_recipient_refused_for_good_is_a_permanent_failure(smtp_server):
    smtp_server.refuse("gone@example.org", "550 5.1.1 No such user")
    with pytest.raises(DeliveryError) as refused:
        send_email(settings_for(smtp_server), an_email(to="gone@example.org"))
    assert not refused.value.transient and refused.value.bounced
    assert "550" in refused.value.detail


def test_a_recipient_refused_for_now_is_a_transient_failure(smtp_server):
    smtp_server.refuse("busy@example.org", "450 4.2.1 Mailbox busy, try later")
    with pytest.raises(DeliveryError) as refused:
        send_email(settings_for(smtp_server), an_email(to="busy@example.org"))
    assert refused.value.transient and not refused.value.bounced


def test_a_line_break_in_a_header_is_refused_before_anything_is_sent(smtp_server):
    with pytest.raises(DeliveryError) as refused:
        send_email(settings_for(smtp_server), an_email(subject="Hello\nBcc: victim@example.org"))
    assert not refused.value.transient
    assert smtp_server.messages == []


def test_the_failure_detail_never_carries_the_body(smtp_server):
    smtp_server.refuse("gone@example.org")
    with pytest.raises(DeliveryError) as refused:
        send_email(settings_for(smtp_server), an_email(to="gone@example.org", text="SECRET-NOTE"))
    assert "SECRET-NOTE" not in str(refused.value)


def test_a_message_key_gives_every_attempt_the_same_message_id(smtp_server):
    settings = settings_for(smtp_server)
    first = send_email(settings, an_email(to="ana@example.org", message_key="1234.handoff"))
    again = send_email(settings, an_email(to="ana@example.org", message_key="1234.handoff"))
    assert first == again == f"<1234.handoff@{settings.sender_address.rpartition('@')[2]}>"
