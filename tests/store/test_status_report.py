"""`relsync status` rows on both backends: the keys scripts rely on, plus the worker holding each
mailbox's lease, failures in a row, throttling, and configured mailboxes the store has not seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mapping.store import leases
from mapping.store.reports import mailbox_status
from mapping.store.store import Store

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PROMISED = {
    "mailbox",
    "state",
    "last_success",
    "lag_seconds",
    "items",
    "last_error",
    "last_error_at",
    "attention_reason",
    "folders",
}
ADDED = {
    "worker",
    "lease_expires_at",
    "next_sync_at",
    "failures_in_a_row",
    "last_throttled_at",
    "last_throttled_seconds",
    "configured",
}


def rows(store: Store, now: datetime = NOW, configured: list[str] | None = None) -> dict[str, dict[str, object]]:
    with store.session() as s:
        return {r["mailbox"]: r for r in mailbox_status(s, now, configured=configured)}


def test_status_keeps_every_promised_key_and_adds_the_new_ones(store: Store) -> None:
    store.ensure_mailbox("ann@contoso.example", "Ann")
    row = rows(store)["ann@contoso.example"]
    assert set(row) == PROMISED | ADDED
    assert row["state"] == "never synced" and row["worker"] is None and row["failures_in_a_row"] == 0


def test_status_names_the_worker_holding_the_lease_until_it_expires(store: Store) -> None:
    m = store.ensure_mailbox("ann@contoso.example", "Ann").id
    with store.session() as s:
        leases.ensure_leases(s, {m: NOW})
    with store.session() as s:
        assert leases.claim(s, m, "host-a:41", 60, NOW).taken
    held = rows(store, NOW + timedelta(seconds=30))["ann@contoso.example"]
    assert held["worker"] == "host-a:41" and held["lease_expires_at"] == "2026-11-22T12:01:00Z"
    assert held["next_sync_at"] == "2026-11-22T12:00:00Z"
    # a worker that stopped renewing holds nothing once its lease has expired
    expired = rows(store, NOW + timedelta(seconds=61))["ann@contoso.example"]
    assert expired["worker"] is None and expired["lease_expires_at"] is None
    with store.session() as s:
        leases.release(s, m, "host-a:41", NOW, next_due_at=NOW + timedelta(minutes=15), failures=3)
    released = rows(store, NOW)["ann@contoso.example"]
    assert released["worker"] is None and released["failures_in_a_row"] == 3
    assert released["next_sync_at"] == "2026-11-22T12:15:00Z"


def test_status_shows_when_exchange_last_throttled_a_mailbox(store: Store) -> None:
    m = store.ensure_mailbox("ann@contoso.example", "Ann").id
    store.mark_throttled(m, 4.25)
    row = rows(store)["ann@contoso.example"]
    assert row["last_throttled_seconds"] == 4.25 and str(row["last_throttled_at"]).endswith("Z")


def test_configured_mailboxes_not_seen_yet_and_ones_no_longer_configured_are_told_apart(store: Store) -> None:
    store.ensure_mailbox("old@contoso.example", "Old")
    found = rows(store, configured=["New@contoso.example"])
    assert list(found) == ["new@contoso.example", "old@contoso.example"]
    assert found["new@contoso.example"]["state"] == "never synced" and found["new@contoso.example"]["configured"]
    assert set(found["new@contoso.example"]) == PROMISED | ADDED
    assert found["old@contoso.example"]["configured"] is False
