"""Which messages a request asks for: template per channel, recipient's channel by address,
refusals for requests that reach nobody; and the sending decisions that need no server."""
import pytest

from notify.delivery import DeliveryError
from notify.messages import channel_of_address, plan, template_key
from notify.models import Message
from notify.retry import MAX_ATTEMPTS
from notify.sending import Channels, _failed_attempt, _finish
from shared.errors import ValidationFailed


def request(kind, recipients, channels=("email",)):
    return {"kind": kind, "channels": list(channels), "variables": {},
            "recipients": [{"address": a, "name": "", "language": "en"} for a in recipients]}


@pytest.mark.parametrize("kind, channel, expected", [
    ("password_reset", "email", "password_reset"),
    ("password_reset", "sms", None),
    ("referral_list", "email", "referral_list_email"),
    ("referral_list", "sms", "referral_list_sms"),
    ("referral_list_sms", "sms", "referral_list_sms"),
    ("referral_list_sms", "email", None),
    ("no_such_kind", "email", None),
])
def test_template_key_picks_the_kinds_template_for_the_channel(kind, channel, expected):
    assert template_key(kind, channel) == expected


@pytest.mark.parametrize("address, channel", [
    ("a@example.org", "email"), ("+15551234567", "sms"), ("5551234567", None), ("+0123", None),
])
def test_the_address_decides_the_channel(address, channel):
    assert channel_of_address(address) == channel


def test_each_recipient_is_reached_on_the_channel_of_its_address():
    planned = plan(request("referral_list", ["Client@Example.org", "+15551234567"], ("email", "sms")))
    assert [(r["address"], channel, key) for r, channel, key in planned] == [
        ("client@example.org", "email", "referral_list_email"),
        ("+15551234567", "sms", "referral_list_sms"),
    ]


def test_a_recipient_outside_the_requested_channels_is_left_out():
    planned = plan(request("referral_list", ["a@example.org", "+15551234567"], ("sms",)))
    assert [r["address"] for r, _, _ in planned] == ["+15551234567"]


def test_a_kind_without_a_template_for_a_channel_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        plan(request("password_reset", ["+15551234567"], ("sms",)))
    assert "kind" in caught.value.errors


def test_a_request_that_reaches_nobody_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        plan(request("password_reset", ["+15551234567"]))
    assert "recipients" in caught.value.errors


def test_channels_read_their_settings_from_config():
    channels = Channels.from_config({
        "MAIL_FROM": "Riverside <no-reply@riverside.example>", "SMTP_HOST": "mail", "SMTP_PORT": "587",
        "SMTP_STARTTLS": "true", "SMS_API_URL": "https://api.example", "SMS_ACCOUNT_SID": "AC1",
        "SMS_API_KEY": "key", "SMS_FROM": "+15550000000", "PUBLIC_BASE_URL": "https://h.example/"})
    assert channels.smtp.sender_address == "no-reply@riverside.example"
    assert channels.smtp.sender_name == "Riverside" and channels.smtp.starttls and channels.smtp.port == 587
    assert channels.sms.status_callback_url == "https://h.example/webhooks/sms/status"


def queued_message(attempts):
    return Message(status="queued", attempts=attempts, recipient="ana@example.org",
                   subject="s", body_text="t", body_html="h")


def test_a_transient_failure_is_rescheduled_and_keeps_the_words():
    message = queued_message(attempts=1)
    _failed_attempt(message, DeliveryError(True, "SMTP server unreachable"), retry_base_seconds=2)
    assert message.status == "queued" and message.next_attempt_at is not None
    assert message.body_text == "t" and message.last_error == "SMTP server unreachable"


def test_the_last_attempt_or_a_permanent_failure_fails_and_forgets_the_words(caplog):
    for message, error in ((queued_message(MAX_ATTEMPTS), DeliveryError(True, "down")),
                           (queued_message(1), DeliveryError(False, "550 <ana@example.org> unknown"))):
        _failed_attempt(message, error, retry_base_seconds=2)
        assert message.status == "failed"
        assert message.subject is message.body_text is message.body_html is None
    dead = [r for r in caplog.records if r.getMessage() == "message dead-lettered"]
    assert len(dead) == 2
    assert dead[1].fields["error"] == "550 <<recipient>> unknown"  # the address is not logged


def test_a_recipient_refused_for_good_is_a_bounce(caplog):
    message = queued_message(1)
    _failed_attempt(message, DeliveryError(False, "550 <ana@example.org> no such user", bounced=True),
                    retry_base_seconds=2)
    assert message.status == "bounced" and message.body_text is None
    bounced = [r for r in caplog.records if r.getMessage() == "message bounced"]
    assert bounced[0].fields["error"] == "550 <<recipient>> no such user"


def test_finishing_a_message_clears_its_content():
    message = queued_message(1)
    _finish(message, "sent", provider_message_id="abc")
    assert message.status == "sent" and message.provider_message_id == "abc"
    assert message.subject is message.body_text is message.body_html is None
