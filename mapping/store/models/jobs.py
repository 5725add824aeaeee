"""Job bookkeeping: high-water marks, and the leases that let several daemons share the work."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models.base import Base, UTCDateTime, _updated, utcnow


class JobMark(Base):
    """A job's high-water mark (e.g. when identity resolution last completed), so a run that was
    killed half-way leaves the next run to cover what it did not finish."""

    __tablename__ = "job_marks"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = _updated()


class MailboxLease(Base):
    """Which worker may sync a mailbox now, and when it is next due (see :mod:`mapping.store.leases`).

    ``holder`` is free (NULL) or held until ``expires_at``; a worker that dies stops renewing, so
    another takes over once it expires. ``next_due_at`` is shared by every daemon, so a mailbox is
    synced once per interval however many daemons run; ``failures`` counts errors in a row (back-off).
    """

    __tablename__ = "mailbox_leases"

    mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(255))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobLease(Base):
    """A store-wide job (classification, follow-up planning) that one worker at a time may run."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
