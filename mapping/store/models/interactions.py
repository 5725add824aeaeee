"""Interactions (e-mails and meetings), who took part and which staff mailboxes saw them."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mapping.store.models.base import Base, UTCDateTime, _created, _enum, _updated
from mapping.store.models.people import (
    Person,
)


class InteractionKind(enum.StrEnum):
    EMAIL = "email"
    MEETING = "meeting"
    TASK = "task"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class ParticipantRole(enum.StrEnum):
    FROM = "from"
    TO = "to"
    CC = "cc"
    BCC = "bcc"
    ORGANIZER = "organizer"
    REQUIRED = "required"
    OPTIONAL = "optional"


class ResponseType(enum.StrEnum):
    """A meeting attendee's answer (EWS ``ResponseType`` / Graph ``responseStatus``)."""

    UNKNOWN = "unknown"
    ORGANIZER = "organizer"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"
    NO_RESPONSE = "no_response"


class Interaction(Base):
    """An e-mail, meeting (occurrence) or task: one row however many mailboxes hold a copy.

    E-mails are deduplicated by ``internet_message_id``. Meetings by ``ical_uid`` plus
    ``occurrence_start`` (the original start of an occurrence, the RECURRENCE-ID); a single,
    non-recurring meeting has ``occurrence_start`` NULL and is unique by ``ical_uid`` alone. Both are
    partial unique indexes, so rows without those ids do not collide.
    """

    __tablename__ = "interactions"
    __table_args__ = (
        sa.Index(
            "uq_interactions_internet_message_id",
            "internet_message_id",
            unique=True,
            postgresql_where=sa.text("internet_message_id IS NOT NULL"),
            sqlite_where=sa.text("internet_message_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_interactions_ical_uid_occurrence_start",
            "ical_uid",
            "occurrence_start",
            unique=True,
            postgresql_where=sa.text("ical_uid IS NOT NULL"),
            sqlite_where=sa.text("ical_uid IS NOT NULL"),
        ),
        # NULLs are distinct in a unique index, so single meetings need their own index.
        sa.Index(
            "uq_interactions_ical_uid_single",
            "ical_uid",
            unique=True,
            postgresql_where=sa.text("ical_uid IS NOT NULL AND occurrence_start IS NULL"),
            sqlite_where=sa.text("ical_uid IS NOT NULL AND occurrence_start IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InteractionKind] = mapped_column(_enum(InteractionKind, "kind"))
    internet_message_id: Mapped[str | None] = mapped_column(sa.String(998))  # RFC 5322 line limit
    ical_uid: Mapped[str | None] = mapped_column(sa.String(512))
    occurrence_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    subject: Mapped[str | None] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_all_day: Mapped[bool] = mapped_column(default=False)
    is_cancelled: Mapped[bool] = mapped_column(default=False)
    # Sensitivity Private/Confidential: reports must not show it to everyone.
    is_private: Mapped[bool] = mapped_column(default=False)
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    conversation_id: Mapped[str | None] = mapped_column(sa.String(512), index=True)
    size_bytes: Mapped[int | None] = mapped_column()
    snippet: Mapped[str | None] = mapped_column(sa.String(512))  # bodies are never stored
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    participants: Mapped[list[InteractionParticipant]] = relationship(
        back_populates="interaction", cascade="all, delete-orphan", passive_deletes=True
    )
    viewers: Mapped[list[InteractionViewer]] = relationship(
        back_populates="interaction", cascade="all, delete-orphan", passive_deletes=True
    )


class InteractionParticipant(Base):
    """Someone on an interaction, by address; ``person_id`` is filled once identity knows them."""

    __tablename__ = "interaction_participants"
    __table_args__ = (sa.UniqueConstraint("interaction_id", "address", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(sa.ForeignKey("interactions.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="SET NULL"), index=True)
    # Normalised; indexed so a newly known address can be attached to its person in one query.
    address: Mapped[str] = mapped_column(sa.String(320), index=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[ParticipantRole] = mapped_column(_enum(ParticipantRole, "role"))
    response: Mapped[ResponseType | None] = mapped_column(_enum(ResponseType, "response"))
    # Set when the participant is one of our own staff mailboxes (direction, internal mail).
    staff_mailbox_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_mailboxes.id", ondelete="SET NULL"), index=True
    )

    interaction: Mapped[Interaction] = relationship(back_populates="participants")
    person: Mapped[Person | None] = relationship()


class InteractionViewer(Base):
    """Which staff mailboxes hold a copy of an interaction (who may see it, whose relationship)."""

    __tablename__ = "interaction_viewers"

    interaction_id: Mapped[int] = mapped_column(sa.ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    first_seen_at: Mapped[datetime] = _created()

    interaction: Mapped[Interaction] = relationship(back_populates="viewers")
