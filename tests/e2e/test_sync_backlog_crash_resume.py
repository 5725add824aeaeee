"""Crash safety with the writer process: a backlog sync SIGKILLed at random points, then resumed.

The pages of a backlog are applied by a child process (mapping.store.page_writer). Killing the sync
must leave no writer behind that commits after the kill (it would race the resumed run), and every
page must still commit together with its sync state: after the kills and one last run, the store
equals an uninterrupted run's, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from mapping.store.migrate import upgrade
from mapping.store.models import Base
from tests.e2e.backlog_sync_run import run
from tests.e2e.test_sync_crash_resume import _committed_states, _sync_requests, canonical_dump

RUNNER = Path(__file__).resolve().parent / "backlog_sync_run.py"
KILLS = 8
SEED = 20261123
PAGE_SIZE = 5
SLOW_MS = 25

pytestmark = pytest.mark.slow


def _marked_processes(mark: str) -> list[int]:
    """Processes (the run and any child it started) whose environment carries ``mark``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _emptied(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as c:
            for table in reversed(Base.metadata.sorted_tables):
                c.execute(table.delete())
    finally:
        engine.dispose()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find orphaned writers")
def test_a_backlog_sync_killed_8_times_leaves_no_writer_behind_and_ends_with_the_same_store(
    db_url: str, ews_schema: etree.XMLSchema
) -> None:
    rng = random.Random(SEED)
    company = build_company(seed=SEED % 1000, mailboxes=2, scale="tiny")
    addresses = [m.email for m in company.mailboxes()]
    server = FakeExchange(company, validate=ews_schema).start()
    try:
        server.faults.add("slow", operation="SyncFolderItems", delay_ms=SLOW_MS, times=None)
        args = (server.url, server.username, server.password, company.domain)
        upgrade(db_url)
        try:
            assert run(db_url, *args, PAGE_SIZE, addresses)
        finally:
            close_connections()
        reference = canonical_dump(db_url)
        assert len(reference["interactions"]) > 20
        _emptied(db_url)

        mark = f"RELSYNC_BACKLOG_CRASH={uuid.uuid4().hex}"
        env = {**os.environ, mark.split("=")[0]: mark.split("=")[1]}
        command = [sys.executable, str(RUNNER), db_url, *args, str(PAGE_SIZE), *addresses]
        kills = 0
        mid_sync: set[tuple[object, ...]] = set()
        while kills < KILLS:
            target = _sync_requests(server) + rng.randint(2, 10)
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 60
            while _sync_requests(server) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 2.5 * SLOW_MS / 1000))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                kills += 1
                # the writer dies with the run (one still starting up exits before it opens the
                # store): nothing of it may commit behind the next run's back
                after_kill = _committed_states(db_url)
                deadline = time.monotonic() + 30
                while _marked_processes(mark) and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert _marked_processes(mark) == [], "a writer process outlived its killed sync"
                assert _committed_states(db_url) == after_kill, "a page was committed after the kill"
                mid_sync.add(after_kill)
            else:
                assert proc.stderr is not None
                assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
            if proc.stderr is not None:
                proc.stderr.close()
        final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr[-2000:]
    finally:
        server.stop()
        close_connections()

    assert server.violations == [], "the fake sent responses that fail the EWS schema"
    crashed = canonical_dump(db_url)
    for table in reference:
        assert crashed[table] == reference[table], f"{table} differs after {kills} kills"
    assert len(mid_sync) >= 4, f"only {len(mid_sync)} distinct points mid-sync"
