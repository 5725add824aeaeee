"""Tier movement between two dates: a transition matrix (from tier x to tier) and the list of moves.

The store reads each relationship's tier at the start and at the end from classification history
(:mod:`mapping.store.history`); a relationship without a tier at one end (not classified yet, or new)
is :data:`~mapping.reports.overview.UNCLASSIFIED` there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from mapping.reports.errors import ReportInputError
from mapping.reports.overview import UNCLASSIFIED, ordered_labels


@dataclass(frozen=True, slots=True)
class Move:
    """One relationship whose tier differs between the two dates."""

    relationship_id: int
    name: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Movement:
    """``matrix[i][j]``: relationships in tier ``tiers[i]`` at ``start`` and ``tiers[j]`` at ``end``.

    ``moves`` lists those off the diagonal (by tier before, tier after, name); ``unchanged`` counts the
    rest. Relationships unclassified at both ends are not counted.
    """

    start: date
    end: date
    tiers: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    moves: tuple[Move, ...]
    unchanged: int


def check_range(start: date, end: date) -> None:
    """Refuse a range that ends before it starts (one sentence naming both dates)."""
    if end < start:
        raise ReportInputError(
            f"the date range ends ({end.isoformat()}) before it starts ({start.isoformat()}): "
            "give the earlier date first"
        )


def tier_movement(
    start: date,
    end: date,
    before: Mapping[int, str | None],
    after: Mapping[int, str | None],
    names: Mapping[int, str],
    tier_order: Sequence[str] = (),
) -> Movement:
    """Compare each relationship's tier at ``start`` (``before``) and at ``end`` (``after``)."""
    check_range(start, end)
    pairs: Counter[tuple[str, str]] = Counter()
    moves: list[Move] = []
    for rid in before.keys() | after.keys():
        was = before.get(rid) or UNCLASSIFIED
        now = after.get(rid) or UNCLASSIFIED
        if was == UNCLASSIFIED and now == UNCLASSIFIED:
            continue
        pairs[(was, now)] += 1
        if was != now:
            moves.append(Move(rid, names.get(rid, f"#{rid}"), was, now))
    tiers = ordered_labels({t for pair in pairs for t in pair}, tier_order)
    rank = {t: i for i, t in enumerate(tiers)}
    matrix = tuple(tuple(pairs.get((a, b), 0) for b in tiers) for a in tiers)
    moves.sort(key=lambda m: (rank[m.before], rank[m.after], m.name, m.relationship_id))
    unchanged = sum(count for (a, b), count in pairs.items() if a == b)
    return Movement(start, end, tiers, matrix, tuple(moves), unchanged)


__all__ = ["Move", "Movement", "check_range", "tier_movement"]
