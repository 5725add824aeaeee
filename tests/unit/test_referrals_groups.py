"""Referrals and parent organisations (pure, no I/O): value, acknowledgements, groups, cycles, concentration."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from mapping.org_groups import (
    ParentLink,
    concentration,
    effective_tiers,
    group_revenue,
    group_values,
    resolve_groups,
)
from mapping.referrals import ReferralClaim, referral_ack_triggers, referral_values, resolve_referrals

NAMES = {1: "Acme", 2: "Beta GmbH", 3: "Gamma Ltd", 4: "Delta"}


def test_a_referral_to_oneself_is_named_and_the_rest_proceeds() -> None:
    claims = [
        ReferralClaim(2, 2, '"Referred By" on Beta GmbH'),
        ReferralClaim(3, 1, "import line 4"),
        ReferralClaim(4, 1, "import line 5"),
    ]
    referrer_of, problems = resolve_referrals(claims, NAMES)
    assert referrer_of == {3: 1, 4: 1}
    [p] = problems
    assert p.referred_id == 2 and p.message.startswith("Beta GmbH is recorded as referred by itself")
    assert '"Referred By" on Beta GmbH' in p.message


def test_a_second_referrer_keeps_the_first_and_says_so() -> None:
    referrer_of, [p] = resolve_referrals([ReferralClaim(3, 1, "user field"), ReferralClaim(3, 2, "import")], NAMES)
    assert referrer_of == {3: 1}
    assert "Gamma Ltd has a second referrer Beta GmbH" in p.message and "Acme is kept" in p.message


def test_the_referrer_is_credited_a_share_of_what_its_referred_customers_brought() -> None:
    own = {1: Decimal(1000), 3: Decimal(4000), 4: Decimal(-500)}
    v = referral_values(own, {3: 1, 4: 1}, Decimal("0.25"))
    assert (v[1].own, v[1].referred, v[1].credited, v[1].total) == tuple(map(Decimal, (1000, 4000, 1000, 2000)))
    assert v[1].referred_count == 2 and v[3].referred == 0


def test_a_referred_customers_first_order_acknowledges_its_referrer_once() -> None:
    [t] = referral_ack_triggers(
        {3: 1, 4: 1}, {3: date(2026, 11, 20), 4: date(2026, 1, 5)}, date(2026, 11, 24), 14, NAMES
    )
    assert (t.relationship_id, t.kind, t.key, t.due) == (1, "referral_ack", "referral-ack:3", date(2026, 12, 3))
    assert "referring Gamma Ltd" in t.line


def test_a_parent_cycle_is_reported_naming_its_members_and_the_rest_proceeds() -> None:
    links = [ParentLink(1, 2, "field"), ParentLink(2, 1, "field"), ParentLink(4, 3, "import")]
    root_of, [p] = resolve_groups([1, 2, 3, 4], links, NAMES)
    assert root_of == {1: 1, 2: 2, 3: 3, 4: 3}
    assert p.message.startswith("parent cycle Acme -> Beta GmbH -> Acme") and set(p.ids) == {1, 2}


def test_chains_resolve_to_the_top_parent_and_a_self_parent_is_reported() -> None:
    root_of, [p] = resolve_groups(
        [1, 2, 3, 4], [ParentLink(1, 2, "a"), ParentLink(2, 3, "b"), ParentLink(4, 4, "c")], NAMES
    )
    assert root_of == {1: 3, 2: 3, 3: 3, 4: 4}
    assert "Delta is recorded as its own parent" in p.message


def test_group_revenue_shares_and_a_concentration_warning() -> None:
    root_of = {1: 3, 2: 3, 3: 3, 4: 4}
    groups = group_revenue(root_of, {1: Decimal(1), 2: Decimal(1), 3: Decimal(1), 4: Decimal(1)})
    assert groups == {3: 3, 4: 1}
    big, small = concentration(groups, Decimal(50), NAMES)
    assert (big.root_id, big.share, big.percent) == (3, Fraction(3, 4), Decimal("75.00"))
    assert big.warning == "Gamma Ltd holds 75.00 % of revenue, above the 50 % concentration limit"
    assert small.warning is None
    thirds = concentration({1: Decimal(1), 2: Decimal(1), 3: Decimal(1)}, Decimal(50), NAMES)
    assert sorted(s.percent for s in thirds) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


def test_subsidiaries_inherit_the_group_tier_or_keep_their_own() -> None:
    root_of, own = {1: 3, 3: 3, 4: 4}, {1: "Marginal", 3: "Superior", 4: "Average"}
    assert effective_tiers(root_of, own, {3: "Superior"}, "group") == {1: "Superior", 3: "Superior", 4: "Average"}
    assert effective_tiers(root_of, own, {3: "Superior"}, "individual") == own


def test_group_value_ranks_groups_like_relationships() -> None:
    assert group_values({3: Decimal(300), 4: Decimal(100), 5: Decimal(0), 6: Decimal(-50)}) == {
        3: 100,
        4: 50,
        5: 0,
        6: -100,
    }
