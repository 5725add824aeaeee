"""Applying pages in the writer process (a backlog): the same store, the same per-page commits.

``parallel_apply_min_changes=1`` makes every multi-page folder hand its pages to the writer process
(mapping.store.page_writer), on SQLite and PostgreSQL; the results must equal an in-process sync.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from connector.engine import FolderReport
from mapping.store.models import Base
from tests.e2e.syncenv import ALICE, DANA, ERIN, T0, EnvFactory, HandCompany, contact, meeting, message
from tests.e2e.test_sync_crash_resume import canonical_dump

PAGE = 5


def company() -> HandCompany:
    a = ALICE.email
    return HandCompany(
        items={
            (a, "inbox"): [message(100 + i, f"In {i}", DANA, [ALICE]) for i in range(3 * PAGE + 2)],
            (a, "sentitems"): [message(200 + i, f"Out {i}", ALICE, [ERIN, DANA]) for i in range(2 * PAGE)],
            (a, "contacts"): [contact(i, f"Person{i} Test", f"p{i}@litware.example") for i in range(2 * PAGE + 1)],
            (a, "calendar"): [meeting(300 + i, f"Meet {i}", T0, ALICE, [DANA]) for i in range(PAGE + 1)],
        }
    )


def _emptied(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as c:
            for table in reversed(Base.metadata.sorted_tables):
                c.execute(table.delete())
    finally:
        engine.dispose()


def test_pages_applied_by_the_writer_process_give_the_store_an_in_process_sync_gives(
    make_env: EnvFactory, db_url: str
) -> None:
    serial = make_env(company(), url=db_url)
    assert serial.sync(ALICE.email, page_size=PAGE, parallel_apply_min_changes=0).ok
    expected = canonical_dump(db_url)
    serial.store.dispose()
    _emptied(db_url)

    parallel = make_env(company(), url=db_url)
    mailbox_id = parallel.store.ensure_mailbox(ALICE.email, ALICE.name).id
    states: dict[str, list[str | None]] = {}

    def progress(address: str, folder: str, report: FolderReport) -> None:
        # called once the writer committed a page (later pages may be committed too by then)
        states.setdefault(folder, []).append(parallel.store.sync_state(mailbox_id, folder))

    engine = parallel.engine(page_size=PAGE, parallel_apply_min_changes=1)
    report = engine.sync(ALICE.email, ["contacts", "inbox", "sentitems", "calendar"], progress=progress)
    assert report.ok, report.error
    pages = {f.folder: f.pages for f in report.folders}
    assert pages == {"contacts": 3, "inbox": 4, "sentitems": 2, "calendar": 2}
    for folder, seen in states.items():
        assert len(seen) == pages[folder] and None not in seen, folder
        assert seen[-1] == parallel.store.sync_state(mailbox_id, folder)
    assert canonical_dump(db_url) == expected
    assert parallel.count("interactions") == 3 * PAGE + 2 + 2 * PAGE + PAGE + 1

    # an incremental run after the backlog: a small page, applied in this process
    parallel.mb().create("inbox", message(999, "Late", DANA, [ALICE]))
    step = parallel.engine(page_size=PAGE, parallel_apply_min_changes=1).sync(ALICE.email, ["inbox"])
    assert step.ok and step.folders[0].result.created == 1


def test_a_page_the_writer_cannot_apply_stops_the_folder_there_and_the_next_run_resumes(
    make_env: EnvFactory, sqlite_url: str
) -> None:
    env = make_env(company(), url=sqlite_url)
    mailbox_id = env.store.ensure_mailbox(ALICE.email, ALICE.name).id
    # A real database failure in the writer process, on the second page's insert (msg105-109).
    with env.store.engine.begin() as c:
        c.exec_driver_sql(
            "CREATE TRIGGER boom BEFORE INSERT ON interactions WHEN NEW.internet_message_id = '<msg107@e2e.example>' "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )

    engine = env.engine(page_size=PAGE, parallel_apply_min_changes=1)
    with pytest.raises(sa.exc.SQLAlchemyError, match="boom"):
        engine.sync(ALICE.email, ["inbox"])
    # the first page with its state; nothing of the failed page or of the pages behind it
    assert env.count("interactions") == PAGE
    assert env.count("item_links") == PAGE
    state = env.store.sync_state(mailbox_id, "inbox")
    assert state is not None

    with env.store.engine.begin() as c:
        c.exec_driver_sql("DROP TRIGGER boom")
    resumed = env.engine(page_size=PAGE, parallel_apply_min_changes=1).sync(ALICE.email, ["inbox"])
    assert resumed.ok, resumed.error
    assert not resumed.folders[0].full_sync
    assert resumed.folders[0].result.created == 3 * PAGE + 2 - PAGE
    assert resumed.folders[0].result.updated == 0
    assert env.count("interactions") == 3 * PAGE + 2
