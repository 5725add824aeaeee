"""Classification of relationships: type, status, value and tier, potential, then rules, then overrides.

Everything here is a pure function of plain records (:mod:`mapping.relationship_records`) and the
configuration (:mod:`mapping.classify_config`); :func:`classify_all` is the entry point.

**Value** (:func:`value_percents`). Net revenue over the value period is orders - returns + referral
credits. Relationships with a positive net are ranked by it, exactly (``Decimal``, no floats), largest
first, ties broken by id (string order): that is ``Classification.value_rank``. Their value is their percentile among
the *n* positive ones: ``ceil(100 * k / n)`` where *k* is how many positive relationships have a net
less than or equal to theirs, so the best has 100, the smallest is at least 1, and equal nets get equal
values (a tie never splits across a tier boundary; the id only orders the rank). With the default
tiers, the top quarter of revenue earners is Superior, which holds the 20 % that bring 80 % of sales.
A net of exactly 0 (most leads) is value 0. A loss is ``-ceil(100 * loss / largest loss)``, so -1..-100
with the largest loss at -100: it says how bad a loss is relative to the others. Both are whole numbers.

With the business case's links (``business``, :mod:`mapping.classify_business`), a referrer's
referral credit (a share of what the relationships it referred brought) is added to the figure ranked
(never its own revenue again); ``net_revenue`` stays its own.

**Tier**: the configured value class whose bounds hold the value; a group member's is its group's when
``subsidiary_tiers = "group"`` (the group ranked as one).

**Potential** (:func:`potential_score`): a weighted sum of signals, see
:class:`mapping.classify_config.PotentialSignals`, plus growth in order value with the business case's
links (:mod:`mapping.potential_signals`); each signal's points are kept for ``explain``.

**Type** (:func:`default_type`), before rules and overrides:

1. *customer*: any order in history (``order_count``) or in the period (``orders``);
2. *sales partner*: no orders, but referrals made or referral credits (they bring us business);
3. *prospect*: two-way contact in the two engagement windows: inbound mail and outbound mail, or a
   meeting (a meeting is two-way by nature);
4. *lead*: everything else (only inbound, only outbound, or nothing yet).

*Vendor* is never computed: relsync cannot tell a supplier from its mail; a rule
(``set = {type = "vendor"}``) or a staff override says so.

**Status** (:func:`default_status`): days since the latest interaction or transaction (whichever is
later; the first contact when there is neither): active within ``status.active_days``, inactive within
``status.inactive_days``, else archive. With no date at all: inactive (no evidence either way).
Future dates (clock skew) count as today.

Then the business rules (:mod:`mapping.rules`) run in order, and staff overrides win over everything.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

import rule_engine

from mapping.classify_business import BusinessLinks, group_values, referral_counts, referral_credits
from mapping.classify_config import ClassificationConfig, PotentialSignals
from mapping.potential_signals import order_growth_points, with_growth
from mapping.relationship_records import (
    DIMENSIONS,
    RELATIONSHIP_TYPES,
    STATUSES,
    Classification,
    Dimension,
    GroupTier,
    RelationshipFacts,
    RelationshipType,
    Status,
)
from mapping.rules import CompiledRule, canonical_value, facts_context

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_MISSING = object()


def value_percents(
    facts: Sequence[RelationshipFacts], credits: Mapping[str, Decimal] | None = None
) -> list[tuple[int, int | None]]:
    """``(value_percent, value_rank)`` for each relationship of ``facts``, in the same order.
    ``credits``: relationship id -> an amount counted on top of its net revenue (the referral credit,
    :func:`mapping.classify_business.referral_credits`)."""
    nets = [f.net_revenue + credits.get(f.id, _ZERO) for f in facts] if credits else [f.net_revenue for f in facts]
    out: list[tuple[int, int | None]] = [(0, None)] * len(facts)
    positive = [i for i, net in enumerate(nets) if net > _ZERO]
    positive.sort(key=lambda i: (-nets[i], facts[i].id))
    n = len(positive)
    group_start = 0
    for position, i in enumerate(positive):
        if position and nets[i] != nets[positive[position - 1]]:
            group_start = position
        k = n - group_start  # how many positive nets are <= this one
        out[i] = ((100 * k + n - 1) // n, position + 1)
    losses = [i for i, net in enumerate(nets) if net < _ZERO]
    if losses:
        largest = max(-nets[i] for i in losses)
        for i in losses:
            share = (-nets[i] * _HUNDRED / largest).to_integral_value(rounding=ROUND_CEILING)
            out[i] = (-int(share), None)
    return out


def tier_for(value: float, config: ClassificationConfig) -> str:
    """The name of the value class holding ``value`` (the highest class whose lower bound it reaches)."""
    tier = config.value_classes[0].name
    for vc in config.value_classes[1:]:
        if vc.lower is not None and value >= vc.lower:
            tier = vc.name
    return tier


def potential_score(
    facts: RelationshipFacts, signals: PotentialSignals, now: datetime, size: str | None = None
) -> tuple[float, tuple[tuple[str, float], ...]]:
    """The potential score and the points each signal contributed (only signals that contributed; each
    rounded to 2 decimals, and the score is their sum, so ``explain`` adds up). ``size`` defaults to
    ``facts.size``."""
    parts: list[tuple[str, float]] = []
    recent = facts.inbound_recent + facts.outbound_recent + signals.meeting_weight * facts.meetings_recent
    previous = facts.inbound_previous + facts.outbound_previous + signals.meeting_weight * facts.meetings_previous
    if recent or previous:
        points = round(signals.trend_weight * (recent - previous) / max(recent + previous, signals.trend_min_total), 2)
        if points:
            parts.append(("engagement trend", points))
    if facts.latest_inbound_at is not None:
        days = (now - facts.latest_inbound_at).total_seconds() / 86400
        freshness = 1.0 if days <= 0 else 1.0 - days / signals.inbound_horizon_days
        if freshness > 0:
            parts.append(("recent inbound interest", round(signals.inbound_weight * freshness, 2)))
    size = facts.size if size is None else size
    if size:
        points = round(signals.size_weight * signals.size_scores.get(size.strip().casefold(), 0.0), 2)
        if points:
            parts.append(("size", points))
    if facts.referrals_made > 0:
        points = round(signals.referrals_weight * min(1.0, facts.referrals_made / signals.referrals_full), 2)
        if points:
            parts.append(("referrals made", points))
    score = 0.0
    for _, points in parts:
        score += points
    return round(score, 2), tuple(parts)


def potential_for(score: float, config: ClassificationConfig) -> str:
    """The name of the highest potential class whose ``min_score`` the score reaches."""
    name = config.potential_classes[0].name
    for pc in config.potential_classes[1:]:
        if pc.min_score is not None and score >= pc.min_score:
            name = pc.name
    return name


def default_type(facts: RelationshipFacts) -> RelationshipType:
    """The computed type (see the module docstring)."""
    if facts.order_count > 0 or facts.orders > _ZERO:
        return "customer"
    if facts.referrals_made > 0 or facts.referral_credits > _ZERO:
        return "sales partner"
    inbound = facts.inbound_recent + facts.inbound_previous
    outbound = facts.outbound_recent + facts.outbound_previous
    meetings = facts.meetings_recent + facts.meetings_previous
    if meetings > 0 or (inbound > 0 and outbound > 0):
        return "prospect"
    return "lead"


def default_status(facts: RelationshipFacts, config: ClassificationConfig, now: datetime) -> Status:
    """The computed status (see the module docstring)."""
    dates = [d for d in (facts.latest_interaction_at, facts.latest_transaction_at) if d is not None]
    latest = max(dates) if dates else facts.first_contact_at
    if latest is None:
        return "inactive"
    days = max(0, (now - latest).days)
    if days <= config.status.active_days:
        return "active"
    if days <= config.status.inactive_days:
        return "inactive"
    return "archive"


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


def _as_type(value: str) -> RelationshipType:
    return next(t for t in RELATIONSHIP_TYPES if t == value)


def _as_status(value: str) -> Status:
    return next(s for s in STATUSES if s == value)


def classify_all(
    facts: Sequence[RelationshipFacts],
    config: ClassificationConfig,
    rules: Sequence[CompiledRule] = (),
    *,
    now: datetime | None = None,
    business: BusinessLinks | None = None,
) -> list[Classification]:
    """Classify every relationship of ``facts`` (one population: value is a rank among them).

    ``rules``: from :func:`mapping.rules.compile_rules`, run in order. ``now``: the reference time for
    recency (default: the current UTC time; pass it for reproducible results). ``business``: referrals
    and parent groups, and how they count in value, tier and potential
    (:mod:`mapping.classify_business`). The result is in the order of ``facts``.

    A rule's outcome depends only on the fields it reads, so it is evaluated once per distinct
    combination of them (rule_engine costs ~25 µs an evaluation; rules on a few low-cardinality fields
    such as ``industry`` or ``type`` cost next to nothing on 100,000 relationships).
    """
    now = now if now is not None else datetime.now(UTC)
    # Classification allocates a few objects per relationship and none that form cycles; the cyclic
    # garbage collector would otherwise re-scan the growing result list again and again (a third of
    # the time at 100,000). It is paused for the call only, and restored as it was.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _classify_all(facts, config, rules, now, business or BusinessLinks())
    finally:
        if gc_was_enabled:
            gc.enable()


def _group_tiers(
    facts: Sequence[RelationshipFacts],
    credits: Mapping[str, Decimal],
    business: BusinessLinks,
    config: ClassificationConfig,
) -> dict[str, GroupTier]:
    """Each group member's :class:`GroupTier` (see :mod:`mapping.classify_business`)."""
    if not business.root_of:
        return {}
    groups, population = group_values(facts, credits, business)
    if not groups:
        return {}
    names = {f.id: f.name for f in facts}
    percent = {r.id: v for r, (v, _) in zip(population, value_percents(population), strict=True)}
    inherit = business.subsidiary_tiers == "group"
    return {
        m: GroupTier(root, names.get(root, root), percent[root], tier_for(percent[root], config), inherit)
        for root, ids in groups.items()
        for m in ids
    }


def _classify_all(
    facts: Sequence[RelationshipFacts],
    config: ClassificationConfig,
    rules: Sequence[CompiledRule],
    now: datetime,
    business: BusinessLinks,
) -> list[Classification]:
    credits = referral_credits(facts, business)
    values = value_percents(facts, credits)
    groups = _group_tiers(facts, credits, business, config)
    referred = referral_counts(business)
    caches: list[dict[tuple[Any, ...], Any]] = [{} for _ in rules]
    results: list[Classification] = []
    signals = config.potential_signals
    for f, (value, rank) in zip(facts, values, strict=True):
        inputs = facts_context(f, config, now)
        size = inputs.get("size")
        made = referred.get(f.id, 0)
        scored = dataclasses.replace(f, referrals_made=made) if made > f.referrals_made else f
        score, contributions = potential_score(scored, signals, now, size if isinstance(size, str) else None)
        if business.growth is not None:
            points = order_growth_points(f.orders, f.orders_previous, business.growth)
            score, contributions = with_growth(score, contributions, points)
        group = groups.get(f.id)
        state: dict[str, Any] = {
            "type": default_type(f),
            "status": default_status(f, config, now),
            "value": value,
            "tier": group.tier if group is not None and group.inherited else tier_for(value, config),
            "potential": potential_for(score, config),
            "potential_score": score,
            "owner": None,
        }
        fired: list[str] = []
        notes: list[str] = []
        if rules:
            ctx = {**inputs, **state}
            for rule, cache in zip(rules, caches, strict=True):
                key = (
                    tuple(_hashable(ctx[s]) for s in rule.symbols)
                    if "user_fields" in rule.symbols
                    else tuple([ctx[s] for s in rule.symbols])
                )
                outcome = cache.get(key, _MISSING)
                if outcome is _MISSING:
                    try:
                        outcome = rule.rule.matches(ctx)
                    except rule_engine.errors.LookupError as exc:
                        outcome = f"rule {rule.label!r} could not be evaluated: no {exc.item!r} (use &[...])"
                    except rule_engine.EngineError as exc:
                        outcome = f"rule {rule.label!r} could not be evaluated: {getattr(exc, 'message', exc)}"
                    cache[key] = outcome
                if isinstance(outcome, str):
                    notes.append(outcome)
                elif outcome:
                    fired.append(rule.label)
                    for dimension, new in rule.sets:
                        ctx[dimension] = new
                        state[dimension] = new
        overridden: list[Dimension] = []
        for raw_dimension, wanted in f.overrides.items():
            dim = next((d for d in DIMENSIONS if d == raw_dimension), None)
            canonical = canonical_value(raw_dimension, wanted, config) if dim is not None else None
            if dim is None or canonical is None:
                notes.append(f"override {raw_dimension} = {wanted!r} ignored: not a known {raw_dimension}")
                continue
            state[dim] = canonical
            overridden.append(dim)
        results.append(
            Classification(
                id=f.id,
                type=_as_type(state["type"]),
                status=_as_status(state["status"]),
                value_percent=float(value),
                tier=state["tier"],
                potential=state["potential"],
                owner=state["owner"],
                fired_rules=tuple(fired),
                inputs=inputs,
                overridden=tuple(overridden),
                net_revenue=f.net_revenue,
                value_rank=rank,
                potential_score=score,
                potential_signals=contributions,
                notes=tuple(notes),
                referral_credit=credits.get(f.id, _ZERO),
                group=group,
            )
        )
    return results


def methods_of_interaction(potential: str, config: ClassificationConfig) -> tuple[str, ...]:
    """The methods of interaction configured for a potential class (empty if the name is unknown)."""
    return next((pc.methods for pc in config.potential_classes if pc.name == potential), ())


__all__ = [
    "classify_all",
    "default_status",
    "default_type",
    "methods_of_interaction",
    "potential_for",
    "potential_score",
    "tier_for",
    "value_percents",
]
