"""Fault injection for the fake Exchange.

A :class:`Fault` names what goes wrong, optionally for which operation and mailbox, and how many times.
Faults are added from Python (``server.faults.add("server_busy", back_off_ms=1500)``) or over HTTP
(``POST /_fake/faults`` with the same keywords as JSON; ``DELETE /_fake/faults`` clears them).

Kinds:

``server_busy``         SOAP Fault ``ErrorServerBusy`` (HTTP 500) carrying ``BackOffMilliseconds``
``http_503``            HTTP 503 Service Unavailable
``drop``                the connection is closed without any response
``slow``                the response is delayed by ``delay_ms`` (then served normally)
``slow_reply``          the operation is carried out, then its response is delayed by ``delay_ms``
                        (a client killed meanwhile has changed the mailbox without hearing so)
``token_expired``       HTTP 401 with ``WWW-Authenticate: Bearer error="invalid_token"``
``invalid_sync_state``  the next SyncFolderItems/SyncFolderHierarchy gets ErrorInvalidSyncStateData
``conflict``            the next UpdateItem gets ErrorIrresolvableConflict (unless AlwaysOverwrite)
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal[
    "server_busy", "http_503", "drop", "slow", "slow_reply", "token_expired", "invalid_sync_state", "conflict"
]
FAULT_KINDS: tuple[str, ...] = (
    "server_busy",
    "http_503",
    "drop",
    "slow",
    "slow_reply",
    "token_expired",
    "invalid_sync_state",
    "conflict",
)
#: Faults applied before the request is handled (the rest are applied inside an operation).
TRANSPORT_KINDS = frozenset({"server_busy", "http_503", "drop", "slow", "token_expired"})


@dataclass
class Fault:
    kind: str
    operation: str | None = None  # e.g. "SyncFolderItems"; None = any
    mailbox: str | None = None  # primary SMTP address; None = any
    times: int | None = 1  # None = until cleared
    back_off_ms: int = 1000  # server_busy
    delay_ms: int = 0  # slow
    hits: int = 0

    def matches(self, operation: str | None, mailbox: str | None) -> bool:
        if self.operation is not None and self.operation != operation:
            return False
        return self.mailbox is None or (mailbox is not None and self.mailbox.lower() == mailbox.lower())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlan:
    """The faults waiting to fire. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        *,
        operation: str | None = None,
        mailbox: str | None = None,
        times: int | None = 1,
        back_off_ms: int = 1000,
        delay_ms: int = 0,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for 'until cleared')")
        fault = Fault(kind, operation, mailbox, times, int(back_off_ms), int(delay_ms))
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_json(self, data: dict[str, Any]) -> Fault:
        allowed = {"kind", "operation", "mailbox", "times", "back_off_ms", "delay_ms"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise ValueError("a fault needs a 'kind'")
        kind = str(data["kind"])
        rest = {k: v for k, v in data.items() if k != "kind"}
        return self.add(kind, **rest)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, kinds: frozenset[str] | set[str], operation: str | None, mailbox: str | None) -> Fault | None:
        """The first pending fault of one of ``kinds`` that matches; consumes one of its ``times``."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(operation, mailbox):
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None
