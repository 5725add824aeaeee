"""Properties of the business case inside classification (issue 16): a referrer's value never counts its
own revenue twice, whatever the referrals (self-referrals included); groups resolved from any links
(cycles included) have concentration shares summing to 100 %; with group tiers, a group's members
share one tier."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.classify import classify_all
from mapping.classify_business import BusinessLinks
from mapping.classify_config import ClassificationConfig
from mapping.org_groups import ParentLink, concentration, group_revenue, resolve_groups
from mapping.referrals import ReferralClaim, resolve_referrals
from mapping.relationship_records import RelationshipFacts

NOW = datetime(2026, 6, 30, tzinfo=UTC)
CONFIG = ClassificationConfig()
money = st.decimals(min_value=-5000, max_value=10**6, places=2)
ids = st.integers(1, 12)


def _facts(net: dict[int, Decimal]) -> list[RelationshipFacts]:
    return [
        RelationshipFacts(str(i), "organization", f"Org {i}", orders=max(v, Decimal(0)), returns=max(-v, Decimal(0)))
        for i, v in sorted(net.items())
    ]


@settings(max_examples=200, deadline=None)
@given(
    net=st.dictionaries(ids, money, min_size=1, max_size=12),
    pairs=st.lists(st.tuples(ids, ids), max_size=30),
    share=st.decimals(min_value=0, max_value=1, places=2),
    bump=st.decimals(min_value=1, max_value=10**5, places=2),
)
def test_a_referrers_classified_value_never_counts_its_own_revenue_twice(
    net: dict[int, Decimal], pairs: list[tuple[int, int]], share: Decimal, bump: Decimal
) -> None:
    # Claims straight from the sources, self-referrals included: resolve_referrals drops those, and
    # classification must not count them even if handed one.
    resolved, _ = resolve_referrals((ReferralClaim(a, b, "test") for a, b in pairs), {})
    raw = {str(a): str(b) for a, b in pairs}  # unresolved: may hold a self-referral
    for referrer_of in (
        {str(a): str(b) for a, b in resolved.items()},
        raw,
    ):
        links = BusinessLinks(referrer_of=referrer_of, referral_share=share)
        results = {r.id: r for r in classify_all(_facts(net), CONFIG, now=NOW, business=links)}
        for rid, r in results.items():
            brought = sum(
                (max(net.get(int(c), Decimal(0)), Decimal(0)) for c, p in referrer_of.items() if p == rid and c != rid),
                Decimal(0),
            )
            assert r.referral_credit == brought * share
            assert r.net_revenue == net[int(rid)]
            # Raising its own revenue leaves its credit alone: own revenue is counted once, as its own.
            bumped = {**net, int(rid): net[int(rid)] + bump}
            again = {x.id: x for x in classify_all(_facts(bumped), CONFIG, now=NOW, business=links)}[rid]
            assert again.referral_credit == r.referral_credit
            assert again.net_revenue - r.net_revenue == bump


@settings(max_examples=200, deadline=None)
@given(
    net=st.dictionaries(ids, money, min_size=1, max_size=12),
    links=st.lists(st.tuples(ids, ids), max_size=20),
)
def test_groups_from_any_links_have_shares_summing_to_100_percent_and_members_share_a_tier(
    net: dict[int, Decimal], links: list[tuple[int, int]]
) -> None:
    root_of, _ = resolve_groups(net, [ParentLink(c, p, "test") for c, p in links], {})
    revenue = group_revenue(root_of, net)
    shares = concentration(revenue, Decimal(25), {})
    if any(r > 0 for r in revenue.values()):
        assert sum(s.percent for s in shares) == Decimal(100) and sum(s.share for s in shares) == 1
    business = BusinessLinks(
        root_of={str(c): str(r) for c, r in root_of.items() if c != r and c in net}, subsidiary_tiers="group"
    )
    results = classify_all(_facts(net), CONFIG, now=NOW, business=business)
    tiers: dict[str, set[str]] = {}
    for r in results:
        tiers.setdefault(r.group.root_id if r.group else r.id, set()).add(r.tier)
    assert all(len(t) == 1 for t in tiers.values())
