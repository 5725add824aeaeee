"""Where referrals and parent groups come from besides the Outlook user field, on SQLite and PostgreSQL.

Referrals: the contact import's ``referred_by`` column (kept as the person's user field of the import),
and referral-credit rows of the sales history naming the referred customer (``referred`` column),
imported through the real sales-history import. Parent groups: the import's ``parent`` column, a
configured rule (name or domain pattern), and a domain family the admin confirms. Each lands in the
same referral and group records the user field feeds (:func:`mapping.store.business.analyse`, and
:func:`mapping.store.business.links` for classification).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mapping.business_policy import BusinessPolicy
from mapping.group_sources import ParentRule
from mapping.hygiene import normalise_company_name
from mapping.sales_history import parse_sales_history
from mapping.store.business import analyse, links
from mapping.store.business_groups import GroupFamilies, GroupFamilyError
from mapping.store.models import Organisation, OrganisationDomain, Person, Relationship, RelationshipStatus
from mapping.store.sales_history import import_sales_history
from mapping.store.store import Store

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
TODAY = NOW.date()

# name -> (domains, the user fields its contact carries)
ORGS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "Northwind": (("northwind.com",), {}),
    "Imported Customer": (("imported.example",), {"Referred By": "Northwind", "Parent": "Northwind"}),
    "Credited Customer": (("credited.example",), {}),
    "Acme Holdings": (("acme.com",), {}),
    "Acme Deutschland": (("acme.de",), {}),
    "Acme UK": (("acme.co.uk",), {}),
    "Globex Retail": (("globex-retail.example",), {}),
    "Globex": (("globex.example",), {}),
}


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    with store.session() as s:
        for name, (domains, fields) in ORGS.items():
            org = Organisation(name=name, normalised_name=normalise_company_name(name))
            s.add(org)
            for d in domains:
                s.add(OrganisationDomain(domain=d, organisation=org))
            s.add(Person(display_name=f"{name} Contact", organisation=org, user_fields=fields or None))
        s.flush()
        for org in s.query(Organisation):
            s.add(Relationship(organisation_id=org.id, status=RelationshipStatus.ACTIVE))
    yield store


def _ids(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            o.name: r.id
            for r, o in s.query(Relationship, Organisation).join(
                Organisation, Organisation.id == Relationship.organisation_id
            )
        }


def _import(store: Store, text: str) -> None:
    parsed = parse_sales_history(text, today=TODAY)
    assert not parsed.errors, parsed.errors
    with store.session() as s:
        result = import_sales_history(s, parsed.rows, "sales.csv")
    assert not result.unmatched, result.unmatched


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def test_a_referral_credit_naming_the_referred_customer_lands_in_the_referral_records(seeded: Store) -> None:
    _import(
        seeded,
        "date,customer,amount,currency,kind,referred\n"
        f"{_day(20)},northwind.com,250,EUR,referral credit,Credited Customer\n"
        f"{_day(3)},credited.example,8000,EUR,order,\n",
    )
    ids = _ids(seeded)
    with seeded.session() as s:
        view = analyse(s, BusinessPolicy(), NOW)
    assert view.referrer_of[ids["Credited Customer"]] == ids["Northwind"]
    assert view.referral_source[ids["Credited Customer"]] == "referral credit, sales.csv line 2"
    value = view.referral_values[ids["Northwind"]]
    # Its own credit stays its own revenue; a tenth of what the referred customer bought is credited.
    assert (value.own, value.referred, value.credited) == (Decimal("250.00"), Decimal("8000.00"), Decimal("800.000"))
    assert f"referral-ack:{ids['Credited Customer']}" in {t.key for t in view.triggers[ids["Northwind"]]}


def test_the_contact_imports_referred_by_and_parent_columns_land_in_the_same_records(seeded: Store) -> None:
    """With the Outlook fields renamed (a German Outlook), the import's own fields still count."""
    ids = _ids(seeded)
    policy = replace(BusinessPolicy(), referral_field="Empfohlen von", group_field="Muttergesellschaft")
    with seeded.session() as s:
        view = analyse(s, policy, NOW)
        found = links(s, policy)
    assert view.referrer_of[ids["Imported Customer"]] == ids["Northwind"]
    assert view.root_of[ids["Imported Customer"]] == ids["Northwind"]
    assert view.referral_source[ids["Imported Customer"]] == "contact import's column (user field 'Referred By')"
    assert view.parent_source[ids["Imported Customer"]] == "contact import's column (user field 'Parent')"
    assert found.referrer_of == view.referrer_of and found.root_of == view.root_of


def test_the_outlook_field_wins_over_the_import_and_the_import_over_a_referral_credit(seeded: Store) -> None:
    _import(
        seeded,
        "date,customer,amount,currency,kind,referred customer\n"
        f"{_day(20)},globex.example,100,EUR,referral credit,imported.example\n",
    )
    ids = _ids(seeded)
    with seeded.session() as s:
        view = analyse(s, BusinessPolicy(), NOW)
    assert view.referrer_of[ids["Imported Customer"]] == ids["Northwind"]
    (second,) = [p for p in view.problems if "second referrer" in p]
    assert "Imported Customer" in second and "Globex" in second and "sales.csv line 2" in second


def test_a_parent_rule_groups_by_name_or_domain_and_a_rule_naming_no_parent_is_reported(seeded: Store) -> None:
    ids = _ids(seeded)
    policy = replace(
        BusinessPolicy(),
        parent_rules=(
            ParentRule("Acme Holdings", name="acme *"),
            ParentRule("Globex", domain="globex-*"),
            ParentRule("Initech", name="Ini*"),
        ),
    )
    with seeded.session() as s:
        view = analyse(s, policy, NOW)
    assert view.root_of[ids["Acme Deutschland"]] == view.root_of[ids["Acme UK"]] == ids["Acme Holdings"]
    assert view.root_of[ids["Acme Holdings"]] == ids["Acme Holdings"], "the parent matching its own rule"
    assert view.root_of[ids["Globex Retail"]] == ids["Globex"]
    assert view.parent_source[ids["Globex Retail"]] == "rule domain 'globex-*' -> 'Globex'"
    (problem,) = [p for p in view.problems if "Initech" in p]
    assert "no organisation is named 'Initech'" in problem and "[[groups.rules]]" in problem


def test_a_domain_family_groups_its_organisations_only_once_the_admin_confirms_it(seeded: Store) -> None:
    ids = _ids(seeded)
    _import(seeded, f"date,customer,amount,currency,kind\n{_day(5)},acme.de,9000,EUR,order\n")
    families = GroupFamilies(seeded)
    (acme,) = families.families(NOW)
    assert acme.family == "acme" and not acme.confirmed
    assert [name for name, _ in acme.members] == ["Acme Holdings", "Acme Deutschland", "Acme UK"]
    assert acme.parent == "Acme Deutschland", "suggested: the member with the most revenue"
    with seeded.session() as s:
        assert analyse(s, BusinessPolicy(), NOW).root_of[ids["Acme UK"]] == ids["Acme UK"]
    done = families.confirm("ACME", "acme holdings", "admin (cli)", NOW)
    assert done.confirmed and done.parent == "Acme Holdings"
    with seeded.session() as s:
        view = analyse(s, BusinessPolicy(), NOW)
    assert view.root_of[ids["Acme UK"]] == view.root_of[ids["Acme Deutschland"]] == ids["Acme Holdings"]
    assert families.unconfirm("acme")
    with seeded.session() as s:
        assert analyse(s, BusinessPolicy(), NOW).root_of[ids["Acme UK"]] == ids["Acme UK"]


def test_confirming_an_unknown_family_or_a_parent_outside_it_names_the_argument(seeded: Store) -> None:
    families = GroupFamilies(seeded)
    with pytest.raises(GroupFamilyError, match=r"FAMILY 'initech' is not a domain family .*families: acme"):
        families.confirm("initech", None, "admin", NOW)
    with pytest.raises(GroupFamilyError, match=r"--parent 'Globex' is not one member of family 'acme'"):
        families.confirm("acme", "Globex", "admin", NOW)


def test_a_parent_cycle_across_sources_is_named_and_its_members_stand_alone(seeded: Store) -> None:
    """The import makes Northwind the parent of Imported Customer; a rule makes Imported Customer the
    parent of Northwind: a cycle, reported once, while the Acme rule still groups."""
    ids = _ids(seeded)
    policy = replace(
        BusinessPolicy(),
        parent_rules=(ParentRule("Imported Customer", name="Northwind"), ParentRule("Acme Holdings", name="Acme *")),
    )
    with seeded.session() as s:
        view = analyse(s, policy, NOW)
    (cycle,) = [p for p in view.problems if "cycle" in p]
    assert "Northwind" in cycle and "Imported Customer" in cycle
    assert view.root_of[ids["Northwind"]] == ids["Northwind"]
    assert view.root_of[ids["Imported Customer"]] == ids["Imported Customer"]
    assert view.root_of[ids["Acme UK"]] == ids["Acme Holdings"]
