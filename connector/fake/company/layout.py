"""The folder layout of a generated company: fan-out rounds (one item, several mailboxes), the
repeating shapes of threads, inbox mix and meetings, and the slot ranges of each folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from connector.fake.company.rand import stable_hash
from connector.fake.company.records import Scale

# --------------------------------------------------------------------------------------------------
# Fan-out rounds: one item, several mailboxes
# --------------------------------------------------------------------------------------------------


class Fanout:
    """Rounds of items that each land in several mailboxes, invertible by arithmetic.

    In round ``t`` every mailbox ``a`` (the anchor) produces one item, which lands in mailboxes
    ``a + o`` (mod n) for ``o`` in ``offsets(t)``. ``counts`` is a periodic pattern of how many other
    mailboxes receive a copy; with ``include_anchor`` the anchor itself also receives one (offset 0).
    """

    def __init__(self, seed: int, family: str, n: int, counts: tuple[int, ...], include_anchor: bool):
        self.seed, self.family, self.n = seed, family, n
        self.counts = tuple(min(c, n - 1) for c in counts)
        self.include_anchor = include_anchor
        self.period = len(self.counts)
        extra = 1 if include_anchor else 0
        self.per_round = tuple(c + extra for c in self.counts)
        self.prefix = tuple(sum(self.per_round[:r]) for r in range(self.period + 1))
        self.table = tuple((r, i) for r in range(self.period) for i in range(self.per_round[r]))
        self._cache: dict[int, tuple[int, ...]] = {}

    def copies(self, rounds: int) -> int:
        """Copies each mailbox holds when rounds ``0..rounds-1`` exist."""
        full, part = divmod(rounds, self.period)
        return full * self.prefix[-1] + self.prefix[part]

    def offsets(self, t: int) -> tuple[int, ...]:
        """The receiving offsets of round ``t``: a partial Fisher-Yates draw from a stable hash."""
        cached = self._cache.get(t)
        if cached is not None:
            return cached
        if len(self._cache) > 4096:  # bounded: a 100,000-item folder must not grow memory
            self._cache.clear()
        k = self.counts[t % self.period]
        pool = list(range(1, self.n))
        h = stable_hash(self.seed, self.family, "offsets", t)
        chosen = []
        for _ in range(k):
            h, idx = divmod(h, len(pool))
            chosen.append(pool.pop(idx))
        result = ((0,) if self.include_anchor else ()) + tuple(chosen)
        self._cache[t] = result
        return result

    def locate(self, mailbox: int, j: int) -> tuple[int, int, int]:
        """Copy ``j`` of ``mailbox`` -> (round, anchor mailbox, position in the round's offsets)."""
        c, q = divmod(j, self.prefix[-1])
        r, i = self.table[q]
        t = c * self.period + r
        return t, (mailbox - self.offsets(t)[i]) % self.n, i

    def copy_index(self, t: int, i: int) -> int:
        """Inverse of :meth:`locate`: the copy slot that round ``t``'s ``i``-th receiver holds it in."""
        c, r = divmod(t, self.period)
        return c * self.prefix[-1] + self.prefix[r] + i


# Customer threads: (messages, starts with the customer writing) per thread, repeating.
THREAD_SHAPES: Final = ((1, True), (2, True), (3, True), (1, True), (2, False), (4, True), (1, False), (3, False))


def thread_tables() -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """The (thread, position) pairs of customer threads that arrive (inbound) and that staff send (outbound)."""
    inbound: list[tuple[int, int]] = []
    outbound: list[tuple[int, int]] = []
    for local, (length, starts_in) in enumerate(THREAD_SHAPES):
        for p in range(length):
            (inbound if (p % 2 == 0) == starts_in else outbound).append((local, p))
    return tuple(inbound), tuple(outbound)


THREAD_IN, THREAD_OUT = thread_tables()

# The tail of the inbox repeats this mix: T customer thread, N newsletter, R no-reply, F free-mail.
INBOX_MIX: Final = "TTNTTFTRTTTNTTFTTTRT"
MIX_RANK: Final = tuple(INBOX_MIX[:q].count(INBOX_MIX[q]) for q in range(len(INBOX_MIX)))
MIX_COUNT: Final = {k: INBOX_MIX.count(k) for k in "TNRF"}

# Own meetings repeat these shapes (index t % 8); chosen so that even "tiny" has each kind.
MEETING_SHAPES: Final = ("single", "weekly", "single", "dst", "private", "monthly", "allday", "internal")
MEETING_STAFF: Final = (1, 2, 1, 1, 0, 1, 3, 1)  # colleagues invited, by shape
PERSONAL_SHAPES: Final = ("allday", "appointment", "allday", "vacation")


@dataclass(frozen=True)
class Layout:
    """Slot ranges of each folder (same for every mailbox of one company)."""

    int_rounds: int
    occ_rounds: int
    imr_rounds: int
    inbox_int: int
    inbox_occ: int
    inbox_imr: int
    mtg_rounds: int
    xmtg_rounds: int
    cal_copies: int
    cal_x: int


def build_layout(sc: Scale, n: int, int_: Fanout, occ: Fanout, imr: Fanout, mtg: Fanout, xmtg: Fanout) -> Layout:
    """The slot ranges of the folders for a scale and ``n`` mailboxes, given the fan-out rounds."""
    int_rounds = sc.sentitems * 25 // 100 if n > 1 else 0
    occ_rounds = sc.sentitems * 10 // 100 if n > 1 else 0
    imr_rounds = max(1, sc.inbox * 6 // 100)
    # Never let copies crowd out the customer mail: cap the fixed part of the inbox at 60 %.
    budget = sc.inbox * 60 // 100
    while (int_.copies(int_rounds) + occ.copies(occ_rounds) + imr.copies(imr_rounds) > budget) and (
        int_rounds or occ_rounds or imr_rounds
    ):
        int_rounds, occ_rounds, imr_rounds = int_rounds * 3 // 4, occ_rounds * 3 // 4, imr_rounds * 3 // 4
    mtg_rounds = sc.calendar * 35 // 100
    xmtg_rounds = max(1, sc.calendar * 8 // 100)
    while mtg_rounds + mtg.copies(mtg_rounds) + xmtg.copies(xmtg_rounds) > sc.calendar * 85 // 100 and mtg_rounds:
        mtg_rounds -= 1
    return Layout(
        int_rounds,
        occ_rounds,
        imr_rounds,
        int_.copies(int_rounds),
        occ.copies(occ_rounds),
        imr.copies(imr_rounds),
        mtg_rounds,
        xmtg_rounds,
        mtg.copies(mtg_rounds),
        xmtg.copies(xmtg_rounds),
    )
