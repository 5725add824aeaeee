"""Overview: relationships counted by type, status, tier and potential, and the tier x potential matrix.

The store groups relationships by (type, status, tier, potential) in SQL; :func:`overview` turns those
few counted cells into the four breakdowns and the matrix a manager reads ("work the most promising
first": the top tier with the highest potential is the matrix's first cell).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The label of a relationship that has no value on a dimension yet (never classified).
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True, slots=True)
class ClassCount:
    """How many relationships share one combination of type, status, tier and potential."""

    type: str | None
    status: str | None
    tier: str | None
    potential: str | None
    count: int


@dataclass(frozen=True, slots=True)
class Overview:
    """Counts per dimension (``(label, count)`` in display order) and the tier x potential matrix.

    ``matrix[i][j]`` counts relationships of tier ``tiers[i]`` and potential ``potentials[j]``.
    """

    total: int
    by_type: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    by_tier: tuple[tuple[str, int], ...]
    by_potential: tuple[tuple[str, int], ...]
    tiers: tuple[str, ...]
    potentials: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]


def ordered_labels(seen: Iterable[str], preferred: Sequence[str] = ()) -> tuple[str, ...]:
    """``preferred`` first (always, even when nothing has them), then any other label seen in sorted
    order, :data:`UNCLASSIFIED` last."""
    known = [label for label in dict.fromkeys(preferred) if label != UNCLASSIFIED]
    seen_set = set(seen)
    others = sorted(label for label in seen_set if label not in known and label != UNCLASSIFIED)
    tail = [UNCLASSIFIED] if UNCLASSIFIED in seen_set else []
    return (*known, *others, *tail)


def _label(value: str | None) -> str:
    return UNCLASSIFIED if value is None else value


def _breakdown(counter: Counter[str], preferred: Sequence[str]) -> tuple[tuple[str, int], ...]:
    return tuple((label, counter.get(label, 0)) for label in ordered_labels(counter, preferred))


def overview(
    counts: Iterable[ClassCount],
    tier_order: Sequence[str] = (),
    potential_order: Sequence[str] = (),
    type_order: Sequence[str] = (),
    status_order: Sequence[str] = (),
) -> Overview:
    """Fold counted cells into the overview. Orders name the labels to show first (config order: best
    tier and highest potential first); labels not named follow alphabetically, unclassified last."""
    by_type: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_tier: Counter[str] = Counter()
    by_potential: Counter[str] = Counter()
    cells: Counter[tuple[str, str]] = Counter()
    total = 0
    for c in counts:
        if c.count <= 0:
            continue
        total += c.count
        by_type[_label(c.type)] += c.count
        by_status[_label(c.status)] += c.count
        by_tier[_label(c.tier)] += c.count
        by_potential[_label(c.potential)] += c.count
        cells[(_label(c.tier), _label(c.potential))] += c.count
    tiers = ordered_labels(by_tier, tier_order)
    potentials = ordered_labels(by_potential, potential_order)
    matrix = tuple(tuple(cells.get((t, p), 0) for p in potentials) for t in tiers)
    return Overview(
        total=total,
        by_type=_breakdown(by_type, type_order),
        by_status=_breakdown(by_status, status_order),
        by_tier=_breakdown(by_tier, tier_order),
        by_potential=_breakdown(by_potential, potential_order),
        tiers=tiers,
        potentials=potentials,
        matrix=matrix,
    )


__all__ = ["UNCLASSIFIED", "ClassCount", "Overview", "ordered_labels", "overview"]
