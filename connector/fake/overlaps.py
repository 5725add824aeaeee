"""Which clients sync one mailbox at the same time: the fake's witness for "never two workers at once".

Each ``SyncFolderItems`` request is registered per mailbox with its client (the User-Agent, which
names the relsync worker, see :mod:`connector.client_tag`) while it is being served. A request that
starts while a *different* client has one in flight for the same mailbox is recorded as an overlap.
Concurrency within one client (its read-ahead of the next page) is that worker's own business and
is not an overlap. ``GET /_fake/overlaps`` returns ``{"overlaps": [...], "clients": {...}}``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

#: The operations that make up "syncing a mailbox".
SYNC_OPERATIONS = frozenset({"SyncFolderItems"})


class OverlapRecorder:
    """Thread-safe register of in-flight sync requests per mailbox and client."""

    def __init__(self, operations: frozenset[str] = SYNC_OPERATIONS) -> None:
        self.operations = operations
        self._lock = threading.Lock()
        self._in_flight: dict[str, Counter[str]] = {}
        self.overlaps: list[dict[str, Any]] = []
        #: Sync requests per client and mailbox ("client" -> {"mailbox": n}).
        self.by_client: dict[str, Counter[str]] = {}

    def begin(self, operation: str, mailbox: str | None, client: str | None) -> bool:
        """Register a request; returns whether it is tracked (pass that to :meth:`end`)."""
        if operation not in self.operations or not mailbox:
            return False
        key, who = mailbox.lower(), client or "-"
        with self._lock:
            flying = self._in_flight.setdefault(key, Counter())
            others = sorted(c for c, n in flying.items() if n > 0 and c != who)
            if others:
                self.overlaps.append(
                    {"mailbox": key, "operation": operation, "client": who, "others": others, "at": time.time()}
                )
            flying[who] += 1
            self.by_client.setdefault(who, Counter())[key] += 1
        return True

    def end(self, mailbox: str | None, client: str | None) -> None:
        assert mailbox is not None
        with self._lock:
            self._in_flight[mailbox.lower()][client or "-"] -= 1

    def reset(self) -> None:
        with self._lock:
            self.overlaps.clear()
            self.by_client.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {"overlaps": list(self.overlaps), "clients": {c: dict(n) for c, n in self.by_client.items()}}
