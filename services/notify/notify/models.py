"""This service's tables (the platform's outbox tables come from shared.outbox)."""
import uuid
from datetime import datetime

from sqlalchemy import (
    DateTime, Index, Integer, String, Text, UniqueConstraint, Uuid, func, text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Message(Base):
    """One message to one recipient on one channel: the delivery log and the send queue.

    The rendered content lives here only while the message waits to be sent and is cleared once
    it is sent or has failed: the log keeps who, what kind and how it went, never the words."""
    __tablename__ = "messages"
    __table_args__ = (
        # However often an event arrives, it yields one message per recipient and channel.
        UniqueConstraint("source_event_id", "recipient", "channel", name="uq_messages_once_per_event"),
        Index("ix_messages_org_created", "org_id", "created_at", "id"),
        Index("ix_messages_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(60))             # what the producer asked for
    template: Mapped[str] = mapped_column(String(60))         # the template key it was rendered with
    channel: Mapped[str] = mapped_column(String(10))          # email | sms
    recipient: Mapped[str] = mapped_column(String(320))       # email address or E.164 number
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8))
    source_event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    source_ref: Mapped[str | None] = mapped_column(String(200))  # e.g. the referral list it belongs to
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued|sent|delivered|failed|bounced
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)      # the email's text part, or the SMS
    body_html: Mapped[str | None] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(Text)  # promotional email only
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class TemplateOverride(Base):
    """A program's own wording of one template in one language; parts it leaves out come from
    the built-in template."""
    __tablename__ = "template_overrides"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    parts: Mapped[dict] = mapped_column(JSONB)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class OptOut(Base):
    """An address that must not be sent to. An SMS STOP holds for every program (the number is
    ours, not the program's), so its ``org_id`` is NULL; an email unsubscribe from promotions
    holds for the program whose promotion it came from."""
    __tablename__ = "opt_outs"
    __table_args__ = (
        UniqueConstraint("channel", "address", "org_id", name="uq_opt_outs_address",
                         postgresql_nulls_not_distinct=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(320))
    org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(String(20))  # sms_stop | unsubscribe
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UnsubscribeToken(Base):
    """The single link in a promotional email that unsubscribes its recipient from that
    program's promotions; only its hash is stored."""
    __tablename__ = "unsubscribe_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    address: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
