"""Classification configuration: every problem listed with its key."""

from __future__ import annotations

import pytest

from mapping.classify_config import (
    CategoryNames,
    ClassificationConfig,
    ClassificationConfigError,
    PotentialClass,
    PotentialSignals,
    StatusThresholds,
    ValueClass,
)


def problems(**kw: object) -> dict[str, str]:
    with pytest.raises(ClassificationConfigError) as info:
        ClassificationConfig(**kw)  # type: ignore[arg-type]
    return {p.key: p.message for p in info.value.problems}


def test_defaults_are_valid() -> None:
    config = ClassificationConfig()
    assert config.tier_names == ("Eliminate", "Marginal", "Average", "Superior")
    assert config.potential_names == ("Low", "Average", "High")


def test_too_few_classes_and_bad_colours() -> None:
    found = problems(
        value_classes=(ValueClass("Bad", None, 50, "Red"), ValueClass("Good", 51, 100)),
        potential_classes=(PotentialClass("Low", None, ("e-mail",)),),
    )
    assert found["value_classes"] == "needs 3 to 5 classes, has 2"
    assert found["potential_classes"] == "needs 3 to 5 classes, has 1"
    assert "unknown Outlook colour 'Red'" in found["value_classes[0].colour"]


def test_gaps_overlaps_and_uncovered_ends() -> None:
    found = problems(
        value_classes=(
            ValueClass("A", -50, 0),
            ValueClass("B", 5, 24),
            ValueClass("C", 20, 75),
            ValueClass("D", 76, 90),
        )
    )
    assert "cover -100" in found["value_classes[0].lower"]
    assert "without gap or overlap" in found["value_classes[1].lower"]
    assert "without gap or overlap" in found["value_classes[2].lower"]
    assert "reach 100" in found["value_classes[3].upper"]


def test_duplicate_names_potential_order_signals_status() -> None:
    found = problems(
        potential_classes=(
            PotentialClass("Low", None, ("e-mail",)),
            PotentialClass("low", 50, ()),
            PotentialClass("High", 40, ("e-mail",)),
        ),
        potential_signals=PotentialSignals(trend_weight=-1, inbound_horizon_days=0, size_scores={"big": 2}),
        status=StatusThresholds(active_days=100, inactive_days=50),
        value_period_days=0,
    )
    assert "duplicate name 'low'" in found["potential_classes[1].name"]
    assert "at least one method" in found["potential_classes[1].methods"]
    assert "must be above 50" in found["potential_classes[2].min_score"]
    assert found["potential_signals.trend_weight"] == "must not be negative"
    assert found["potential_signals.inbound_horizon_days"] == "must be positive"
    assert "between 0 and 1" in found["potential_signals.size_scores.big"]
    assert "at least active_days" in found["status.inactive_days"]
    assert found["value_period_days"] == "must be positive"


def test_category_templates_and_collisions() -> None:
    found = problems(categories=CategoryNames(value_template="Value", potential_template="{potential} {x}"))
    assert "{tier} exactly once" in found["categories.value_template"]
    assert "categories.potential_template" in found
    clash = problems(categories=CategoryNames(potential_template="Value: {potential}"))
    assert "'Value: Average' is also made by categories.value_template" in clash["categories.potential_template"]


def test_error_message_lists_every_problem() -> None:
    with pytest.raises(ClassificationConfigError) as info:
        ClassificationConfig(value_period_days=0, engagement_window_days=-1)
    text = str(info.value)
    assert "value_period_days: must be positive" in text and "engagement_window_days: must be positive" in text
