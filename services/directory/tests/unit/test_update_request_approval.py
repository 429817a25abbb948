"""Corrections held for approval, as plain rules: the statuses a request goes through, and the
boundary of the program setting and of a rejection."""
from datetime import datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

from directory import schemas, update_requests
from directory.models import ProviderUpdateRequest

NOW = datetime.now(timezone.utc)


def answered_request(**columns):
    return ProviderUpdateRequest(sent_at=NOW, expires_at=NOW + timedelta(days=14), completed_at=NOW, **columns)


def test_held_corrections_await_approval_until_decided_whatever_the_link_time():
    later = NOW + timedelta(days=30)  # the link's time is over: it does not matter once answered
    assert update_requests.status_of(answered_request(), later) == "completed"
    held = answered_request(proposed_changes={"name": "Jane Q. Doe"})
    assert update_requests.status_of(held, later) == "awaiting_approval"
    for decision in ("approved", "rejected"):
        held.decision = decision
        assert update_requests.status_of(held, later) == decision


def test_every_status_can_be_listed():
    query = schemas.UpdateRequestQuery()
    for status in ("sent", "completed", "expired", "awaiting_approval", "approved", "rejected"):
        assert query.load({"status": status})["status"] == status
    with pytest.raises(ValidationError):
        query.load({"status": "pending"})


def test_approval_is_off_unless_the_program_turns_it_on():
    settings = schemas.DirectorySettings()
    assert settings.load({})["corrections_need_approval"] is False
    assert settings.load({"corrections_need_approval": True})["corrections_need_approval"] is True
    with pytest.raises(ValidationError) as error:
        settings.load({"corrections_need_approval": "sometimes"})
    assert list(error.value.messages) == ["corrections_need_approval"]


def test_a_rejection_may_say_why_briefly():
    rejection = schemas.UpdateRequestRejection()
    assert rejection.load({}) == {"reason": None}
    assert rejection.load({"reason": "Not their practice."}) == {"reason": "Not their practice."}
    for bad in ({"reason": "x" * 1001}, {"reason": 3}, {"decision": "approved"}):
        with pytest.raises(ValidationError):
            rejection.load(bad)


def test_every_new_boundary_field_is_described():
    for schema_class in (schemas.UpdateRequestDetail, schemas.ProposedChange, schemas.UpdateRequestRejection,
                         schemas.ProviderUpdateDone, schemas.DirectorySettings):
        for name, field in schema_class().fields.items():
            assert field.metadata.get("description"), f"{schema_class.__name__}.{name}"
