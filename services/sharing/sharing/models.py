"""This service's tables (the platform's outbox tables come from shared.outbox).

Nothing here is deleted: a revoked or expired share keeps its row and its consent record, a
reviewed contact keeps who reviewed it and when."""
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, func, text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _created_at():
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Partner(Base):
    """A third-party organization a program shares clients with (seed 003). Turning
    ``sharing_enabled`` off suspends every share with it; turning it on again resumes them."""
    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_partners_org_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    contact_language: Mapped[str] = mapped_column(String(8), default="en")
    sharing_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class ClientCard(Base):
    """Read model of what a partner may see of a shared client, owned by referrals: filled
    from ``referrals.client_card`` when a client is shared and kept current by referrals'
    ``client_updated`` events. ``as_of`` orders the two, so a late event never undoes a
    newer read."""
    __tablename__ = "client_cards"

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    photo_url: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(320))
    preferred_contact: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Share(Base):
    """A client shared with a partner under a consent record with the elements of 42 CFR 2.31.
    ``status`` is what happened to it (active, revoked, expired); whether it grants access
    right now is ``access.grants_access`` (the consent may have lapsed, the partner may be
    suspended)."""
    __tablename__ = "shares"
    __table_args__ = (
        # One live share of a client with a partner at a time.
        Index("uq_shares_live", "org_id", "client_id", "partner_id", unique=True,
              postgresql_where=text("status = 'active'")),
        Index("ix_shares_partner", "org_id", "partner_id", "status"),
        Index("ix_shares_client", "org_id", "client_id", "created_at"),
        Index("ix_shares_lapsing", "expires_at", postgresql_where=text("status = 'active'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id"))
    note: Mapped[str | None] = mapped_column(Text)                     # shown to the partner
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | revoked | expired
    # The consent (42 CFR 2.31): who discloses what to whom (the partner) for which purpose,
    # until when, agreed by whom and when, and that it may be revoked.
    purpose: Mapped[str] = mapped_column(Text)
    information_disclosed: Mapped[str] = mapped_column(Text)
    disclosed_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expiry_event: Mapped[str | None] = mapped_column(Text)
    agreed_by: Mapped[str] = mapped_column(String(200))
    agreed_on: Mapped[date] = mapped_column(Date)
    revocation_acknowledged: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = _created_at()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)           # None: the consent expired


class Contact(Base):
    """A contact a partner had with a shared client. It arrives as Needs Review; staff mark it
    reviewed. A contact is identified by client, recorder, time and method, so a request
    delivered twice (a retry, a redelivery after a crash) records it once."""
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("org_id", "client_id", "recorded_by", "occurred_at", "method", name="uq_contacts_natural"),
        Index("ix_contacts_review", "org_id", "review_status", "occurred_at", "id"),
        Index("ix_contacts_client", "org_id", "client_id", "occurred_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id"))
    share_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shares.id"))
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    method: Mapped[str] = mapped_column(String(20))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    review_status: Mapped[str] = mapped_column(String(12), default="needs_review")  # needs_review | reviewed
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
