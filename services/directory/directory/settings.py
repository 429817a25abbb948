"""Per-program directory settings: public slug, public directory switch, insurance filter,
after how many days without verification a provider is asked to update their record, and
whether a provider's corrections wait for staff approval."""
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import terms
from directory.errors import NotFound, ValidationFailed
from directory.models import DirectorySettings
from directory.persistence import unique_conflicts

SETTINGS_DEFAULTS = {
    "public_slug": None,
    "public_directory_enabled": False,
    "insurance_filter_plans": [],
    "restrict_to_insurance_filter_plans": False,
    "stale_after_days": None,
    "corrections_need_approval": False,
}


def get_settings(session: Session, org_id: uuid.UUID) -> DirectorySettings:
    """The program's settings; a program that never saved any gets the defaults (not persisted)."""
    return session.get(DirectorySettings, org_id) or DirectorySettings(
        org_id=org_id, updated_at=None, **SETTINGS_DEFAULTS
    )


def update_settings(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID | None, data: dict) -> DirectorySettings:
    """Replace the settings with DirectorySettings-shaped ``data`` (PUT semantics)."""
    unusable = terms.load_vocabulary(session, org_id).unusable_codes("insurance", data.get("insurance_filter_plans", []))
    if unusable:
        raise ValidationFailed("The settings are not valid.", {
            "insurance_filter_plans": [f"Unknown or inactive insurance code: {code}." for code in unusable]})
    settings = session.get(DirectorySettings, org_id, with_for_update=True) or DirectorySettings(org_id=org_id)
    with unique_conflicts(session, {"uq_directory_settings_public_slug": (
            "This public URL is taken.", {"public_slug": ["Already used by another program."]})}):
        session.add(settings)
        for field, default in SETTINGS_DEFAULTS.items():
            setattr(settings, field, data.get(field, default))
        settings.updated_by = actor_id
    return settings


def find_public_directory(session: Session, slug: str) -> DirectorySettings:
    """The settings of the program publishing ``slug``; NotFound when none does (or it is switched off)."""
    settings = session.scalar(
        select(DirectorySettings).where(
            DirectorySettings.public_slug == slug, DirectorySettings.public_directory_enabled.is_(True)
        )
    )
    if settings is None:
        raise NotFound("No such public directory.")
    return settings
