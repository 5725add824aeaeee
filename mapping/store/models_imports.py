"""Import batches: what one ``relsync import contacts`` run created and changed, so it can be undone.

One :class:`ImportBatch` per real (not dry) run; one :class:`ImportBatchItem` per row the run created
(``before`` is NULL) or changed (``before`` holds the columns as they were, ``after`` as the run left
them, so an undo can tell whether something changed them since).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models import Base, UTCDateTime, utcnow


class ImportBatch(Base):
    """One contact import: its file (name and SHA-256), profile, counts, and when it was undone."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    profile: Mapped[str] = mapped_column(sa.String(32))
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ImportBatchItem(Base):
    """One row a batch created (``action`` "created") or changed ("changed", with ``before``/``after``)."""

    __tablename__ = "import_batch_items"
    __table_args__ = (sa.Index("ix_import_batch_items_table_record", "table_name", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))


__all__ = ["ImportBatch", "ImportBatchItem"]
