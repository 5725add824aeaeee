"""The seam between the one sync engine (:mod:`connector.engine`) and a mailbox backend's reader.

A backend (EWS in :mod:`connector.ews`, Microsoft Graph in :mod:`connector.graph`) supplies only a
:class:`MailboxReader`: pages of raw changes from a state token, and their translation into records
(:mod:`mapping.records`, wrapped in :class:`mapping.changes.ItemChange`). The engine owns everything
else: the folder loop, the refused-state retry, the mass-unlink rail, skipped-item accounting, progress,
the read-ahead of the next page, page application and the reports. So the store cannot tell which
backend synced a mailbox, and a new backend is one reader.

Nothing here imports a backend: ``connector.graph`` must never load exchangelib, even indirectly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mapping.changes import FolderName, ItemChange, SkippedItem
from mapping.store.models import MailboxBackend


class Counters(Protocol):
    """Where a request's retries and throttled seconds are added (e.g. a FolderReport)."""

    retries: int
    throttled_seconds: float


@dataclass
class CallStats:
    """A :class:`Counters` of its own: one fetch's counts, merged into the report by the thread using it."""

    retries: int = 0
    throttled_seconds: float = 0.0


@dataclass(frozen=True)
class RawPage:
    """One page of raw changes as the server sent them (opaque to the engine), with the state after it."""

    items: Sequence[Any]
    #: Stored with this page, in the page's transaction: a crash resumes after it.
    new_state: str
    #: What to fetch the next page with; None on the round's last page.
    next_state: str | None


@dataclass(frozen=True)
class FolderStart:
    """Where a folder's read starts: the stored state, or None for a read from scratch."""

    state: str | None
    #: False for a read from scratch that must not unlink what it did not see (Graph's calendar, read
    #: again over a window that moved on: meetings that merely left the window stay).
    unlink_missing: bool = True


class FolderRead(Protocol):
    """One backend's reading of one folder of one mailbox, for one sync call."""

    #: The folder's server id, stored with each page (None where the backend has none to give).
    folder_id: str | None
    #: Logged when the server refuses the stored state and the folder is read again from scratch.
    refused_message: str

    def begin(self, full: bool, read: Callable[[str | None], None]) -> FolderStart:
        """Prepare the folder's read (``full``: the admin asked to read it from scratch) and say where it
        starts. ``read(state)`` reads pages from ``state`` to the round's end without unlinking (for a
        backend that must first finish an old round)."""
        ...

    def backlog(self) -> int | None:
        """How many items a read from scratch will bring (the server's count), if known."""
        ...

    def fetch(self, state: str | None, counters: Counters) -> RawPage:
        """One page of raw changes after ``state`` (None: from scratch), the server's retries counted into
        ``counters``. Runs in a read-ahead thread: reads, never writes. Raises
        :class:`connector.errors.SyncStateInvalid` when the server refuses ``state``."""
        ...

    def translate(self, page: RawPage, counters: Counters) -> tuple[list[ItemChange], list[SkippedItem]]:
        """The page's changes as records (deletions with ``record=None``) and the items skipped, with their
        reasons; never raises for one bad item."""
        ...

    def window(self) -> tuple[datetime, datetime] | None:
        """The window within which the round's last page cancels the occurrences the round removed (a
        backend sending occurrences as items of their own), else None."""
        ...

    def complete(self, seen: set[str] | None) -> tuple[set[str] | None, int]:
        """After the read reached its end: the ids to keep (``seen``, possibly widened) and how many links
        the backend itself unlinked (e.g. links it replaced), before the engine unlinks what is missing."""
        ...


class MailboxSession(Protocol):
    """A backend's reading of one mailbox for one sync call."""

    def folder(self, folder: FolderName, counters: Counters, log: Any) -> FolderRead:
        """The reading of one folder (may ask the server for the folder, counting retries)."""
        ...


class MailboxReader(Protocol):
    """A backend's reader: what the engine needs of EWS, Graph, or the next backend."""

    #: Stored on a mailbox the first time it is synced.
    backend: MailboxBackend
    #: Whether a backlog's pages may be applied by the writer process (mapping.store.page_writer).
    parallel_apply: bool
    #: Whether a folder is listed in the report before it is read (so a folder failing part way still
    #: reports its retries and throttling) or only once it has been read.
    lists_folder_first: bool

    def open(self, address: str, mailbox_id: int) -> MailboxSession:
        """Start reading one mailbox (the store's ``mailbox_id``); no request needs to be sent yet."""
        ...
