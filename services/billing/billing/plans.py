"""Plans a program can be on."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    seat_limit: int
    monthly_price_cents: int
    currency: str = "usd"

    @property
    def paid(self):
        return self.monthly_price_cents > 0


TRIAL_DAYS = 14
PLANS = {
    "trial": Plan("trial", "Free trial", seat_limit=10, monthly_price_cents=0),
    "team": Plan("team", "Team", seat_limit=25, monthly_price_cents=14900),
    "organization": Plan("organization", "Organization", seat_limit=250, monthly_price_cents=89900),
}
# A trial that ends without a chosen plan renews onto this one.
DEFAULT_PAID_PLAN = "team"
# Who takes a seat: staff and partner users (seed 003: partner accounts count toward licenses).
SEAT_KINDS = ("staff", "partner")


def renewal_plan(code):
    plan = PLANS[code]
    return plan if plan.paid else PLANS[DEFAULT_PAID_PLAN]
