"""Jobs' high-water marks (:class:`~mapping.store.models.JobMark`), each read or moved in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from mapping.store.models import JobMark

if TYPE_CHECKING:
    from mapping.store.store import Store


def read_mark(store: Store, name: str) -> datetime | None:
    """When the job ``name`` last completed (None: never)."""
    with store.session() as session:
        mark = session.get(JobMark, name)
        return mark.value if mark is not None else None


def advance_mark(store: Store, name: str, to: datetime) -> None:
    """Move the mark forward to ``to`` (never back: a slower run finishing late keeps a later mark)."""
    with store.session() as session:
        mark = session.get(JobMark, name)
        if mark is None:
            session.add(JobMark(name=name, value=to))
        elif mark.value < to:
            mark.value = to
