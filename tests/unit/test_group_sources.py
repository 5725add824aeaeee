"""Parent links from configured rules and confirmed domain families (pure, no I/O)."""

from __future__ import annotations

from decimal import Decimal

from mapping.group_sources import OrgProfile, ParentRule, domain_families, family_links, rule_links, suggest_parent
from mapping.hygiene import domain_family
from mapping.org_groups import ParentLink

ORGS = [
    OrgProfile(1, "Acme Holdings", ("acme.com",)),
    OrgProfile(2, "Acme Deutschland GmbH", ("acme.de", "acme-shop.de")),
    OrgProfile(3, "ACME UK Ltd", ("eu.acme.co.uk",)),
    OrgProfile(4, "Globex Retail", ("retail.globex.com",)),
    OrgProfile(5, "Globex Corporation", ("globex.com",)),
    OrgProfile(6, "Initech", ("gmail.com",)),
]
NAMES = {o.relationship_id: o.name for o in ORGS}


def find(text: str) -> int | None:
    return next((o.relationship_id for o in ORGS if o.name.casefold() == text.casefold()), None)


def test_a_name_rule_links_every_match_but_the_parent_itself_case_insensitively() -> None:
    links, problems = rule_links(ORGS, [ParentRule("Acme Holdings", name="acme *")], find)
    assert links == [
        ParentLink(2, 1, "rule name 'acme *' -> 'Acme Holdings'"),
        ParentLink(3, 1, "rule name 'acme *' -> 'Acme Holdings'"),
    ]
    assert problems == []


def test_a_domain_rule_matches_any_of_an_organisations_domains() -> None:
    links, _ = rule_links(ORGS, [ParentRule("Globex Corporation", domain="*.globex.com")], find)
    assert [(ln.child_id, ln.parent_id) for ln in links] == [(4, 5)]


def test_a_rule_naming_no_organisation_is_one_problem_and_links_nothing() -> None:
    links, problems = rule_links(ORGS, [ParentRule("Umbrella", name="*")], find)
    assert links == []
    (problem,) = problems
    assert problem.message.startswith("rule name '*' -> 'Umbrella': no organisation is named 'Umbrella'")


def test_families_are_the_names_before_the_public_suffix_shared_by_two_or_more_organisations() -> None:
    families = domain_families(ORGS, domain_family)
    assert [f.family for f in families] == ["acme", "globex"]  # retail.globex.com is globex.com's
    acme = families[0]
    assert acme.members == (1, 2, 3)
    assert acme.domains == {1: ("acme.com",), 2: ("acme.de",), 3: ("eu.acme.co.uk",)}
    assert domain_families([ORGS[5], OrgProfile(7, "Hooli", ("gmail.com",))], domain_family) == []


def test_a_confirmed_family_links_its_members_to_the_chosen_parent_and_an_unconfirmed_one_nothing() -> None:
    families = domain_families(ORGS, domain_family)
    assert family_links(families, {}) == []
    links = family_links(families[:1], {"acme": 2, "gone": 9})
    assert [(ln.child_id, ln.parent_id, ln.source) for ln in links] == [
        (1, 2, "domain family 'acme' confirmed"),
        (3, 2, "domain family 'acme' confirmed"),
    ]


def test_the_suggested_parent_has_the_most_revenue_then_the_shortest_name() -> None:
    acme = domain_families(ORGS, domain_family)[0]
    assert suggest_parent(acme, {2: Decimal(900), 3: Decimal(100)}, NAMES) == 2
    assert suggest_parent(acme, {}, NAMES) == 3  # "ACME UK Ltd" is shorter than "Acme Holdings"
