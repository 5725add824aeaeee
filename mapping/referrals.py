"""Referrals: who referred whom, what each referrer brought in, and thanking a referrer. Pure.

The business case (seed "Relationship Value": "Referred By ... track the total value the referring
client or source and acknowledge and/or further develop the relationship"). The store hands in
:class:`ReferralClaim` records from wherever a referral is recorded (the contact's "Referred By"
user field, an import column, a referral-credit transaction) already resolved to relationship ids;
:func:`resolve_referrals` keeps one referrer per referred relationship and reports the rest.

Value: a referrer's :class:`ReferralValue` is its own net revenue plus ``share`` of the revenue its
referred customers brought (direct referrals only, never transitively, and only positive revenue: a
referred customer's loss is not charged to the referrer). A relationship never counts its own revenue
twice: a referral to oneself is refused with a message, and the referred revenue is always *other*
relationships' revenue. Referral-credit transactions stay in the referrer's own net revenue as today;
``share`` applies to the referred customers' revenue only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from mapping.trigger_planning import Trigger

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ReferralClaim:
    """``referrer_id`` referred ``referred_id``, as ``source`` says (``'"Referred By" on Jane Doe'``)."""

    referred_id: int
    referrer_id: int
    source: str


@dataclass(frozen=True, slots=True)
class ReferralProblem:
    """A claim that was not used, and why (one sentence naming the item and the fix)."""

    referred_id: int
    message: str


def resolve_referrals(
    claims: Iterable[ReferralClaim],
    names: Mapping[int, str],
) -> tuple[dict[int, int], list[ReferralProblem]]:
    """``{referred id: referrer id}`` and the claims not used: a referral to oneself, or a second,
    different referrer for a relationship that already has one (the first claim wins; put the
    sources in order of trust). The rest proceeds."""
    out: dict[int, int] = {}
    problems: list[ReferralProblem] = []
    for c in claims:
        who = names.get(c.referred_id, str(c.referred_id))
        if c.referred_id == c.referrer_id:
            problems.append(
                ReferralProblem(
                    c.referred_id,
                    (
                        f"{who} is recorded as referred by itself ({c.source}); the referral is ignored: "
                        "name who referred it"
                    ),
                )
            )
            continue
        known = out.get(c.referred_id)
        if known is None:
            out[c.referred_id] = c.referrer_id
        elif known != c.referrer_id:
            problems.append(
                ReferralProblem(
                    c.referred_id,
                    (
                        f"{who} has a second referrer {names.get(c.referrer_id, str(c.referrer_id))} ({c.source}); "
                        f"{names.get(known, str(known))} is kept: correct one of the two"
                    ),
                )
            )
    return out, problems


@dataclass(frozen=True, slots=True)
class ReferralValue:
    """A relationship's own net revenue, what its referred customers brought, and the credited share."""

    own: Decimal
    referred: Decimal
    credited: Decimal
    referred_count: int

    @property
    def total(self) -> Decimal:
        """Own revenue plus the credited share: what value classification ranks when referrals count."""
        return self.own + self.credited


def referral_values(
    own: Mapping[int, Decimal],
    referrer_of: Mapping[int, int],
    share: Decimal,
) -> dict[int, ReferralValue]:
    """Every relationship of ``own`` with its :class:`ReferralValue` (``share`` in 0..1)."""
    if not _ZERO <= share <= 1:
        raise ValueError("referrals.value_share must be between 0 and 1")
    referred: dict[int, Decimal] = {}
    count: dict[int, int] = {}
    for child, parent in referrer_of.items():
        if child == parent:  # resolve_referrals refuses these; never count oneself even if handed one
            continue
        referred[parent] = referred.get(parent, _ZERO) + max(own.get(child, _ZERO), _ZERO)
        count[parent] = count.get(parent, 0) + 1
    return {
        rid: ReferralValue(net, referred.get(rid, _ZERO), referred.get(rid, _ZERO) * share, count.get(rid, 0))
        for rid, net in own.items()
    }


def referral_ack_triggers(
    referrer_of: Mapping[int, int],
    first_order: Mapping[int, date],
    today: date,
    within_days: int,
    names: Mapping[int, str],
) -> list[Trigger]:
    """An *acknowledge the referral* trigger on the referrer when a referred customer's first order is
    within the last ``within_days`` days (key ``referral-ack:<referred id>``: once per referred)."""
    out: list[Trigger] = []
    for child, parent in referrer_of.items():
        day = first_order.get(child)
        if day is None or child == parent or not 0 <= (today - day).days < within_days:
            continue
        who = names.get(child, str(child))
        out.append(
            Trigger(
                parent,
                "referral_ack",
                f"referral-ack:{child}",
                day + timedelta(days=within_days - 1),
                f"Thank them for referring {who}, who placed a first order on {day.isoformat()}.",
            )
        )
    return out
