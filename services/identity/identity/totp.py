"""Optional TOTP second factor: enrolment, verification at sign-in, single-use recovery codes,
and a program setting that makes it mandatory for staff."""
import hashlib
import secrets
import time

import pyotp

from identity.models import Organization
from shared import audit
from shared.errors import Conflict, Unauthorized, ValidationFailed

ISSUER_NAME = "Handoff"
RECOVERY_CODES = 10


def _hash(code):
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def _matching_step(secret, code, last_step, now=None):
    """The time step ``code`` belongs to (one step of clock drift either way), if it is newer
    than the last accepted one: a code cannot be replayed."""
    now = now or time.time()
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in (current - 1, current, current + 1):
        if (last_step is None or step > last_step) and secrets.compare_digest(
                totp.generate_otp(step), code):
            return step
    return None


def begin_enrolment(session, user):
    if user.totp_enabled:
        raise Conflict("A second factor is already enabled")
    user.totp_secret = pyotp.random_base32()
    session.commit()
    return {"secret": user.totp_secret,
            "otpauth_uri": pyotp.TOTP(user.totp_secret).provisioning_uri(user.email, issuer_name=ISSUER_NAME)}


def confirm_enrolment(session, user, code):
    if user.totp_secret is None or user.totp_enabled:
        raise Conflict("Start enrolment first")
    step = _matching_step(user.totp_secret, code, None)
    if step is None:
        raise ValidationFailed("The code does not match", errors={"code": ["Wrong or expired code"]})
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    user.totp_enabled, user.totp_last_step = True, step
    user.recovery_code_hashes = [_hash(c) for c in codes]
    audit.record(session, user.org_id, user.id, "totp.enable", "user", user.id)
    session.commit()
    return {"recovery_codes": codes}


def disable(session, user, code):
    org = session.get(Organization, user.org_id)
    if org.require_totp:
        raise Conflict("Your program requires a second factor")
    if not user.totp_enabled:
        raise Conflict("No second factor is enabled")
    check_second_factor(session, user, code, None)
    user.totp_enabled, user.totp_secret, user.recovery_code_hashes = False, None, []
    audit.record(session, user.org_id, user.id, "totp.disable", "user", user.id)
    session.commit()


def check_second_factor(session, user, totp_code, recovery_code):
    """Passes, or raises Unauthorized. A used recovery code is gone for good."""
    if totp_code:
        step = _matching_step(user.totp_secret, totp_code, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            return
    elif recovery_code:
        hashed = _hash(recovery_code)
        if hashed in (user.recovery_code_hashes or []):
            user.recovery_code_hashes = [h for h in user.recovery_code_hashes if h != hashed]
            return
    raise Unauthorized("A valid second-factor code is required", errors={"totp_code": ["Required"]})


def enrolment_required(session, user):
    """Staff of a program that requires TOTP and who have not enrolled sign in with no
    permissions at all, which is enough to enrol and nothing more."""
    return (not user.totp_enabled and user.kind == "staff"
            and session.get(Organization, user.org_id).require_totp)
