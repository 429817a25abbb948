"""What messages need of identity's data (a program's name, a staff member's name and email),
kept locally: identity announces new programs and new names, and a staff member's own profile is refreshed
from ``identity.me`` when they act and the copy is older than ``PROFILE_MAX_AGE``. Reminders
and provider answers arrive with no staff member acting, so they rely on this copy."""
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from referrals.models import Program, StaffProfile
from referrals.schemas import ReferralSettingsSchema
from shared import audit, permissions as p
from shared.db import upsert_newer

PROFILE_MAX_AGE = timedelta(minutes=10)


def remember_program(session, org_id, name, as_of):
    upsert_newer(session, Program, "org_id", {"org_id": org_id, "name": name, "named_at": as_of}, as_of="named_at")


def note_program_named(session, event):
    """identity's organization_created or organization_renamed; data: organization_id, name."""
    remember_program(session, uuid.UUID(event.data["organization_id"]), event.data["name"],
                     datetime.fromisoformat(event.occurred_at))
    session.commit()


def sync_caller(session, caller, fetch_me):
    """The caller's profile, fresh enough to address messages with; ``fetch_me`` is
    ``identity.me`` on the caller's behalf."""
    user_id = caller.user_uuid
    profile = session.get(StaffProfile, user_id)
    if profile is not None and datetime.now(timezone.utc) - profile.refreshed_at < PROFILE_MAX_AGE:
        return profile
    me = fetch_me()
    remember_program(session, caller.org_uuid, me["organization"]["name"], datetime.now(timezone.utc))
    user = me["user"]
    values = {"org_id": caller.org_uuid, "email": user["email"], "first_name": user["first_name"],
              "last_name": user["last_name"], "refreshed_at": func.now()}
    session.execute(insert(StaffProfile).values(user_id=user_id, **values)
                    .on_conflict_do_update(index_elements=[StaffProfile.user_id], set_=values))
    return session.get(StaffProfile, user_id, populate_existing=True)


def display_name(profile):
    return f"{profile.first_name} {profile.last_name}".strip() if profile else ""


def program_name(session, org_id):
    program = session.get(Program, org_id)
    return program.name if program else ""


def get_settings(session, caller):
    caller.require(p.REFERRALS_MANAGE, p.SETTINGS_MANAGE)
    program = session.get(Program, caller.org_uuid)
    return ReferralSettingsSchema().dump({"stale_referral_days": program.stale_referral_days if program else 7})


def put_settings(session, caller, data, fetch_me):
    caller.require(p.SETTINGS_MANAGE)
    sync_caller(session, caller, fetch_me)  # the program's row exists from here on
    program = session.get(Program, caller.org_uuid)
    program.stale_referral_days = data["stale_referral_days"]
    audit.record_for(session, caller, "referral_settings.update", "organization", caller.org_id,
                     details={"fields": sorted(data)})
    session.commit()
    return ReferralSettingsSchema().dump(program)
