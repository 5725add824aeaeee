"""What relsync writes into one staff mailbox, whichever backend reaches it: the writer seam.

Jobs (category write-back, duplicate flags, follow-up tasks) talk to a :class:`MailboxWriter` per
mailbox and never to exchangelib or Graph directly: :class:`connector.ews.writer.EwsWriter` wraps the
EWS functions (:mod:`connector.ews.categories`, :mod:`connector.ews.master_categories`,
:mod:`connector.ews.tasks`); :class:`connector.graph.writer.GraphWriter` is Graph's. Both take and
return the plain records defined here, so the jobs' logic (what to write, what to record) is written
once. Nothing here imports a backend.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from connector.errors import ExchangeError
from mapping.categories import (
    PlannedCategories as PlannedCategories,  # the one record the store plans and writers write
)
from mapping.categories import merge_categories
from mapping.followups_adopt import FoundTask

#: Outlook's colour indexes run from -1 (none) to 24 (olCategoryColorDarkMaroon).
MIN_COLOUR, MAX_COLOUR = -1, 24
#: Attempts at a category write whose item changed under it (stale ChangeKey) before giving up.
MAX_CONFLICT_RETRIES = 3


@dataclass(frozen=True, slots=True)
class NewTask:
    """What a follow-up task says when it is created."""

    our_id: str
    subject: str
    body: str
    due: date
    reminder_at: datetime | None
    importance: str
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewContact:
    """An Outlook contact relsync creates (``relsync import contacts --to-outlook``), stamped with ``our_id``."""

    our_id: str
    display_name: str
    given: str | None = None
    surname: str | None = None
    emails: tuple[str, ...] = ()
    business_phones: tuple[str, ...] = ()
    mobile: str | None = None
    company: str | None = None
    job_title: str | None = None
    department: str | None = None


#: What became of one contact relsync was asked to remove: removed, kept (someone changed it since
#: relsync created it: its ChangeKey moved) or already gone.
ContactRemoval = Literal["removed", "changed", "gone"]


@dataclass(frozen=True, slots=True)
class Created:
    our_id: str
    item_id: str
    change_key: str | None


@dataclass(frozen=True, slots=True)
class TaskState:
    """A task as staff left it: open, completed (when), or gone (deleted, or moved out of Tasks)."""

    item_id: str
    state: Literal["open", "completed", "gone"]
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskChange:
    """An update relsync makes to one of its tasks."""

    item_id: str
    change_key: str | None
    subject: str | None = None
    due: date | None = None
    reminder_at: datetime | None = None
    importance: str | None = None
    complete_note: str | None = None  # set: tick the task off, with this note added to its body
    body: str | None = None  # set: the task's body is replaced (a follow-up that now carries more reasons)


@dataclass(frozen=True)
class CategoryWrite:
    """The outcome of one write: the item's categories now, its new ChangeKey, whether anything changed."""

    item_id: str
    categories: tuple[str, ...]
    change_key: str | None
    changed: bool


def merged_categories(current: Collection[str], add: Collection[str], remove: Collection[str]) -> list[str]:
    """The item's categories with ``add`` added and ``remove`` removed, the rest kept in their order."""
    removed = {c.casefold() for c in remove}
    kept = [c for c in current if c.casefold() not in removed]
    present = {c.casefold() for c in kept}
    kept += [c for c in add if c.casefold() not in present]
    return kept


def merge_managed(current: Sequence[str], wanted: Collection[str], all_managed: Collection[str]) -> list[str]:
    """``current`` with every managed category replaced by the ``wanted`` ones; the user's others stay."""
    return merge_categories(current, list(wanted), frozenset(all_managed))


@dataclass(frozen=True)
class BatchWrite:
    """What happened to one planned contact; ``categories``/``change_key`` are to be recorded when ``ok``."""

    key: int
    mailbox: str
    item_id: str
    categories: tuple[str, ...]
    change_key: str | None
    changed: bool
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class MailboxWriter(Protocol):
    """Writes into one mailbox. Errors are :class:`connector.errors.ExchangeError` subclasses."""

    @property
    def address(self) -> str: ...

    def ensure_master_categories(self, wanted: Sequence[tuple[str, int]]) -> list[str]:
        """Add the missing (name, Outlook colour index; -1 none) categories to the master list;
        returns the names added."""
        ...

    def write_categories(
        self, plan: Sequence[PlannedCategories], all_managed: Collection[str], chunk_size: int
    ) -> list[BatchWrite]:
        """Bring each planned contact to its wanted managed categories (the user's others stay)."""
        ...

    def update_categories(self, item_id: str, add: Collection[str], remove: Collection[str]) -> CategoryWrite:
        """Add and remove categories on one contact, read fresh first."""
        ...

    def find_tasks(self, our_ids: Sequence[str]) -> dict[str, Created]:
        """Follow-up tasks already in the mailbox carrying one of our ids."""
        ...

    def list_our_tasks(self) -> list[FoundTask]:
        """Every open task in the owner's Tasks folder carrying one of our ids, whatever the id (a rebuilt
        store adopts the ones it has no record of)."""
        ...

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[Created | ExchangeError]: ...

    def update_tasks(self, changes: Sequence[TaskChange]) -> list[str | ExchangeError | None]:
        """Per change: the new change key, None when the task is gone, or the error."""
        ...

    def delete_tasks(self, item_ids: Sequence[str], hard: bool = False) -> list[ExchangeError | None]:
        """Delete tasks; a task already gone is not an error. Not ``hard``: where the backend has a
        Deleted Items folder the task goes there (staff can take it back); ``hard``: it is gone for
        good (an erasure)."""
        ...

    def read_task_states(self, item_ids: Sequence[str]) -> list[TaskState]: ...

    def find_contacts(self, our_ids: Sequence[str]) -> dict[str, Created]:
        """Contacts in the owner's Contacts folder carrying one of our ids (a creation that reached
        Exchange but not the store is adopted, never made twice)."""
        ...

    def create_contacts(self, contacts: Sequence[NewContact]) -> list[Created | ExchangeError]:
        """Create contacts in the owner's Contacts folder, each stamped with its ``our_id``."""
        ...

    def remove_contacts(self, created: Sequence[Created]) -> list[ContactRemoval | ExchangeError]:
        """Remove contacts relsync created, only those whose ChangeKey is still the one recorded
        (nobody changed them since); a changed one is kept."""
        ...
