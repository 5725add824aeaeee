"""Properties of classification over random populations."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.classify import classify_all, tier_for
from mapping.classify_config import ClassificationConfig
from mapping.relationship_records import RelationshipFacts
from mapping.rules import canonical_value

CONFIG = ClassificationConfig()
NOW = datetime(2026, 11, 22, tzinfo=UTC)

money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
override = st.dictionaries(
    st.sampled_from(["tier", "potential", "type"]),
    st.sampled_from(["Superior", "low", "vendor", "Gold"]),
    max_size=2,
)


@st.composite
def population(draw: st.DrawFn) -> list[RelationshipFacts]:
    n = draw(st.integers(min_value=0, max_value=30))
    return [
        RelationshipFacts(
            id=f"r{i:02d}",
            kind="organization",
            name=f"R{i}",
            orders=draw(money),
            returns=draw(money) if draw(st.booleans()) else Decimal(0),
            referral_credits=draw(st.sampled_from([Decimal(0), Decimal("0.01"), Decimal(100)])),
            inbound_recent=draw(st.integers(0, 5)),
            outbound_previous=draw(st.integers(0, 5)),
            overrides=draw(override),
        )
        for i in range(n)
    ]


@settings(max_examples=60, deadline=None)
@given(facts=population(), seed=st.randoms(use_true_random=False))
def test_classification_properties(facts: list[RelationshipFacts], seed: object) -> None:
    result = classify_all(facts, CONFIG, now=NOW)
    assert [c.id for c in result] == [f.id for f in facts]
    positives = [c for c in result if c.net_revenue > 0]
    # ranks are 1..n over the positive ones, ordered by net revenue then id
    ranked = sorted(positives, key=lambda c: (-c.net_revenue, c.id))
    assert [c.value_rank for c in ranked] == list(range(1, len(positives) + 1))
    if positives:
        assert ranked[0].value_percent == 100
    for f, c in zip(facts, result, strict=True):
        v = c.value_percent
        assert (v > 0) == (f.net_revenue > 0) and (v < 0) == (f.net_revenue < 0)
        assert -100 <= v <= 100 and v == int(v)
        if "tier" not in c.overridden:
            assert c.tier == tier_for(v, CONFIG)
        for dimension, wanted in f.overrides.items():
            if dimension in c.overridden:
                assert str(getattr(c, dimension)).casefold() == wanted.casefold()
            else:
                assert canonical_value(dimension, wanted, CONFIG) is None
    # equal nets get equal values; a larger net never gets a smaller value
    for a in positives:
        for b in positives:
            if a.net_revenue > b.net_revenue:
                assert a.value_percent >= b.value_percent
            elif a.net_revenue == b.net_revenue:
                assert a.value_percent == b.value_percent
    # the input order does not matter
    shuffled = list(facts)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    again = {c.id: c for c in classify_all(shuffled, CONFIG, now=NOW)}
    assert all(again[c.id] == c for c in result)
