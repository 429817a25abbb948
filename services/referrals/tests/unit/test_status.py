"""The referral status machine: who may set which status, and what may follow what."""
import pytest

from referrals.status import NEXT, PROGRAM, PROVIDER, STATUSES, allowed_next, check_transition
from shared.errors import Conflict, Forbidden


def test_the_happy_path_alternates_program_and_provider():
    check_transition("draft", "requested", PROGRAM)
    check_transition("requested", "accepted", PROVIDER)
    check_transition("accepted", "in-progress", PROVIDER)
    check_transition("in-progress", "completed", PROVIDER)


@pytest.mark.parametrize("status", ["accepted", "rejected", "in-progress", "on-hold", "completed", "failed"])
def test_the_program_cannot_answer_for_the_provider(status):
    with pytest.raises(Forbidden):
        check_transition("requested", status, PROGRAM)


@pytest.mark.parametrize("status", ["draft", "requested", "cancelled", "entered-in-error"])
def test_the_provider_cannot_set_the_programs_statuses(status):
    with pytest.raises(Forbidden):
        check_transition("requested", status, PROVIDER)


@pytest.mark.parametrize("current,wanted,actor", [
    ("draft", "accepted", PROVIDER), ("completed", "in-progress", PROVIDER), ("rejected", "accepted", PROVIDER),
    ("requested", "requested", PROGRAM), ("cancelled", "requested", PROGRAM), ("accepted", "draft", PROGRAM),
    ("entered-in-error", "cancelled", PROGRAM),
])
def test_illegal_transitions_conflict(current, wanted, actor):
    with pytest.raises(Conflict):
        check_transition(current, wanted, actor)


def test_every_status_is_in_the_table_and_only_entered_in_error_is_final_for_all():
    assert set(NEXT) == set(STATUSES)
    assert all("entered-in-error" in NEXT[s] for s in STATUSES if s != "entered-in-error")


def test_allowed_next_lists_what_the_provider_may_answer():
    assert allowed_next("requested", PROVIDER) == ["accepted", "rejected"]
    assert allowed_next("completed", PROVIDER) == []
