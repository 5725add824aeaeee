"""When a mailbox is next due: the interval after a success, jittered exponential back-off after a
failure, and the slow schedule once it has failed ``attention_after`` times in a row (pure)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Schedule:
    """The daemon's timing, in seconds."""

    interval: float
    jitter: float
    backoff_base: float
    backoff_max: float
    attention_after: int
    slow_interval: float

    def next_due(self, now: datetime, ok: bool, failures: int, rng: random.Random) -> tuple[datetime, int]:
        """(next due time, failures in a row) after a sync that succeeded (``ok``) or failed.

        Jitter spreads the mailboxes (and several daemons) over time, so they never retry in step. A
        failing mailbox is retried sooner than the interval at first (a dropped connection is usually
        gone in seconds) and never more often than the capped back-off; after ``attention_after``
        failures it stays on the slow schedule, still tried (not abandoned) until it recovers.
        """
        if ok:
            return now + timedelta(seconds=self.interval + rng.uniform(0, self.jitter)), 0
        failures += 1
        if failures >= self.attention_after:
            return now + timedelta(seconds=self.slow_interval + rng.uniform(0, self.jitter)), failures
        cap = min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
        return now + timedelta(seconds=rng.uniform(cap / 2, cap)), failures
