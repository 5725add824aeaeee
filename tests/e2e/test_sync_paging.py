"""Paging boundaries: folders of exactly a multiple of the page size, one more, one less."""

from __future__ import annotations

from connector.engine import FolderReport
from tests.e2e.syncenv import ALICE, DANA, ERIN, EnvFactory, HandCompany, contact, message

PAGE = 7


def company() -> HandCompany:
    a = ALICE.email
    return HandCompany(
        items={
            (a, "inbox"): [message(100 + i, f"In {i}", DANA, [ALICE]) for i in range(2 * PAGE)],  # a multiple
            (a, "sentitems"): [message(200 + i, f"Out {i}", ALICE, [ERIN]) for i in range(2 * PAGE + 1)],  # one more
            (a, "contacts"): [contact(i, f"Person{i} Test", f"p{i}@litware.example") for i in range(2 * PAGE - 1)],
        }
    )


def test_paging_at_the_boundaries_loses_and_duplicates_nothing_and_commits_state_per_page(
    make_env: EnvFactory, db_url: str
) -> None:
    env = make_env(company(), url=db_url)
    mailbox_id = env.store.ensure_mailbox(ALICE.email, ALICE.name).id
    states: dict[str, list[str | None]] = {}

    def progress(address: str, folder: str, report: FolderReport) -> None:
        # called after each page's transaction: the committed state must already be the page's
        states.setdefault(folder, []).append(env.store.sync_state(mailbox_id, folder))

    engine = env.engine(page_size=PAGE)
    report = engine.sync(ALICE.email, ["inbox", "sentitems", "contacts"], progress=progress)
    assert report.ok, report.error
    pages = {f.folder: f.pages for f in report.folders}
    assert pages == {"inbox": 2, "sentitems": 3, "contacts": 2}
    for folder, seen in states.items():
        assert len(seen) == pages[folder]
        assert all(s is not None for s in seen) and len(set(seen)) == len(seen), folder  # advances every page
    created = {f.folder: f.result.created for f in report.folders}
    assert created == {"inbox": 2 * PAGE, "sentitems": 2 * PAGE + 1, "contacts": 2 * PAGE - 1}
    assert env.count("interactions") == 4 * PAGE + 1
    assert env.count("people", "display_name LIKE 'Person%'") == 2 * PAGE - 1
    assert env.count("item_links") == 6 * PAGE

    # grow each folder across the next boundary; nothing is fetched twice
    mb = env.mb()
    for i in range(PAGE):
        mb.create("inbox", message(300 + i, f"Late {i}", DANA, [ALICE]))
    step = engine.sync(ALICE.email, ["inbox", "sentitems", "contacts"], progress=progress)
    by_folder = {f.folder: f for f in step.folders}
    assert by_folder["inbox"].result.created == PAGE and by_folder["inbox"].result.updated == 0
    assert by_folder["inbox"].pages == 1
    assert by_folder["sentitems"].result.items == 0 and by_folder["contacts"].result.items == 0
    assert env.count("interactions") == 5 * PAGE + 1
    assert env.count("item_links") == 7 * PAGE


def test_a_folder_that_fails_mid_way_resumes_from_its_last_committed_page(make_env: EnvFactory) -> None:
    env = make_env(company())
    mailbox_id = env.store.ensure_mailbox(ALICE.email, ALICE.name).id

    def fail_after_first_page(address: str, folder: str, report: FolderReport) -> None:
        if report.pages == 1:  # from now on the server answers 503 to every SyncFolderItems
            env.ex.faults.add("http_503", operation="SyncFolderItems", mailbox=ALICE.email, times=None)

    broken = env.engine(page_size=PAGE, max_attempts=2).sync(ALICE.email, ["sentitems"], progress=fail_after_first_page)
    assert not broken.ok  # exchangelib reads a 503 as ErrorServerBusy
    # whole pages only, each with its state (the engine may have read one page ahead before the failure)
    committed = env.count("interactions")
    assert committed in (PAGE, 2 * PAGE)
    assert env.store.sync_state(mailbox_id, "sentitems") is not None
    assert env.mailbox_row(ALICE.email)[0]

    env.ex.faults.clear()
    resumed = env.sync(ALICE.email, ["sentitems"], page_size=PAGE)
    assert resumed.ok, resumed.error
    assert not resumed.folders[0].full_sync
    assert resumed.folders[0].result.created == 2 * PAGE + 1 - committed
    assert resumed.folders[0].result.updated == 0
    assert env.count("interactions") == 2 * PAGE + 1
    assert env.count("item_links") == 2 * PAGE + 1
    assert not env.mailbox_row(ALICE.email)[0]
