"""What relsync writes into one staff mailbox, whichever backend reaches it.

Jobs (category write-back, duplicate flags, follow-up tasks) talk to a :class:`MailboxWriter` per
mailbox and never to exchangelib or Graph directly: :class:`EwsWriter` here wraps the EWS functions
(``connector.writeback``, ``connector.master_categories``, ``connector.tasks``); the Graph backend has
its own (``connector.graph.writer``). Both take and return the same plain records, so the jobs' logic
(what to write, what to record) is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Protocol

from exchangelib import Account

from connector import tasks as ews_tasks
from connector.errors import ExchangeError
from connector.master_categories import ensure_master_categories
from connector.tasks import Created, NewTask, TaskChange, TaskState
from connector.writeback import (
    BatchWrite,
    CategoryWrite,
    PlannedCategories,
    update_categories,
    write_categories_batched,
)
from mapping.followups_adopt import FoundTask


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

    def delete_tasks(self, item_ids: Sequence[str]) -> list[ExchangeError | None]: ...

    def read_task_states(self, item_ids: Sequence[str]) -> list[TaskState]: ...


class EwsWriter:
    """A :class:`MailboxWriter` over EWS for one mailbox (the Account is made on first use)."""

    def __init__(self, address: str, account_for: Callable[[str], Account]) -> None:
        self._address = address
        self._account_for = account_for

    @property
    def address(self) -> str:
        return self._address

    def _account(self) -> Account:
        return self._account_for(self._address)

    def ensure_master_categories(self, wanted: Sequence[tuple[str, int]]) -> list[str]:
        return ensure_master_categories(self._account(), wanted)

    def write_categories(
        self, plan: Sequence[PlannedCategories], all_managed: Collection[str], chunk_size: int
    ) -> list[BatchWrite]:
        return write_categories_batched(lambda _address: self._account(), plan, all_managed, chunk_size=chunk_size)

    def update_categories(self, item_id: str, add: Collection[str], remove: Collection[str]) -> CategoryWrite:
        return update_categories(self._account(), item_id, add=add, remove=remove)

    def find_tasks(self, our_ids: Sequence[str]) -> dict[str, Created]:
        return ews_tasks.find_by_our_ids(self._account(), our_ids)

    def list_our_tasks(self) -> list[FoundTask]:
        return ews_tasks.list_ours(self._account())

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[Created | ExchangeError]:
        return ews_tasks.create_tasks(self._account(), tasks)

    def update_tasks(self, changes: Sequence[TaskChange]) -> list[str | ExchangeError | None]:
        return ews_tasks.update_tasks(self._account(), changes)

    def delete_tasks(self, item_ids: Sequence[str]) -> list[ExchangeError | None]:
        return ews_tasks.delete_tasks(self._account(), item_ids)

    def read_task_states(self, item_ids: Sequence[str]) -> list[TaskState]:
        return ews_tasks.read_states(self._account(), item_ids)
