"""Tables of privacy operations: the chained audit log, the suppression list, erasure journals.

Same declarative :class:`~mapping.store.models.Base` as the other tables (one metadata, one
migration chain); none of these rows holds a name or an address, only ids and keyed hashes, so an
erasure leaves the audit log whole and verifiable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One audited action: who, what, when, why, outcome; chained to the previous entry.

    ``entry_hash`` is HMAC-SHA256 (the deployment's audit key) over ``prev_hash`` and this entry's
    canonical fields including ``seq``, so a changed, removed or reordered entry breaks the chain
    (``relsync audit verify``). Rows are only ever inserted.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(128))  # "worker:host-1234", "user:alice"
    kind: Mapped[str] = mapped_column(sa.String(32), index=True)  # exchange_write, merge, erasure, ...
    action: Mapped[str] = mapped_column(sa.String(64))  # categories, task_create, master_categories, ...
    subject: Mapped[str | None] = mapped_column(sa.String(128))  # "person:12", "link:7", "mailbox:3"
    reason: Mapped[str | None] = mapped_column(sa.String(255))  # the rule or decision
    outcome: Mapped[str] = mapped_column(sa.String(16))  # ok, failed, refused
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # ids, counts, keyed hashes only
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    entry_hash: Mapped[str] = mapped_column(sa.String(64))


class AuditHead(Base):
    """The chain's tip (one row): the last sequence number and hash. Updated in the same transaction
    as every append, so cutting entries off the end is noticed too; the update also serialises
    concurrent appenders (row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    entry_hash: Mapped[str] = mapped_column(sa.String(64))
    head_hash: Mapped[str] = mapped_column(sa.String(64))  # keyed hash of (seq, entry_hash)


class Suppression(Base):
    """An address sync must never store again: only its keyed hash is kept."""

    __tablename__ = "suppressions"

    address_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(32))  # "erasure", "admin"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Erasure(Base):
    """One erasure's journal: started before anything is removed, finished when the store is clean,
    so a rerun after a crash knows what was begun and finishes it (idempotent)."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_hash: Mapped[str] = mapped_column(sa.String(64), index=True)  # keyed hash of what was asked
    actor: Mapped[str] = mapped_column(sa.String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receipt: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


__all__ = ["AuditEntry", "AuditHead", "Erasure", "Suppression"]
