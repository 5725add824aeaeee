"""A staff mailbox's health, written in one place: every writer of these columns comes through here.

Health is what ``relsync status``, ``/metrics`` and ``/healthz`` read: whether the last sync succeeded
(``last_success_at``), whether the mailbox needs an admin (``needs_attention`` with the reason, also
kept as ``last_error``), and how long Exchange throttled it. The sync engine records a mailbox's
outcome through :meth:`Store.mark_success` and friends, which delegate here; each call is its own
transaction.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.models import StaffMailbox, utcnow


class Store(Protocol):
    """What these services need of :class:`mapping.store.store.Store` (which delegates its ``mark_*``
    methods here, so this module cannot import it)."""

    def session(self) -> AbstractContextManager[Session]: ...


def mark_success(store: Store, mailbox_id: int) -> None:
    """The mailbox synced: clear any attention flag and record the time."""
    with store.session() as s:
        s.execute(
            sa.update(StaffMailbox)
            .where(StaffMailbox.id == mailbox_id)
            .values(needs_attention=False, attention_reason=None, last_success_at=utcnow())
        )


def mark_attention(store: Store, mailbox_id: int, reason: str) -> None:
    """The mailbox cannot progress on its own: say so where admins look (status), keep its data."""
    with store.session() as s:
        s.execute(
            sa.update(StaffMailbox)
            .where(StaffMailbox.id == mailbox_id)
            .values(needs_attention=True, attention_reason=reason, last_error=reason, last_error_at=utcnow())
        )


def mark_throttled(store: Store, mailbox_id: int, seconds: float) -> None:
    """Exchange made this mailbox's sync wait ``seconds`` in all (``relsync status`` shows it)."""
    with store.session() as s:
        s.execute(
            sa.update(StaffMailbox)
            .where(StaffMailbox.id == mailbox_id)
            .values(last_throttled_at=utcnow(), last_throttled_seconds=round(seconds, 3))
        )
