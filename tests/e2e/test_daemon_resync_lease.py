"""A manual resync while a daemon holds the mailbox: it waits for the lease, or says who holds it."""

from __future__ import annotations

import threading

from mapping.store import leases
from mapping.store.models import utcnow
from scheduler.lease_sync import sync_with_lease
from tests.e2e.syncenv import ALICE, ALL_FOLDERS, EnvFactory, HandCompany, SyncEnv, contact


def _hold(env: SyncEnv, holder: str, seconds: float) -> int:
    store = env.store
    mailbox_id = int(store.ensure_mailbox(ALICE.email, ALICE.email).id)
    with store.session() as s:
        leases.ensure_leases(s, {mailbox_id: utcnow()})
        assert leases.claim(s, mailbox_id, holder, seconds, utcnow()).taken
    return mailbox_id


def test_resync_of_a_mailbox_a_daemon_is_syncing_says_who_holds_it_and_touches_nothing(
    make_env: EnvFactory,
) -> None:
    env = make_env(HandCompany(items={(ALICE.email, "contacts"): [contact(1, "Dana Dunn", "dana@fabrikam.example")]}))
    _hold(env, "sync-host-2:4242", 120)
    report = sync_with_lease(env.engine(), ALICE.email, ALL_FOLDERS, wait_seconds=0.5)
    assert not report.ok and report.error is not None
    assert report.error.startswith("being synced by sync-host-2:4242 (lease until ")
    assert env.ex.stats.operations["SyncFolderItems"] == 0
    assert env.count("people") == 0 and not env.mailbox_row(ALICE.email)[0]  # not marked as needing attention


def test_resync_waits_for_the_daemon_to_release_the_lease_then_syncs_holding_it(make_env: EnvFactory) -> None:
    env = make_env(HandCompany(items={(ALICE.email, "contacts"): [contact(1, "Dana Dunn", "dana@fabrikam.example")]}))
    mailbox_id = _hold(env, "sync-host-2:4242", 120)

    def daemon_finishes() -> None:
        with env.store.session() as s:
            leases.release(s, mailbox_id, "sync-host-2:4242", utcnow(), next_due_at=utcnow(), failures=0)

    timer = threading.Timer(1.0, daemon_finishes)
    timer.start()
    report = sync_with_lease(env.engine(), ALICE.email, ALL_FOLDERS, wait_seconds=30, worker="cli-test")
    timer.join()
    assert report.ok, report.error
    assert env.count("people") == 1
    with env.store.session() as s:
        row = next(r for r in leases.lease_rows(s) if r.mailbox == ALICE.email)
    assert row.holder is None and row.next_due_at > utcnow()  # released, next sync one interval later
