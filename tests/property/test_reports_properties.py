"""Hypothesis properties of the report computations: totals add up, the Pareto mark is minimal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from mapping.reports import (
    ClassCount,
    CustomerRevenue,
    FollowUpBucket,
    breakdown,
    compliance,
    overview,
    pareto,
    pareto_shape,
    ranked,
    tier_movement,
    with_customers,
)

labels = st.one_of(st.none(), st.sampled_from(["Superior", "Average", "Marginal", "Eliminate", "Gold"]))
cells = st.lists(st.builds(ClassCount, labels, labels, labels, labels, st.integers(0, 50)), max_size=30)
money = st.decimals(min_value=-1000, max_value=100000, places=2, allow_nan=False, allow_infinity=False)
customers = st.lists(st.builds(CustomerRevenue, st.integers(1, 10**6), st.text(max_size=5), money), max_size=60)


@given(cells)
def test_every_breakdown_and_the_matrix_add_up_to_the_total(counts: list[ClassCount]) -> None:
    result = overview(counts, tier_order=("Superior", "Average"), potential_order=("High",))
    for dimension in (result.by_type, result.by_status, result.by_tier, result.by_potential):
        assert sum(n for _, n in dimension) == result.total
    assert sum(map(sum, result.matrix)) == result.total
    assert result.total == sum(c.count for c in counts)


@given(customers, st.sampled_from([0.5, 0.8, 0.95, 1.0]))
def test_pareto_inside_is_the_fewest_top_customers_reaching_the_mark(found: list[CustomerRevenue], mark: float) -> None:
    result = pareto(found, mark=mark, max_points=20)
    target = result.total * Decimal(str(mark))
    inside = sum((c.revenue for c in result.inside), Decimal(0))
    if result.customers:
        assert inside >= target
        assert inside - result.inside[-1].revenue < target  # one fewer would not reach it
        smallest_inside = min(c.revenue for c in result.inside)
        outside = [c.revenue for c in found if c.revenue > 0 and c not in result.inside]
        assert all(r <= smallest_inside for r in outside)
    shares = [(p.customer_share, p.revenue_share) for p in result.curve]
    assert shares == sorted(shares)  # non-decreasing in both
    assert all(r >= c - 1e-9 for c, r in shares)  # largest first: never below the diagonal
    assert shares[0] == (0.0, 0.0) and abs(shares[-1][1] - 1.0) < 1e-9 and shares[-1][0] == 1.0


@given(st.lists(st.tuples(st.one_of(st.none(), st.text(max_size=3)), money), max_size=40), st.integers(2, 8))
def test_revenue_bars_add_up_to_the_total_and_never_exceed_top(
    pairs: list[tuple[str | None, Decimal]], top: int
) -> None:
    result = breakdown("product", pairs, top=top)
    assert len(result.bars) <= top
    assert sum((b.amount for b in result.bars), Decimal(0)) == result.total == sum((a for _, a in pairs), Decimal(0))


tiers_map = st.dictionaries(st.integers(1, 40), labels, max_size=40)


@given(tiers_map, tiers_map)
def test_movement_diagonal_and_moves_account_for_every_classified_relationship(
    before: dict[int, str | None], after: dict[int, str | None]
) -> None:
    result = tier_movement(date(2026, 1, 1), date(2026, 2, 1), before, after, {})
    counted = {rid for rid in before.keys() | after.keys() if before.get(rid) or after.get(rid)}
    assert sum(map(sum, result.matrix)) == len(counted) == result.unchanged + len(result.moves)
    assert all(m.before != m.after for m in result.moves)


buckets = st.lists(
    st.builds(
        FollowUpBucket,
        st.sampled_from(["ann@x", "bob@x"]),
        st.sampled_from(["open", "completed", "cancelled"]),
        st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
        st.one_of(st.none(), st.booleans()),
        st.integers(1, 20),
    ),
    max_size=40,
)


@given(buckets, st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))
def test_compliance_never_counts_more_due_or_overdue_than_open_nor_on_time_than_done(
    found: list[FollowUpBucket], today: date
) -> None:
    for line in compliance(found, [], today):
        assert line.due + line.overdue <= line.open
        assert line.done_on_time <= line.done
        assert line.open == sum(b.count for b in found if b.owner == line.owner and b.status == "open")
        if line.on_time_percent is not None:
            assert 0 <= line.on_time_percent <= 100
        if line.average_days_overdue is not None:
            assert line.average_days_overdue >= 1


@given(customers, st.sampled_from([0.5, 0.8, 0.95, 1.0]), st.integers(1, 30))
def test_the_curve_of_whole_cents_is_the_curve_of_the_amounts(
    found: list[CustomerRevenue], mark: float, max_points: int
) -> None:
    """What the store computes from integers (every customer's cents, names only inside the mark) is
    what the pure Pareto gives from the amounts."""
    expected = pareto(found, mark=mark, max_points=max_points)
    order = ranked(found)
    shape = pareto_shape([int(c.revenue * 100) for c in order], mark, max_points)
    total = Decimal(int(shape.total)).scaleb(-2)
    assert with_customers(shape, mark, order[: shape.inside_count], total) == expected
