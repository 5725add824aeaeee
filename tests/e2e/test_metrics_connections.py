"""/metrics and /healthz against hostile or careless clients, over real sockets.

A client that connects and never sends, one that hangs up in the middle of an answer, many at once:
none of them may hold the daemon, and none may put a traceback on the service's stderr.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mapping.store.reports import mailbox_status
from mapping.store.store import Store
from scheduler.metrics import Metrics, MetricsServer, serve
from tests.e2e.jsonlogs import json_logs


def healthz(server: MetricsServer) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def connect(server: MetricsServer) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=5)


def test_a_client_that_connects_and_never_sends_is_closed_after_the_timeout() -> None:
    with serve(Metrics(), "127.0.0.1:0", timeout_seconds=0.5) as server:
        idle = connect(server)
        started = time.monotonic()
        assert idle.recv(1024) == b""  # the server hung up on it (today it waits for ever)
        assert time.monotonic() - started < 4
        idle.close()
        assert healthz(server)[0] == 200


def test_many_connections_at_once_are_bounded_and_the_endpoint_recovers() -> None:
    with json_logs("INFO") as logs, serve(Metrics(), "127.0.0.1:0", timeout_seconds=30, max_connections=4) as server:
        threads_before = threading.active_count()
        idle = [connect(server) for _ in range(4)]
        time.sleep(0.3)  # all four accepted and each held by a handler thread
        extra = [connect(server) for _ in range(20)]
        for sock in extra:
            answer = sock.recv(4096)  # answered at once, not queued behind the idle ones
            assert answer.startswith(b"HTTP/1.1 503 "), answer
            sock.close()
        assert threading.active_count() <= threads_before + 4
        refusals = [line for line in logs.take() if line["event"] == "metrics connections refused: too many at once"]
        assert len(refusals) == 1  # a flood of connections is not a flood of log lines
        for sock in idle:
            sock.close()
        deadline = time.monotonic() + 5
        while healthz_status(server) != 200:  # the slots come back as the idle ones are gone
            assert time.monotonic() < deadline
            time.sleep(0.05)


def healthz_status(server: MetricsServer) -> int:
    """The status alone: while the slots are still taken the answer is the plain-text 503 of a refused
    connection, which has no JSON to read."""
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError):
        return 0


class HugeMetrics(Metrics):
    """A page larger than the socket buffers, so hanging up mid-answer happens while it is sent."""

    def exposition(self) -> bytes:
        return b"# relsync filler line to make the page large enough\n" * 400_000


def test_a_client_hanging_up_mid_response_is_one_log_line_and_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with json_logs("INFO") as logs, serve(HugeMetrics(), "127.0.0.1:0", timeout_seconds=5) as server:
        client = connect(server)
        client.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(64).startswith(b"HTTP/1.0 200")
        # Hang up hard (RST) with most of the answer still unsent.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        deadline = time.monotonic() + 5
        lines: list[dict[str, object]] = []
        while not any(line["event"] == "metrics client went away" for line in lines):
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)
            lines += logs.take()
        assert healthz(server)[0] == 200  # and it goes on serving
    gone = next(line for line in lines if line["event"] == "metrics client went away")
    assert gone["error"] in ("ConnectionResetError", "BrokenPipeError") and gone["level"] == "info"
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred during processing" not in err


def test_healthz_reasons_carry_no_sql_from_a_store_error(tmp_path: Path) -> None:
    # A real store error: a status query on a database that was never upgraded.
    store = Store(f"sqlite:///{tmp_path / 'never-upgraded.db'}")
    try:
        with pytest.raises(Exception) as caught, store.session() as s:
            mailbox_status(s, datetime.now(UTC), ["alice@contoso.example"])
    finally:
        store.dispose()
    detail = f"{type(caught.value).__name__}: {caught.value}"  # as the daemon reports a failed sync
    assert "[SQL: " in detail and "SELECT" in detail
    metrics = Metrics()
    metrics.record_error("alice@contoso.example", type(caught.value).__name__, detail)
    # ... and the same text kept in the store, as a restarted daemon reads it back.
    metrics.seed([{"mailbox": "bob@contoso.example", "state": "needs attention", "last_error": detail}])
    with serve(metrics, "127.0.0.1:0") as server:
        status, health = healthz(server)
    assert status == 503
    reasons = health["reasons"]
    assert isinstance(reasons, list) and len(reasons) == 2
    for reason in reasons:
        assert "SELECT" not in reason and "[SQL" not in reason and "sqlalche.me" not in reason
        assert "\n" not in reason and "no such table" in reason
