"""Growth in order value, the potential signal :func:`mapping.classify.potential_score` lacks. Pure.

The other signals the business case names (engagement trend, recency of inbound interest, size,
referrals made) are in :func:`mapping.classify.potential_score`, each with its points for
``explain``. Growth compares order value in the recent value window with the one before it, like the
engagement trend: ``weight * (recent - previous) / max(recent + previous, min_total)``, in
``-weight..weight``; ``min_total`` keeps a first small order from counting as huge growth.
:func:`with_growth` adds its points to a score and its parts, so ``explain`` still adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SIGNAL = "growth in order value"


@dataclass(frozen=True, slots=True)
class GrowthSettings:
    weight: float = 15.0
    min_total: Decimal = Decimal(1000)


def order_growth_points(recent: Decimal, previous: Decimal, s: GrowthSettings = GrowthSettings()) -> float:
    """The signal's points (rounded to 2 decimals; 0 without orders in either window)."""
    total = recent + previous
    if total <= 0:
        return 0.0
    return round(s.weight * float((recent - previous) / max(total, s.min_total)), 2)


def with_growth(
    score: float,
    parts: tuple[tuple[str, float], ...],
    points: float,
) -> tuple[float, tuple[tuple[str, float], ...]]:
    """``(score, parts)`` of :func:`mapping.classify.potential_score` with the growth signal added."""
    if not points:
        return score, parts
    return round(score + points, 2), (*parts, (SIGNAL, points))
