"""/metrics and /healthz over real HTTP, fed by real syncs against the fake Exchange."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scheduler.jobs import MailboxResult
from scheduler.metrics import Metrics, MetricsAddressError, parse_address, serve
from tests.e2e.syncenv import ALICE, BOB, DANA, EnvFactory, HandCompany, message


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def company() -> HandCompany:
    return HandCompany(
        items={
            (ALICE.email, "inbox"): [message(i, f"Mail {i}", DANA, [ALICE]) for i in range(3)],
            (BOB.email, "inbox"): [message(10, "For Bob", DANA, [BOB])],
        }
    )


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def test_a_real_sync_shows_items_throttling_lag_and_errors_on_metrics(make_env: EnvFactory) -> None:
    env = make_env(company())
    env.ex.faults.add("server_busy", back_off_ms=1500, operation="SyncFolderItems", mailbox=ALICE.email, times=2)
    clock = Clock()
    metrics = Metrics(stale_after_seconds=600, clock=clock)
    metrics.record_mailbox(env.sync(ALICE.email, ["inbox"]))
    broken = env.sync("ghost@contoso.example", ["inbox"])
    assert broken.error_kind == "MailboxUnavailable"
    metrics.record_mailbox(broken)
    metrics.record_writes(ALICE.email, "categories", 4)
    clock.now += 90
    with serve(metrics, "127.0.0.1:0") as server:
        status, content_type, text = get(f"{server.url}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    a = ALICE.email
    assert value(text, "relsync_items_synced_total", mailbox=a, folder="inbox") == 3
    assert value(text, "relsync_throttled_seconds_total", mailbox=a) == 3.0  # two back-offs of 1.5 s
    assert value(text, "relsync_request_retries_total", mailbox=a) == 2
    assert value(text, "relsync_sync_lag_seconds", mailbox=a) == 90
    assert value(text, "relsync_last_success_timestamp_seconds", mailbox=a) == clock.now - 90
    assert value(text, "relsync_errors_total", mailbox="ghost@contoso.example", kind="MailboxUnavailable") == 1
    assert value(text, "relsync_mailbox_needs_attention", mailbox="ghost@contoso.example") == 1
    assert value(text, "relsync_mailbox_needs_attention", mailbox=a) == 0
    assert value(text, "relsync_exchange_writes_total", mailbox=a, kind="categories") == 4
    assert value(text, "relsync_sync_lag_seconds", mailbox="ghost@contoso.example") is None


def test_healthz_is_ok_then_degraded_by_a_mailbox_needing_attention_then_ok_again(make_env: EnvFactory) -> None:
    env = make_env(company())
    clock = Clock()
    metrics = Metrics(stale_after_seconds=600, clock=clock)
    with serve(metrics, "127.0.0.1:0") as server:
        status, _, body = get(f"{server.url}/healthz")
        assert status == 200 and json.loads(body) == {
            "status": "ok",
            "last_successful_cycle_age_seconds": None,
            "mailboxes_needing_attention": [],
            "reasons": [],
        }
        metrics.record_mailbox(env.sync(BOB.email, ["inbox"]))
        env.ex.faults.add("http_503", operation="SyncFolderItems", mailbox=ALICE.email, times=99)
        report = env.sync(ALICE.email, ["inbox"], max_attempts=2)
        assert report.error_kind == "Throttled"  # exchangelib reads a 503 as ErrorServerBusy
        metrics.record_mailbox(report)
        clock.now += 30
        status, content_type, body = get(f"{server.url}/healthz")
        health: dict[str, Any] = json.loads(body)
        assert status == 503 and content_type == "application/json"
        assert health["status"] == "degraded" and health["last_successful_cycle_age_seconds"] == 30
        assert health["mailboxes_needing_attention"] == [ALICE.email]
        assert health["reasons"][0].startswith(f"{ALICE.email} needs attention: ")
        env.ex.faults.clear()
        metrics.record_mailbox(env.sync(ALICE.email, ["inbox"]))
        status, _, body = get(f"{server.url}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert get(f"{server.url}/nope")[0] == 404


def test_healthz_is_degraded_when_nothing_has_synced_for_too_long() -> None:
    clock = Clock()
    metrics = Metrics(stale_after_seconds=600, clock=clock)
    clock.now += 601
    with serve(metrics, "127.0.0.1:0") as server:
        status, _, body = get(f"{server.url}/healthz")
        assert status == 503 and "no successful sync since start 601 s ago" in json.loads(body)["reasons"]
        metrics.record_mailbox(MailboxResult(mailbox=ALICE.email, ok=True, folders={"inbox": 2}))
        assert get(f"{server.url}/healthz")[0] == 200
        clock.now += 700
        status, _, body = get(f"{server.url}/healthz")
        assert status == 503 and json.loads(body)["reasons"] == ["no successful sync for 700 s"]
        assert json.loads(body)["last_successful_cycle_age_seconds"] == 700
        metrics.record_cycle()
        assert get(f"{server.url}/healthz")[0] == 200
        _, _, text = get(f"{server.url}/metrics")
        assert value(text, "relsync_items_synced_total", mailbox=ALICE.email, folder="inbox") == 2


def test_a_restarted_daemon_starts_from_the_status_the_store_holds() -> None:
    clock = Clock()
    metrics = Metrics(clock=clock)
    metrics.seed(
        [
            {"mailbox": "a@x.example", "state": "ok", "last_success": "2027-01-15T08:00:00Z"},
            {"mailbox": "b@x.example", "state": "needs attention", "last_success": None, "attention_reason": "gone"},
        ]
    )
    health = metrics.health()
    assert health["mailboxes_needing_attention"] == ["b@x.example"]
    assert "b@x.example needs attention: gone" in health["reasons"]
    text = metrics.exposition().decode()
    last = datetime(2027, 1, 15, 8, tzinfo=UTC).timestamp()
    assert value(text, "relsync_sync_lag_seconds", mailbox="a@x.example") == clock.now - last
    assert value(text, "relsync_mailbox_needs_attention", mailbox="b@x.example") == 1


def test_metrics_refuse_a_non_loopback_address_unless_allowed() -> None:
    with pytest.raises(MetricsAddressError, match=r"not a loopback address.*Fix: listen on 127\.0\.0\.1"):
        parse_address("0.0.0.0:9464")
    with pytest.raises(MetricsAddressError, match="not a loopback address"):
        parse_address("metrics.example.com:9464")
    with pytest.raises(MetricsAddressError, match="not host:port"):
        parse_address("127.0.0.1")
    assert parse_address("0.0.0.0:9464", allow_non_loopback=True) == ("0.0.0.0", 9464)
    assert parse_address("[::1]:9464") == ("::1", 9464)
    assert parse_address("localhost:0") == ("localhost", 0)
    with pytest.raises(ValueError, match="unknown write kind"):
        Metrics().record_writes("a@x.example", "contacts")


def test_metrics_listen_on_ipv6_loopback_and_say_clearly_when_the_port_is_taken() -> None:
    metrics = Metrics()
    with serve(metrics, "127.0.0.1:0") as first, pytest.raises(MetricsAddressError, match="cannot listen on"):
        serve(metrics, f"127.0.0.1:{first.port}")
    try:
        server = serve(metrics, "[::1]:0")
    except MetricsAddressError as exc:  # a machine without IPv6 loopback: the error must say so
        assert "cannot listen on" in str(exc)
    else:
        with server:
            assert get(f"{server.url}/metrics")[0] == 200
