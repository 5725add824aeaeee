"""Value: exact, deterministic ranking; the seeds' tiers; losses; the 20 % who bring 80 %."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mapping.classify import classify_all, tier_for, value_percents
from mapping.classify_config import (
    DEFAULT_POTENTIAL_CLASSES,
    DEFAULT_VALUE_CLASSES,
    ClassificationConfig,
    PotentialClass,
    ValueClass,
)
from mapping.relationship_records import RelationshipFacts

NOW = datetime(2026, 11, 22, tzinfo=UTC)
CONFIG = ClassificationConfig()


def rel(id_: str, orders: str = "0", returns: str = "0", credits: str = "0") -> RelationshipFacts:
    return RelationshipFacts(
        id=id_,
        kind="organization",
        name=id_,
        orders=Decimal(orders),
        returns=Decimal(returns),
        referral_credits=Decimal(credits),
    )


def test_default_value_classes_are_the_seeds_table() -> None:
    assert [(c.name, c.lower, c.upper) for c in DEFAULT_VALUE_CLASSES] == [
        ("Eliminate", None, 0),
        ("Marginal", 1, 24),
        ("Average", 25, 75),
        ("Superior", 76, 100),
    ]
    assert [(c.name, c.methods) for c in DEFAULT_POTENTIAL_CLASSES] == [
        ("Low", ("e-mail",)),
        ("Average", ("telephone", "e-mail")),
        ("High", ("face to face", "telephone", "e-mail")),
    ]


@pytest.mark.parametrize(
    ("value", "tier"),
    [
        (-100, "Eliminate"),
        (-1, "Eliminate"),
        (0, "Eliminate"),
        (1, "Marginal"),
        (24, "Marginal"),
        (25, "Average"),
        (75, "Average"),
        (76, "Superior"),
        (100, "Superior"),
    ],
)
def test_tier_boundaries_follow_the_seeds(value: int, tier: str) -> None:
    assert tier_for(value, CONFIG) == tier


def test_net_revenue_is_orders_minus_returns_plus_referral_credit() -> None:
    assert rel("a", "1000", "150", "25").net_revenue == Decimal("875")


def test_best_is_100_and_percentiles_are_exact() -> None:
    facts = [rel(f"r{i:03d}", str(i)) for i in range(1, 101)]  # nets 1..100
    values = value_percents(facts)
    assert [v for v, _ in values] == list(range(1, 101))
    assert values[-1] == (100, 1)  # the best: value 100, rank 1
    assert values[0] == (1, 100)


def test_single_positive_relationship_is_100() -> None:
    assert value_percents([rel("a", "5")]) == [(100, 1)]


def test_ties_share_a_value_and_are_ranked_by_id() -> None:
    facts = [rel("b", "10"), rel("a", "10"), rel("c", "5"), rel("d", "20")]
    values = dict(zip([f.id for f in facts], value_percents(facts), strict=True))
    assert values["d"] == (100, 1)
    assert values["a"] == (75, 2)  # a before b: same net, id decides the rank only
    assert values["b"] == (75, 3)
    assert values["c"] == (25, 4)


def test_ranking_does_not_depend_on_input_order() -> None:
    rnd = random.Random(3)
    facts = [rel(f"id{i}", str(rnd.randint(-50, 500))) for i in range(300)]
    expected = dict(zip([f.id for f in facts], value_percents(facts), strict=True))
    shuffled = facts[:]
    rnd.shuffle(shuffled)
    assert dict(zip([f.id for f in shuffled], value_percents(shuffled), strict=True)) == expected


def test_decimal_precision_is_kept() -> None:
    # two nets that a float would make equal
    a = rel("a", "10000000000000000.01")
    b = rel("b", "10000000000000000.02")
    assert value_percents([a, b]) == [(50, 2), (100, 1)]


def test_zero_is_zero_and_losses_are_negative_relative_to_the_largest_loss() -> None:
    facts = [rel("zero"), rel("small-loss", "0", "10"), rel("big-loss", "100", "300"), rel("win", "1")]
    values = dict(zip([f.id for f in facts], value_percents(facts), strict=True))
    assert values["zero"] == (0, None)
    assert values["big-loss"] == (-100, None)
    assert values["small-loss"] == (-5, None)
    assert values["win"] == (100, 1)
    result = {c.id: c for c in classify_all(facts, CONFIG, now=NOW)}
    assert {k: c.tier for k, c in result.items()} == {
        "zero": "Eliminate",
        "small-loss": "Eliminate",
        "big-loss": "Eliminate",
        "win": "Superior",
    }
    assert result["small-loss"].value_percent == -5.0
    assert result["small-loss"].net_revenue == Decimal(-10)


def test_a_tiny_loss_is_never_rounded_to_zero() -> None:
    values = value_percents([rel("huge", "0", "1000000"), rel("tiny", "0", "0.01")])
    assert values[1] == (-1, None)


def test_pareto_top_20_percent_are_superior() -> None:
    rnd = random.Random(11)
    facts = [rel(f"c{i:04d}", str(int(rnd.paretovariate(1.16) * 100))) for i in range(1000)]
    result = classify_all(facts, CONFIG, now=NOW)
    by_net = sorted(zip(facts, result, strict=True), key=lambda p: (-p[0].net_revenue, p[0].id))
    top = by_net[:200]
    total = sum(f.net_revenue for f in facts)
    assert sum(f.net_revenue for f, _ in top) / total > Decimal("0.5")  # the shape of the data
    assert all(c.tier == "Superior" for _, c in top)
    assert all(c.value_percent >= 76 for _, c in top)
    # ranks are 1..n in order of net revenue
    assert [c.value_rank for _, c in by_net] == list(range(1, 1001))
    # values never rise as net revenue falls
    values = [c.value_percent for _, c in by_net]
    assert values == sorted(values, reverse=True)


def test_five_value_classes_are_honoured() -> None:
    config = ClassificationConfig(
        value_classes=(
            ValueClass("Drop", None, 0, "Preset0"),
            ValueClass("Bronze", 1, 20),
            ValueClass("Silver", 21, 60),
            ValueClass("Gold", 61, 90),
            ValueClass("Platinum", 91, 100, "Preset24"),
        ),
        potential_classes=(
            PotentialClass("Cold", None, ("e-mail",)),
            PotentialClass("Warm", 20, ("e-mail", "telephone")),
            PotentialClass("Hot", 50, ("face to face",)),
            PotentialClass("Burning", 80, ("face to face",)),
        ),
    )
    facts = [rel(f"r{i:03d}", str(i)) for i in range(1, 101)]
    tiers = [c.tier for c in classify_all(facts, config, now=NOW)]
    assert tiers[0] == "Bronze" and tiers[20] == "Silver" and tiers[60] == "Gold" and tiers[99] == "Platinum"
