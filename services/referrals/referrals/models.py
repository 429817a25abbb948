"""This service's tables (the platform's outbox tables come from shared.outbox).

Nothing here is deleted: a merged client keeps its row (``merged_into_id``), a referral keeps
every status it passed through (``referral_status_changes``)."""
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.imports import ImportJob, job_table_args


class Base(DeclarativeBase):
    pass


def _created_at():
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (
        Index("ix_clients_org_name", "org_id", "last_name", "first_name", "id"),
        # Name + date of birth, normalised: how a second record of the same person is noticed.
        Index("ix_clients_duplicate_key", "org_id", "duplicate_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    pronouns: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))              # E.164
    email: Mapped[str | None] = mapped_column(String(320))
    preferred_contact: Mapped[str] = mapped_column(String(20), default="email")
    language: Mapped[str] = mapped_column(String(8), default="en")
    address: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    photo_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | inactive | merged
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    duplicate_key: Mapped[str] = mapped_column(String(250))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class ClientAssignment(Base):
    """A staff member assigned to a client: a clinician with only ``clients.assigned`` sees the
    clients (and their lists and referrals) they are assigned to."""
    __tablename__ = "client_assignments"
    __table_args__ = (Index("ix_client_assignments_user", "org_id", "user_id"),)

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    assigned_at: Mapped[datetime] = _created_at()


class ClientImport(ImportJob, Base):
    """One CSV upload and the durable job that creates its clients (shared.imports)."""
    __tablename__ = "client_imports"
    __table_args__ = (
        Index("ix_client_imports_org", "org_id", "created_at"),
        *job_table_args("client_imports"),
        CheckConstraint("on_duplicate IN ('skip', 'create')", name="ck_client_imports_on_duplicate"),
    )

    on_duplicate: Mapped[str] = mapped_column(String(8))
    # A clinician who sees only the clients assigned to them is assigned those they import, or
    # they would vanish from their view at once.
    assign_to_creator: Mapped[bool] = mapped_column(Boolean)


class ReferralList(Base):
    __tablename__ = "referral_lists"
    __table_args__ = (Index("ix_referral_lists_org_created", "org_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id"), index=True)  # None: walk-in
    title: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | sent
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReferralListItem(Base):
    """A provider on a list as the directory described it when it was added."""
    __tablename__ = "referral_list_items"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral_lists.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    snapshot: Mapped[dict] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)


class ReferralListSend(Base):
    """One send of a list; its id is the notification request's event id, which notify reports
    each message's status against."""
    __tablename__ = "referral_list_sends"
    __table_args__ = (UniqueConstraint("list_id", "idempotency_key", name="uq_list_sends_idempotency"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral_lists.id"), index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    sent_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    sent_at: Mapped[datetime] = _created_at()


class ReferralListDelivery(Base):
    __tablename__ = "referral_list_deliveries"

    send_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral_list_sends.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued|sent|delivered|failed|bounced
    detail: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class ReferralListLink(Base):
    """The hosted page's expiring link; only the token's hash is kept."""
    __tablename__ = "referral_list_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral_lists.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_org_created", "org_id", "created_at", "id"),
        Index("ix_referrals_open", "status_changed_at",
              postgresql_where=text("status IN ('requested', 'accepted', 'in-progress', 'on-hold')")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id"), index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_snapshot: Mapped[dict] = mapped_column(JSONB)
    provider_email: Mapped[str | None] = mapped_column(String(320))
    referral_list_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral_lists.id"))
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    response_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    response_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = _created_at()
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime] = _created_at()
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReferralStatusChange(Base):
    __tablename__ = "referral_status_changes"
    __table_args__ = (Index("ix_referral_status_changes_referral", "referral_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"))
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_type: Mapped[str] = mapped_column(String(10))   # staff | provider
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the staff member; None for the provider's link
    occurred_at: Mapped[datetime] = _created_at()


class InboundRequest(Base):
    """A request for help reaching the program from outside: sent through the form on a
    provider's public profile (anonymous, for that provider), or a referral made by a case
    manager through their login (to the program). A case manager's referral keeps the company
    and business unit they referred from: colleagues of that unit see it (referrals.access)."""
    __tablename__ = "inbound_requests"
    __table_args__ = (
        Index("ix_inbound_requests_org_created", "org_id", "created_at", "id"),
        Index("ix_inbound_requests_sender", "sender_hash", "created_at"),
        Index("ix_inbound_requests_business_unit", "org_id", "business_unit_id", "created_at", "id",
              postgresql_where=text("business_unit_id IS NOT NULL")),
        Index("ix_inbound_requests_case_manager", "org_id", "case_manager_id", "created_at", "id",
              postgresql_where=text("case_manager_id IS NOT NULL")),
        CheckConstraint("case_manager_id IS NOT NULL OR (provider_id IS NOT NULL AND sender_hash IS NOT NULL)",
                        name="ck_inbound_requests_source"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    provider_name: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    recipient_count: Mapped[int] = mapped_column(Integer)
    sender_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash of the address, for the limit
    case_manager_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    business_unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    submitted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the case manager's login
    created_at: Mapped[datetime] = _created_at()


class Program(Base):
    """What messages need to know of a program and its staff, kept from identity's events and
    refreshed from ``identity.me`` when a staff member acts (read model; identity owns it)."""
    __tablename__ = "programs"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # When ``name`` was identity's (its event's time, or when identity.me was asked): a name
    # only moves forward in time, so an event delivered late changes nothing.
    named_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    stale_referral_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")


class StaffProfile(Base):
    __tablename__ = "staff_profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    email: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
