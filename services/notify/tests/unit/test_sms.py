"""Texts through the SMS provider stand-in over real HTTP, Twilio's signature, inbound keywords."""

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notify.delivery import DeliveryError
from notify.sms import SmsSettings, parse_inbound_keyword, send_sms, twilio_signature, verify_twilio_signature
from shared.testing.standins.sms_provider import SmsProviderStandIn

OUR_NUMBER = "+15005550006"
CLIENT_NUMBER = "+14155550123"


class WebhookReceiver:
    """Our side of the provider's callbacks, reduced to recording what arrives."""

    def __init__(self):
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {name: values[0] for name, values in urllib.parse.parse_qs(body).items()}
                receiver.requests.append((self.path, form, self.headers.get("X-Twilio-Signature")))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def provider():
    with SmsProviderStandIn() as standin:
        yield standin


@pytest.fixture
def receiver():
    webhook_receiver = WebhookReceiver()
    webhook_receiver.thread.start()
    yield webhook_receiver
    webhook_receiver.server.shutdown()
    webhook_receiver.server.server_close()


def settings_for(provider: SmsProviderStandIn, **overrides) -> SmsSettings:
    fields = dict(
        api_url=provider.url,
        account_sid=provider.account_sid,
        auth_token=provider.auth_token,
        from_number=OUR_NUMBER,
        status_callback_url="https://handoff.example/webhooks/sms/status",
        timeout=5,
    )
    return SmsSettings(**{**fields, **overrides})


def test_a_text_reaches_the_provider_and_its_id_comes_back(provider):
    sid = send_sms(settings_for(provider), CLIENT_NUMBER, "Your referral list: https://h.example/l/1")

    [message] = provider.messages
    assert sid == message.sid and sid.startswith("SM")
    assert (message.to, message.from_, message.body) == (
        CLIENT_NUMBER, OUR_NUMBER, "Your referral list: https://h.example/l/1"
    )
    assert message.status_callback == "https://handoff.example/webhooks/sms/status"


@pytest.mark.parametrize("status", [503, 429])
def test_an_unavailable_or_throttling_provider_is_a_transient_failure(provider, status):
    provider.fail_next(1, status=status)
    with pytest.raises(DeliveryError) as failed:
        send_sms(settings_for(provider), CLIENT_NUMBER, "hello")
    assert failed.value.transient
    assert str(status) in failed.value.detail

    send_sms(settings_for(provider), CLIENT_NUMBER, "hello")  # the retry goes through
    assert len(provider.messages) == 1


def test_an_invalid_number_is_a_permanent_failure(provider):
    with pytest.raises(DeliveryError) as refused:
        send_sms(settings_for(provider), "555-0123", "hello")
    assert not refused.value.transient
    assert "400" in refused.value.detail and "21211" in refused.value.detail


def test_a_rejected_login_is_transient_because_it_is_our_configuration(provider):
    with pytest.raises(DeliveryError) as refused:
        send_sms(settings_for(provider, auth_token="wrong"), CLIENT_NUMBER, "hello")
    assert refused.value.transient
    assert provider.messages == []


def test_an_unreachable_provider_is_a_transient_failure(provider):
    settings = settings_for(provider)
    provider.stop()
    with pytest.raises(DeliveryError) as failed:
        send_sms(settings, CLIENT_NUMBER, "hello")
    assert failed.value.transient


def test_the_failure_detail_never_carries_the_body(provider):
    provider.fail_next(1)
    with pytest.raises(DeliveryError) as failed:
        send_sms(settings_for(provider), CLIENT_NUMBER, "SECRET-NOTE")
    assert "SECRET-NOTE" not in str(failed.value)


def test_status_callbacks_carry_a_signature_we_verify(provider, receiver):
    callback_url = receiver.url("/webhooks/sms/status")
    sid = send_sms(settings_for(provider, status_callback_url=callback_url), CLIENT_NUMBER, "hello")

    answer = provider.deliver(sid, "delivered")

    assert answer.status == 204
    [(path, form, signature)] = receiver.requests
    assert path == "/webhooks/sms/status"
    assert (form["MessageSid"], form["MessageStatus"], form["To"], form["From"]) == (
        sid, "delivered", CLIENT_NUMBER, OUR_NUMBER
    )
    assert verify_twilio_signature(provider.auth_token, callback_url, form, signature)
    assert not verify_twilio_signature(provider.auth_token, callback_url, {**form, "MessageStatus": "failed"}, signature)
    assert not verify_twilio_signature("another-token", callback_url, form, signature)
    assert provider.messages[0].status == "delivered"


def test_a_stop_text_arrives_signed_and_the_provider_then_refuses_that_number(provider, receiver):
    inbound_url = receiver.url("/webhooks/sms/inbound")
    provider.send_inbound(inbound_url, from_=CLIENT_NUMBER, to=OUR_NUMBER, body=" Stop ")

    [(_, form, signature)] = receiver.requests
    assert verify_twilio_signature(provider.auth_token, inbound_url, form, signature)
    assert parse_inbound_keyword(form["Body"]) == "stop"
    with pytest.raises(DeliveryError) as refused:
        send_sms(settings_for(provider), CLIENT_NUMBER, "hello")
    assert not refused.value.transient and "21610" in refused.value.detail


# Twilio's published example (its request-validation documentation and its libraries' tests).
TWILIO_EXAMPLE_TOKEN = "12345"
TWILIO_EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_EXAMPLE_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
TWILIO_EXAMPLE_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_the_signature_matches_twilios_published_example():
    assert twilio_signature(TWILIO_EXAMPLE_TOKEN, TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS) == TWILIO_EXAMPLE_SIGNATURE
    assert verify_twilio_signature(TWILIO_EXAMPLE_TOKEN, TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, TWILIO_EXAMPLE_SIGNATURE)


@pytest.mark.parametrize(
    "url, params, signature",
    [
        (TWILIO_EXAMPLE_URL, {**TWILIO_EXAMPLE_PARAMS, "Digits": "9999"}, TWILIO_EXAMPLE_SIGNATURE),
        (TWILIO_EXAMPLE_URL, {**TWILIO_EXAMPLE_PARAMS, "Extra": "1"}, TWILIO_EXAMPLE_SIGNATURE),
        ("https://mycompany.com/myapp.php?foo=1&bar=3", TWILIO_EXAMPLE_PARAMS, TWILIO_EXAMPLE_SIGNATURE),
        ("https://evil.example/myapp.php?foo=1&bar=2", TWILIO_EXAMPLE_PARAMS, TWILIO_EXAMPLE_SIGNATURE),
        (TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8X"),
        (TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, ""),
        (TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, None),
    ],
)
def test_a_tampered_request_is_rejected(url, params, signature):
    assert not verify_twilio_signature(TWILIO_EXAMPLE_TOKEN, url, params, signature)


def test_the_default_port_may_be_added_or_dropped_by_a_proxy():
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert verify_twilio_signature(TWILIO_EXAMPLE_TOKEN, with_port, TWILIO_EXAMPLE_PARAMS, TWILIO_EXAMPLE_SIGNATURE)
    signed_with_port = twilio_signature(TWILIO_EXAMPLE_TOKEN, with_port, TWILIO_EXAMPLE_PARAMS)
    assert verify_twilio_signature(TWILIO_EXAMPLE_TOKEN, TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, signed_with_port)
    other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2"
    assert not verify_twilio_signature(TWILIO_EXAMPLE_TOKEN, other_port, TWILIO_EXAMPLE_PARAMS, TWILIO_EXAMPLE_SIGNATURE)


def test_a_repeated_field_counts_each_distinct_value_once_in_order():
    url = "https://handoff.example/webhooks/sms/inbound"
    assert twilio_signature("t", url, {"x": ["2", "1", "1"]}) == twilio_signature("t", url, {"x": ["1", "2"]})
    assert twilio_signature("t", url, {"x": ["1", "2"]}) != twilio_signature("t", url, {"x": "1"})


@pytest.mark.parametrize(
    "body, keyword",
    [
        ("STOP", "stop"), ("stop", "stop"), ("  Stop\n", "stop"), ("Stop.", "stop"),
        ("STOPALL", "stop"), ("unsubscribe", "stop"), ("Cancel", "stop"), ("END", "stop"), ("quit", "stop"),
        ("START", "start"), ("yes", "start"), ("Unstop", "start"),
        ("HELP", "help"), ("info", "help"),
        ("please stop texting me about the appointment", None), ("stopped", None), ("", None), ("Thanks!", None),
    ],
)
def test_inbound_keywords_follow_twilios_defaults(body, keyword):
    assert parse_inbound_keyword(body) == keyword
