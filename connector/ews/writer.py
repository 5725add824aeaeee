"""The EWS :class:`connector.writer.MailboxWriter`: categories, the master category list and follow-up
tasks written into one mailbox through exchangelib."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from exchangelib import Account

from connector.errors import ExchangeError
from connector.ews import contacts_write
from connector.ews import tasks as ews_tasks
from connector.ews.categories import update_categories, write_categories_batched
from connector.ews.master_categories import ensure_master_categories
from connector.writer import (
    BatchWrite,
    CategoryWrite,
    ContactRemoval,
    Created,
    NewContact,
    NewTask,
    PlannedCategories,
    TaskChange,
    TaskState,
)
from mapping.followups_adopt import FoundTask


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

    def delete_tasks(self, item_ids: Sequence[str], hard: bool = False) -> list[ExchangeError | None]:
        return ews_tasks.delete_tasks(self._account(), item_ids, hard=hard)

    def read_task_states(self, item_ids: Sequence[str]) -> list[TaskState]:
        return ews_tasks.read_states(self._account(), item_ids)

    def find_contacts(self, our_ids: Sequence[str]) -> dict[str, Created]:
        return contacts_write.find_by_our_ids(self._account(), our_ids)

    def create_contacts(self, contacts: Sequence[NewContact]) -> list[Created | ExchangeError]:
        return contacts_write.create_contacts(self._account(), contacts)

    def remove_contacts(self, created: Sequence[Created]) -> list[ContactRemoval | ExchangeError]:
        return contacts_write.remove_contacts(self._account(), created)
