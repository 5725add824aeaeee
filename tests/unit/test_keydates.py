"""Key dates: thank-you after a large order, win-back when buying has lapsed (pure, no I/O)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from mapping.keydates import (
    KeyDatePolicy,
    KeyDateSettings,
    Order,
    lapse,
    thank_you_triggers,
    usual_interval_days,
    win_back_trigger,
)

TODAY = date(2026, 11, 24)


def test_usual_interval_is_the_median_gap_between_distinct_order_days() -> None:
    days = [date(2026, 1, 1), date(2026, 1, 31), date(2026, 1, 31), date(2026, 3, 2), date(2026, 6, 1)]
    assert usual_interval_days(days) == 30.0
    assert usual_interval_days([date(2026, 1, 1)]) is None


def test_a_large_recent_order_raises_a_thank_you_naming_the_order() -> None:
    orders = [
        Order("SO-1001", TODAY - timedelta(days=2), Decimal("25000")),
        Order("SO-1002", TODAY - timedelta(days=1), Decimal("500")),
        Order("SO-0990", TODAY - timedelta(days=30), Decimal("90000")),
    ]
    [t] = thank_you_triggers(5, orders, TODAY, KeyDateSettings(), "EUR")
    assert (t.relationship_id, t.kind, t.key) == (5, "thank_you", "thank-you:SO-1001")
    assert t.due == TODAY - timedelta(days=2) + timedelta(days=6)
    assert "SO-1001" in t.line and "25000 EUR" in t.line


def test_thank_you_and_win_back_can_be_switched_off_per_tier() -> None:
    policy = KeyDatePolicy(tiers={"Marginal": KeyDateSettings(thank_you=False, win_back=False)})
    orders = [Order("SO-1", TODAY, Decimal("99999"))]
    assert thank_you_triggers(1, orders, TODAY, policy.settings_for("Marginal")) == []
    assert thank_you_triggers(1, orders, TODAY, policy.settings_for("Superior"))
    old = [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    assert win_back_trigger(1, old, TODAY, policy.settings_for("Marginal")) is None
    assert win_back_trigger(1, old, TODAY, policy.settings_for(None)) is not None


def test_a_monthly_buyer_silent_for_three_months_is_lapsed_but_a_yearly_buyer_is_not() -> None:
    monthly = [date(2026, m, 1) for m in range(1, 9)]  # last order 1 August
    yearly = [date(y, 8, 1) for y in range(2021, 2027)]
    s = KeyDateSettings()
    assert lapse(monthly, TODAY, s) is not None and lapse(monthly, TODAY, s).lapsed  # type: ignore[union-attr]
    assert not lapse(yearly, TODAY, s).lapsed  # type: ignore[union-attr]
    t = win_back_trigger(3, monthly, TODAY, s)
    assert t is not None and t.key == "win-back:2026-08-01" and "usual interval" in t.line


def test_too_short_a_history_or_fixed_mode_uses_the_fixed_period() -> None:
    two = [date(2026, 1, 1), date(2026, 1, 8)]
    result = lapse(two, date(2026, 3, 1), KeyDateSettings())
    assert result is not None and not result.lapsed and result.basis == "fixed 180 days"
    fixed = KeyDateSettings(win_back_mode="fixed", win_back_fixed_days=30)
    assert lapse([date(2026, m, 1) for m in (1, 4, 7)], date(2026, 8, 15), fixed).lapsed  # type: ignore[union-attr]
    assert lapse([], TODAY, fixed) is None


def test_settings_out_of_range_are_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"keydates\.win_back_factor"):
        KeyDateSettings(win_back_factor=0.5)
    with pytest.raises(ValueError, match=r"keydates\.thank_you_within_days"):
        KeyDateSettings(thank_you_within_days=0)
