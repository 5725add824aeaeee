"""A daemon on SQLite: SIGTERM mid-sync commits the current page and exits 0; a second daemon refuses.

Every page commits with the sync state that follows it, so a daemon stopped between pages and a
later run that resumes must together build exactly the store one uninterrupted sync builds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from mapping.store.migrate import upgrade
from scheduler.config import load_config
from scheduler.jobs import run_sync
from tests.e2e.daemonenv import RELSYNC, ROOT, Daemons, query, store_contents, wait_until, write_config

pytestmark = pytest.mark.slow

PAGE_SIZE = 5
SLOW_MS = 40
FOLDERS = ("contacts", "inbox", "sentitems", "calendar")


def _pages(server: FakeExchange) -> int:
    return int(server.stats.operations["SyncFolderItems"])


def test_sigterm_mid_sync_stops_after_the_current_page_exits_0_and_a_later_run_loses_nothing(
    tmp_path: Path, ews_schema: etree.XMLSchema
) -> None:
    company = build_company(seed=81, mailboxes=2, scale="tiny")
    server = FakeExchange(company, validate=ews_schema).start()
    server.faults.add("slow", operation="SyncFolderItems", delay_ms=SLOW_MS, times=None)
    daemons = Daemons(tmp_path)
    url = f"sqlite:///{tmp_path / 'daemon.db'}"
    ref_url = f"sqlite:///{tmp_path / 'reference.db'}"
    try:
        options: dict[str, Any] = {"page_size": PAGE_SIZE, "folders": FOLDERS}
        upgrade(ref_url)
        assert all(
            r.ok
            for r in run_sync(
                load_config(
                    write_config(
                        tmp_path / "ref" / "relsync.toml", server, company.domain, ref_url, "reference", **options
                    )
                )
            )
        )
        close_connections()
        reference = store_contents(ref_url)

        upgrade(url)
        config = write_config(tmp_path / "daemon.toml", server, company.domain, url, "worker-a", **options)
        start = _pages(server)
        daemons.start("worker-a", config)
        # Well into the first sync (30-item folders take 6+ pages each), then stop it.
        wait_until(lambda: _pages(server) >= start + 8, daemons, 120, "the daemon syncing page by page")
        at_stop = _pages(server)
        code = daemons.terminate("worker-a", timeout=30)
        after_stop = _pages(server) - at_stop
        log = daemons.log("worker-a")
        states_at_stop = query(url, "SELECT count(*) FROM sync_states WHERE state IS NOT NULL")[0][0]

        # The next run (a manual resync here) resumes after the last committed page.
        resumed = run_sync(load_config(config))
        close_connections()
    finally:
        daemons.close()
        server.stop()

    assert code == 0, log[-3000:]
    assert "Traceback" not in log and "error" not in log.lower()
    # It stopped after the page in hand (and at most the one read ahead), not at the end of the sync.
    assert after_stop <= 2
    assert 0 < states_at_stop < 2 * len(FOLDERS)
    assert all(r.ok for r in resumed)
    assert store_contents(url) == reference
    assert server.violations == []


def test_a_second_daemon_on_the_same_sqlite_store_refuses_to_start_and_says_why(
    tmp_path: Path, ews_schema: etree.XMLSchema
) -> None:
    company = build_company(seed=82, mailboxes=1, scale="tiny")
    server = FakeExchange(company, validate=ews_schema).start()
    daemons = Daemons(tmp_path)
    url = f"sqlite:///{tmp_path / 'daemon.db'}"
    try:
        upgrade(url)
        first = write_config(tmp_path / "first.toml", server, company.domain, url, "first")
        daemons.start("first", first)
        wait_until(
            lambda: (
                (tmp_path / "daemon.db.daemon.lock").read_text().strip() == "first"
                if (tmp_path / "daemon.db.daemon.lock").exists()
                else False
            ),
            daemons,
            60,
            "the first daemon up",
        )
        second = write_config(tmp_path / "second.toml", server, company.domain, url, "second")
        refused = subprocess.run(
            [*RELSYNC, "--config", str(second), "daemon"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        assert daemons.terminate("first") == 0
    finally:
        daemons.close()
        server.stop()

    assert refused.returncode == 2
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("relsync: daemon: another relsync daemon (worker first) already runs on the SQLite store")
    assert "PostgreSQL" in last
