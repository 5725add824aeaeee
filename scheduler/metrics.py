"""What the daemon tells Prometheus and health probes: ``/metrics`` and ``/healthz`` on loopback.

The daemon owns one :class:`Metrics` and calls it after each mailbox's sync
(:meth:`Metrics.record_mailbox` with the connector's ``MailboxReport`` or the job's ``MailboxResult``),
after writes to Exchange (:meth:`Metrics.record_writes`) and on errors outside a report
(:meth:`Metrics.record_error`). :func:`serve` exposes it over HTTP until ``close()``.

Metrics (every name starts ``relsync_``):

- ``items_synced_total{mailbox, folder}``: items created, updated or deleted in the store by sync;
- ``sync_lag_seconds{mailbox}``: seconds since the mailbox's last successful sync (at scrape time);
- ``last_success_timestamp_seconds{mailbox}``: when that was (Unix time);
- ``mailbox_needs_attention{mailbox}``: 1 while the mailbox's last sync failed;
- ``errors_total{mailbox, kind}``: failed mailbox syncs by kind (``MailboxUnavailable``,
  ``TransientError``, ``AuthenticationFailed``, ...);
- ``request_retries_total{mailbox}``: requests retried (dropped connection, 503, busy) that then went on;
- ``throttled_seconds_total{mailbox}``: time spent waiting out Exchange's ``ErrorServerBusy`` back-off;
- ``exchange_writes_total{mailbox, kind}``: items written back to Exchange (``categories``, ``tasks``).

``/healthz`` answers JSON ``{"status": "ok"|"degraded", "last_successful_cycle_age_seconds",
"mailboxes_needing_attention": [...], "reasons": [...]}`` with HTTP 200 when ok and 503 when degraded:
no successful sync for longer than ``stale_after_seconds`` (none yet, counted from start), or a
mailbox needing attention.

The endpoints have no authentication, so :func:`serve` refuses an address other than loopback
unless the caller explicitly allows it. A client cannot hold the daemon: each connection is closed
after ``timeout_seconds`` without progress (a client that connects and never sends, or never reads),
at most ``max_connections`` are served at once (one more is answered 503 at once and closed), and a
client that goes away mid-response is one log line of relsync's own (in the configured format), never a
traceback on stderr. Reasons on ``/healthz`` are one line each, without the SQL of a store error.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

WRITE_KINDS = ("categories", "tasks")
#: Seconds a connection may go without sending its request or reading the answer before it is closed.
CONNECTION_TIMEOUT_SECONDS = 10.0
#: Connections served at once; Prometheus and a health probe need two or three.
MAX_CONNECTIONS = 16
#: A reason on /healthz is a line for people, not a dump of an exception.
MAX_REASON_CHARS = 300

log = structlog.get_logger(__name__)


class MetricsAddressError(ValueError):
    """The metrics address cannot be used (not host:port, or not loopback and not allowed)."""


class Metrics:
    """The daemon's counters and gauges, in a registry of their own; safe to call from any thread.

    ``clock`` returns Unix time (tests pass a fake one); ``stale_after_seconds`` is how long without
    any successful sync ``/healthz`` still calls ok (the daemon passes a few sync intervals).
    """

    def __init__(self, stale_after_seconds: float = 3600.0, clock: Callable[[], float] = time.time) -> None:
        # No ``*_created`` series: they would double the page (one more sample per mailbox and folder),
        # and rate() and increase() handle a restarted daemon's counters without them.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.stale_after_seconds = stale_after_seconds
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._last_success: dict[str, float] = {}
        self._attention: dict[str, str] = {}
        self._last_cycle: float | None = None
        self.items_synced = Counter(
            "relsync_items_synced",
            "Items created, updated or deleted in the store by sync",
            ["mailbox", "folder"],
            registry=self.registry,
        )
        self.errors = Counter(
            "relsync_errors",
            "Failed mailbox syncs, by kind of problem",
            ["mailbox", "kind"],
            registry=self.registry,
        )
        self.retries = Counter(
            "relsync_request_retries",
            "Requests to Exchange retried after a transient failure or back-off",
            ["mailbox"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "relsync_throttled_seconds",
            "Seconds spent waiting out Exchange's ErrorServerBusy back-off",
            ["mailbox"],
            registry=self.registry,
        )
        self.parsed_by_exchangelib = Counter(
            "relsync_items_parsed_by_exchangelib",
            "EWS items the fast page reader could not read itself and handed to exchangelib's parse",
            ["mailbox", "folder"],
            registry=self.registry,
        )
        self.writes = Counter(
            "relsync_exchange_writes",
            "Items written back to Exchange, by kind (categories, tasks)",
            ["mailbox", "kind"],
            registry=self.registry,
        )
        self.retention_removed = Counter(
            "relsync_retention_removed",
            "Rows removed by the retention policy, by kind (email, meeting, task, archived_relationship)",
            ["kind"],
            registry=self.registry,
        )
        self.registry.register(_ScrapeTimeGauges(self))

    # ---------------------------------------------------------------------------------- recording
    def record_mailbox(self, report: Any) -> None:
        """Count one mailbox's sync: a ``connector.engine.MailboxReport`` (items per folder, retries,
        throttling, error kind) or a ``scheduler.jobs.MailboxResult`` (items per folder, ok, detail)."""
        mailbox = str(report.mailbox)
        for folder in _folders(report):
            if folder.items:
                self.items_synced.labels(mailbox, folder.name).inc(folder.items)
            if folder.retries:
                self.retries.labels(mailbox).inc(folder.retries)
            if folder.throttled_seconds:
                self.throttled.labels(mailbox).inc(folder.throttled_seconds)
            if folder.parsed_by_exchangelib:
                self.parsed_by_exchangelib.labels(mailbox, folder.name).inc(folder.parsed_by_exchangelib)
        self.throttled.labels(mailbox)  # present (at 0) for every synced mailbox, so rate() works at once
        if report.ok:
            with self._lock:
                self._last_success[mailbox] = self._clock()
                self._attention.pop(mailbox, None)
        else:
            kind = getattr(report, "error_kind", None) or "SyncFailed"
            detail = getattr(report, "error", None) or getattr(report, "detail", "") or kind
            self.record_error(mailbox, kind, str(detail))

    def record_error(self, mailbox: str, kind: str, detail: str = "") -> None:
        """A mailbox could not be synced (also for errors raised rather than reported, such as refused
        credentials): counted by kind, and the mailbox needs attention until its next success."""
        self.errors.labels(mailbox, kind).inc()
        with self._lock:
            self._attention[mailbox] = reason_line(detail) or kind

    def record_writes(self, mailbox: str, kind: str, count: int = 1) -> None:
        """Items written back to one mailbox: ``kind`` is ``categories`` or ``tasks``."""
        if kind not in WRITE_KINDS:
            raise ValueError(f"unknown write kind {kind!r}: use one of {', '.join(WRITE_KINDS)}")
        if count:
            self.writes.labels(mailbox, kind).inc(count)

    def record_retention(self, removed: dict[str, int]) -> None:
        """What a retention run removed, per kind."""
        for kind, count in removed.items():
            if count:
                self.retention_removed.labels(kind=kind).inc(count)

    def record_cycle(self) -> None:
        """A whole scheduling cycle completed (health counts from the latest cycle or mailbox success)."""
        with self._lock:
            self._last_cycle = self._clock()

    def seed(self, rows: Iterable[dict[str, Any]]) -> None:
        """Start from what the store knows (``relsync status --json`` rows), so a restarted daemon
        reports the real lag and the mailboxes still needing attention before its first sync."""
        for row in rows:
            mailbox = str(row["mailbox"])
            with self._lock:
                if row.get("last_success"):
                    at = datetime.fromisoformat(str(row["last_success"]).replace("Z", "+00:00"))
                    self._last_success[mailbox] = at.timestamp()
                if row.get("state") == "needs attention":
                    detail = str(row.get("attention_reason") or row.get("last_error") or "")
                    self._attention[mailbox] = reason_line(detail) or "needs attention"

    # ------------------------------------------------------------------------------------- health
    def health(self) -> dict[str, Any]:
        """The ``/healthz`` answer (see the module docstring)."""
        now = self._clock()
        with self._lock:
            successes = [*self._last_success.values(), *([self._last_cycle] if self._last_cycle else [])]
            attention = dict(sorted(self._attention.items()))
        last = max(successes) if successes else None
        age = now - last if last is not None else None
        reasons = []
        if age is None and now - self._started > self.stale_after_seconds:
            reasons.append(f"no successful sync since start {round(now - self._started)} s ago")
        elif age is not None and age > self.stale_after_seconds:
            reasons.append(f"no successful sync for {round(age)} s")
        reasons += [f"{mailbox} needs attention: {detail}" for mailbox, detail in attention.items()]
        return {
            "status": "degraded" if reasons else "ok",
            "last_successful_cycle_age_seconds": round(age, 3) if age is not None else None,
            "mailboxes_needing_attention": list(attention),
            "reasons": reasons,
        }

    def exposition(self) -> bytes:
        """The ``/metrics`` page in Prometheus' text format."""
        return generate_latest(self.registry)

    def _snapshot(self) -> tuple[float, dict[str, float], set[str]]:
        with self._lock:
            return self._clock(), dict(self._last_success), set(self._attention)


_SQL_PART = re.compile(r"\s*(\[SQL: |\[parameters: |\(Background on this error at: ).*", re.DOTALL)


def reason_line(detail: str) -> str:
    """``detail`` (often an exception's text) as one line for ``/healthz``: its first line, without
    the statement, parameters and link SQLAlchemy appends to a store error (they can hold SQL and the
    data of a row), cut to :data:`MAX_REASON_CHARS`."""
    text = _SQL_PART.sub("", detail)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= MAX_REASON_CHARS else first[: MAX_REASON_CHARS - 1] + "\u2026"


class _ScrapeTimeGauges(Collector):
    """Lag and attention are computed when Prometheus scrapes, not when a sync last happened."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        now, last_success, attention = self._metrics._snapshot()
        lag = GaugeMetricFamily(
            "relsync_sync_lag_seconds", "Seconds since the mailbox's last successful sync", labels=["mailbox"]
        )
        when = GaugeMetricFamily(
            "relsync_last_success_timestamp_seconds",
            "Unix time of the mailbox's last successful sync",
            labels=["mailbox"],
        )
        for mailbox, at in sorted(last_success.items()):
            lag.add_metric([mailbox], max(0.0, now - at))
            when.add_metric([mailbox], at)
        flag = GaugeMetricFamily(
            "relsync_mailbox_needs_attention", "1 while the mailbox's last sync failed", labels=["mailbox"]
        )
        for mailbox in sorted(set(last_success) | attention):
            flag.add_metric([mailbox], 1.0 if mailbox in attention else 0.0)
        yield from (lag, when, flag)

    def describe(self) -> Iterator[Metric]:
        return iter(())


@dataclass(frozen=True)
class _Folder:
    name: str
    items: int
    retries: int = 0
    throttled_seconds: float = 0.0
    parsed_by_exchangelib: int = 0


def _folders(report: Any) -> list[_Folder]:
    folders = report.folders
    if isinstance(folders, dict):  # MailboxResult: {folder: items created or updated}
        return [_Folder(name, int(count or 0)) for name, count in folders.items()]
    out = []
    for f in folders:  # FolderReport
        result = f.result
        items = int(result.created) + int(result.updated) + int(result.deleted) + int(f.unlinked)
        out.append(
            _Folder(
                f.folder, items, int(f.retries), float(f.throttled_seconds), int(getattr(f, "parsed_by_exchangelib", 0))
            )
        )
    return out


# ------------------------------------------------------------------------------------------ HTTP
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 36\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    b"too many connections: try again soon"
)


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, but never more than ``max_connections`` at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        self._refused = 0
        self._refusal_logged_at: float | None = None
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            # Full: answer at once from the accepting thread (never blocking it) and close.
            self._log_refusal(client_address)
            try:
                request.setblocking(False)
                request.send(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def _log_refusal(self, client_address: Any) -> None:
        # A flood of connections must not become a flood of log lines: one a minute, with the count.
        self._refused += 1
        now = time.monotonic()
        if self._refusal_logged_at is None or now - self._refusal_logged_at >= 60:
            log.warning(
                "metrics connections refused: too many at once", client=_client(client_address), refused=self._refused
            )
            self._refused, self._refusal_logged_at = 0, now

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver would print the traceback to stderr, outside the service's log format.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.info("metrics client went away", client=_client(client_address), error=type(exc).__name__)
        else:
            log.error(
                "metrics request failed", client=_client(client_address), error=f"{type(exc).__name__}: {exc}"[:300]
            )


class _IPv6Server(_BoundedServer):
    address_family = socket.AF_INET6


def _client(address: Any) -> str:
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) and len(address) >= 2 else str(address)


class MetricsServer:
    """``/metrics`` and ``/healthz`` served from a background thread; ``close()`` stops it."""

    def __init__(self, httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        host, port = httpd.server_address[:2]
        self.host = str(host)
        self.port = int(port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def parse_address(address: str, allow_non_loopback: bool = False) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) as a pair; refuses a non-loopback host unless allowed."""
    host, sep, port_text = address.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise MetricsAddressError(
            f"metrics address {address!r} is not host:port. Fix: write it like 127.0.0.1:9464 or [::1]:9464"
        )
    if not allow_non_loopback and not _is_loopback(host):
        raise MetricsAddressError(
            f"metrics address {address!r} is not a loopback address, and /metrics and /healthz have no "
            "authentication. Fix: listen on 127.0.0.1:PORT and let the local Prometheus agent or a reverse "
            "proxy with authentication reach it (or allow a non-loopback address explicitly)"
        )
    return host, int(port_text)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost could resolve anywhere


def serve(
    metrics: Metrics,
    address: str,
    allow_non_loopback: bool = False,
    *,
    timeout_seconds: float = CONNECTION_TIMEOUT_SECONDS,
    max_connections: int = MAX_CONNECTIONS,
) -> MetricsServer:
    """Start serving ``metrics`` on ``address`` (``host:port``, port 0 picks a free one) in a thread;
    each connection is closed after ``timeout_seconds`` without progress, and at most
    ``max_connections`` are served at once."""
    host, port = parse_address(address, allow_non_loopback)

    class Handler(BaseHTTPRequestHandler):
        timeout = timeout_seconds  # StreamRequestHandler puts it on the socket: reads and writes

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, metrics.exposition())
            elif path == "/healthz":
                health = metrics.health()
                code = 200 if health["status"] == "ok" else 503
                self._send(code, "application/json", json.dumps(health).encode())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every few seconds would drown the service's own log lines

        def log_error(self, format: str, *args: Any) -> None:
            # A request line that timed out or did not parse: said once, in the service's format.
            log.info("metrics request not served", client=_client(self.client_address), detail=format % args)

    try:
        httpd = (_IPv6Server if ":" in host else _BoundedServer)((host, port), Handler, max_connections)
    except OSError as exc:
        raise MetricsAddressError(
            f"cannot listen on {address!r} for metrics: {exc.strerror}. Fix: choose a free port, or stop "
            "whatever listens there"
        ) from None
    thread = threading.Thread(target=httpd.serve_forever, name="relsync-metrics", daemon=True)
    thread.start()
    return MetricsServer(httpd, thread)
