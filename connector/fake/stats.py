"""Request counters of the fake servers: :class:`Stats` (EWS) and :class:`GraphStats` (Graph adds its own).

Served as JSON at ``GET /_fake/stats`` (``GET /_fake/graph/stats``), cleared by ``DELETE`` of the same path.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Request counters (per operation, per mailbox), writes, and concurrent requests per mailbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operations: Counter[str] = Counter()
        self.mailboxes: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()  # "create"/"update"/"delete"
        self.writes_by_mailbox: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_concurrent: Counter[str] = Counter()
        self.overlapping: Counter[str] = Counter()  # requests that started while another one ran

    def begin(self, op: str, mailbox: str | None) -> None:
        key = mailbox or "-"
        with self._lock:
            self.operations[op] += 1
            self.mailboxes[key] += 1
            if self.in_flight[key] > 0:
                self.overlapping[key] += 1
            self.in_flight[key] += 1
            self.max_concurrent[key] = max(self.max_concurrent[key], self.in_flight[key])

    def end(self, mailbox: str | None) -> None:
        with self._lock:
            self.in_flight[mailbox or "-"] -= 1

    def write(self, mailbox: str | None, kind: str) -> None:
        with self._lock:
            self.writes[kind] += 1
            self.writes_by_mailbox[mailbox or "-"] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def reset(self) -> None:
        with self._lock:
            for c in (
                self.operations,
                self.mailboxes,
                self.writes,
                self.writes_by_mailbox,
                self.faults,
                self.max_concurrent,
                self.overlapping,
            ):
                c.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "operations": dict(self.operations),
                "mailboxes": dict(self.mailboxes),
                "writes": dict(self.writes),
                "writes_total": sum(self.writes.values()),
                "writes_by_mailbox": dict(self.writes_by_mailbox),
                "faults": dict(self.faults),
                "max_concurrent": dict(self.max_concurrent),
                "overlapping": dict(self.overlapping),
            }


class GraphStats(Stats):
    """The EWS fake's counters plus Graph's: missing ImmutableId preference, throttling, op x mailbox."""

    def __init__(self) -> None:
        super().__init__()
        self.missing_immutable_id: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.by_operation_mailbox: Counter[str] = Counter()

    def begin(self, op: str, mailbox: str | None) -> None:
        super().begin(op, mailbox)
        with self._lock:
            self.by_operation_mailbox[f"{op} {mailbox or '-'}"] += 1

    def missing_prefer(self, op: str) -> None:
        with self._lock:
            self.missing_immutable_id[op] += 1

    def throttle(self, op: str) -> None:
        with self._lock:
            self.throttled[op] += 1

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.missing_immutable_id.clear()
            self.throttled.clear()
            self.by_operation_mailbox.clear()

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        with self._lock:
            out["by_operation_mailbox"] = dict(self.by_operation_mailbox)
            out["missing_immutable_id"] = dict(self.missing_immutable_id)
            out["missing_immutable_id_total"] = sum(self.missing_immutable_id.values())
            out["throttled"] = dict(self.throttled)
            out["throttled_total"] = sum(self.throttled.values())
        return out
