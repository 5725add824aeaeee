"""Key dates: thank a customer after a large order, win back a customer whose buying has lapsed. Pure.

The business case (seed "You manage customer information"): "contact those who have not done business
lately and thank those who have (while offering additional value)". Besides the cadence, two triggers:

- **thank-you**: an order of at least ``thank_you_min_amount`` (in the value currency) within the last
  ``thank_you_within_days`` days; the follow-up names the order and is due within those days of it.
- **win-back**: a customer with no order for longer than its own usual interval between orders times
  ``win_back_factor`` (the median gap of its order history, so a customer who buys once a year is not
  "lapsed" after two months), or, with ``win_back_mode = "fixed"`` or too short a history, longer than
  ``win_back_fixed_days``.

Both are configured per tier (:class:`KeyDatePolicy`, a default plus per-tier replacements) and either
can be switched off. They produce :class:`~mapping.trigger_planning.Trigger` records; the merge into
"at most one open follow-up per relationship and owner" is :mod:`mapping.trigger_planning`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from statistics import median
from typing import Literal

from mapping.trigger_planning import Trigger

WinBackMode = Literal["relative", "fixed"]


@dataclass(frozen=True, slots=True)
class KeyDateSettings:
    """One tier's key-date settings (``[keydates]`` and ``[keydates.tiers.<Tier>]`` in the config)."""

    thank_you: bool = True
    thank_you_min_amount: Decimal = Decimal(10000)
    thank_you_within_days: int = 7
    win_back: bool = True
    win_back_mode: WinBackMode = "relative"
    win_back_factor: float = 2.0
    win_back_fixed_days: int = 180
    # Fewer orders than this: no usual interval to speak of, the fixed period applies.
    win_back_min_orders: int = 3

    def __post_init__(self) -> None:
        if self.thank_you_within_days < 1:
            raise ValueError("keydates.thank_you_within_days must be at least 1")
        if self.win_back_factor <= 1.0:
            raise ValueError("keydates.win_back_factor must be above 1 (2 means twice the usual interval)")
        if self.win_back_fixed_days < 1:
            raise ValueError("keydates.win_back_fixed_days must be at least 1")
        if self.win_back_min_orders < 2:
            raise ValueError("keydates.win_back_min_orders must be at least 2 (an interval needs two orders)")


@dataclass(frozen=True, slots=True)
class KeyDatePolicy:
    """The default settings and per-tier replacements; ``settings_for(None)`` is the default."""

    default: KeyDateSettings = KeyDateSettings()
    tiers: Mapping[str, KeyDateSettings] = field(default_factory=dict)

    def settings_for(self, tier: str | None) -> KeyDateSettings:
        return self.tiers.get(tier, self.default) if tier is not None else self.default


@dataclass(frozen=True, slots=True)
class Order:
    """One order of a relationship: its id as the accounting system writes it, its day, its amount."""

    order_id: str
    day: date
    amount: Decimal


def usual_interval_days(order_days: Sequence[date]) -> float | None:
    """The median number of days between consecutive distinct order days; None with fewer than two."""
    days = sorted(set(order_days))
    if len(days) < 2:
        return None
    return float(median((b - a).days for a, b in pairwise(days)))


@dataclass(frozen=True, slots=True)
class Lapse:
    """Why a customer is (or is not) lapsed, for ``explain``."""

    lapsed: bool
    days_since_last_order: int
    threshold_days: float
    basis: str  # "usual interval 30 days x 2.0" or "fixed 180 days"


def lapse(order_days: Sequence[date], today: date, s: KeyDateSettings) -> Lapse | None:
    """Whether buying has lapsed as of ``today``; None for no orders at all (not a customer)."""
    if not order_days:
        return None
    last = max(order_days)
    since = (today - last).days
    usual = usual_interval_days(order_days)
    if (
        s.win_back_mode == "relative"
        and usual is not None
        and len(set(order_days)) >= s.win_back_min_orders
        and usual > 0
    ):
        threshold = usual * s.win_back_factor
        basis = f"usual interval {usual:g} days x {s.win_back_factor:g}"
    else:
        threshold = float(s.win_back_fixed_days)
        basis = f"fixed {s.win_back_fixed_days} days"
    return Lapse(since > threshold, since, threshold, basis)


def thank_you_triggers(
    relationship_id: int,
    orders: Sequence[Order],
    today: date,
    s: KeyDateSettings,
    currency: str = "EUR",
) -> list[Trigger]:
    """One thank-you trigger per order at or above the minimum within the window (key ``thank-you:<id>``).

    Due (at the latest) on the last day of the window; the store drops keys already handled.
    """
    if not s.thank_you:
        return []
    out: list[Trigger] = []
    for o in orders:
        age = (today - o.day).days
        if o.amount >= s.thank_you_min_amount and 0 <= age < s.thank_you_within_days:
            out.append(
                Trigger(
                    relationship_id,
                    "thank_you",
                    f"thank-you:{o.order_id}",
                    o.day + timedelta(days=s.thank_you_within_days - 1),
                    f"Thank them for order {o.order_id} of {o.day.isoformat()} ({o.amount} {currency}).",
                )
            )
    return out


def win_back_trigger(
    relationship_id: int,
    order_days: Sequence[date],
    today: date,
    s: KeyDateSettings,
) -> Trigger | None:
    """A win-back trigger when buying has lapsed (key ``win-back:<last order day>``: once per lapse)."""
    if not s.win_back:
        return None
    lp = lapse(order_days, today, s)
    if lp is None or not lp.lapsed:
        return None
    last = max(order_days)
    return Trigger(
        relationship_id,
        "win_back",
        f"win-back:{last.isoformat()}",
        today,
        f"Win them back: no order for {lp.days_since_last_order} days since {last.isoformat()} ({lp.basis}).",
    )
