"""The business case's tables (issue 16): key-date triggers handled, and each relationship's note.

- ``followup_triggers``: one row per trigger key (``thank-you:<order>``, ``win-back:<day>``,
  ``referral-ack:<id>``) the follow-up job has handled, so a trigger is never raised twice: *carried*
  by an open follow-up (``follow_up_id``), *done* when that follow-up was completed, *skipped* when
  the relationship was being handed over. Unique per relationship and key.
- ``group_families``: a registrable domain family (``acme`` of ``acme.com``, ``acme.de``,
  ``acme.co.uk``) the admin confirmed as one group (``relsync groups confirm``), with the parent
  organisation's relationship; its other members become subsidiaries of that parent.
- ``relationship_notes``: the "What matters" note read from the contact's Outlook user field, with a
  hash of the raw field, so a note too long is reported once per change and not on every run.
- ``relationship_offers``: what to offer each relationship next (:mod:`mapping.next_offer`), as the last
  follow-up run's analysis found it (the lines its task bodies carry), kept so the Outlook card reads it
  in one lookup instead of analysing every customer's purchases per request. A relationship with
  nothing to suggest has no row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models import Base, UTCDateTime


class FollowUpTrigger(Base):
    """A key-date trigger the follow-up job has handled (see the module docstring)."""

    __tablename__ = "followup_triggers"
    __table_args__ = (sa.UniqueConstraint("relationship_id", "key", name="uq_followup_triggers_relationship_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(sa.ForeignKey("relationships.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(160))
    kind: Mapped[str] = mapped_column(sa.String(16))  # thank_you, win_back, referral_ack
    due: Mapped[date] = mapped_column(sa.Date)
    line: Mapped[str] = mapped_column(sa.Text)  # the sentence the task body carries
    follow_up_id: Mapped[int | None] = mapped_column(sa.ForeignKey("follow_ups.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(sa.String(8))  # carried, done, skipped
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class RelationshipNote(Base):
    """What matters to a relationship, as staff keep it in the contact's user field (cleaned, cut)."""

    __tablename__ = "relationship_notes"

    relationship_id: Mapped[int] = mapped_column(
        sa.ForeignKey("relationships.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str | None] = mapped_column(sa.Text)
    problem: Mapped[str | None] = mapped_column(sa.Text)
    raw_hash: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RelationshipOffer(Base):
    """What to offer one relationship next (see the module docstring): the suggestions, best first, each
    ``{"product", "support", "buyers", "peers", "segment"}``; ``updated_at``: when they last changed."""

    __tablename__ = "relationship_offers"

    relationship_id: Mapped[int] = mapped_column(
        sa.ForeignKey("relationships.id", ondelete="CASCADE"), primary_key=True
    )
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GroupFamily(Base):
    """A domain family the admin confirmed as one parent group (see the module docstring)."""

    __tablename__ = "group_families"

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[str] = mapped_column(sa.String(253), unique=True)  # the label before the public suffix
    parent_relationship_id: Mapped[int] = mapped_column(sa.ForeignKey("relationships.id", ondelete="CASCADE"))
    confirmed_by: Mapped[str] = mapped_column(sa.String(255))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())
