"""The writer process: pages applied in order with their states, failures reported, never waited on."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mapping.changes import Page, SkippedItem, SyncRules
from mapping.store.migrate import upgrade
from mapping.store.page_writer import PageWriter, WriterFailed, close_idle_writers, shareable
from mapping.store.store import Store

RULES = SyncRules(internal_domains=frozenset({"contoso.example"}))


def page(mailbox_id: int, state: str, *skipped: str) -> Page:
    return Page(
        mailbox_id=mailbox_id,
        folder="inbox",
        folder_id=None,
        changes=(),
        new_state=state,
        skipped=tuple(SkippedItem(item_id=None, reason=r) for r in skipped),
    )


@pytest.fixture
def writer(store: Store) -> Iterator[PageWriter]:
    w = PageWriter(store.url)
    try:
        yield w
    finally:
        w.close()


def test_pages_are_applied_in_order_each_with_its_state(store: Store, writer: PageWriter) -> None:
    mailbox = store.ensure_mailbox("alice@contoso.example", "Alice").id
    results = []
    for n in range(1, 6):
        results += writer.submit(page(mailbox, f"state-{n}", *(["bad date"] * n)), RULES)
    done, error = writer.drain()
    results += done
    assert error is None and writer.in_flight == 0
    assert [sum(r.skipped.values()) for r in results] == [1, 2, 3, 4, 5]  # in submission order
    assert store.sync_state(mailbox, "inbox") == "state-5"


def test_after_a_failed_page_the_pages_behind_it_are_not_applied(store: Store, writer: PageWriter) -> None:
    mailbox = store.ensure_mailbox("alice@contoso.example", "Alice").id
    writer.submit(page(mailbox, "state-1"), RULES)
    writer.submit(page(mailbox + 1000, "state-2"), RULES)  # no such mailbox: the database refuses it
    failures: list[BaseException] = []
    try:  # raised here when the failure is already known, else queued and skipped behind it
        writer.submit(page(mailbox, "state-3"), RULES)
    except sa.exc.IntegrityError as exc:
        failures.append(exc)
    _, error = writer.drain()
    if error is not None:
        failures.append(error)
    assert len(failures) == 1 and isinstance(failures[0], sa.exc.IntegrityError)  # reported exactly once
    assert store.sync_state(mailbox, "inbox") == "state-1"

    # the writer goes on with the next pages (the folder resumed)
    writer.submit(page(mailbox, "state-2-again"), RULES)
    _, error = writer.drain()
    assert error is None
    assert store.sync_state(mailbox, "inbox") == "state-2-again"


def test_a_writer_process_that_dies_is_reported_not_waited_for(store: Store, writer: PageWriter) -> None:
    mailbox = store.ensure_mailbox("alice@contoso.example", "Alice").id
    writer.submit(page(mailbox, "state-1"), RULES)
    writer.drain()
    os.kill(writer.pid, signal.SIGKILL)
    # The death comes back from drain, or from the submit itself when the feeder already met the closed
    # pipe (as the class documents): either way, never a wait and never the page applied.
    with pytest.raises(WriterFailed, match="ended unexpectedly"):
        writer.submit(page(mailbox, "state-2"), RULES)
        writer.drain()
    assert store.sync_state(mailbox, "inbox") == "state-1"


def test_an_in_memory_sqlite_store_cannot_be_written_from_another_process() -> None:
    assert not shareable("sqlite://") and not shareable("sqlite:///:memory:")
    assert shareable("sqlite:///relsync.db") and shareable("postgresql+psycopg://u@h/db")
    with pytest.raises(ValueError, match="in-memory"):
        PageWriter("sqlite://")


def test_the_store_url_never_appears_on_the_writer_command_line(store: Store, writer: PageWriter) -> None:
    # A PostgreSQL URL may carry a password: it goes down the pipe, not into `ps` output.
    mailbox = store.ensure_mailbox("alice@contoso.example", "Alice").id
    writer.submit(page(mailbox, "state-1"), RULES)
    assert writer.drain()[1] is None
    with open(f"/proc/{writer.pid}/cmdline", "rb") as f:
        command_line = f.read().decode(errors="replace")
    assert store.url not in command_line
    assert store.sync_state(mailbox, "inbox") == "state-1"


def test_a_closed_writer_process_serves_the_same_threads_next_writer_on_any_store(store: Store, tmp_path: Path) -> None:
    mailbox = store.ensure_mailbox("alice@contoso.example", "Alice").id
    first = PageWriter(store.url)
    first.submit(page(mailbox, "state-1"), RULES)
    assert first.drain()[1] is None
    first.close()
    first.close()  # harmless

    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        upgrade(other.url)
        other_mailbox = other.ensure_mailbox("bob@contoso.example", "Bob").id
        second = PageWriter(other.url)
        try:
            assert second.pid == first.pid  # no second interpreter started
            second.submit(page(other_mailbox, "other-1"), RULES)
            assert second.drain()[1] is None
        finally:
            second.close()
        assert other.sync_state(other_mailbox, "inbox") == "other-1"
        assert store.sync_state(mailbox, "inbox") == "state-1"
    finally:
        other.dispose()


def test_another_thread_starts_a_writer_process_of_its_own(store: Store) -> None:
    mine = PageWriter(store.url)
    mine.close()
    pids: list[int] = []

    def elsewhere() -> None:
        theirs = PageWriter(store.url)
        pids.append(theirs.pid)
        theirs.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert pids and pids[0] != mine.pid
    again = PageWriter(store.url)  # this thread's own process is still there for it
    try:
        assert again.pid == mine.pid
    finally:
        again.close()


def test_a_writer_that_reported_a_failure_is_stopped_not_handed_back(store: Store) -> None:
    mailbox = store.ensure_mailbox("alice@contoso.example", "Alice").id
    writer = PageWriter(store.url)
    writer.submit(page(mailbox + 1000, "state-1"), RULES)  # no such mailbox: the database refuses it
    assert isinstance(writer.drain()[1], sa.exc.IntegrityError)
    writer.close()
    with pytest.raises(ProcessLookupError):  # stopped and reaped
        os.kill(writer.pid, 0)
    fresh = PageWriter(store.url)
    try:
        assert fresh.pid != writer.pid
        fresh.submit(page(mailbox, "state-2"), RULES)
        assert fresh.drain()[1] is None
    finally:
        fresh.close()
    assert store.sync_state(mailbox, "inbox") == "state-2"


def test_a_waiting_writer_process_that_timed_out_or_died_is_replaced(store: Store) -> None:
    mailbox = store.ensure_mailbox("alice@contoso.example", "Alice").id
    timed_out = PageWriter(store.url, idle_seconds=1)
    timed_out.close()
    deadline = time.monotonic() + 10
    while not _exited(timed_out.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _exited(timed_out.pid)  # it left by itself
    killed = PageWriter(store.url)
    assert killed.pid != timed_out.pid
    killed.close()
    os.kill(killed.pid, signal.SIGKILL)
    writer = PageWriter(store.url)
    try:
        assert writer.pid not in (timed_out.pid, killed.pid)
        writer.submit(page(mailbox, "state-1"), RULES)
        assert writer.drain()[1] is None
    finally:
        writer.close()
    assert store.sync_state(mailbox, "inbox") == "state-1"


def test_closing_the_idle_writers_ends_their_processes(store: Store) -> None:
    writer = PageWriter(store.url)
    writer.close()
    close_idle_writers()
    with pytest.raises(ProcessLookupError):
        os.kill(writer.pid, 0)


def _exited(pid: int) -> bool:
    """Whether the child ``pid`` has exited (a zombie not reaped yet counts: its parent reaps it later)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_writers_pages_reach_the_sqlite_file_through_its_own_checkpoints(tmp_path: Path) -> None:
    # The writer's connections leave checkpoints to a thread of its own (no commit waits for one's
    # fsyncs); what it committed still reaches the database file itself, not only the WAL, with no other
    # connection checkpointing. Read here with immutable=1, which ignores the WAL.
    path = tmp_path / "relsync.db"
    upgrade(f"sqlite:///{path}")
    store = Store(f"sqlite:///{path}")
    other = sqlite3.connect(path)  # open throughout: no checkpoint by the last connection to close
    other.execute("SELECT count(*) FROM sync_states").fetchall()
    try:
        mailbox = store.ensure_mailbox("alice@contoso.example", "Alice").id
        writer = PageWriter(store.url)
        try:
            for n in range(1, 4):
                writer.submit(page(mailbox, f"state-{n}"), RULES)
            assert writer.drain()[1] is None
        finally:
            writer.close()
        store.dispose()

        deadline = time.monotonic() + 10
        while _in_file(path, mailbox) != "state-3" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_file(path, mailbox) == "state-3"
    finally:
        other.close()
        store.dispose()


def _in_file(path: Path, mailbox: int) -> object:
    """The mailbox's inbox sync state as the database file holds it, the WAL ignored."""
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        row = db.execute("SELECT state FROM sync_states WHERE mailbox_id = ?", (mailbox,)).fetchone()
    finally:
        db.close()
    return row[0] if row else None
