"""The daemon (in this process, SQLite) with a mailbox that keeps failing and a sync that gets stuck."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from mapping.store.migrate import upgrade
from scheduler.config import load_config
from scheduler.daemon import Daemon
from tests.e2e.daemonenv import MICRO, query, write_config

pytestmark = pytest.mark.slow

GHOST = "ghost@northwind-traders.example"


@pytest.fixture
def fake(ews_schema: etree.XMLSchema) -> Iterator[FakeExchange]:
    ex = FakeExchange(build_company(seed=93, mailboxes=2, scale=MICRO), validate=ews_schema).start()
    yield ex
    close_connections()
    ex.stop()
    assert ex.violations == []


def _run_until(daemon: Daemon, condition: Callable[[], bool], timeout: float, what: str) -> None:
    thread = threading.Thread(target=daemon.run, name="test-daemon")
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for: {what}"
            assert thread.is_alive(), "the daemon died"
            time.sleep(0.2)
    finally:
        daemon.stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_mailbox_that_keeps_failing_needs_attention_goes_slow_and_the_others_keep_syncing(
    tmp_path: Path, fake: FakeExchange
) -> None:
    url = f"sqlite:///{tmp_path / 'relsync.db'}"
    upgrade(url)
    config = write_config(
        tmp_path / "relsync.toml",
        fake,
        "northwind-traders.example",
        url,
        "solo",
        interval_minutes=0.02,
        backoff_base_seconds=0.2,
        backoff_max_seconds=0.4,
        attention_after_failures=3,
        slow_interval_minutes=10,
    )
    config.write_text(config.read_text().replace("addresses = [", f'addresses = ["{GHOST}", '))
    daemon = Daemon(load_config(config), seed=3)
    lease_of = (
        "SELECT l.failures, l.next_due_at, m.needs_attention, m.attention_reason, m.last_success_at "
        "FROM mailbox_leases l JOIN staff_mailboxes m ON m.id = l.mailbox_id WHERE m.address = :a"
    )

    def ghost_on_slow_schedule_and_others_synced_twice() -> bool:
        rows = query(url, lease_of, a=GHOST)
        others = query(url, "SELECT count(*) FROM staff_mailboxes WHERE last_success_at IS NOT NULL")[0][0]
        syncs = fake.overlaps.to_json()["clients"]
        synced = [n for per in syncs.values() for m, n in per.items() if m != GHOST]
        return bool(rows) and rows[0][0] >= 3 and others == 2 and len(synced) == 2 and min(synced) >= 4

    _run_until(daemon, ghost_on_slow_schedule_and_others_synced_twice, 90, "the ghost mailbox on the slow schedule")
    failures, next_due, attention, reason, success = query(url, lease_of, a=GHOST)[0]
    due = next_due if isinstance(next_due, datetime) else datetime.fromisoformat(next_due).replace(tzinfo=UTC)
    assert failures == 3  # not hammered: once on the slow schedule it waits
    assert due - datetime.now(UTC) > timedelta(minutes=9)
    assert attention and "ErrorNonExistentMailbox" in (reason or "") and success is None


def test_a_stuck_sync_is_stopped_after_its_page_and_restarted(tmp_path: Path, fake: FakeExchange) -> None:
    url = f"sqlite:///{tmp_path / 'relsync.db'}"
    upgrade(url)
    config = write_config(
        tmp_path / "relsync.toml",
        fake,
        "northwind-traders.example",
        url,
        "solo",
        page_size=2,
        stuck_after_seconds=1,
        lease_seconds=3,
    )
    # One answer takes 4 s: no page is committed for longer than stuck_after_seconds.
    fake.faults.add("slow", operation="SyncFolderItems", delay_ms=4000, times=1)
    daemon = Daemon(load_config(config), seed=4)

    def all_synced() -> bool:
        return bool(query(url, "SELECT count(*) FROM staff_mailboxes WHERE last_success_at IS NOT NULL")[0][0] == 2)

    _run_until(daemon, all_synced, 90, "both mailboxes synced after the stuck one was restarted")
    assert daemon.stuck_stopped >= 1
    assert query(url, "SELECT count(*) FROM staff_mailboxes WHERE needs_attention")[0][0] == 0
