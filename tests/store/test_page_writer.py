"""The writer process: pages applied in order with their states, failures reported, never waited on."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mapping.changes import Page, SkippedItem, SyncRules
from mapping.store.page_writer import PageWriter, WriterFailed, shareable
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


def test_closing_a_writer_ends_its_process_and_a_second_close_is_harmless(store: Store) -> None:
    writer = PageWriter(store.url)
    writer.close()
    writer.close()
    with pytest.raises(ProcessLookupError):
        os.kill(writer.pid, 0)
