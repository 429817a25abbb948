"""Tables of the directory service.

Search is indexed queries on ``providers``: everything it filters or sorts on is
denormalized onto the provider row (taxonomy codes as text arrays, one tsvector per
relevance tier, the primary location as lat/lng and as a point on the unit sphere). The
HSDS-shaped child data (locations, phones, contacts, schedules, licenses) is read
and written whole with its provider and never queried on its own, so it lives in
JSONB columns rather than child tables.
"""
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column
from sqlalchemy.types import UserDefinedType

# cube: points on the unit sphere with a GiST index for nearest-first (KNN) order;
# btree_gist: org_id in that same GiST index, so one program's walk skips the others' rows.
SEARCH_EXTENSIONS = ("pg_trgm", "unaccent", "cube", "btree_gist")


class Cube(UserDefinedType):
    """The ``cube`` extension's type; only ever used inside SQL, never loaded."""

    cache_ok = True

    def get_col_spec(self, **kw):
        return "cube"


# The unit-sphere point of (latitude, longitude). Straight-line (chord) distance between such
# points grows with great-circle distance, so ``sphere_point <-> center`` sorts exactly by distance.
UNIT_SPHERE_POSITION = (
    "CASE WHEN latitude IS NOT NULL THEN cube(ARRAY["
    "cos(radians(latitude)) * cos(radians(longitude)), "
    "cos(radians(latitude)) * sin(radians(longitude)), "
    "sin(radians(latitude))]) END"
)
# A uniformly distributed byte of the (random) id: the facet counts of a large result are
# estimated from the rows whose byte is below a bound (see directory.search).
def sample_byte(id_column):
    return func.get_byte(func.uuid_send(id_column), 0)


class Base(DeclarativeBase):
    pass


def _now_column(**kwargs) -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now(), **kwargs)


def _code_array() -> Mapped[list[str]]:
    return mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))


def _json_list() -> Mapped[list[dict]]:
    return mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))


LIVE = text("deleted_at IS NULL")


class Provider(Base):
    __tablename__ = "providers"
    # RETURNING brings back timestamps and server defaults with the INSERT/UPDATE itself.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    practice_name: Mapped[str | None] = mapped_column(Text)
    credentials: Mapped[list[str]] = _code_array()
    licenses: Mapped[list[dict]] = _json_list()
    npi: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)

    specialties: Mapped[list[str]] = _code_array()
    modalities: Mapped[list[str]] = _code_array()
    age_groups: Mapped[list[str]] = _code_array()
    populations: Mapped[list[str]] = _code_array()
    languages: Mapped[list[str]] = _code_array()
    insurance_plans: Mapped[list[str]] = _code_array()
    gender: Mapped[str | None] = mapped_column(Text)

    telehealth: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    in_person: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    accepting_new_clients: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    capacity: Mapped[int | None] = mapped_column(Integer)
    waitlist_weeks: Mapped[int | None] = mapped_column(Integer)

    fee_min: Mapped[int | None] = mapped_column(Integer)
    fee_max: Mapped[int | None] = mapped_column(Integer)
    sliding_scale: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    fees_description: Mapped[str | None] = mapped_column(Text)

    email: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    phones: Mapped[list[dict]] = _json_list()
    contacts: Mapped[list[dict]] = _json_list()
    locations: Mapped[list[dict]] = _json_list()
    schedules: Mapped[list[dict]] = _json_list()
    last_verified_on: Mapped[date | None] = mapped_column(Date)

    # Coordinates of the primary location, copied from ``locations`` for distance search.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    sphere_point = deferred(mapped_column(Cube, Computed(UNIT_SPHERE_POSITION, persisted=True)))
    # Written by directory.search_index in SQL (they need taxonomy labels); never loaded by the ORM.
    # Relevance tiers of text search: names; names, labels and credentials; everything.
    name_vector = deferred(mapped_column(TSVECTOR))
    primary_vector = deferred(mapped_column(TSVECTOR))
    search_vector = deferred(mapped_column(TSVECTOR))
    search_text = deferred(mapped_column(Text))  # the words of primary_vector, unstemmed: feeds search_words

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = _now_column()
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = _now_column(onupdate=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        CheckConstraint("kind IN ('individual', 'agency')", name="ck_providers_kind"),
        CheckConstraint("fee_min IS NULL OR fee_max IS NULL OR fee_min <= fee_max", name="ck_providers_fees"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="ck_providers_coordinates"),
        # Default listing order and keyset walk when there is neither text nor distance.
        Index("ix_providers_org_name", "org_id", "name", "id", postgresql_where=LIVE),
        Index(
            "uq_providers_org_npi", "org_id", "npi", unique=True,
            postgresql_where=text("deleted_at IS NULL AND npi IS NOT NULL"),
        ),
        *(
            Index(f"ix_providers_{column}", column, postgresql_using="gin", postgresql_where=LIVE)
            for column in ("name_vector", "primary_vector", "search_vector")
        ),
        # Nearest first: ORDER BY sphere_point <-> center walks this index in distance order,
        # and sphere_point <@ (a cube around the center) bounds the walk to the radius.
        Index("ix_providers_org_sphere_point", "org_id", "sphere_point", postgresql_using="gist",
              postgresql_where=text("deleted_at IS NULL AND latitude IS NOT NULL")),
        # Not partial: the planner only uses the statistics of an expression index that is not.
        # INCLUDE lets the facet estimate of an unfiltered directory be an index-only count.
        Index("ix_providers_org_sample", "org_id", sample_byte(text("id")),
              postgresql_include=["id", "deleted_at"]),
        *(
            Index(f"ix_providers_{column}", column, postgresql_using="gin", postgresql_where=LIVE)
            for column in ("specialties", "modalities", "age_groups", "populations", "languages", "insurance_plans")
        ),
        # Not partial, so the planner has statistics of lower(gender) (see ix_providers_org_sample).
        Index("ix_providers_org_gender", "org_id", func.lower(text("gender"))),
        # Duplicate checks of imports (same email, same name and address).
        Index("ix_providers_org_email", "org_id", func.lower(text("email")), postgresql_where=LIVE),
        Index("ix_providers_org_lower_name", "org_id", func.lower(text("name")), postgresql_where=LIVE),
    )


class ProviderHistory(Base):
    """One row per changed field; the rows written by one change share ``change_id``."""

    __tablename__ = "provider_history"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Insertion order: the rows of one change share changed_at (the transaction's time).
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("providers.id"), nullable=False)
    change_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    field: Mapped[str] = mapped_column(Text, nullable=False)
    old_value: Mapped[object | None] = mapped_column(JSONB(none_as_null=True))
    new_value: Mapped[object | None] = mapped_column(JSONB(none_as_null=True))
    # None when the change was not made by a staff user (a provider's own update link, an import job).
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        CheckConstraint("action IN ('created', 'updated', 'deleted')", name="ck_provider_history_action"),
        Index("ix_provider_history_provider", "org_id", "provider_id", "sequence"),
    )


class SearchWord(Base):
    """Every word of a program's names, labels and credentials: the vocabulary that a misspelt
    query word is corrected against (nearest by trigram similarity). Only ever grows; a stale
    word costs nothing but a correction that finds no provider."""

    __tablename__ = "search_words"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    word: Mapped[str] = mapped_column(Text, primary_key=True)

    __table_args__ = (
        Index("ix_search_words_trgm", "org_id", "word", postgresql_using="gist",
              postgresql_ops={"word": "gist_trgm_ops"}),
    )


class TaxonomyTerm(Base):
    """A program's own copy of each vocabulary, seeded from directory.taxonomy defaults."""

    __tablename__ = "taxonomy_terms"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    taxonomy: Mapped[str] = mapped_column(String(32), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column(onupdate=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        Index("uq_taxonomy_terms_org_code", "org_id", "taxonomy", "code", unique=True),
    )


class DirectorySettings(Base):
    __tablename__ = "directory_settings"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    public_slug: Mapped[str | None] = mapped_column(String(64))
    public_directory_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # Insurance plans offered as search filters in this program's directory (empty: all).
    insurance_filter_plans: Mapped[list[str]] = _code_array()
    # When set, search only ever returns providers accepting one of insurance_filter_plans.
    restrict_to_insurance_filter_plans: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    updated_at: Mapped[datetime] = _now_column(onupdate=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (Index("uq_directory_settings_public_slug", "public_slug", unique=True),)


def install_search_support(connection) -> None:
    """Create the extensions the search indexes need; run before ``Base.metadata.create_all``
    (or as the first step of the initial alembic migration)."""
    for extension in SEARCH_EXTENSIONS:
        connection.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {extension}")


class ProviderImport(Base):
    """A bulk upload and the durable job that applies it, batch by batch: each batch commits
    with the progress it made, so a crashed worker's successor resumes after the last batch."""

    __tablename__ = "provider_imports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    filename: Mapped[str | None] = mapped_column(Text)
    mapping: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False)
    on_duplicate: Mapped[str] = mapped_column(String(8), nullable=False)
    content = deferred(mapped_column(LargeBinary, nullable=False))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default=text("'pending'"))
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False)
    processed_rows: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    merged_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    duplicate_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    errors: Mapped[list[dict]] = _json_list()
    duplicates: Mapped[list[dict]] = _json_list()
    failure: Mapped[str | None] = mapped_column(Text)
    # A worker owns a running import until then; past it, another worker takes the job over.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'completed', 'failed')", name="ck_provider_imports_status"),
        CheckConstraint("on_duplicate IN ('skip', 'merge')", name="ck_provider_imports_on_duplicate"),
        Index("ix_provider_imports_unfinished", "created_at",
              postgresql_where=text("status IN ('pending', 'running')")),
    )
