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
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column
from sqlalchemy.types import UserDefinedType

from directory.referrer_options import RECRUITMENT_STATUSES
from shared.imports import ImportJob, job_table_args

# cube: points on the unit sphere with a GiST index for nearest-first (KNN) order;
# btree_gist: org_id in that same GiST index, so one program's walk skips the others' rows;
# uuid-ossp: uuid_generate_v5, which finds a provider by the id of its HSDS service.
SEARCH_EXTENSIONS = ("pg_trgm", "unaccent", "cube", "btree_gist", "uuid-ossp")


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


def hsds_service_id(id_column):
    """The id of a provider's HSDS service, as directory.hsds.service_id computes it (uuid5 of
    the provider's id and "service"), in SQL. A literal, not a parameter, so that the planner
    matches it to ix_providers_hsds_service_id."""
    return func.uuid_generate_v5(id_column, literal_column("'service'"))


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
        # The HSDS read API's /services/{id}.
        Index("ix_providers_hsds_service_id", hsds_service_id(text("id")), postgresql_where=LIVE),
    )


class FieldHistory:
    """Field-level change history of a record (see directory.history): one row per changed
    field; the rows written by one change share ``change_id``. Each history table adds the
    column naming its record."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Insertion order: the rows of one change share changed_at (the transaction's time).
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    change_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    field: Mapped[str] = mapped_column(Text, nullable=False)
    old_value: Mapped[object | None] = mapped_column(JSONB(none_as_null=True))
    new_value: Mapped[object | None] = mapped_column(JSONB(none_as_null=True))
    # None when the change was not made by a staff user (a provider's own update link, an import
    # job, a case manager's first referral).
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_at: Mapped[datetime] = _now_column()


class ProviderHistory(FieldHistory, Base):
    __tablename__ = "provider_history"

    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("providers.id"), nullable=False)
    # Set when the provider made the change themselves, through this update request's link
    # (actor_id then names the staff member who approved it, if the program asked for approval).
    update_request_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("provider_update_requests.id", name="fk_provider_history_update_request"))

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
    # Providers last verified longer ago than this get an update request automatically
    # (directory.update_requests); None: never.
    stale_after_days: Mapped[int | None] = mapped_column(Integer)
    # A provider's corrections through an update request wait for staff approval instead of
    # applying at once (directory.update_requests).
    corrections_need_approval: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    updated_at: Mapped[datetime] = _now_column(onupdate=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (Index("uq_directory_settings_public_slug", "public_slug", unique=True),)


class ProgramName(Base):
    """A program's name as identity last told it (directory.program_names): what the emails the
    directory sends are signed with. ``refreshed_at``: when identity's event of it occurred."""

    __tablename__ = "program_names"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    refreshed_at: Mapped[datetime] = _now_column(onupdate=func.now())


class ProviderUpdateRequest(Base):
    """A single-use, expiring link emailed to a provider to review and correct their own record
    (directory.update_requests). Only the token's hash is kept; the status follows from the
    columns (update_requests.status_of): sent, completed or expired (completed_at, expires_at),
    and for corrections held for approval awaiting_approval, approved or rejected
    (proposed_changes, decision)."""

    __tablename__ = "provider_update_requests"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("providers.id"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str] = mapped_column(Text, nullable=False)  # where the link went
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)  # staff, or stale (the sweep)
    sent_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Moved to the time a newer request for the same provider was sent: one link works at a time.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # The provider's corrections held for staff approval, ``field: value`` as JSON; kept once decided.
    proposed_changes: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    decision: Mapped[str | None] = mapped_column(String(16))  # approved or rejected
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("trigger IN ('staff', 'stale')", name="ck_provider_update_requests_trigger"),
        # Only corrections held for approval are decided, and a decision says who and when.
        CheckConstraint("decision IS NULL OR (decision IN ('approved', 'rejected') AND proposed_changes IS NOT NULL "
                        "AND decided_by IS NOT NULL AND decided_at IS NOT NULL)",
                        name="ck_provider_update_requests_decision"),
        UniqueConstraint("token_hash", name="uq_provider_update_requests_token_hash"),
        UniqueConstraint("org_id", "idempotency_key", name="uq_provider_update_requests_idempotency"),
        # The staff's list, newest first; a provider's requests (the open one, the last one sent).
        Index("ix_provider_update_requests_org_sent", "org_id", "sent_at", "id"),
        Index("ix_provider_update_requests_provider_sent", "provider_id", "sent_at"),
    )


def install_search_support(connection) -> None:
    """Create the extensions the search indexes need; run before ``Base.metadata.create_all``
    (or as the first step of the initial alembic migration)."""
    for extension in SEARCH_EXTENSIONS:
        connection.exec_driver_sql(f'CREATE EXTENSION IF NOT EXISTS "{extension}"')


class ProviderImport(ImportJob, Base):
    """A bulk upload and the durable job that applies it, batch by batch: each batch commits
    with the progress it made, so a crashed worker's successor resumes after the last batch."""

    __tablename__ = "provider_imports"

    format: Mapped[str] = mapped_column(String(16), nullable=False)
    filename: Mapped[str | None] = mapped_column(Text)
    mapping: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False)
    on_duplicate: Mapped[str] = mapped_column(String(8), nullable=False)
    merged_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))

    __table_args__ = (
        *job_table_args("provider_imports"),
        CheckConstraint("on_duplicate IN ('skip', 'merge')", name="ck_provider_imports_on_duplicate"),
    )


# Referrers (seed 002): companies, their business units, and their case managers.

class Company(Base):
    __tablename__ = "companies"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    suburb: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str | None] = mapped_column(String(2))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = _now_column(onupdate=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        Index("uq_companies_org_name", "org_id", func.lower(text("name")), unique=True),
    )


class BusinessUnit(Base):
    """A team within a company; case managers of one unit see each other's referrals."""

    __tablename__ = "business_units"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    company_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("companies.id"), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _now_column()
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        Index("uq_business_units_company_name", "company_id", func.lower(text("name")), unique=True),
        # The target of case_managers' (business_unit_id, company_id) key: a case manager's unit
        # is always one of their own company's.
        UniqueConstraint("id", "company_id", name="uq_business_units_id_company"),
    )


class CaseManager(Base):
    __tablename__ = "case_managers"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    company_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("companies.id"), nullable=False)
    business_unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    title: Mapped[str | None] = mapped_column(Text)
    first_name: Mapped[str] = mapped_column(Text, nullable=False)
    last_name: Mapped[str] = mapped_column(Text, nullable=False)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    mobile: Mapped[str | None] = mapped_column(Text)
    position: Mapped[str | None] = mapped_column(Text)
    suburb: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str | None] = mapped_column(String(2))
    linkedin_url: Mapped[str | None] = mapped_column(Text)
    referral_source: Mapped[str | None] = mapped_column(Text)
    business_support_officer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    business_support_officer_assigned_on: Mapped[date | None] = mapped_column(Date)
    contact_verified: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    subscribed_to_promotions: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    recruitment_status: Mapped[str] = mapped_column(String(24), nullable=False, server_default=text("'recruiting'"))
    has_login: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    login_invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Names, email, phones, position and place, written with the row (directory.case_managers).
    search_vector = deferred(mapped_column(TSVECTOR))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = _now_column()
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = _now_column(onupdate=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        CheckConstraint(
            "recruitment_status IN ({})".format(", ".join(f"'{status}'" for status in RECRUITMENT_STATUSES)),
            name="ck_case_managers_recruitment_status"),
        CheckConstraint("NOT has_login OR email IS NOT NULL", name="ck_case_managers_login_email"),
        ForeignKeyConstraint(["business_unit_id", "company_id"], ["business_units.id", "business_units.company_id"],
                             name="fk_case_managers_business_unit"),
        # Listing order and keyset walk.
        Index("ix_case_managers_org_name", "org_id", "last_name", "first_name", "id"),
        Index("ix_case_managers_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_case_managers_org_email", "org_id", func.lower(text("email"))),
        Index("ix_case_managers_org_company", "org_id", "company_id"),
        Index("ix_case_managers_org_recruitment_status", "org_id", "recruitment_status"),
        Index("ix_case_managers_org_business_support_officer", "org_id", "business_support_officer_id"),
    )


class CaseManagerHistory(FieldHistory, Base):
    __tablename__ = "case_manager_history"

    case_manager_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("case_managers.id"), nullable=False)

    __table_args__ = (
        CheckConstraint("action IN ('created', 'updated')", name="ck_case_manager_history_action"),
        Index("ix_case_manager_history_case_manager", "org_id", "case_manager_id", "sequence"),
    )


class ValueList(Base):
    """A program's edited copy of a value list (directory.referrer_options.VALUE_LISTS); until
    it has one, the list's defaults apply."""

    __tablename__ = "value_lists"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    values: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    updated_at: Mapped[datetime] = _now_column(onupdate=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class StaffMember(Base):
    """Read model of identity's users, fed by user_activated / user_deactivated: who may be a
    case manager's business support officer. ``changed_at`` is the event's time; a row only
    moves forward."""

    __tablename__ = "staff_members"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Promotion(Base):
    """A marketing email sent to the program's subscribed, verified case managers."""

    __tablename__ = "promotions"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    headline: Mapped[str] = mapped_column(Text, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    link: Mapped[str | None] = mapped_column(Text)
    recipient_count: Mapped[int] = mapped_column(Integer, nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    sent_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sent_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key", name="uq_promotions_idempotency"),
        Index("ix_promotions_org_sent", "org_id", "sent_at", "id"),
    )
