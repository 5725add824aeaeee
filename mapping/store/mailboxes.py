"""Staff mailboxes as the scheduler reads them: which there are, and their health (status rows).

Health is written in one place, :mod:`mapping.store.mailbox_health`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.models import StaffMailbox
from mapping.store.reports import mailbox_status


class Store(Protocol):
    """What these services need of :class:`mapping.store.store.Store` (which :mod:`mapping.store.reports`
    imports, so this module, importing reports, cannot import it)."""

    def session(self) -> AbstractContextManager[Session]: ...


@dataclass(frozen=True)
class MailboxRow:
    """A staff mailbox known to the store."""

    id: int
    address: str
    enabled: bool


def staff_mailboxes(store: Store) -> list[MailboxRow]:
    """Every staff mailbox the store knows (configured or not), in id order."""
    with store.session() as s:
        rows = s.execute(
            sa.select(StaffMailbox.id, StaffMailbox.address, StaffMailbox.enabled).order_by(StaffMailbox.id)
        ).all()
    return [MailboxRow(m, a, on) for m, a, on in rows]


def health(store: Store, now: datetime, configured: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Each mailbox's status row (what ``relsync status --json`` prints; see
    :func:`mapping.store.reports.mailbox_status`), read in one transaction."""
    with store.session() as s:
        return mailbox_status(s, now, None if configured is None else list(configured))
