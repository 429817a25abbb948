"""The choices of a case manager's record (seed 002): the fixed recruitment statuses and the
program-editable value lists. Plain Python: the schemas (and so the gateway) import it."""
from dataclasses import dataclass

RECRUITING, ONBOARDING, ONBOARDED, NON_BOOKING_CONTACT = (
    "recruiting", "onboarding", "onboarded", "non_booking_contact")
RECRUITMENT_STATUSES = (RECRUITING, ONBOARDING, ONBOARDED, NON_BOOKING_CONTACT)
# A case manager who makes a referral is, by the seed's definition, requesting bookings:
# from these statuses their first referral moves them to Onboarded.
ONBOARDED_BY_FIRST_REFERRAL = frozenset({RECRUITING, ONBOARDING})
# Seed 002: email is mandatory exactly when the case manager has a login.
LOGIN_NEEDS_EMAIL = "Required for a case manager with a login."


@dataclass(frozen=True)
class ValueListSpec:
    name: str                     # as in /api/v1/value-lists/{name}
    field: str                    # the case manager's field that takes its values
    description: str
    defaults: tuple[str, ...]     # a program's list until it first edits it


VALUE_LISTS = {spec.name: spec for spec in (
    ValueListSpec("positions", "position", "Job titles of case managers (seed 002's Job Title list).", (
        "Case Manager", "Senior Case Manager", "Care Coordinator", "Social Worker", "Discharge Planner",
        "Intake Coordinator", "Team Leader", "Administrator")),
    ValueListSpec("referral-sources", "referral_source", "How a case manager came to know the program.", (
        "Website", "Colleague", "Conference or event", "Existing client", "Outreach visit", "Online search",
        "Other")),
)}
MAX_VALUES = 200
MAX_VALUE_LENGTH = 100
