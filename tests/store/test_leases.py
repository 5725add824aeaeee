"""Mailbox and job leases on both backends: one holder at a time, expiry hands over, schedules kept."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from mapping.store import leases
from mapping.store.models import MailboxLease
from mapping.store.store import Store

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _mailbox(store: Store, address: str = "ann@contoso.example", due: datetime = NOW) -> int:
    mailbox_id = store.ensure_mailbox(address, address).id
    with store.session() as s:
        leases.ensure_leases(s, {mailbox_id: due})
    return mailbox_id


def _claim(store: Store, mailbox_id: int, worker: str, now: datetime = NOW, **kw: Any) -> leases.Claim:
    with store.session() as s:
        return leases.claim(s, mailbox_id, worker, 60, now, **kw)


def test_a_free_due_lease_is_taken_and_a_second_worker_is_told_who_holds_it(store: Store) -> None:
    m = _mailbox(store)
    first = _claim(store, m, "host-a:1")
    second = _claim(store, m, "host-b:2")
    assert first.taken and first.expires_at == NOW + timedelta(seconds=60)
    assert not second.taken and second.busy
    assert second.holder == "host-a:1" and second.expires_at == NOW + timedelta(seconds=60)


def test_the_holder_claiming_again_extends_its_own_lease(store: Store) -> None:
    m = _mailbox(store)
    _claim(store, m, "a")
    again = _claim(store, m, "a", NOW + timedelta(seconds=30))
    assert again.taken and again.expires_at == NOW + timedelta(seconds=90)


def test_an_expired_lease_of_a_dead_worker_is_taken_over(store: Store) -> None:
    m = _mailbox(store)
    _claim(store, m, "dead")
    assert not _claim(store, m, "alive", NOW + timedelta(seconds=59)).taken
    takeover = _claim(store, m, "alive", NOW + timedelta(seconds=60))
    assert takeover.taken
    with store.session() as s:
        assert s.get(MailboxLease, m).holder == "alive"  # type: ignore[union-attr]


def test_a_mailbox_not_yet_due_is_not_taken_unless_asked_regardless(store: Store) -> None:
    m = _mailbox(store, due=NOW + timedelta(minutes=5))
    early = _claim(store, m, "a")
    assert not early.taken and not early.busy and early.next_due_at == NOW + timedelta(minutes=5)
    assert _claim(store, m, "resync", due_only=False).taken


def test_release_writes_the_next_due_time_and_failures_and_frees_the_lease(store: Store) -> None:
    m = _mailbox(store)
    _claim(store, m, "a")
    with store.session() as s:
        assert leases.release(s, m, "a", NOW, next_due_at=NOW + timedelta(minutes=15), failures=2)
    with store.session() as s:
        row = s.get(MailboxLease, m)
        assert row is not None
        assert (row.holder, row.expires_at, row.failures) == (None, None, 2)
        assert row.next_due_at == NOW + timedelta(minutes=15) and row.last_finished_at == NOW


def test_a_worker_that_lost_its_lease_cannot_release_over_the_new_holders_schedule(store: Store) -> None:
    m = _mailbox(store)
    _claim(store, m, "slow")
    _claim(store, m, "fast", NOW + timedelta(seconds=61))
    with store.session() as s:
        assert not leases.release(s, m, "slow", NOW, next_due_at=NOW + timedelta(days=1), failures=9)
    with store.session() as s:
        row = s.get(MailboxLease, m)
        assert row is not None and row.holder == "fast" and row.failures == 0


def test_renew_extends_held_leases_and_reports_the_lost_ones(store: Store) -> None:
    kept, lost = _mailbox(store, "a@x.example"), _mailbox(store, "b@x.example")
    _claim(store, kept, "me")
    _claim(store, lost, "me")
    _claim(store, lost, "other", NOW + timedelta(seconds=61))
    with store.session() as s:
        still = leases.renew(s, "me", [kept, lost], 60, NOW + timedelta(seconds=50))
    assert still == {kept}
    with store.session() as s:
        assert s.get(MailboxLease, kept).expires_at == NOW + timedelta(seconds=110)  # type: ignore[union-attr]


def test_release_all_hands_every_lease_of_a_stopping_worker_back_keeping_schedules(store: Store) -> None:
    ids = [_mailbox(store, f"m{i}@x.example", due=NOW - timedelta(minutes=i)) for i in range(3)]
    for m in ids:
        _claim(store, m, "me")
    with store.session() as s:
        assert leases.release_all(s, "me") == 3
    with store.session() as s:
        rows = leases.lease_rows(s)
    assert [r.holder for r in rows] == [None, None, None]
    assert [r.next_due_at for r in rows] == [NOW - timedelta(minutes=i) for i in range(3)]


def test_ensure_leases_keeps_existing_schedules(store: Store) -> None:
    m = _mailbox(store, due=NOW)
    with store.session() as s:
        leases.ensure_leases(s, {m: NOW + timedelta(days=3)})
    with store.session() as s:
        assert s.get(MailboxLease, m).next_due_at == NOW  # type: ignore[union-attr]


def test_claiming_a_mailbox_without_a_lease_row_says_so(store: Store) -> None:
    m = store.ensure_mailbox("new@x.example", "new").id
    with pytest.raises(LookupError, match="ensure_leases"), store.session() as s:
        leases.claim(s, m, "a", 60, NOW)


def test_job_lease_admits_one_worker_until_released_or_expired(store: Store) -> None:
    with store.session() as s:
        assert leases.claim_job(s, "classify", "a", 60, NOW)
    with store.session() as s:
        assert not leases.claim_job(s, "classify", "b", 60, NOW)
    with store.session() as s:
        assert leases.claim_job(s, "classify", "b", 60, NOW + timedelta(seconds=61))
    with store.session() as s:
        leases.release_job(s, "classify", "b", NOW)
    with store.session() as s:
        assert leases.claim_job(s, "classify", "a", 60, NOW)


def test_many_workers_racing_for_one_mailbox_on_postgresql_exactly_one_wins(pg_url: str) -> None:
    from mapping.store.migrate import upgrade

    upgrade(pg_url)
    store = Store(pg_url)
    try:
        m = _mailbox(store)
        barrier = threading.Barrier(8)
        results: list[leases.Claim] = []
        lock = threading.Lock()

        def race(n: int) -> None:
            barrier.wait()
            claim = _claim(store, m, f"worker-{n}")
            with lock:
                results.append(claim)

        threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [c for c in results if c.taken]
        assert len(results) == 8 and len(winners) == 1
        with store.session() as s:
            holder = s.scalar(sa.select(MailboxLease.holder).where(MailboxLease.mailbox_id == m))
        assert holder == winners[0].holder
    finally:
        store.dispose()
