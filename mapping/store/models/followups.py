"""Follow-ups (the tasks the planner keeps in Outlook) and the history of who owns a relationship."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models.base import Base, UTCDateTime, _created, _enum, _updated


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"  # by staff in Outlook, or by a real interaction before the due date
    CANCELLED = "cancelled"  # superseded: owner changed, tier changed, relationship gone
    DISMISSED = "dismissed"  # staff deleted the task: that period is done with


class FollowUpKind(enum.StrEnum):
    CADENCE = "cadence"  # the recurring follow-up of a tier
    HANDOVER = "handover"  # Eliminate: one task to recommend a competitor, then no cadence


class FollowUp(Base):
    """A follow-up task we schedule into an owner's mailbox (``item_links`` entity type ``task``).

    The row is committed *before* the task is created in Exchange, and ``our_id`` is stamped on the task
    as an extended property, so a run that dies between creating the task and recording its id finds
    the task again instead of creating a second one. At most one open follow-up per relationship and
    owner: a partial unique index, so the database itself refuses a second.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        sa.CheckConstraint("person_id IS NOT NULL OR organisation_id IS NOT NULL", name="has_subject"),
        # The planner asks: open follow-ups of this owner, by due date.
        sa.Index("ix_follow_ups_owner_status_due", "owner_mailbox_id", "status", "due_at"),
        sa.Index(
            "uq_follow_ups_open_per_owner",
            "relationship_id",
            "owner_mailbox_id",
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    our_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    relationship_id: Mapped[int] = mapped_column(sa.ForeignKey("relationships.id", ondelete="CASCADE"), index=True)
    owner_mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[FollowUpKind] = mapped_column(_enum(FollowUpKind, "kind"), default=FollowUpKind.CADENCE)
    cadence: Mapped[str | None] = mapped_column(sa.String(32))  # "weekly", "monthly", ... (None: handover)
    method: Mapped[str] = mapped_column(sa.String(128))  # "telephone, e-mail"
    importance: Mapped[str] = mapped_column(sa.String(8), default="Normal")  # Exchange's Low/Normal/High
    subject: Mapped[str] = mapped_column(sa.String(255))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[FollowUpStatus] = mapped_column(_enum(FollowUpStatus, "status"), default=FollowUpStatus.OPEN)
    # Set once the task exists in Exchange (the item link carries its id); NULL: not created yet.
    created_in_exchange_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What Exchange has yet to be told (create, update, complete, delete): an outbox, so a run that
    # dies after deciding and before writing finishes the write on the next run. NULL: in step.
    pending_write: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why it closed: staff, interaction, dismissed, owner_changed, plan_changed, gone.
    closed_reason: Mapped[str | None] = mapped_column(sa.String(32))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class OwnershipChange(Base):
    """Every change of a relationship's owner, with why: ownership is audited, not silently flipped."""

    __tablename__ = "ownership_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(sa.ForeignKey("relationships.id", ondelete="CASCADE"), index=True)
    from_mailbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="SET NULL"))
    to_mailbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="SET NULL"))
    # explicit (rule or "Owner: ..." category), interactions (most two-way interactions), none.
    source: Mapped[str] = mapped_column(sa.String(16))
    evidence: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    decided_at: Mapped[datetime] = _created()
