"""What the business case adds to classification (issue 16). Pure.

:class:`BusinessLinks` carries, by relationship id (the ``RelationshipFacts.id`` strings), who referred
whom and each organisation's parent group, resolved by the store from every source
(:func:`mapping.store.business.links`), with the settings that say how they count:

- **Referral value** (:func:`referral_credits`): ``referral_share`` of the positive net revenue of the
  relationships a referrer referred is counted in its value (the figure :func:`mapping.classify.value_percents`
  ranks), on top of its own net revenue. Only other relationships' revenue is credited: a referral to
  oneself adds nothing, so a relationship's own revenue is never counted twice. Direct referrals only.
- **Group tier** (:func:`group_tiers`): a group (a parent and its subsidiaries, two or more
  organisations) is ranked as one among the relationships outside any group, on its members' net
  revenue plus the credit for customers its members referred *outside* the group (a referral inside
  the group is the group's own revenue already). With ``subsidiary_tiers = "group"`` every member takes
  the group's tier (rules and staff overrides still come after); with ``"individual"`` each keeps its
  own, and ``explain`` shows the group's beside it.
- **Potential**: the referrals a relationship made from every source (``referrals made`` counts the
  larger of its referral-credit rows and the relationships it referred), and growth in order value
  (:mod:`mapping.potential_signals`), each with its points in ``explain``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from mapping.potential_signals import GrowthSettings
from mapping.relationship_records import RelationshipFacts

_ZERO = Decimal(0)
#: How a group's members are tiered: each by its own value, or all by the group's.
TierMode = Literal["individual", "group"]


@dataclass(frozen=True, slots=True)
class BusinessLinks:
    """Referrals and groups by relationship id, and how they count (see the module docstring)."""

    referrer_of: Mapping[str, str] = field(default_factory=dict)  # referred -> its referrer
    referral_share: Decimal = _ZERO
    root_of: Mapping[str, str] = field(default_factory=dict)  # organisation -> its group's root
    subsidiary_tiers: TierMode = "individual"
    growth: GrowthSettings | None = None

    def __post_init__(self) -> None:
        if not _ZERO <= self.referral_share <= 1:
            raise ValueError("referral_share must be between 0 and 1")


def referral_credits(facts: Sequence[RelationshipFacts], links: BusinessLinks) -> dict[str, Decimal]:
    """Relationship id -> the credited share of what the relationships it referred brought (only ids
    with a credit; referrers and referred outside ``facts`` count nothing)."""
    if not links.referral_share or not links.referrer_of:
        return {}
    net = {f.id: f.net_revenue for f in facts}
    out: dict[str, Decimal] = {}
    for child, parent in links.referrer_of.items():
        if child == parent or parent not in net:
            continue
        brought = max(net.get(child, _ZERO), _ZERO)
        if brought:
            out[parent] = out.get(parent, _ZERO) + brought * links.referral_share
    return out


def referral_counts(links: BusinessLinks) -> dict[str, int]:
    """Relationship id -> how many other relationships it referred."""
    out: dict[str, int] = {}
    for child, parent in links.referrer_of.items():
        if child != parent:
            out[parent] = out.get(parent, 0) + 1
    return out


def groups_of(facts: Sequence[RelationshipFacts], links: BusinessLinks) -> dict[str, list[str]]:
    """Root id -> the ids of its members among ``facts`` (the root included), for groups of two or more."""
    members: dict[str, list[str]] = {}
    for f in facts:
        members.setdefault(links.root_of.get(f.id, f.id), []).append(f.id)
    return {root: ids for root, ids in members.items() if len(ids) > 1}


def group_values(
    facts: Sequence[RelationshipFacts], credits: Mapping[str, Decimal], links: BusinessLinks
) -> tuple[dict[str, list[str]], list[RelationshipFacts]]:
    """The groups (root -> member ids), and the population a group is ranked in: one record per
    relationship outside any group (its net revenue plus its credit) and one per group (its members'
    net revenue plus the credit for referrals outside the group), as ``net_revenue``."""
    groups = groups_of(facts, links)
    in_group = {m: root for root, ids in groups.items() for m in ids}
    net = {f.id: f.net_revenue for f in facts}
    group_value = {root: sum((net[m] for m in ids), _ZERO) for root, ids in groups.items()}
    for child, parent in links.referrer_of.items():
        root = in_group.get(parent)
        if root is None or child == parent or in_group.get(child) == root:
            continue
        group_value[root] += max(net.get(child, _ZERO), _ZERO) * links.referral_share
    population = [_record(f.id, net[f.id] + credits.get(f.id, _ZERO)) for f in facts if f.id not in in_group]
    population += [_record(root, value) for root, value in group_value.items()]
    return groups, population


def _record(rid: str, value: Decimal) -> RelationshipFacts:
    return RelationshipFacts(rid, "organization", rid, orders=max(value, _ZERO), returns=max(-value, _ZERO))


__all__ = ["BusinessLinks", "TierMode", "group_values", "groups_of", "referral_counts", "referral_credits"]
