"""Notifications end to end: an event from a producing service becomes exactly one email at a
real SMTP server, however often it is delivered and even when that server was down; texts go
through the provider's stand-in, its signed callbacks mark them delivered, STOP is honoured and
a forged callback is refused; the message log is per program."""
import time
import uuid

import pytest

from shared.notifications import NOTIFICATION_REQUESTED, recipient
from shared.outbox import EventPublisher, envelope
from shared.testing.api import assert_problem, sign_up
from shared.testing.system import SMS_FROM
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system


def publish_request(system, org_id, kind, recipients, variables, channels=("email",), times=1,
                    source="identity"):
    body = envelope(NOTIFICATION_REQUESTED, org_id, {
        "kind": kind, "channels": list(channels), "recipients": recipients, "variables": variables})
    publisher = EventPublisher(system.environment["AMQP_URI"], source)
    for _ in range(times):
        publisher.publish(NOTIFICATION_REQUESTED, body)
    return body


def password_reset(system, org_id, address, language="en", times=1):
    return publish_request(system, org_id, "password_reset", [recipient(address, "Alex", language)], {
        "recipient_name": "Alex", "expires_in_minutes": 60,
        "link": f"https://handoff.example/password-resets/{uuid.uuid4().hex}"}, times=times)


def messages_of(system, program, **query):
    response = system.request("GET", "/api/v1/messages", token=program.access_token, params=query)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_an_event_delivered_three_times_yields_one_email_in_the_recipients_language(system):
    program = sign_up(system)
    address = f"alex-{uuid.uuid4().hex[:8]}@example.org"
    event = password_reset(system, program.org_id, address, language="es-MX", times=3)

    received = system.smtp.wait_for(lambda m: address in m["X-Envelope-To"])
    assert len(received) == 1
    mail = received[0]
    assert mail["Subject"] and "contraseña" in mail["Subject"].lower()
    assert mail["Message-ID"]
    text = mail.get_body(("plain",)).get_content()
    assert "Alex" in text and "https://handoff.example/password-resets/" in text
    time.sleep(2)  # any duplicate would have arrived by now
    assert len(system.smtp.messages_to(address)) == 1

    logged = wait_until(lambda: [m for m in messages_of(system, program, kind="password_reset")
                                 if m["recipient"] == address and m["status"] == "sent"])
    assert len(logged) == 1
    assert logged[0]["source_event_id"] == event["event_id"]
    assert logged[0]["language"] == "es" and logged[0]["attempts"] == 1


def test_invitation_from_identity_reaches_the_invitee(system):
    program = sign_up(system)
    address = f"new-{uuid.uuid4().hex[:8]}@example.org"
    invited = system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                             json={"email": address, "role": "therapist", "first_name": "Nia",
                                   "last_name": "Nurse"})
    assert invited.status_code == 201, invited.text
    received = system.smtp.wait_for(lambda m: address in m["X-Envelope-To"])
    assert len(received) == 1
    assert "/invitations/" in received[0].get_body(("plain",)).get_content()


def test_messages_queued_while_smtp_is_down_all_arrive_once_it_is_back(system):
    program = sign_up(system)
    addresses = [f"queued-{i}-{uuid.uuid4().hex[:6]}@example.org" for i in range(5)]
    system.smtp.stop()
    try:
        for address in addresses:
            password_reset(system, program.org_id, address)
        assert wait_until(lambda: len([m for m in messages_of(system, program)
                                       if m["recipient"] in addresses and m["attempts"] >= 1
                                       and m["status"] == "queued"]) == len(addresses))
    finally:
        system.smtp.start()

    def all_arrived():
        return all(system.smtp.messages_to(address) for address in addresses)
    assert wait_until(all_arrived, timeout=60)
    time.sleep(2)
    assert all(len(system.smtp.messages_to(address)) == 1 for address in addresses)
    assert wait_until(lambda: all(m["status"] == "sent" for m in messages_of(system, program)
                                  if m["recipient"] in addresses))


def sms_to(system, number):
    return [m for m in system.sms.messages if m.to == number]


def test_sms_is_sent_marked_delivered_by_the_callback_and_stop_is_honoured(system):
    program = sign_up(system)
    number = "+1555" + str(uuid.uuid4().int)[:7]
    variables = {"program_name": "Riverside", "link": "https://handoff.example/l/abc"}
    publish_request(system, program.org_id, "referral_list", [recipient(number, "María", "es")],
                    variables, channels=("sms",))
    texts = wait_until(lambda: sms_to(system, number))
    assert len(texts) == 1 and "https://handoff.example/l/abc" in texts[0].body
    assert texts[0].from_ == SMS_FROM

    answer = system.sms.deliver(texts[0].sid, "delivered")
    assert answer.status == 204, answer.body
    logged = wait_until(lambda: [m for m in messages_of(system, program, channel="sms")
                                 if m["recipient"] == number and m["status"] == "delivered"])
    assert logged and logged[0]["provider_message_id"] == texts[0].sid

    answer = system.sms.send_inbound(system.url("/webhooks/sms/inbound"), number, SMS_FROM, "Stop")
    assert answer.status == 204, answer.body
    publish_request(system, program.org_id, "referral_list", [recipient(number)], variables,
                    channels=("sms",))
    suppressed = wait_until(lambda: [m for m in messages_of(system, program, channel="sms", status="failed")
                                     if m["recipient"] == number])
    assert suppressed and "STOP" in suppressed[0]["last_error"]
    assert len(sms_to(system, number)) == 1


def test_a_provider_callback_with_a_bad_signature_is_refused(system):
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    response = system.request("POST", "/webhooks/sms/status", data=form,
                              headers={"X-Twilio-Signature": "forged"})
    assert_problem(response, 403, "FORBIDDEN")
    assert_problem(system.request("POST", "/webhooks/sms/inbound", data={"From": "+15551234567",
                                                                        "Body": "STOP"}), 403)


def test_the_message_log_is_per_program(system):
    program, other = sign_up(system), sign_up(system)
    address = f"log-{uuid.uuid4().hex[:8]}@example.org"
    password_reset(system, program.org_id, address)
    mine = wait_until(lambda: [m for m in messages_of(system, program) if m["recipient"] == address])
    message_id = mine[0]["id"]
    assert system.request("GET", f"/api/v1/messages/{message_id}",
                          token=program.access_token).json()["id"] == message_id
    assert_problem(system.request("GET", f"/api/v1/messages/{message_id}", token=other.access_token),
                   404, "NOT_FOUND")
    assert all(m["recipient"] != address for m in messages_of(system, other))


def test_a_template_override_is_checked_previewed_and_used(system):
    program = sign_up(system)
    refused = system.request("PUT", "/api/v1/templates/password_reset", token=program.access_token,
                             json={"language": "en", "parts": {"subject": "Hi {{ nonsense }"}})
    body = assert_problem(refused, 422, "VALIDATION_FAILED")
    assert "subject" in body["errors"]["parts"]

    saved = system.request("PUT", "/api/v1/templates/password_reset", token=program.access_token,
                           json={"language": "en", "parts": {"subject": "Reset for {{ recipient_name }}"}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["languages"]["en"]["preview"]["subject"] == "Reset for Alex Romero"
    shown = system.request("GET", "/api/v1/templates/password_reset", token=program.access_token).json()
    assert shown["languages"]["en"]["override"] == {"subject": "Reset for {{ recipient_name }}"}
    assert shown["languages"]["es"]["override"] is None

    address = f"custom-{uuid.uuid4().hex[:8]}@example.org"
    password_reset(system, program.org_id, address)
    received = system.smtp.wait_for(lambda m: address in m["X-Envelope-To"])
    assert received and received[0]["Subject"] == "Reset for Alex"
    assert_problem(system.request("GET", "/api/v1/templates/nope", token=program.access_token), 404)
