"""What one page of a folder sync hands to the store: plain changes, already translated to records.

The connector turns each Exchange change into an :class:`ItemChange`; the store applies a whole
:class:`Page` and its new sync state in one transaction (``Store.apply_page``), so a crash leaves
either the whole page with its state, or neither.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from mapping.policy import PersonPolicy, PrivacyRules
from mapping.records import ContactRecord, MeetingRecord, MessageRecord, pickled_as_tuple

FolderName = Literal["contacts", "inbox", "sentitems", "calendar"]


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class MeetingSeries:
    """A calendar item as stored: a single meeting (one occurrence: itself) or a series' occurrences.

    ``occurrences`` holds what falls in the sync window; ``window`` is that window, so occurrences of
    the series stored earlier inside it but no longer produced can be recognised as gone.
    """

    item: MeetingRecord
    occurrences: tuple[MeetingRecord, ...]
    window: tuple[object, object] | None = None  # (start, end) datetimes for series, None for singles


Record = ContactRecord | MessageRecord | MeetingSeries


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class ItemChange:
    """One change of one item: ``record`` is the item as it is now, ``None`` when it was deleted."""

    item_id: str
    change_key: str | None
    record: Record | None
    categories: tuple[str, ...] = ()


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class SkippedItem:
    """An item that could not be translated (bad data from Exchange): counted and logged, never fatal."""

    item_id: str | None
    reason: str


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Page:
    """One SyncFolderItems page of one mailbox folder and the state that follows it."""

    mailbox_id: int
    folder: FolderName
    folder_id: str | None
    changes: tuple[ItemChange, ...]
    new_state: str | None
    skipped: tuple[SkippedItem, ...] = ()
    full_sync: bool = False
    #: The calendar window (start, end) the connector reads, for a backend that reports each occurrence
    #: of a series as its own item (Graph), given on the last page of a delta round: an occurrence
    #: deleted in the round (on this page or in ``removed_earlier``) whose original start lies in it, of
    #: a series the mailbox still holds after the round, is stored cancelled, as EWS's expansion finds
    #: it gone. Only after the whole round, as a deleted series' removals may span pages. None (EWS,
    #: other folders, a round's earlier pages): a deleted item is only unlinked.
    window: tuple[datetime, datetime] | None = None
    #: Item ids removed on the earlier pages of the same delta round (see ``window``).
    removed_earlier: tuple[str, ...] = ()


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class SyncRules:
    """The configured decisions the store applies while upserting (configuration, not code)."""

    internal_domains: frozenset[str]
    privacy: PrivacyRules = field(default_factory=PrivacyRules)
    person_policy: PersonPolicy = "sent"
    #: A message deleted in Outlook keeps its interaction (corporate memory) unless this is False.
    keep_interactions_on_delete: bool = True
    #: The audit key, so suppressed addresses (kept as keyed hashes) are recognised on the way in,
    #: also by a page writer in another process. None: the process's registered key, if any.
    suppression_key: bytes | None = field(default=None, repr=False)


@dataclass
class PageResult:
    """What applying a page did, for progress bars, status and metrics."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    people_created: int = 0
    organisations_created: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, other: PageResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        self.people_created += other.people_created
        self.organisations_created += other.organisations_created
        self.skipped.update(other.skipped)

    @property
    def items(self) -> int:
        return self.created + self.updated + self.deleted + sum(self.skipped.values())
