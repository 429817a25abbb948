"""A program's value lists (job titles, referral sources): the choices of case managers'
fields, editable under program settings.

A list is stored whole (``value_lists``) once the program edits it; until then it is the
defaults of directory.referrer_options. Case managers hold the values themselves, so a value
may only leave its list when no case manager keeps it: an edit that removes a value in use is
refused unless it remaps that value to one that stays.

Saving a case manager and editing a list are serialized per list by an advisory lock (shared
for the former, exclusive for the latter), so a value cannot be removed while a case manager
is being given it."""
import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from directory.errors import Conflict, NotFound, ValidationFailed
from directory.models import ValueList
from directory.referrer_options import VALUE_LISTS, ValueListSpec


def spec(name: str) -> ValueListSpec:
    if name not in VALUE_LISTS:
        raise NotFound(f"No value list {name!r}; the lists are {', '.join(VALUE_LISTS)}.")
    return VALUE_LISTS[name]


def lock(session: Session, org_id: uuid.UUID, name: str, exclusive: bool) -> None:
    """Until the transaction ends: exclusive to edit the list, shared to use its values."""
    key = func.hashtextextended(f"value_list:{org_id}:{name}", 0)
    session.execute(select(func.pg_advisory_xact_lock(key) if exclusive else func.pg_advisory_xact_lock_shared(key)))


def current(session: Session, org_id: uuid.UUID, name: str) -> tuple[list[str], datetime | None]:
    """The program's values and when it last edited them (None: still the defaults)."""
    row = session.get(ValueList, (org_id, name))
    return (list(row.values), row.updated_at) if row else (list(spec(name).defaults), None)


def plan_replacement(values: list[str], wanted: list[str], remap: dict[str, str],
                     usage: dict[str, int]) -> dict[str, str]:
    """Check an edit of a list from ``values`` to ``wanted``: every removed value that case
    managers still have (``usage``) must be remapped to a value that stays. Returns the
    remapping to apply (removed value -> kept value); raises Conflict or ValidationFailed."""
    removed = set(values) - set(wanted)
    errors = [f"{old!r} is not a removed value of the list." for old in remap if old not in removed]
    errors += [f"{old!r} cannot become {new!r}, which is not in the list." for old, new in remap.items()
               if new not in wanted]
    if errors:
        raise ValidationFailed("The remapping does not fit the list.", {"remap": errors})
    orphaned = sorted(value for value in removed if usage.get(value) and value not in remap)
    if orphaned:
        raise Conflict("Values in use cannot be removed without a replacement.", {"values": [
            f"{value!r} is used by {usage[value]} case manager(s): keep it, or remap it to a value that stays."
            for value in orphaned]})
    return {old: new for old, new in remap.items() if usage.get(old)}


def store(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID, name: str, values: list[str]) -> ValueList:
    statement = insert(ValueList).values(org_id=org_id, name=name, values=values, updated_by=actor_id)
    session.execute(statement.on_conflict_do_update(
        index_elements=[ValueList.org_id, ValueList.name],
        set_={"values": statement.excluded["values"], "updated_by": actor_id, "updated_at": func.now()}))
    return session.get(ValueList, (org_id, name), populate_existing=True)
