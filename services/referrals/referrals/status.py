"""The referral's status machine, after FHIR Task (and the Gravity SDOH referral workflow):
which status may follow which, and who may set it. The program (the requester) drafts,
requests, cancels and marks errors; the provider (the owner of the task) answers and reports
progress."""
from shared.errors import Conflict, Forbidden

PROGRAM = "staff"
PROVIDER = "provider"

PROGRAM_STATUSES = ("draft", "requested", "cancelled", "entered-in-error")
PROVIDER_STATUSES = ("accepted", "rejected", "in-progress", "on-hold", "completed", "failed")
STATUSES = PROGRAM_STATUSES + PROVIDER_STATUSES

# Open: the provider is working on it or should answer; a reminder is due if it stalls.
OPEN_STATUSES = frozenset({"requested", "accepted", "in-progress", "on-hold"})
_CLOSE = {"cancelled", "entered-in-error"}

NEXT = {
    "draft": {"requested"} | _CLOSE,
    "requested": {"accepted", "rejected"} | _CLOSE,
    "accepted": {"in-progress", "on-hold", "completed", "failed"} | _CLOSE,
    "in-progress": {"on-hold", "completed", "failed"} | _CLOSE,
    "on-hold": {"in-progress", "completed", "failed"} | _CLOSE,
    # Closed; a closed referral can still be marked as entered in error.
    "rejected": {"entered-in-error"},
    "completed": {"entered-in-error"},
    "cancelled": {"entered-in-error"},
    "failed": {"entered-in-error"},
    "entered-in-error": set(),
}

SETTABLE_BY = {PROGRAM: frozenset(PROGRAM_STATUSES), PROVIDER: frozenset(PROVIDER_STATUSES)}


def allowed_next(current, actor):
    """The statuses ``actor`` may move a referral in ``current`` to, in the table's order."""
    return [status for status in STATUSES if status in NEXT[current] and status in SETTABLE_BY[actor]]


def check_transition(current, wanted, actor):
    """Refuse a status ``actor`` may not set (403) or one that cannot follow ``current`` (409)."""
    if wanted not in SETTABLE_BY[actor]:
        owner = "provider" if wanted in PROVIDER_STATUSES else "program"
        raise Forbidden(f"Only the {owner} sets the status {wanted!r}")
    if wanted not in NEXT[current]:
        raise Conflict(f"A referral that is {current!r} cannot become {wanted!r}")
