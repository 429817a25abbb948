"""Providers: create, read, update, soft-delete, and their field-level history.

Every function takes the caller's ``org_id`` explicitly and never reads one from data;
another program's provider is NotFound, exactly like a missing one. Functions flush but
never commit: the caller's unit of work commits (together with its outbox rows).
"""
import json
import uuid

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from directory import geo, search_index, terms
from directory.errors import Conflict, NotFound, ValidationFailed
from directory.history import HistoryPage, Trail, changes_between, jsonable
from directory.models import Provider, ProviderHistory
from directory.persistence import unique_conflicts
from directory.taxonomy import TAXONOMIES, Vocabulary

EDITABLE_FIELDS = (
    "kind", "name", "practice_name", "credentials", "licenses", "npi", "description",
    "specialties", "modalities", "age_groups", "populations", "languages", "insurance_plans", "gender",
    "telehealth", "in_person", "accepting_new_clients", "capacity", "waitlist_weeks",
    "fee_min", "fee_max", "sliding_scale", "fees_description",
    "email", "website", "phones", "contacts", "locations", "schedules", "last_verified_on",
)
CREATE_DEFAULTS = {
    "kind": "individual", "telehealth": False, "in_person": True, "accepting_new_clients": True,
    "sliding_scale": False, "credentials": [], "licenses": [], "specialties": [], "modalities": [],
    "age_groups": [], "populations": [], "languages": [], "insurance_plans": [],
    "phones": [], "contacts": [], "locations": [], "schedules": [],
}
JSON_FIELDS = frozenset({"licenses", "phones", "contacts", "locations", "schedules"})
# Fields that feed search_vector / search_text (see directory.search_index).
SEARCH_DOCUMENT_FIELDS = frozenset(
    {"name", "practice_name", "description", "credentials"}
    | {taxonomy.provider_field for taxonomy in TAXONOMIES if taxonomy.in_search_text}
)

HISTORY = Trail(ProviderHistory, "provider_id")
_COORDINATES = ("latitude", "longitude")
_CREATED_COLUMNS = ("id", *EDITABLE_FIELDS, *_COORDINATES)


def _create_statement():
    """create_providers' statement: the new rows arrive as one JSON array (``:rows``), each read
    into the columns' own types; the providers are inserted with their search columns
    (search_index.indexed_insert_sql), and each non-empty editable field becomes a history row
    of the provider's creation, as HISTORY.record would write it."""
    record = ", ".join(f"{column} {Provider.__table__.c[column].type.compile(dialect=postgresql.dialect())}"
                       for column in _CREATED_COLUMNS)
    insert = search_index.indexed_insert_sql(
        "new", ("org_id", "created_by", "updated_by", *_CREATED_COLUMNS),
        ", ".join(("CAST(:org_id AS uuid)", "CAST(:actor_id AS uuid)", "CAST(:actor_id AS uuid)",
                   *(f"p.{column}" for column in _CREATED_COLUMNS))))
    return text(f"""
WITH new AS (
    SELECT p.*, e.item, gen_random_uuid() AS change_id
    FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS e(item)
    CROSS JOIN LATERAL jsonb_to_record(e.item) AS p({record})
),
{insert}
INSERT INTO provider_history (id, org_id, provider_id, change_id, action, field, old_value, new_value, actor_id)
SELECT gen_random_uuid(), CAST(:org_id AS uuid), new.id, new.change_id, 'created', field.key, NULL, field.value,
       CAST(:actor_id AS uuid)
FROM new CROSS JOIN LATERAL jsonb_each(new.item) AS field
WHERE field.key = ANY(:editable_fields) AND field.value NOT IN ('null'::jsonb, '[]'::jsonb)
""")


_CREATE_SQL = _create_statement()
_NPI_CONFLICT = {"uq_providers_org_npi": ("Another provider in this directory has this NPI.",
                                           {"npi": ["Already used by another provider."]})}


def create_provider(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID | None, data: dict) -> Provider:
    """Add a provider from ProviderCreate-shaped ``data``."""
    (provider_id,) = create_providers(session, org_id, actor_id, [validate_new(session, org_id, data)])
    return get_provider(session, org_id, provider_id)


def create_providers(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID | None,
                     new_values: list[dict]) -> list[uuid.UUID]:
    """Write providers from validated ``new_values`` (validate_new's, each with an ``id`` when the
    caller needs to know it beforehand) in one statement: the rows with their search columns, and
    their creation history. Answers their ids, in order. An NPI another provider of the program
    has is a Conflict, and nothing is written."""
    rows = [{"id": str(values.get("id") or uuid.uuid4()),
             **jsonable({field: values[field] for field in (*EDITABLE_FIELDS, *_COORDINATES)})}
            for values in new_values]
    if rows:
        with unique_conflicts(session, _NPI_CONFLICT):
            session.execute(_CREATE_SQL, {"rows": json.dumps(rows), "org_id": org_id, "actor_id": actor_id,
                                          "editable_fields": list(EDITABLE_FIELDS)})
    return [uuid.UUID(row["id"]) for row in rows]


def validate_new(session: Session, org_id: uuid.UUID, data: dict, vocabulary: Vocabulary | None = None) -> dict:
    """The column values of a new provider from ProviderCreate-shaped ``data``, validated
    against the program's vocabulary (ValidationFailed if not valid)."""
    values = new_provider_values(data)
    _validate(session, org_id, values, current=None, vocabulary=vocabulary)
    return values


def new_provider_values(data: dict) -> dict:
    """Column values of a new provider from ProviderCreate-loaded ``data``: defaults filled in,
    locations completed, primary coordinates copied. Not validated against the vocabulary."""
    values = _normalized({**dict.fromkeys(EDITABLE_FIELDS), **CREATE_DEFAULTS, **_only_editable(data)})
    values["latitude"], values["longitude"] = _primary_point(values["locations"])
    return values


def get_provider(session: Session, org_id: uuid.UUID, provider_id: uuid.UUID, lock: bool = False,
                 include_deleted: bool = False) -> Provider:
    return _load(session, org_id, provider_id, lock=lock, include_deleted=include_deleted)


def update_provider(
    session: Session, org_id: uuid.UUID, actor_id: uuid.UUID | None, provider_id: uuid.UUID,
    changes: dict, expected_version: int | None = None, update_request_id: uuid.UUID | None = None,
) -> Provider:
    """Apply ProviderUpdate-shaped ``changes``; records one history row per field that really
    changed. ``update_request_id``: the provider made the changes through that request's link."""
    provider = _load(session, org_id, provider_id, lock=True)
    if expected_version is not None and expected_version != provider.version:
        raise Conflict("The provider was changed by someone else; reload it and try again.",
                       {"version": [f"Current version is {provider.version}."]})
    values, changed = _checked_changes(session, org_id, provider, changes)
    if not changed:
        return provider
    with unique_conflicts(session, _NPI_CONFLICT):
        for field in changed:
            setattr(provider, field, values[field])
        if "locations" in changed:
            provider.latitude, provider.longitude = _primary_point(values["locations"])
        provider.version += 1
        provider.updated_by = actor_id
    HISTORY.record(session, org_id, provider.id, actor_id, "updated", changed, update_request_id=update_request_id)
    if SEARCH_DOCUMENT_FIELDS & changed.keys():
        search_index.refresh_providers(session, org_id, [provider.id])
    return provider


def proposed_changes(session: Session, org_id: uuid.UUID, provider_id: uuid.UUID, changes: dict) -> dict[str, tuple]:
    """What ProviderUpdate-shaped ``changes`` would change, ``field: (old, new)`` as JSON, validated
    as update_provider validates them; nothing is written (changes proposed for approval)."""
    return _checked_changes(session, org_id, _load(session, org_id, provider_id), changes)[1]


def _checked_changes(session: Session, org_id: uuid.UUID, provider: Provider,
                     changes: dict) -> tuple[dict, dict[str, tuple]]:
    """The provider's values with ``changes`` applied (ValidationFailed if not valid), and
    ``field: (old, new)`` of those that really differ."""
    current = {field: getattr(provider, field) for field in EDITABLE_FIELDS}
    values = {**current, **_normalized(_only_editable(changes))}
    _validate(session, org_id, values, current=current)
    return values, changes_between(current, values, EDITABLE_FIELDS)


def delete_provider(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID | None, provider_id: uuid.UUID) -> None:
    """Soft delete: the row and its history stay, search and reads no longer see it."""
    provider = _load(session, org_id, provider_id, lock=True)
    provider.deleted_at, provider.deleted_by = func.now(), actor_id
    provider.version += 1
    session.flush()
    HISTORY.record(session, org_id, provider.id, actor_id, "deleted",
                   {"deleted_at": (None, provider.deleted_at.isoformat())})


def provider_history(
    session: Session, org_id: uuid.UUID, provider_id: uuid.UUID, limit: int = 50, cursor: str | None = None,
) -> HistoryPage:
    """Field changes of a provider, newest first; deleted providers keep their history readable."""
    _load(session, org_id, provider_id, include_deleted=True)
    return HISTORY.page(session, org_id, provider_id, limit, cursor)


def _load(session: Session, org_id: uuid.UUID, provider_id: uuid.UUID, lock: bool = False,
          include_deleted: bool = False) -> Provider:
    statement = select(Provider).where(Provider.org_id == org_id, Provider.id == provider_id)
    if not include_deleted:
        statement = statement.where(Provider.deleted_at.is_(None))
    if lock:
        # Serializes concurrent edits so each history row's old value is the one really replaced.
        statement = statement.with_for_update()
    provider = session.scalar(statement)
    if provider is None:
        raise NotFound("Provider not found.")
    return provider


def _only_editable(data: dict) -> dict:
    return {field: value for field, value in data.items() if field in EDITABLE_FIELDS}


def _normalized(values: dict) -> dict:
    """JSON columns as plain JSON without null members (an absent and a null member are the same
    to every reader, so exports and imports compare equal); locations with an id and, from their
    postcode if need be, coordinates."""
    if values.get("locations") is not None:
        values["locations"] = [_complete_location(location) for location in values["locations"]]
    return {field: [_without_nulls(item) for item in jsonable(value)] if field in JSON_FIELDS and value is not None
            else value for field, value in values.items()}


def _without_nulls(item: dict) -> dict:
    return {key: value for key, value in item.items() if value is not None}


def _complete_location(location: dict) -> dict:
    location = {**location, "id": str(location.get("id") or uuid.uuid4())}
    if location.get("latitude") is None and location.get("postal_code"):
        centroid = geo.postcode_centroid(location["postal_code"])
        if centroid is not None:
            location["latitude"], location["longitude"] = centroid
    return location


def _primary_point(locations: list[dict]) -> tuple[float | None, float | None]:
    for location in locations:
        if location.get("latitude") is not None:
            return location["latitude"], location["longitude"]
    return None, None


def _validate(session: Session, org_id: uuid.UUID, values: dict, current: dict | None,
              vocabulary: Vocabulary | None = None) -> None:
    """Rules that need the whole record or the program's vocabulary (shape is checked by the schemas)."""
    errors: dict[str, list[str]] = {}
    vocabulary = vocabulary or terms.load_vocabulary(session, org_id)
    for taxonomy in TAXONOMIES:
        field = taxonomy.provider_field
        unusable = vocabulary.unusable_codes(taxonomy.name, values.get(field) or [],
                                             already_used=(current or {}).get(field) or [])
        if unusable:
            errors[field] = [f"Unknown or inactive {taxonomy.name} code: {code}." for code in unusable]
    if not values.get("name"):
        errors["name"] = ["Missing data for required field."]
    for field in CREATE_DEFAULTS:
        if values.get(field) is None:
            errors[field] = ["May not be null."]
    if values.get("fee_min") is not None and values.get("fee_max") is not None and values["fee_min"] > values["fee_max"]:
        errors["fee_min"] = ["Must not exceed fee_max."]
    location_ids = {location["id"] for location in values.get("locations") or []}
    if any(schedule.get("location_id") not in (None, *location_ids) for schedule in values.get("schedules") or []):
        errors["schedules"] = ["location_id must be the id of one of the provider's locations."]
    if errors:
        raise ValidationFailed("The provider is not valid.", errors)
