"""The fake serves the seeded generator's company (build_company) without a schema violation."""

from __future__ import annotations

from exchangelib import Account

from connector.fake.company.generator import build_company
from connector.fake.model import FOLDER_KINDS

from .conftest import AccountFactory, ServerFactory
from .test_sync import sync_pages


def test_every_folder_of_every_generated_mailbox_syncs_completely(
    make_server: ServerFactory, account_for: AccountFactory
) -> None:
    company = build_company(7, 3, "small")
    ex = make_server(company)
    for owner in company.mailboxes():
        acc: Account = account_for(ex, email=owner.email)
        folders = {
            "contacts": acc.contacts,
            "inbox": acc.inbox,
            "sentitems": acc.sent,
            "calendar": acc.calendar,
            "tasks": acc.tasks,
        }
        for key in FOLDER_KINDS:
            pages = sync_pages(acc, folders[key], page=512)
            items = [obj for changes, _, _ in pages for _, obj in changes]
            assert len(items) == len(company.folder(owner.email, key)), (owner.email, key)
            assert len({i.id for i in items}) == len(items)
    assert ex.violations == []


def test_generated_recurring_series_expand(make_server: ServerFactory, account_for: AccountFactory) -> None:
    company = build_company(7, 3, "small")
    ex = make_server(company)
    acc = account_for(ex, email=company.mailboxes()[0].email)
    masters = [e for e in acc.calendar.all() if e.type == "RecurringMaster"]
    assert masters, "the generator plants recurring series"
    for m in masters[:3]:
        first = m.occurrence(1)
        try:
            first.refresh()
        except Exception as exc:  # a generated series may start with a deleted occurrence
            assert type(exc).__name__ == "ErrorCalendarOccurrenceIsDeletedFromRecurrence"
        else:
            assert first.type in ("Occurrence", "Exception")


def test_a_100000_item_inbox_is_served_lazily(make_server: ServerFactory, account_for: AccountFactory) -> None:
    company = build_company(7, 1, "large")
    ex = make_server(company)
    owner = company.mailboxes()[0]
    acc = account_for(ex, email=owner.email)
    assert acc.inbox.total_count == 100_000
    first = sync_pages_once(acc)
    assert len(first) == 512
    mbx = ex.mailboxes[owner.email]
    assert mbx.folders["inbox"].overlay == {}  # nothing materialised: the base stays lazy
    assert len(mbx.render_cache) == 512  # only the page served is cached
    # an Outlook edit deep in the folder is found by id without walking the folder
    last_id = mbx.item_id("inbox", 99_999)
    mbx.update(last_id, Categories=("Customer",))
    fetched = acc.inbox.get(id=last_id)
    assert fetched.categories == ["Customer"]


def sync_pages_once(acc: Account) -> list[object]:
    from exchangelib.items import ID_ONLY
    from exchangelib.properties import FieldPath
    from exchangelib.services import SyncFolderItems

    folder = acc.inbox
    fields = {FieldPath(field=f) for f in folder.allowed_item_fields(version=acc.version)}
    svc = SyncFolderItems(account=acc)
    changes = list(svc.call(folder=folder, shape=ID_ONLY, additional_fields=fields, sync_state=None, ignore=None,
                            max_changes_returned=512, sync_scope="NormalItems"))  # fmt: skip
    assert svc.includes_last_item_in_range is False
    return changes
