"""The Pareto curve: share of revenue by share of customers, and who the top 80 % of revenue comes from.

The business case is about "the 20 % who bring 80 % of sales". Customers are ranked by net revenue
(orders less returns, over the report's period), largest first; the curve's point at ``k`` customers is
(``k / n``, their revenue / all revenue). The customers *inside the mark* are the fewest top customers
whose revenue reaches ``mark`` (80 %) of the total. Only customers with positive net revenue count: a
relationship that brought nothing (or returned more than it bought) adds no revenue to share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class CustomerRevenue:
    """One relationship's net revenue over the report's period."""

    relationship_id: int
    name: str
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class ParetoPoint:
    """``customer_share`` of the customers (largest first) bring ``revenue_share`` of the revenue (0..1)."""

    customer_share: float
    revenue_share: float


@dataclass(frozen=True, slots=True)
class Pareto:
    """The curve (from (0, 0) to (1, 1), at most ``max_points + 2`` points: the mark's point is always on
    it), the mark and who is inside it.

    ``inside_customer_share``: the share of customers inside the mark (0.2 for a textbook 80/20 company).
    """

    customers: int
    total: Decimal
    mark: float
    curve: tuple[ParetoPoint, ...]
    inside: tuple[CustomerRevenue, ...]
    inside_customer_share: float
    inside_revenue_share: float


def ranked(customers: Iterable[CustomerRevenue]) -> list[CustomerRevenue]:
    """Customers with positive revenue, largest first (ties by name, then id: the same order every run)."""
    return sorted((c for c in customers if c.revenue > 0), key=lambda c: (-c.revenue, c.name, c.relationship_id))


def pareto(customers: Iterable[CustomerRevenue], mark: float = 0.8, max_points: int = 200) -> Pareto:
    """The Pareto curve and the customers inside ``mark`` (0 < mark <= 1) of the revenue."""
    if not 0 < mark <= 1:
        raise ValueError(f"mark must be in (0, 1], got {mark}")
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    order = ranked(customers)
    n = len(order)
    total = sum((c.revenue for c in order), Decimal(0))
    if n == 0:
        return Pareto(0, Decimal(0), mark, (ParetoPoint(0.0, 0.0), ParetoPoint(1.0, 1.0)), (), 0.0, 0.0)
    cumulative = [Decimal(0)]
    for c in order:
        cumulative.append(cumulative[-1] + c.revenue)
    # The mark is compared exactly (Decimal), so 80 % of 100.00 is reached by exactly 80.00.
    target = total * Decimal(str(mark))
    inside_count = next(k for k in range(1, n + 1) if cumulative[k] >= target)
    if n <= max_points:
        steps = list(range(n + 1))
    else:
        steps = sorted({round(i * n / max_points) for i in range(max_points + 1)} | {inside_count})
    curve = tuple(ParetoPoint(k / n, float(cumulative[k] / total)) for k in steps)
    return Pareto(
        customers=n,
        total=total,
        mark=mark,
        curve=curve,
        inside=tuple(order[:inside_count]),
        inside_customer_share=inside_count / n,
        inside_revenue_share=float(cumulative[inside_count] / total),
    )


__all__ = ["CustomerRevenue", "Pareto", "ParetoPoint", "pareto", "ranked"]
