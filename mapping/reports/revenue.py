"""Revenue broken down by one attribute (source, industry, size, product): bars for a chart and a table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

#: The bar of amounts whose attribute is not known (no source, no industry, no product).
UNKNOWN = "unknown"
#: The bar folding every label past the top ones.
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Bar:
    """One label's net revenue and its share of the breakdown's total (0..1; 0 when the total is 0)."""

    label: str
    amount: Decimal
    share: float


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Revenue by ``dimension``: bars largest first, the bars' amounts adding up to ``total``."""

    dimension: str
    total: Decimal
    bars: tuple[Bar, ...]


def breakdown(dimension: str, amounts: Iterable[tuple[str | None, Decimal]], top: int = 12) -> Breakdown:
    """Sum ``(label, amount)`` pairs per label (``None`` and blank: :data:`UNKNOWN`), largest first (ties
    by label). More than ``top`` labels: the smallest fold into one :data:`OTHER` bar, so there are at
    most ``top`` bars."""
    if top < 2:
        raise ValueError(f"top must be at least 2, got {top}")
    sums: defaultdict[str, Decimal] = defaultdict(Decimal)
    for label, amount in amounts:
        name = label.strip() if label is not None and label.strip() else UNKNOWN
        sums[name] += amount
    ordered = sorted(sums.items(), key=lambda item: (-item[1], item[0]))
    if len(ordered) > top:
        rest = sum((amount for _, amount in ordered[top - 1 :]), Decimal(0))
        ordered = [*ordered[: top - 1], (OTHER, rest)]
    total = sum((amount for _, amount in ordered), Decimal(0))
    bars = tuple(Bar(label, amount, float(amount / total) if total else 0.0) for label, amount in ordered)
    return Breakdown(dimension, total, bars)


__all__ = ["OTHER", "UNKNOWN", "Bar", "Breakdown", "breakdown"]
