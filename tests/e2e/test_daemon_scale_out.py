"""Scale-out on PostgreSQL: real ``relsync daemon`` processes sharing 50 mailboxes of one fake Exchange.

The fake records every SyncFolderItems request per mailbox and client (the User-Agent names the
worker); two workers in flight on one mailbox at the same moment would be an overlap. The store the
daemons build together must hold exactly what one uninterrupted sync of the same mailboxes holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from mapping.store.migrate import upgrade
from scheduler.config import load_config
from scheduler.jobs import run_sync
from tests.e2e.daemonenv import (
    MICRO,
    Daemons,
    mailboxes_by_client,
    query,
    store_contents,
    sync_requests,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

MAILBOXES = 50
FOLDERS = 2  # contacts and inbox: enough to see paging and sharing, half the requests


def _all_synced(server: FakeExchange, times: int) -> bool:
    counts = sync_requests(server)
    return len(counts) == MAILBOXES and min(counts.values()) >= times * FOLDERS


def test_two_daemons_share_50_mailboxes_never_both_on_one_and_build_the_same_store(
    tmp_path: Path, pg_url: str, ews_schema: etree.XMLSchema
) -> None:
    company = build_company(seed=71, mailboxes=MAILBOXES, scale=MICRO)
    server = FakeExchange(company, validate=ews_schema).start()
    daemons = Daemons(tmp_path)
    try:
        # The reference: one uninterrupted sync of the same mailboxes, in this process, on SQLite.
        ref_url = f"sqlite:///{tmp_path / 'reference.db'}"
        upgrade(ref_url)
        reports = run_sync(
            load_config(write_config(tmp_path / "ref" / "relsync.toml", server, company.domain, ref_url, "reference"))
        )
        close_connections()
        assert all(r.ok for r in reports)
        reference = store_contents(ref_url)
        server.overlaps.reset()

        upgrade(pg_url)
        for worker in ("worker-a", "worker-b"):
            daemons.start(worker, write_config(tmp_path / f"{worker}.toml", server, company.domain, pg_url, worker))
        wait_until(lambda: _all_synced(server, 2), daemons, 240, "every mailbox synced at least twice")
        codes = {worker: daemons.terminate(worker) for worker in list(daemons.procs)}
    finally:
        daemons.close()
        server.stop()
        close_connections()

    assert codes == {"worker-a": 0, "worker-b": 0}, daemons.log("worker-a")[-2000:]
    assert server.overlaps.to_json()["overlaps"] == []
    # First syncs of mailboxes sharing contacts and e-mails, side by side: no page lost a unique-key race.
    for worker in ("worker-a", "worker-b"):
        assert "page conflicted" not in daemons.log(worker) and "IntegrityError" not in daemons.log(worker)
    shares = mailboxes_by_client(server)
    assert set(shares) == {"worker-a", "worker-b"}
    assert all(len(mailboxes) >= 5 for mailboxes in shares.values()), {w: len(m) for w, m in shares.items()}
    # A clean stop hands every lease back at once.
    assert query(pg_url, "SELECT count(*) FROM mailbox_leases WHERE holder IS NOT NULL")[0][0] == 0
    assert store_contents(pg_url) == reference
    assert server.violations == []


def test_three_daemons_one_killed_its_mailboxes_are_taken_over_once_its_leases_expire(
    tmp_path: Path, pg_url: str, ews_schema: etree.XMLSchema
) -> None:
    company = build_company(seed=72, mailboxes=MAILBOXES, scale=MICRO)
    server = FakeExchange(company, validate=ews_schema).start()
    # Every page takes a while, so a worker always holds leases mid-sync and kills land inside syncs.
    server.faults.add("slow", operation="SyncFolderItems", delay_ms=100, times=None)
    daemons = Daemons(tmp_path)
    upgrade(pg_url)
    held_by_c = "SELECT mailbox_id, expires_at FROM mailbox_leases WHERE holder = 'worker-c'"
    try:
        for worker in ("worker-a", "worker-b", "worker-c"):
            config = write_config(
                tmp_path / f"{worker}.toml", server, company.domain, pg_url, worker, write_back=True, lease_seconds=4
            )
            daemons.start(worker, config)
        wait_until(
            lambda: _all_synced(server, 1) and bool(query(pg_url, held_by_c)),
            daemons,
            240,
            "every mailbox synced once, and worker-c holding a lease",
        )
        daemons.kill("worker-c")
        orphaned = {m: expires for m, expires in query(pg_url, held_by_c)}
        killed_at = query(pg_url, "SELECT CURRENT_TIMESTAMP")[0][0]
        assert orphaned, "worker-c held nothing when killed"

        # Until its lease expires, nobody touches a dead worker's mailbox...
        for mailbox_id, holder, expires in query(pg_url, "SELECT mailbox_id, holder, expires_at FROM mailbox_leases"):
            if mailbox_id in orphaned and expires is not None and expires > query(pg_url, "SELECT now()")[0][0]:
                assert holder == "worker-c"

        # ...then the others take it over, and every mailbox is synced again after the kill.
        def taken_over() -> bool:
            rows = query(pg_url, "SELECT mailbox_id, holder, last_finished_at FROM mailbox_leases")
            return all(
                holder != "worker-c" and finished is not None and finished > killed_at for _, holder, finished in rows
            )

        wait_until(taken_over, daemons, 120, "worker-c's mailboxes taken over and every mailbox synced again")
        after = query(pg_url, "SELECT mailbox_id, last_started_at FROM mailbox_leases")
        codes = {worker: daemons.terminate(worker) for worker in ("worker-a", "worker-b")}
    finally:
        daemons.close()
        server.stop()
        close_connections()

    assert codes == {"worker-a": 0, "worker-b": 0}
    assert server.overlaps.to_json()["overlaps"] == []
    for mailbox_id, started in after:
        if mailbox_id in orphaned:
            assert started >= orphaned[mailbox_id], "a dead worker's mailbox was taken before its lease expired"
    # All three did real work: the load was shared before the kill.
    assert set(mailboxes_by_client(server)) == {"worker-a", "worker-b", "worker-c"}
    assert "Traceback" not in daemons.log("worker-a") + daemons.log("worker-b")
    assert server.violations == []
