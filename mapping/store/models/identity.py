"""Identity resolution: candidate pairs of people or organisations that may be one, and the audit of merges."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models.base import Base, UTCDateTime, _created, _enum


class MatchKind(enum.StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"


class MatchStatus(enum.StrEnum):
    PENDING = "pending"  # in the review queue
    MERGED = "merged"
    REJECTED = "rejected"  # never proposed again


class MatchCandidate(Base):
    """A pair of people or organisations that may be one: the review queue, and its decisions.

    A pair is stored once, with ``a_id < b_id``; a rejected pair stays, so it is never proposed again.
    """

    __tablename__ = "match_candidates"
    __table_args__ = (
        sa.UniqueConstraint("kind", "a_id", "b_id"),
        sa.CheckConstraint("a_id < b_id", name="ordered_pair"),
        sa.Index("ix_match_candidates_status_score", "status", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MatchKind] = mapped_column(_enum(MatchKind, "kind"))
    a_id: Mapped[int] = mapped_column()
    b_id: Mapped[int] = mapped_column()
    score: Mapped[float] = mapped_column(sa.Float)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    status: Mapped[MatchStatus] = mapped_column(_enum(MatchStatus, "status"), default=MatchStatus.PENDING)
    decided_by: Mapped[str | None] = mapped_column(sa.String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()


class MergeAudit(Base):
    """One merge or unmerge: what, why (score, evidence, rule or person), when, and how to undo it.

    ``snapshot`` holds everything an unmerge needs to restore both sides exactly: the survivor's
    values before the merge, and the ids of every row moved from the merged record to the survivor.
    """

    __tablename__ = "merge_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MatchKind] = mapped_column(_enum(MatchKind, "kind"))
    action: Mapped[str] = mapped_column(sa.String(16))  # merge | unmerge
    survivor_id: Mapped[int] = mapped_column(index=True)
    merged_id: Mapped[int] = mapped_column(index=True)
    score: Mapped[float | None] = mapped_column(sa.Float)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    reason: Mapped[str] = mapped_column(sa.String(255))  # "rule: score >= 0.92", "by admin@example.com"
    snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    candidate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("match_candidates.id", ondelete="SET NULL"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()
