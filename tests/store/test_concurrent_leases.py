"""Several daemons sharing mailboxes keep their own: a mailbox released with affinity stays its last
worker's for ``affinity_seconds`` after it falls due, on both backends; commands and takeovers still work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mapping.store import leases
from mapping.store.reports import mailbox_status
from mapping.store.store import Store

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DUE = NOW + timedelta(minutes=15)
AFFINITY = 120.0


def _synced_by(store: Store, worker: str, address: str = "ann@contoso.example") -> int:
    """A mailbox ``worker`` has just synced and released keeping its affinity, next due at DUE."""
    mailbox_id = store.ensure_mailbox(address, address).id
    with store.session() as s:
        leases.ensure_leases(s, {mailbox_id: NOW})
    with store.session() as s:
        assert leases.claim(s, mailbox_id, worker, 60, NOW, affinity_seconds=AFFINITY).taken
    with store.session() as s:
        assert leases.release(s, mailbox_id, worker, NOW, next_due_at=DUE, failures=0, keep_affinity=True)
    return mailbox_id


def _claim(
    store: Store,
    mailbox_id: int,
    worker: str,
    at: datetime,
    *,
    due_only: bool = True,
    is_dead: Callable[[str], bool] = lambda holder: False,
) -> leases.Claim:
    with store.session() as s:
        return leases.claim(
            s, mailbox_id, worker, 60, at, due_only=due_only, is_dead=is_dead, affinity_seconds=AFFINITY
        )


def test_the_last_worker_takes_its_mailbox_when_due_and_another_only_once_it_is_late(store: Store) -> None:
    m = _synced_by(store, "worker-a")

    refused = _claim(store, m, "worker-b", DUE + timedelta(seconds=5))
    assert not refused.taken and not refused.busy
    assert refused.next_due_at == DUE + timedelta(seconds=AFFINITY)  # when worker-b should look again
    assert _claim(store, m, "worker-a", DUE).taken


def test_a_mailbox_its_worker_did_not_sync_in_time_moves_to_another(store: Store) -> None:
    m = _synced_by(store, "worker-a")

    late = _claim(store, m, "worker-b", DUE + timedelta(seconds=AFFINITY))

    assert late.taken
    with store.session() as s:
        assert leases.release(
            s, m, "worker-b", DUE, next_due_at=DUE + timedelta(hours=1), failures=0, keep_affinity=True
        )
    assert not _claim(store, m, "worker-a", DUE + timedelta(hours=1)).taken  # now worker-b's


def test_status_shows_a_mailbox_released_with_affinity_as_held_by_nobody(store: Store) -> None:
    _synced_by(store, "worker-a")
    with store.session() as s:
        (row,) = mailbox_status(s, NOW + timedelta(seconds=1))
    assert row["worker"] is None and row["lease_expires_at"] is None


def test_a_command_ignores_affinity_and_frees_the_lease_for_any_worker(store: Store) -> None:
    m = _synced_by(store, "worker-a")

    assert _claim(store, m, "relsync-cli@host:9", NOW + timedelta(seconds=1), due_only=False).taken
    with store.session() as s:
        leases.release(s, m, "relsync-cli@host:9", NOW, next_due_at=DUE, failures=0)
    assert _claim(store, m, "worker-b", DUE).taken  # no affinity left to wait for


def test_a_cleanly_stopped_worker_hands_its_mailboxes_over_at_once(store: Store) -> None:
    m = _synced_by(store, "worker-a")
    with store.session() as s:
        assert leases.release_all(s, "worker-a") == 1
    assert _claim(store, m, "worker-b", DUE).taken


def test_a_dead_local_worker_keeps_no_affinity(store: Store) -> None:
    m = _synced_by(store, "worker-a")

    taken = _claim(store, m, "worker-b", DUE, is_dead=lambda holder: holder == "worker-a")

    assert taken.taken
