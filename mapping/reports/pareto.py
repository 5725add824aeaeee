"""The Pareto curve: share of revenue by share of customers, and who the top 80 % of revenue comes from.

The business case is about "the 20 % who bring 80 % of sales". Customers are ranked by net revenue
(orders less returns, over the report's period), largest first; the curve's point at ``k`` customers is
(``k / n``, their revenue / all revenue). The customers *inside the mark* are the fewest top customers
whose revenue reaches ``mark`` (80 %) of the total. Only customers with positive net revenue count: a
relationship that brought nothing (or returned more than it bought) adds no revenue to share.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate


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


@dataclass(frozen=True, slots=True)
class ParetoShape:
    """The curve and the mark of revenues ranked largest first, without who the customers are:
    ``inside_count`` top customers reach the mark. ``total`` is the sum of the revenues as given (money
    or whole cents; the shares do not depend on the unit)."""

    customers: int
    total: Decimal | int
    curve: tuple[ParetoPoint, ...]
    inside_count: int
    inside_revenue_share: float


def pareto_shape(revenues: Sequence[Decimal] | Sequence[int], mark: float = 0.8, max_points: int = 200) -> ParetoShape:
    """The curve of positive ``revenues`` already ranked largest first (:func:`ranked`'s order). Whole
    cents give the same shares as the amounts themselves (each share is one exact quotient rounded the
    same way), so a store can rank integers and fetch names only for the customers inside the mark."""
    if not 0 < mark <= 1:
        raise ValueError(f"mark must be in (0, 1], got {mark}")
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    n = len(revenues)
    if n == 0:
        return ParetoShape(0, 0, (ParetoPoint(0.0, 0.0), ParetoPoint(1.0, 1.0)), 0, 0.0)
    cumulative: list[Decimal | int] = [0, *accumulate(revenues)]  # type: ignore[list-item]
    total = cumulative[-1]
    # The mark is compared exactly (Decimal), so 80 % of 100.00 is reached by exactly 80.00.
    target = total * Decimal(str(mark))
    inside_count = bisect_left(cumulative, target, lo=1)  # cumulative grows: the first k reaching it
    if n <= max_points:
        steps = list(range(n + 1))
    else:
        steps = sorted({round(i * n / max_points) for i in range(max_points + 1)} | {inside_count})
    big_total = Decimal(total)
    curve = tuple(ParetoPoint(k / n, float(Decimal(cumulative[k]) / big_total)) for k in steps)
    return ParetoShape(n, total, curve, inside_count, float(Decimal(cumulative[inside_count]) / big_total))


def pareto(customers: Iterable[CustomerRevenue], mark: float = 0.8, max_points: int = 200) -> Pareto:
    """The Pareto curve and the customers inside ``mark`` (0 < mark <= 1) of the revenue."""
    order = ranked(customers)
    shape = pareto_shape([c.revenue for c in order], mark, max_points)
    return with_customers(shape, mark, order[: shape.inside_count], Decimal(shape.total))


def with_customers(shape: ParetoShape, mark: float, inside: Sequence[CustomerRevenue], total: Decimal) -> Pareto:
    """The :class:`Pareto` of ``shape`` with the customers inside the mark (the first ``inside_count`` of
    the ranked order) and the total as money."""
    if shape.customers == 0:
        return Pareto(0, Decimal(0), mark, shape.curve, (), 0.0, 0.0)
    return Pareto(
        customers=shape.customers,
        total=total,
        mark=mark,
        curve=shape.curve,
        inside=tuple(inside),
        inside_customer_share=shape.inside_count / shape.customers,
        inside_revenue_share=shape.inside_revenue_share,
    )


__all__ = [
    "CustomerRevenue",
    "Pareto",
    "ParetoPoint",
    "ParetoShape",
    "pareto",
    "pareto_shape",
    "ranked",
    "with_customers",
]
