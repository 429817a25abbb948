"""A program's own wording of the built-in templates: shown beside the default with a preview,
checked when saved (a template that cannot render is refused then, not at send time)."""
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from notify.models import TemplateOverride
from notify.templates import (
    DEFAULT_TEMPLATES, SUPPORTED_LANGUAGES, TEMPLATE_VARIABLES, channel_of, parts_of, render, validate_template,
)
from shared import audit, permissions as p
from shared.errors import NotFound, ValidationFailed


def override_parts(session, org_id, key, language):
    return session.scalar(select(TemplateOverride.parts).where(
        TemplateOverride.org_id == org_id, TemplateOverride.key == key,
        TemplateOverride.language == language))


def get_template(session, caller, key):
    caller.require(p.SETTINGS_MANAGE)
    _known(key)
    overrides = dict(session.execute(select(TemplateOverride.language, TemplateOverride.parts).where(
        TemplateOverride.org_id == caller.org_id, TemplateOverride.key == key)).all())
    languages = {}
    for language in SUPPORTED_LANGUAGES:
        preview = render(key, language, TEMPLATE_VARIABLES[key], overrides.get(language))
        languages[language] = {
            "default": DEFAULT_TEMPLATES[key][language], "override": overrides.get(language),
            "preview": {part: value for part, value in asdict(preview).items() if value is not None}}
    return {"key": key, "channel": channel_of(key),
            "parts": list(parts_of(key)), "variables": TEMPLATE_VARIABLES[key], "languages": languages}


def put_template(session, caller, key, data):
    """Save the program's wording of one language; empty ``parts`` returns to the default."""
    caller.require(p.SETTINGS_MANAGE)
    _known(key)
    parts = data["parts"]
    errors = validate_template(key, parts)
    if errors:
        raise ValidationFailed("The template cannot be saved", errors={"parts": errors})
    where = {"org_id": caller.org_id, "key": key, "language": data["language"]}
    if parts:
        session.execute(insert(TemplateOverride).values(**where, parts=parts, updated_by=caller.user_id)
                        .on_conflict_do_update(index_elements=list(where),
                                               set_={"parts": parts, "updated_by": caller.user_id}))
    else:
        session.query(TemplateOverride).filter_by(**where).delete()
    audit.record_for(session, caller, "template.update", "template",
                     details={"key": key, "language": data["language"], "parts": sorted(parts)})
    session.commit()
    return get_template(session, caller, key)


def _known(key):
    if key not in DEFAULT_TEMPLATES:
        raise NotFound("No such template")
