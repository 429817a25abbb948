"""Consent validity, what a share amounts to at a given moment, and the boundary schemas."""
from datetime import date, datetime, timedelta, timezone

import pytest

from sharing.consent import consent_errors, effective_status, grants_access
from sharing.review import tags_of
from sharing.schemas import ConsentSchema, ContactCreateSchema, ShareCreateSchema
from shared.errors import ValidationFailed
from shared.schemas import load

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


def a_consent(**changes):
    return {"purpose": "Housing support", "information_disclosed": "Name, photo and contact details",
            "disclosed_by": "Riverside Counseling", "expires_at": NOW + timedelta(days=90),
            "expiry_event": None, "agreed_by": "The client", "agreed_on": NOW.date(),
            "revocation_acknowledged": True, **changes}


def test_a_complete_consent_has_no_errors():
    assert consent_errors(a_consent(), NOW) == {}
    assert consent_errors(a_consent(expires_at=None, expiry_event="End of the housing program"), NOW) == {}


def test_a_consent_needs_an_expiry_in_the_future_by_time_or_event():
    assert "expires_at" in consent_errors(a_consent(expires_at=None), NOW)
    assert "expires_at" in consent_errors(a_consent(expires_at=None, expiry_event="  "), NOW)
    assert "expires_at" in consent_errors(a_consent(expires_at=NOW), NOW)
    assert "expires_at" in consent_errors(a_consent(expires_at=NOW - timedelta(seconds=1)), NOW)


def test_the_agreement_cannot_be_dated_in_the_future_and_must_acknowledge_revocation():
    assert consent_errors(a_consent(agreed_on=NOW.date() + timedelta(days=1)), NOW) == {}  # time zones
    assert "agreed_on" in consent_errors(a_consent(agreed_on=NOW.date() + timedelta(days=2)), NOW)
    assert "revocation_acknowledged" in consent_errors(a_consent(revocation_acknowledged=False), NOW)


@pytest.mark.parametrize("status, expires_at, sharing_enabled, expected", [
    ("active", None, True, "active"),
    ("active", NOW + timedelta(seconds=1), True, "active"),
    ("active", NOW, True, "expired"),                       # lapsed, though the timer has not run
    ("active", NOW - timedelta(days=1), False, "expired"),
    ("active", NOW + timedelta(days=1), False, "suspended"),  # the partner's sharing is off
    ("revoked", NOW + timedelta(days=1), True, "revoked"),
    ("expired", NOW - timedelta(days=1), True, "expired"),
])
def test_only_an_active_unexpired_share_with_an_enabled_partner_grants_access(status, expires_at,
                                                                             sharing_enabled, expected):
    assert effective_status(status, expires_at, sharing_enabled, NOW) == expected
    assert grants_access(status, expires_at, sharing_enabled, NOW) is (expected == "active")


def test_review_tags_a_contact_actual_third_party_reviewed():
    assert tags_of("needs_review") == ["third_party"]
    assert tags_of("reviewed") == ["actual", "third_party", "reviewed"]


def test_the_share_schema_demands_the_consent_elements():
    with pytest.raises(ValidationFailed) as error:
        load(ShareCreateSchema(), {"partner_id": "9b2f0a4e-6a55-4b8b-9d53-0c1f6f0e0c11", "consent": {}})
    assert {"purpose", "information_disclosed", "disclosed_by", "agreed_by", "agreed_on",
            "revocation_acknowledged"} <= error.value.errors["consent"].keys()
    future = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    consent = load(ConsentSchema(), {"purpose": "Housing", "information_disclosed": "Contact details",
                                     "disclosed_by": "Riverside", "expires_at": future, "agreed_by": "Client",
                                     "agreed_on": date.today().isoformat(), "revocation_acknowledged": True})
    assert consent["expires_at"].tzinfo is not None


def test_a_contact_has_a_method_a_duration_and_no_future_time():
    ahead = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationFailed) as error:
        load(ContactCreateSchema(), {"occurred_at": ahead, "method": "carrier pigeon", "duration_minutes": -1})
    assert error.value.errors.keys() == {"occurred_at", "method", "duration_minutes"}
    contact = load(ContactCreateSchema(), {"occurred_at": "2025-03-10T09:30:00", "method": "phone",
                                           "duration_minutes": 20})
    assert contact["occurred_at"].tzinfo == timezone.utc and contact["note"] is None
