"""The business case in classification (pure, no I/O): the referral share in the referrer's value,
subsidiaries taking their group's tier or classified individually, and the potential signals (referrals
from every source, growth in order value) each with its points."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mapping.classify import classify_all
from mapping.classify_business import BusinessLinks
from mapping.classify_config import ClassificationConfig
from mapping.potential_signals import SIGNAL, GrowthSettings
from mapping.relationship_records import Classification, RelationshipFacts

NOW = datetime(2026, 6, 30, tzinfo=UTC)
CONFIG = ClassificationConfig()


def org(rid: str, orders: str, **kw: object) -> RelationshipFacts:
    return RelationshipFacts(rid, "organization", f"Org {rid}", orders=Decimal(orders), order_count=1, **kw)  # type: ignore[arg-type]


def by_id(results: list[Classification]) -> dict[str, Classification]:
    return {r.id: r for r in results}


# Eight customers: 1 is small but referred 8, the largest.
CUSTOMERS = [org(str(i), str(amount)) for i, amount in enumerate([100, 200, 300, 400, 500, 600, 700, 100000], 1)]


def test_a_referrer_gets_the_configured_share_of_what_its_referred_customer_brought_in_its_value() -> None:
    alone = by_id(classify_all(CUSTOMERS, CONFIG, now=NOW))
    links = BusinessLinks(referrer_of={"8": "1"}, referral_share=Decimal("0.1"))
    credited = by_id(classify_all(CUSTOMERS, CONFIG, now=NOW, business=links))
    assert credited["1"].referral_credit == Decimal("10000.0")
    assert credited["1"].net_revenue == Decimal(100), "its own net revenue is unchanged"
    assert alone["1"].value_percent == 13 and alone["1"].tier == "Marginal"
    assert credited["1"].value_percent == 88 and credited["1"].tier == "Superior"
    assert credited["8"].referral_credit == 0 and credited["8"].value_percent == 100


def test_a_referral_to_oneself_or_a_zero_share_counts_nothing() -> None:
    self_referred = BusinessLinks(referrer_of={"1": "1"}, referral_share=Decimal("0.5"))
    zero = BusinessLinks(referrer_of={"8": "1"}, referral_share=Decimal(0))
    for links in (self_referred, zero):
        r = by_id(classify_all(CUSTOMERS, CONFIG, now=NOW, business=links))["1"]
        assert r.referral_credit == 0 and r.value_percent == 13


def test_subsidiaries_take_their_groups_tier_when_configured_else_keep_their_own() -> None:
    # 2 and 3 are subsidiaries of 4: together 900, ranked among the other five customers.
    root_of = {"2": "4", "3": "4"}
    individual = by_id(classify_all(CUSTOMERS, CONFIG, now=NOW, business=BusinessLinks(root_of=root_of)))
    grouped = by_id(
        classify_all(CUSTOMERS, CONFIG, now=NOW, business=BusinessLinks(root_of=root_of, subsidiary_tiers="group"))
    )
    assert individual["2"].tier == "Average" and individual["2"].group is not None
    assert not individual["2"].group.inherited
    group = grouped["2"].group
    assert group is not None and group.inherited and group.root_id == "4" and group.root_name == "Org 4"
    assert group.value_percent == 84 and group.tier == "Superior"
    assert {grouped[i].tier for i in ("2", "3", "4")} == {"Superior"}
    assert grouped["2"].value_percent == individual["2"].value_percent, "the member's own value is kept"
    assert grouped["5"].group is None and grouped["5"].tier == individual["5"].tier


def test_a_staff_override_still_wins_over_the_groups_tier() -> None:
    facts = [*CUSTOMERS[:1], org("2", "200", overrides={"tier": "Average"}), *CUSTOMERS[2:]]
    links = BusinessLinks(root_of={"2": "4", "3": "4"}, subsidiary_tiers="group")
    result = by_id(classify_all(facts, CONFIG, now=NOW, business=links))
    assert result["2"].tier == "Average" and result["3"].tier == "Superior"


def test_a_groups_referral_inside_the_group_is_not_credited_again() -> None:
    inside = BusinessLinks(
        root_of={"2": "4", "3": "4"}, referrer_of={"3": "2"}, referral_share=Decimal(1), subsidiary_tiers="group"
    )
    outside = BusinessLinks(
        root_of={"2": "4", "3": "4"}, referrer_of={"8": "2"}, referral_share=Decimal(1), subsidiary_tiers="group"
    )
    within = by_id(classify_all(CUSTOMERS, CONFIG, now=NOW, business=inside))["2"].group
    beyond = by_id(classify_all(CUSTOMERS, CONFIG, now=NOW, business=outside))["2"].group
    assert within is not None and within.value_percent == 84, "as without the referral"
    assert beyond is not None and beyond.value_percent == 100


def test_referrals_from_every_source_and_growth_in_order_value_score_potential_with_their_points() -> None:
    facts = [org("1", "30000", orders_previous=Decimal(10000)), org("2", "100"), org("3", "100")]
    links = BusinessLinks(referrer_of={"2": "1", "3": "1"}, growth=GrowthSettings(weight=15))
    r = by_id(classify_all(facts, CONFIG, now=NOW, business=links))["1"]
    signals = dict(r.potential_signals)
    assert signals["referrals made"] == 10.0  # 2 of 3 for full points, weight 15
    assert signals[SIGNAL] == 7.5  # 15 * (30000 - 10000) / 40000
    assert r.potential_score == pytest.approx(sum(signals.values()))
    plain = by_id(classify_all(facts, CONFIG, now=NOW))["1"]
    assert "referrals made" not in dict(plain.potential_signals) and SIGNAL not in dict(plain.potential_signals)


def test_a_share_outside_0_to_1_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        BusinessLinks(referral_share=Decimal("1.5"))
