"""Login throttling: after repeated failures for one account or from one address, sign-in is
refused with 429 and Retry-After until the window ends, whatever the password. The answer
is the same for accounts that exist and those that do not."""
import os
import time

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert

from identity.models import LoginThrottle
from shared.errors import RateLimited

WINDOW_SECONDS = float(os.environ.get("LOGIN_THROTTLE_WINDOW_SECONDS", 900))
LIMITS = {"account": int(os.environ.get("LOGIN_THROTTLE_PER_ACCOUNT", 5)),
          "address": int(os.environ.get("LOGIN_THROTTLE_PER_ADDRESS", 50))}


def _keys(email, address):
    keys = {f"account:{email}": LIMITS["account"]}
    if address:
        keys[f"address:{address}"] = LIMITS["address"]
    return keys


def check(session, email, address, now=None):
    now = now or time.time()
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(_keys(email, address)))).all()
    limits = _keys(email, address)
    for row in rows:
        remaining = row.window_started_at + WINDOW_SECONDS - now
        if remaining > 0 and row.failures >= limits[row.key]:
            raise RateLimited("Too many sign-in attempts; try again later", retry_after=int(remaining) + 1)


def record_failure(session, email, address, now=None):
    """Counted in its own committed statement so the refusal that follows cannot undo it."""
    now = now or time.time()
    for key in _keys(email, address):
        statement = insert(LoginThrottle).values(key=key, window_started_at=now, failures=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": _fresh_window_or(now, 1, LoginThrottle.failures + 1),
                "window_started_at": _fresh_window_or(now, now, LoginThrottle.window_started_at),
            }))
    session.commit()


def _fresh_window_or(now, fresh, ongoing):
    """``fresh`` when the stored window has ended, else ``ongoing``."""
    return case((LoginThrottle.window_started_at + WINDOW_SECONDS <= now, fresh), else_=ongoing)


def clear(session, email):
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == f"account:{email}"))
