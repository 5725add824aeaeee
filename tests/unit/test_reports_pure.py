"""Report computations (mapping.reports): overview, Pareto, revenue, movement, compliance, data quality."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mapping.errors import EXIT_USAGE
from mapping.reports import (
    OTHER,
    UNCLASSIFIED,
    UNKNOWN,
    ClassCount,
    CustomerRevenue,
    FollowUpBucket,
    LapsedCount,
    QualityItem,
    ReportInputError,
    breakdown,
    compliance,
    data_quality,
    lapse_cutoffs,
    overview,
    pareto,
    tier_movement,
)

TIERS = ("Superior", "Average", "Marginal", "Eliminate")
POTENTIALS = ("High", "Average", "Low")


def test_overview_counts_every_dimension_and_the_matrix_in_config_order() -> None:
    result = overview(
        [
            ClassCount("customer", "active", "Superior", "High", 3),
            ClassCount("customer", "active", "Average", "Low", 2),
            ClassCount("lead", "inactive", "Marginal", "High", 1),
            ClassCount(None, None, None, None, 4),
        ],
        tier_order=TIERS,
        potential_order=POTENTIALS,
    )
    assert result.total == 10
    assert result.by_type == (("customer", 5), ("lead", 1), (UNCLASSIFIED, 4))
    assert result.by_tier == (("Superior", 3), ("Average", 2), ("Marginal", 1), ("Eliminate", 0), (UNCLASSIFIED, 4))
    assert result.tiers == (*TIERS, UNCLASSIFIED)
    assert result.potentials == (*POTENTIALS, UNCLASSIFIED)
    assert result.matrix[0] == (3, 0, 0, 0)  # Superior x High first: the most promising cell
    assert result.matrix[1] == (0, 0, 2, 0)
    assert result.matrix[4] == (0, 0, 0, 4)


def test_overview_shows_tiers_the_config_does_not_name_after_the_named_ones() -> None:
    result = overview([ClassCount("customer", "active", "Gold", "High", 1)], tier_order=("Superior",))
    assert result.tiers == ("Superior", "Gold")


def test_pareto_finds_the_fewest_top_customers_reaching_eighty_percent() -> None:
    customers = [CustomerRevenue(i, f"c{i}", Decimal(v)) for i, v in enumerate([50, 30, 10, 5, 5], start=1)]
    result = pareto(customers)
    assert [c.name for c in result.inside] == ["c1", "c2"]
    assert result.inside_customer_share == pytest.approx(0.4)
    assert result.inside_revenue_share == pytest.approx(0.8)
    assert result.curve[0].customer_share == 0 and result.curve[-1].revenue_share == pytest.approx(1.0)
    assert result.total == Decimal(100)


def test_pareto_leaves_out_customers_without_positive_revenue() -> None:
    result = pareto(
        [
            CustomerRevenue(1, "a", Decimal(10)),
            CustomerRevenue(2, "b", Decimal(-3)),
            CustomerRevenue(3, "c", Decimal(0)),
        ]
    )
    assert result.customers == 1
    assert [c.name for c in result.inside] == ["a"]


def test_pareto_of_no_revenue_is_the_diagonal_with_nobody_inside() -> None:
    result = pareto([])
    assert result.customers == 0 and result.inside == ()
    assert [(p.customer_share, p.revenue_share) for p in result.curve] == [(0.0, 0.0), (1.0, 1.0)]


def test_pareto_curve_is_thinned_to_the_point_budget_keeping_the_mark() -> None:
    customers = [CustomerRevenue(i, f"c{i:04}", Decimal(1000 - i)) for i in range(1000)]
    result = pareto(customers, max_points=50)
    assert len(result.curve) <= 52
    marked = len(result.inside) / 1000
    assert any(p.customer_share == pytest.approx(marked) for p in result.curve)


def test_revenue_breakdown_folds_small_labels_into_other_and_names_unknown() -> None:
    pairs = [
        ("web", Decimal(5)),
        (None, Decimal(3)),
        ("  ", Decimal(1)),
        ("fair", Decimal(2)),
        ("referral", Decimal(1)),
        ("web", Decimal(5)),
    ]
    result = breakdown("source", pairs, top=3)
    assert [(b.label, b.amount) for b in result.bars] == [
        ("web", Decimal(10)),
        (UNKNOWN, Decimal(4)),
        (OTHER, Decimal(3)),
    ]
    assert result.total == Decimal(17)


def test_tier_movement_counts_moves_off_the_diagonal() -> None:
    before = {1: "Average", 2: "Marginal", 3: "Superior", 4: None}
    after = {1: "Superior", 2: "Marginal", 3: "Average", 4: "Marginal", 5: "Average"}
    names = {1: "Acme", 2: "Bolt", 3: "Crane", 4: "Dyna", 5: "Echo"}
    result = tier_movement(date(2026, 1, 1), date(2026, 6, 30), before, after, names, TIERS)
    assert result.unchanged == 1
    assert [(m.name, m.before, m.after) for m in result.moves] == [
        ("Crane", "Superior", "Average"),
        ("Acme", "Average", "Superior"),
        ("Echo", UNCLASSIFIED, "Average"),
        ("Dyna", UNCLASSIFIED, "Marginal"),
    ]
    sup, avg = result.tiers.index("Superior"), result.tiers.index("Average")
    assert result.matrix[avg][sup] == 1 and result.matrix[sup][avg] == 1


def test_tier_movement_refuses_a_range_that_ends_before_it_starts() -> None:
    with pytest.raises(ReportInputError, match="ends \\(2026-01-01\\) before it starts \\(2026-02-01\\)") as err:
        tier_movement(date(2026, 2, 1), date(2026, 1, 1), {}, {}, {})
    assert err.value.exit_code == EXIT_USAGE


def test_compliance_per_owner_from_counted_buckets() -> None:
    today = date(2026, 3, 10)
    buckets = [
        FollowUpBucket("ann@x", "open", date(2026, 3, 10), None, 2),  # due today
        FollowUpBucket("ann@x", "open", date(2026, 3, 7), None, 1),  # 3 days overdue
        FollowUpBucket("ann@x", "open", date(2026, 3, 9), None, 1),  # 1 day overdue
        FollowUpBucket("ann@x", "open", date(2026, 3, 20), None, 4),
        FollowUpBucket("ann@x", "completed", date(2026, 3, 1), True, 3),
        FollowUpBucket("ann@x", "completed", date(2026, 2, 1), False, 1),
        FollowUpBucket("ann@x", "cancelled", date(2026, 2, 1), None, 9),
    ]
    lapsed = [LapsedCount("ann@x", "Superior", 2), LapsedCount("bob@x", "Average", 1)]
    ann, bob = compliance(buckets, lapsed, today)
    assert (ann.open, ann.due, ann.overdue, ann.done, ann.done_on_time) == (8, 2, 2, 4, 3)
    assert ann.on_time_percent == 75.0 and ann.average_days_overdue == 2.0
    assert ann.lapsed == 2 and ann.lapsed_by_tier == (("Superior", 2),)
    assert bob.open == 0 and bob.on_time_percent is None and bob.average_days_overdue is None and bob.lapsed == 1


def test_lapse_cutoffs_are_one_cadence_before_the_day() -> None:
    assert lapse_cutoffs({"Superior": 7, "Average": 31, "Eliminate": 0}, date(2026, 3, 10)) == {
        "Superior": date(2026, 3, 3),
        "Average": date(2026, 2, 7),
    }


def test_data_quality_lists_every_list_in_order_even_when_empty() -> None:
    result = data_quality(
        {"organisations_without_domain": (5, [QualityItem(2, "beta", ""), QualityItem(1, "Alpha", "")])}
    )
    assert result.lists[0].key == "people_without_valid_address"
    orgs = result.get("organisations_without_domain")
    assert orgs.total == 5 and [i.label for i in orgs.items] == ["Alpha", "beta"]
    assert result.get("pending_duplicates").total == 0
    with pytest.raises(ValueError, match="unknown"):
        data_quality({"nonsense": (1, [])})
