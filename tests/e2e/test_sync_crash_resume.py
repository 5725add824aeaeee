"""Crash safety: a real `relsync resync` process killed with SIGKILL at random points, then resumed.

Every page of changes is committed together with the sync state that follows it, so a resync killed
anywhere (while waiting for Exchange, while translating, in the middle of a commit) and started again
must end with exactly the store an uninterrupted sync of the same mailboxes produces: nothing lost,
nothing twice. The fake Exchange runs in this process (schema-checked, with a slow-response fault so
kills also land while a request is in flight); the stores are SQLite in a temporary folder, or two
fresh PostgreSQL databases. The fast EWS reader is on (the default).

The two stores are compared as a canonical dump: every table that sync writes, with database ids
replaced by natural keys (addresses, Message-IDs, UIDs, Exchange item ids) and times of our own
(created_at, first_seen_at, ...) left out.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from mapping.store.migrate import upgrade
from scheduler.cli import write_fake_config
from scheduler.config import load_config
from scheduler.jobs import run_sync

RELSYNC = [sys.executable, "-m", "scheduler.cli"]
ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
SEED = 20261122
PAGE_SIZE = 5  # tiny pages: a 30-item inbox takes 6 pages, so kills land mid-folder
SLOW_MS = 25  # every SyncFolderItems answer is this late: kills land during requests too

pytestmark = pytest.mark.slow


def _write_config(server: FakeExchange, addresses: list[str], domain: str, path: Path, url: str) -> Path:
    write_fake_config(path, server.url, server.username, server.password, addresses, domain)
    text = path.read_text(encoding="utf-8")
    text = text.replace(f'url = "sqlite:///{path.stem}.db"', f'url = "{url}"', 1)
    assert f'url = "{url}"' in text
    text = text.replace('level = "INFO"', 'level = "WARNING"')
    # Sync alone is compared here: the category write-back and follow-up tasks would change the
    # mailboxes between the reference run and the crash runs, which share the fake.
    path.write_text(
        text + f"\n[sync]\npage_size = {PAGE_SIZE}\n\n[classification]\nwrite_back = false\n"
        "\n[followups]\nenabled = false\n",
        encoding="utf-8",
    )
    return path


def canonical_dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything sync wrote, keyed by natural keys, without our own ids and timestamps."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:

            def rows(sql: str) -> list[tuple[Any, ...]]:
                return sorted((tuple(r) for r in c.execute(sa.text(sql))), key=repr)

            mailbox = {i: a for i, a in c.execute(sa.text("SELECT id, address FROM staff_mailboxes"))}
            emails: dict[int, list[str]] = {}
            for pid, address in c.execute(sa.text("SELECT person_id, address FROM email_addresses")):
                emails.setdefault(pid, []).append(address)
            person_key = {
                pid: (name, tuple(sorted(emails.get(pid, []))))
                for pid, name in c.execute(sa.text("SELECT id, display_name FROM people"))
            }
            org_key = {oid: key for oid, key in c.execute(sa.text("SELECT id, normalised_name FROM organisations"))}
            interaction_key = {
                iid: (kind, mid, uid, str(start))
                for iid, kind, mid, uid, start in c.execute(
                    sa.text("SELECT id, kind, internet_message_id, ical_uid, occurrence_start FROM interactions")
                )
            }
            dump: dict[str, list[tuple[Any, ...]]] = {}
            dump["mailboxes"] = rows("SELECT address, needs_attention, attention_reason FROM staff_mailboxes")
            dump["sync_states"] = sorted(
                (mailbox[m], folder, state, folder_id, full_syncs)
                for m, folder, state, folder_id, full_syncs in c.execute(
                    sa.text("SELECT mailbox_id, folder, state, folder_id, full_syncs FROM sync_states")
                )
            )
            dump["organisations"] = sorted(
                (name, key, website, org_key.get(merged) if merged is not None else None)
                for name, key, website, merged in c.execute(
                    sa.text("SELECT name, normalised_name, website, merged_into_id FROM organisations")
                )
            )
            dump["organisation_domains"] = sorted(
                (domain, org_key[oid], kind)
                for domain, oid, kind in c.execute(
                    sa.text("SELECT domain, organisation_id, kind FROM organisation_domains")
                )
            )
            dump["people"] = sorted(
                (
                    person_key[pid],
                    given,
                    middle,
                    surname,
                    nick,
                    title,
                    dept,
                    org_key.get(oid) if oid is not None else None,
                    person_key.get(merged) if merged is not None else None,
                )
                for pid, given, middle, surname, nick, title, dept, oid, merged in c.execute(
                    sa.text(
                        "SELECT id, given_name, middle_name, surname, nickname, job_title, department, "
                        "organisation_id, merged_into_id FROM people"
                    )
                )
            )
            dump["email_addresses"] = sorted(
                (address, original, person_key[pid], primary, valid)
                for address, original, pid, primary, valid in c.execute(
                    sa.text("SELECT address, original, person_id, is_primary, is_valid FROM email_addresses")
                )
            )
            dump["phones"] = sorted(
                (person_key[pid], e164, raw, kind, label)
                for pid, e164, raw, kind, label in c.execute(
                    sa.text("SELECT person_id, e164, raw, kind, label FROM phones")
                )
            )
            dump["postal_addresses"] = sorted(
                (person_key[pid], *rest)
                for pid, *rest in c.execute(
                    sa.text("SELECT person_id, kind, street, city, state, postal_code, country FROM postal_addresses")
                )
            )
            dump["interactions"] = sorted(
                (interaction_key[iid], *rest)
                for iid, *rest in c.execute(
                    sa.text(
                        "SELECT id, subject, occurred_at, ends_at, is_all_day, is_cancelled, is_private, direction, "
                        "conversation_id, size_bytes, snippet FROM interactions"
                    )
                )
            )
            dump["participants"] = sorted(
                (
                    interaction_key[iid],
                    address,
                    name,
                    role,
                    response,
                    person_key.get(pid) if pid is not None else None,
                    mailbox.get(sid) if sid is not None else None,
                )
                for iid, address, name, role, response, pid, sid in c.execute(
                    sa.text(
                        "SELECT interaction_id, address, display_name, role, response, person_id, staff_mailbox_id "
                        "FROM interaction_participants"
                    )
                )
            )
            dump["viewers"] = sorted(
                (interaction_key[iid], mailbox[mid])
                for iid, mid in c.execute(sa.text("SELECT interaction_id, mailbox_id FROM interaction_viewers"))
            )
            links = []
            for m, folder, item_id, ck, item_kind, etype, eid, categories, deleted in c.execute(
                sa.text(
                    "SELECT mailbox_id, folder, item_id, change_key, item_kind, entity_type, entity_id, categories, "
                    "deleted_at IS NOT NULL FROM item_links"
                )
            ):
                target = person_key.get(eid) if etype == "person" else interaction_key.get(eid)
                links.append((mailbox[m], folder, item_id, ck, item_kind, etype, target, categories, deleted))
            dump["item_links"] = sorted(links, key=repr)
            return dump
    finally:
        engine.dispose()


def _committed_states(url: str) -> tuple[tuple[Any, ...], ...]:
    """The saved sync states: every committed page changes one, so this marks how far a run got."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return tuple(
                sorted(
                    tuple(r)
                    for r in c.execute(
                        sa.text("SELECT mailbox_id, folder, state FROM sync_states WHERE state IS NOT NULL")
                    )
                )
            )
    finally:
        engine.dispose()


def _folders_started(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.scalar(sa.text("SELECT count(*) FROM sync_states WHERE state IS NOT NULL")) or 0)
    finally:
        engine.dispose()


def _sync_requests(server: FakeExchange) -> int:
    return int(server.stats.to_json()["operations"].get("SyncFolderItems", 0))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The reference store's URL and the crash run's, on one backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reference.db'}", f"sqlite:///{tmp_path / 'crash.db'}"
        return
    server = request.getfixturevalue("pg_server_url")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    names = [f"relsync_t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield tuple(  # type: ignore[misc]
            sa.make_url(server).set(database=name).render_as_string(hide_password=False) for name in names
        )
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_resync_killed_20_times_ends_with_the_same_store_as_an_uninterrupted_run(
    tmp_path: Path, ews_schema: etree.XMLSchema, store_urls: tuple[str, str]
) -> None:
    rng = random.Random(SEED)
    company = build_company(seed=SEED % 1000, mailboxes=2, scale="tiny")
    addresses = [m.email for m in company.mailboxes()]
    server = FakeExchange(company, validate=ews_schema).start()
    try:
        server.faults.add("slow", operation="SyncFolderItems", delay_ms=SLOW_MS, times=None)

        # The reference: one uninterrupted sync of the same data (in this process; same code path).
        ref_dir = tmp_path / "reference"
        ref_url, crash_url = store_urls
        ref_config = _write_config(server, addresses, company.domain, ref_dir / "relsync.toml", ref_url)
        upgrade(ref_url)
        try:
            reports = run_sync(load_config(ref_config))
        finally:
            close_connections()
        assert all(r.ok for r in reports), [r.error for r in reports]
        reference = canonical_dump(ref_url)
        assert len(reference["interactions"]) > 20 and len(reference["people"]) > 10

        # The crash run: a real `relsync resync` process, SIGKILLed 20 times at random points.
        crash_dir = tmp_path / "crash"
        config = _write_config(server, addresses, company.domain, crash_dir / "relsync.toml", crash_url)
        upgrade(crash_url)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [*RELSYNC, "--config", str(config), "resync", "--json"]
        # Where a kill lands: a resumed run first re-reads each folder it already finished (one empty
        # page each), then goes on where the last commit left it. The engine commits a page before it
        # asks for the next one, so waiting for the 2nd or 3rd new request means at least one new
        # commit; the kill then comes a random fraction of a page later: during a request, a
        # translation or a commit. Once a run got through, the kills land in incremental runs.
        progress: list[tuple[tuple[Any, ...], ...]] = []
        kills = 0
        completed_early = 0
        while kills < KILLS:
            if completed_early:
                target = _sync_requests(server) + rng.randint(1, 8)
            else:
                redo = max(_folders_started(crash_url) - 1, 0)
                target = _sync_requests(server) + redo + rng.randint(2, 3)
            proc = subprocess.Popen(command, cwd=crash_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 60
            while _sync_requests(server) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 2.5 * SLOW_MS / 1000))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                assert proc.returncode == -signal.SIGKILL
                kills += 1
                progress.append(_committed_states(crash_url))
            else:
                # It finished before the kill: fine, and the next kill lands in an incremental sync.
                assert proc.stderr is not None
                assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
                completed_early += 1
            if proc.stderr is not None:
                proc.stderr.close()

        final = subprocess.run(command, cwd=crash_dir, env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr[-2000:]
    finally:
        server.stop()
        close_connections()

    assert server.violations == [], "the fake sent responses that fail the EWS schema"
    crashed = canonical_dump(crash_url)
    for table in reference:
        assert crashed[table] == reference[table], f"{table} differs after {kills} kills"
    # The kills were spread over the sync, not all before the first commit or after the last one.
    final_states = _committed_states(crash_url)
    mid_sync = {p for p in progress if p and p != final_states}
    assert len(mid_sync) >= 5, (
        f"only {len(mid_sync)} of {kills} kills landed at distinct points mid-sync ({completed_early} runs finished)"
    )
