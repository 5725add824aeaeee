"""SyncFolderItems / SyncFolderHierarchy / GetFolder through the real exchangelib over HTTP."""

from __future__ import annotations

import base64

import pytest
from exchangelib import Account, Message
from exchangelib.errors import ErrorInvalidSyncStateData, ErrorSchemaValidation
from exchangelib.folders import Calendar, Contacts, Inbox, Tasks
from exchangelib.items import ID_ONLY
from exchangelib.properties import FieldPath, ItemId
from exchangelib.services import SyncFolderItems

from connector.fake.ews.server import FakeExchange
from connector.fake.model import ItemSpec

from .company import ALICE, DANA, BulkCompany, message
from .conftest import AccountFactory, ServerFactory


def sync_pages(acc: Account, folder, state: str | None = None, page: int = 512, ignore=None):  # type: ignore[no-untyped-def]
    """The page-by-page loop of notes §1.3: returns [(changes, state, includes_last)]."""
    fields = {FieldPath(field=f) for f in folder.allowed_item_fields(version=acc.version)}
    svc = SyncFolderItems(account=acc)
    pages = []
    while True:
        changes = list(
            svc.call(
                folder=folder,
                shape=ID_ONLY,
                additional_fields=fields,
                sync_state=state,
                ignore=ignore,
                max_changes_returned=page,
                sync_scope="NormalItems",
            )
        )
        state = svc.sync_state
        pages.append((changes, state, svc.includes_last_item_in_range))
        if svc.includes_last_item_in_range:
            return pages


def test_distinguished_folders_resolve_with_their_classes_and_counts(alice: Account) -> None:
    assert isinstance(alice.inbox, Inbox) and alice.inbox.total_count == 3
    assert isinstance(alice.contacts, Contacts) and alice.contacts.folder_class == "IPF.Contact"
    assert isinstance(alice.calendar, Calendar) and alice.calendar.total_count == 4
    assert isinstance(alice.tasks, Tasks) and alice.tasks.total_count == 2
    assert alice.sent.total_count == 1
    # a folder fetched again by its FolderId is the same folder
    again = alice.root.get_folder(alice.tasks)
    assert again.id == alice.tasks.id and again.name == "Tasks"


def test_folder_hierarchy_sync_lists_every_folder_once(alice: Account) -> None:
    changes = list(alice.msg_folder_root.sync_hierarchy())
    classes = sorted(f.folder_class for ct, f in changes if ct == "create")
    # Inbox, Sent Items, Drafts, Deleted Items, Junk Email, Outbox are IPF.Note folders
    assert classes == ["IPF.Appointment", "IPF.Contact", *["IPF.Note"] * 6, "IPF.Task"]
    assert list(alice.msg_folder_root.sync_hierarchy()) == []  # nothing changed since


def test_full_sync_of_1500_items_comes_in_pages_of_512_with_a_state_per_page(
    make_server: ServerFactory, account_for: AccountFactory
) -> None:
    ex = make_server(BulkCompany(1500))
    acc = account_for(ex)
    pages = sync_pages(acc, acc.inbox)
    assert [len(c) for c, _, _ in pages] == [512, 512, 476]
    assert [last for _, _, last in pages] == [False, False, True]
    states = [s for _, s, _ in pages]
    assert len(set(states)) == 3
    ids = {item.id for c, _, _ in pages for _, item in c}
    assert len(ids) == 1500
    assert all(ct == "create" and isinstance(item, Message) for c, _, _ in pages for ct, item in c)
    # resuming from the middle state yields exactly the rest
    rest = sync_pages(acc, acc.inbox, state=states[0])
    assert sum(len(c) for c, _, _ in rest) == 988
    # and from the final state: nothing, same state back
    done = sync_pages(acc, acc.inbox, state=states[-1])
    assert done[0][0] == [] and done[0][1] == states[-1]
    assert ex.stats.operations["SyncFolderItems"] == 3 + 2 + 1


def test_sync_items_generator_stores_the_state_only_when_exhausted(alice: Account) -> None:
    inbox = alice.inbox
    got = list(inbox.sync_items(max_changes_returned=2))
    assert len(got) == 3 and inbox.item_sync_state
    assert list(inbox.sync_items()) == []


def test_outlook_edits_show_as_create_update_delete_and_read_flag_changes(fake: FakeExchange, alice: Account) -> None:
    state = sync_pages(alice, alice.inbox)[-1][1]
    mbx = fake.mailboxes[ALICE.email]
    ids = [iid for iid, _ in mbx.items("inbox")]
    mbx.update(ids[0], Subject="Offer for Fabrikam (edited)", Categories=("Customer", "Value: High"))
    mbx.delete(ids[1])
    mbx.update(ids[2], IsRead=True)
    new_id = mbx.create("inbox", message(99, "Fresh mail", DANA, (ALICE,)))
    changes = [c for page, _, _ in sync_pages(alice, alice.inbox, state=state) for c in page]
    by_type = {ct: obj for ct, obj in changes}
    assert [ct for ct, _ in changes] == ["update", "delete", "read_flag_change", "create"]
    assert by_type["update"].subject == "Offer for Fabrikam (edited)"
    assert by_type["update"].categories == ["Customer", "Value: High"]
    assert by_type["update"].changekey != fake.mailboxes[ALICE.email].change_key("inbox", 0, 0)
    assert by_type["delete"].id == ids[1]
    assert by_type["read_flag_change"] == (ItemId(id=ids[2], changekey=by_type["read_flag_change"][0].changekey), True)
    assert by_type["create"].id == new_id and by_type["create"].subject == "Fresh mail"


def test_an_item_created_and_deleted_between_syncs_is_never_reported(fake: FakeExchange, alice: Account) -> None:
    state = sync_pages(alice, alice.tasks)[-1][1]
    mbx = fake.mailboxes[ALICE.email]
    tid = mbx.create("tasks", ItemSpec("Task", {"Subject": "gone soon"}))
    mbx.delete(tid)
    assert sync_pages(alice, alice.tasks, state=state)[0][0] == []


def test_our_own_writes_come_back_as_updates_unless_ignored(alice: Account) -> None:
    state = sync_pages(alice, alice.tasks)[-1][1]
    task = next(t for t in alice.tasks.all() if t.subject == "Send brochure")
    task.categories = ["relsync"]
    task.save(update_fields=["categories"])
    echoed = [c for page, _, _ in sync_pages(alice, alice.tasks, state=state) for c in page]
    assert [(ct, obj.id) for ct, obj in echoed] == [("update", task.id)]
    quiet = [c for page, _, _ in sync_pages(alice, alice.tasks, state=state, ignore=[task]) for c in page]
    assert quiet == []


def test_forged_or_corrupt_sync_state_is_refused_and_exchangelib_keeps_the_old_one(alice: Account) -> None:
    good = sync_pages(alice, alice.inbox)[-1][1]
    raw = base64.b64decode(good).decode()
    payload, _, _mac = raw.rpartition("|")
    forged = base64.b64encode(f"{payload.rsplit('|', 2)[0]}|0|0|{'0' * 24}".encode()).decode()
    for bad in (forged, "not base64!", base64.b64encode(b"garbage").decode()):
        with pytest.raises(ErrorInvalidSyncStateData):
            sync_pages(alice, alice.inbox, state=bad)
    inbox = alice.inbox
    inbox.item_sync_state = forged
    with pytest.raises(ErrorInvalidSyncStateData):
        list(inbox.sync_items())
    assert inbox.item_sync_state == forged  # unchanged: recovery is a full resync
    inbox.item_sync_state = None
    assert len(list(inbox.sync_items())) == 3


def test_invalidated_states_need_a_full_resync(fake: FakeExchange, alice: Account) -> None:
    state = sync_pages(alice, alice.contacts)[-1][1]
    fake.mailboxes[ALICE.email].invalidate_sync_states("contacts")
    with pytest.raises(ErrorInvalidSyncStateData):
        sync_pages(alice, alice.contacts, state=state)
    assert sum(len(c) for c, _, _ in sync_pages(alice, alice.contacts)) == 3


def test_more_than_512_changes_per_page_fails_schema_validation_like_exchange(
    fake: FakeExchange, alice: Account
) -> None:
    with pytest.raises(ErrorSchemaValidation):
        sync_pages(alice, alice.inbox, page=513)
    assert len(fake.request_violations) == 1 and "MaxChangesReturned" in fake.request_violations[0]
    fake.request_violations.clear()
    fake.validate_requests = False  # the handler refuses it too, as Exchange's own range check would
    with pytest.raises(ErrorSchemaValidation):
        sync_pages(alice, alice.inbox, page=513)


def test_a_corrupt_hierarchy_state_is_refused(alice: Account) -> None:
    root = alice.msg_folder_root
    root.folder_sync_state = base64.b64encode(b"1|h:msgfolderroot|1|0|forged").decode()
    with pytest.raises(ErrorInvalidSyncStateData):
        list(root.sync_hierarchy())


def test_a_restarted_fake_honours_states_it_issued_unless_it_lost_their_history(
    make_server: ServerFactory, account_for: AccountFactory
) -> None:
    company = BulkCompany(600)
    first = make_server(company)
    acc = account_for(first)
    mid_state = sync_pages(acc, acc.inbox, page=512)[0][1]  # a state at 512 of 600 (base items only)
    first.mailboxes[ALICE.email].create("inbox", message(900, "only in the first run", DANA, (ALICE,)))
    late_state = sync_pages(acc, acc.inbox, state=mid_state)[-1][1]  # has seen the new item
    first.stop()
    again = make_server(company)
    acc2 = account_for(again)
    assert sum(len(c) for c, _, _ in sync_pages(acc2, acc2.inbox, state=mid_state)) == 88
    with pytest.raises(ErrorInvalidSyncStateData):
        sync_pages(acc2, acc2.inbox, state=late_state)
