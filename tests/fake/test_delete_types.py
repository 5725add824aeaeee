"""DeleteItem's DeleteType as Microsoft documents it, through exchangelib's item API and bulk_delete
(https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/deleting-items-by-using-ews-in-exchange):
MoveToDeletedItems moves the item to Deleted Items, SoftDelete to the dumpster's Deletions, HardDelete
to its Purges; the dumpster is in no folder a client lists."""

from __future__ import annotations

import pytest
from exchangelib import Account, Task
from exchangelib.errors import ErrorItemNotFound
from exchangelib.items import HARD_DELETE, MOVE_TO_DELETED_ITEMS, SOFT_DELETE
from exchangelib.properties import ItemId

from connector.fake.ews.server import FakeExchange

from .company import ALICE


def _task(alice: Account, subject: str) -> Task:
    task = Task(folder=alice.tasks, subject=subject, status="NotStarted")
    task.save()
    return task


def _subjects(alice: Account) -> dict[str, list[str]]:
    return {
        "tasks": sorted(t.subject for t in alice.tasks.all()),
        "deleted items": sorted(i.subject for i in alice.trash.all()),
    }


def test_each_delete_type_puts_the_item_where_microsoft_says(fake: FakeExchange, alice: Account) -> None:
    moved, soft, hard = (_task(alice, s) for s in ("Moved", "Soft", "Hard"))
    before = _subjects(alice)["tasks"]
    moved_id, hard_id = moved.id, hard.id
    moved.move_to_trash()
    # (Item.soft_delete() would then look for the Recoverable Items folder, which the fake does not serve.)
    assert list(alice.bulk_delete(ids=[ItemId(id=soft.id)], delete_type=SOFT_DELETE)) == [True]
    hard.delete()

    seen = _subjects(alice)
    assert seen["tasks"] == sorted(set(before) - {"Moved", "Soft", "Hard"})
    assert seen["deleted items"] == ["Moved"]  # staff can take it back from there
    assert [
        (where, folder, spec.fields["Subject"]) for where, folder, spec in fake.mailboxes[ALICE.email].recoverable
    ] == [
        ("Deletions", "tasks", "Soft"),
        ("Purges", "tasks", "Hard"),
    ]
    for gone in (moved_id, hard_id):  # the old ids resolve no more; the moved one has a new id
        with pytest.raises(ErrorItemNotFound):
            alice.tasks.get(id=gone)


@pytest.mark.parametrize(
    ("delete_type", "in_deleted_items", "dumpster"),
    [(MOVE_TO_DELETED_ITEMS, ["Bulk"], []), (SOFT_DELETE, [], ["Deletions"]), (HARD_DELETE, [], ["Purges"])],
)
def test_bulk_delete_honours_the_delete_type(
    fake: FakeExchange, alice: Account, delete_type: str, in_deleted_items: list[str], dumpster: list[str]
) -> None:
    task = _task(alice, "Bulk")
    assert list(alice.bulk_delete(ids=[ItemId(id=task.id)], delete_type=delete_type)) == [True]
    assert "Bulk" not in _subjects(alice)["tasks"]
    assert _subjects(alice)["deleted items"] == in_deleted_items
    assert [where for where, _, _ in fake.mailboxes[ALICE.email].recoverable] == dumpster


def test_deleting_from_deleted_items_moves_on_to_the_dumpster(fake: FakeExchange, alice: Account) -> None:
    _task(alice, "Twice").move_to_trash()
    (in_trash,) = list(alice.trash.all())
    in_trash.move_to_trash()
    assert _subjects(alice)["deleted items"] == []
    assert [where for where, _, _ in fake.mailboxes[ALICE.email].recoverable] == ["Deletions"]
