"""Webhook signatures: the right secret over the exact body, within the time tolerance."""
import pytest

from billing.webhooks import TOLERANCE_SECONDS, parse, signature_header, verify
from shared.errors import BadRequest, Forbidden

SECRET = "whsec_test"
BODY = '{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}'
NOW = 1_700_000_000


def test_a_valid_signature_passes():
    verify(SECRET, signature_header(SECRET, NOW, BODY), BODY, NOW)
    verify(SECRET, signature_header(SECRET, NOW - TOLERANCE_SECONDS, BODY), BODY, NOW)


def test_any_of_several_signatures_may_match():
    good = signature_header(SECRET, NOW, BODY).split(",")[1]
    verify(SECRET, f"t={NOW},v1={'0' * 64},{good}", BODY, NOW)


@pytest.mark.parametrize("header,body", [
    (signature_header("whsec_other", NOW, BODY), BODY),                    # wrong secret
    (signature_header(SECRET, NOW, BODY), BODY.replace("evt_1", "evt_2")),  # body changed
    (signature_header(SECRET, NOW, BODY).replace(f"t={NOW}", f"t={NOW + 1}"), BODY),  # time changed
    (signature_header(SECRET, NOW - TOLERANCE_SECONDS - 1, BODY), BODY),   # too old
    (signature_header(SECRET, NOW + TOLERANCE_SECONDS + 1, BODY), BODY),   # from the future
    ("", BODY), (None, BODY), ("t=abc,v1=00", BODY), (f"t={NOW}", BODY),
])
def test_anything_else_is_refused(header, body):
    with pytest.raises(Forbidden):
        verify(SECRET, header, body, NOW)


def test_parse_reads_the_event_and_refuses_other_bodies():
    assert parse(BODY) == {"id": "evt_1", "type": "payment_intent.succeeded", "object": {"id": "pi_1"}}
    for body in ("not json", "{}", '{"id": "x", "type": "t", "data": {}}', "[]"):
        with pytest.raises(BadRequest):
            parse(body)
