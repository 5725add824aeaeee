"""The audit log is a chain of keyed hashes: any change, removal or reordering is found and named."""

from __future__ import annotations

import sqlalchemy as sa

from mapping.store import audit
from mapping.store.models_privacy import AuditEntry, AuditHead
from mapping.store.store import Store


def _fill(store: Store, n: int = 6) -> None:
    for i in range(n):
        with store.session() as s:
            audit.record(s, "exchange_write", "categories", subject=f"link:{i}", detail={"categories": ["Tier A"]})


def test_an_untouched_chain_verifies(store: Store) -> None:
    _fill(store)
    with store.session() as s:
        verdict = audit.verify(s)
    assert verdict.ok and verdict.entries == 6


def test_a_changed_entry_is_named(store: Store) -> None:
    _fill(store)
    with store.session() as s:
        s.execute(sa.update(AuditEntry).where(AuditEntry.seq == 3).values(outcome="failed"))
    with store.session() as s:
        verdict = audit.verify(s)
    assert not verdict.ok and verdict.problem == "changed" and verdict.bad_seq == 3
    assert "audit entry 3 was changed" in verdict.sentence


def test_a_removed_entry_is_named(store: Store) -> None:
    _fill(store)
    with store.session() as s:
        s.execute(sa.delete(AuditEntry).where(AuditEntry.seq == 4))
    with store.session() as s:
        verdict = audit.verify(s)
    assert not verdict.ok and verdict.problem == "removed" and verdict.bad_seq == 4


def test_removing_the_last_entries_is_noticed_by_the_head(store: Store) -> None:
    _fill(store)
    with store.session() as s:
        s.execute(sa.delete(AuditEntry).where(AuditEntry.seq >= 5))
    with store.session() as s:
        verdict = audit.verify(s)
    assert not verdict.ok and verdict.problem == "removed" and verdict.bad_seq == 5


def test_reordered_entries_are_named(store: Store) -> None:
    _fill(store)
    with store.session() as s:
        rows = {e.seq: e.id for e in s.scalars(sa.select(AuditEntry))}
        # Swap the storage places of entries 2 and 3 (ids), keeping each entry's content.
        s.execute(sa.update(AuditEntry).where(AuditEntry.id == rows[2]).values(id=-1))
        s.execute(sa.update(AuditEntry).where(AuditEntry.id == rows[3]).values(id=rows[2]))
        s.execute(sa.update(AuditEntry).where(AuditEntry.id == -1).values(id=rows[3]))
    with store.session() as s:
        verdict = audit.verify(s)
    assert not verdict.ok and verdict.problem == "reordered" and verdict.bad_seq == 2


def test_a_forged_head_is_noticed(store: Store) -> None:
    _fill(store)
    with store.session() as s:
        s.execute(sa.delete(AuditEntry).where(AuditEntry.seq == 6))
        prev = s.scalar(sa.select(AuditEntry.entry_hash).where(AuditEntry.seq == 5))
        s.execute(sa.update(AuditHead).values(seq=5, entry_hash=prev))  # without the key: head hash stale
    with store.session() as s:
        verdict = audit.verify(s)
    assert not verdict.ok and "head" in verdict.sentence


def test_another_key_does_not_verify(store: Store) -> None:
    _fill(store, 2)
    with store.session() as s:
        verdict = audit.verify(s, key=b"some other key that is long")
    assert not verdict.ok and verdict.bad_seq == 1


def test_entries_hold_no_address_in_reasons(store: Store) -> None:
    with store.session() as s:
        audit.record(s, "merge", "merge_person", reason=audit.scrub("by admin@example.com"))
    with store.session() as s:
        (row,) = list(audit.entries(s))
    assert row.reason == "by [address]"


def test_concurrent_writers_on_postgresql_keep_one_unbroken_chain(pg_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mapping.store.migrate import upgrade

    upgrade(pg_url)
    store = Store(pg_url)
    try:

        def write(worker: int) -> None:
            for n in range(15):
                with store.session() as s:
                    audit.record(
                        s, "exchange_write", "categories", subject=f"link:{worker * 100 + n}", actor=f"worker:{worker}"
                    )

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(write, range(4)))
        with store.session() as s:
            verdict = audit.verify(s)
        assert verdict.ok and verdict.entries == 60
    finally:
        store.dispose()
