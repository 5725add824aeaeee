"""A request Exchange never answers in time is abandoned by the daemon, and the mailbox still syncs.

The fake holds one SyncFolderItems answer for 20 s; ``exchange.timeout_seconds`` is 2. The request
must be given up after the timeout and retried (the mailbox synced long before the answer would have
come), the other mailbox is not held up, and nothing is left needing attention or leased.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
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

HANG_SECONDS = 20.0


@pytest.fixture
def fake(ews_schema: etree.XMLSchema) -> Iterator[FakeExchange]:
    ex = FakeExchange(build_company(seed=97, mailboxes=2, scale=MICRO), validate=ews_schema).start()
    yield ex
    close_connections()
    ex.stop()
    assert ex.violations == []


def test_a_hung_request_is_abandoned_after_the_timeout_and_the_mailbox_synced_anyway(
    tmp_path: Path, fake: FakeExchange
) -> None:
    url = f"sqlite:///{tmp_path / 'relsync.db'}"
    upgrade(url)
    config = write_config(tmp_path / "relsync.toml", fake, "northwind-traders.example", url, "solo")
    text = config.read_text(encoding="utf-8")
    assert "timeout_seconds = 30" in text
    config.write_text(text.replace("timeout_seconds = 30", "timeout_seconds = 2", 1), encoding="utf-8")
    hung = next(iter(fake.mailboxes))
    fake.faults.add("slow", operation="SyncFolderItems", mailbox=hung, delay_ms=int(HANG_SECONDS * 1000), times=1)
    daemon = Daemon(load_config(config), seed=5)

    def synced() -> int:
        return int(query(url, "SELECT count(*) FROM staff_mailboxes WHERE last_success_at IS NOT NULL")[0][0])

    started = time.monotonic()
    thread = threading.Thread(target=daemon.run, name="test-daemon")
    thread.start()
    try:
        while synced() < 2:
            assert time.monotonic() - started < HANG_SECONDS - 2, "the hung request was waited out, not abandoned"
            assert thread.is_alive(), "the daemon died"
            time.sleep(0.2)
    finally:
        daemon.stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert fake.stats.to_json()["faults"] == {"slow": 1}  # the hang really happened
    assert query(url, "SELECT count(*) FROM staff_mailboxes WHERE needs_attention")[0][0] == 0
    assert query(url, "SELECT count(*) FROM mailbox_leases WHERE holder IS NOT NULL")[0][0] == 0
