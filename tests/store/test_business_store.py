"""The business case in the store, on SQLite and PostgreSQL.

Bad input: a parent cycle (A parent of B parent of A), a referral to oneself, a 10 KB "What matters"
note and a catalogue with a duplicate alias, each one sentence naming the item, next to good links
that must still be used (the rest proceeds). Contact pressure from the stored interactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mapping.business_policy import BusinessPolicy
from mapping.catalogue import parse_catalogue
from mapping.store.business import analyse
from mapping.store.models import Organisation, Person, Relationship, RelationshipStatus, Transaction, TransactionKind
from mapping.store.store import Store

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
TODAY = NOW.date()
LONG_NOTE = "Quality first. " * 700  # about 10 KB


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    """Organisations Alpha and Beta naming each other as parent, Gamma referred by itself, Delta with a
    10 KB note, Epsilon referred by Alpha and a subsidiary of Zeta (good links)."""
    with store.session() as s:
        orgs = {
            n: Organisation(name=n, normalised_name=n.lower())
            for n in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta")
        }
        fields = {
            "Alpha": {"Parent Organization": "Beta"},
            "Beta": {"Parent Organization": "Alpha"},
            "Gamma": {"Referred By": "Gamma"},
            "Delta": {"What matters": LONG_NOTE},
            "Epsilon": {"Referred By": "alpha", "Parent Organization": "Zeta"},
        }
        for name, org in orgs.items():
            s.add(org)
            s.add(Person(display_name=f"{name} Contact", organisation=org, user_fields=fields.get(name)))
        s.flush()
        for org in orgs.values():
            s.add(Relationship(organisation_id=org.id, status=RelationshipStatus.ACTIVE))
        for n, (name, days, amount) in enumerate([("Epsilon", 3, "5000"), ("Alpha", 40, "900"), ("Zeta", 10, "700")]):
            s.add(
                Transaction(
                    occurred_on=TODAY - timedelta(days=days),
                    customer_key=name,
                    kind=TransactionKind.ORDER,
                    amount=Decimal(amount),
                    currency="EUR",
                    product="Widget Pro II",
                    source_file="s.csv",
                    source_line=n + 2,
                    fingerprint=f"fp{n}",
                    organisation_id=orgs[name].id,
                )
            )
    yield store


def _ids(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            o.name: r.id
            for r, o in s.query(Relationship, Organisation).join(
                Organisation, Organisation.id == Relationship.organisation_id
            )
        }


def test_a_parent_cycle_is_named_and_its_members_stand_alone_while_good_links_hold(seeded: Store) -> None:
    ids = _ids(seeded)
    with seeded.session() as s:
        view = analyse(s, BusinessPolicy(), NOW)
    cycle = [p for p in view.problems if "cycle" in p]
    assert len(cycle) == 1 and "Alpha" in cycle[0] and "Beta" in cycle[0]
    assert view.root_of[ids["Alpha"]] == ids["Alpha"] and view.root_of[ids["Beta"]] == ids["Beta"]
    assert view.root_of[ids["Epsilon"]] == ids["Zeta"]  # the rest proceeds


def test_a_referral_to_oneself_is_named_and_ignored_while_a_good_referral_counts(seeded: Store) -> None:
    ids = _ids(seeded)
    with seeded.session() as s:
        view = analyse(s, BusinessPolicy(), NOW)
    (own,) = [p for p in view.problems if "referred by itself" in p]
    assert own.startswith("Gamma ")
    assert ids["Gamma"] not in view.referrer_of
    assert view.referrer_of[ids["Epsilon"]] == ids["Alpha"]
    # Epsilon's first order three days ago: Alpha's owner is asked to acknowledge the referral.
    assert [t.key for t in view.triggers[ids["Alpha"]]] == [f"referral-ack:{ids['Epsilon']}"]


def test_a_10kb_note_is_cut_and_reported_once_per_change(seeded: Store) -> None:
    ids = _ids(seeded)
    with seeded.session() as s:
        first = analyse(s, BusinessPolicy(), NOW)
    note = first.notes[ids["Delta"]]
    assert note.text is not None and len(note.text) <= 500 and note.text.endswith("...")
    (problem,) = [p for p in first.problems if "What matters" in p]
    assert "Delta" in problem and "shorten it in Outlook" in problem
    with seeded.session() as s:
        again = analyse(s, BusinessPolicy(), NOW)
    assert again.notes[ids["Delta"]] == note and not [p for p in again.problems if "What matters" in p]


def test_a_duplicate_catalogue_alias_is_named_and_the_rest_of_the_catalogue_maps_products(seeded: Store) -> None:
    ids = _ids(seeded)
    catalogue, problems = parse_catalogue(
        "product,alias\nWidget Pro 2,Widget Pro II\nGadget,Widget Pro II\nGadget,Gizmo\n", "catalogue.csv"
    )
    assert len(problems) == 1 and "Widget Pro II" in problems[0].message and "line 3" in problems[0].message
    policy = replace(
        BusinessPolicy(),
        catalogue=catalogue,
        catalogue_problems=tuple(problems),
        offers=replace(BusinessPolicy().offers, min_peers=1, min_support=0.0),
    )
    with seeded.session() as s:
        view = analyse(s, policy, NOW)
    assert problems[0].message in view.problems
    offered = {s.product for s in view.offers.get(ids["Beta"], [])}
    assert offered == {"Widget Pro 2"}, "the books' spelling is mapped to the catalogue's product"


def test_over_contacted_relationships_are_listed_with_the_method_to_use_instead(seeded: Store) -> None:
    """Five e-mails to Zeta in two weeks without an answer, on a monthly cadence: over-contacted; Alpha
    answered after our two e-mails: not."""
    from mapping.followups import Cadence, FollowUpPolicy
    from mapping.store.business_service import BusinessStore
    from mapping.store.models import Direction, Interaction, InteractionKind, InteractionParticipant, ParticipantRole

    ids = _ids(seeded)
    with seeded.session() as s:
        for rid in (ids["Zeta"], ids["Alpha"]):
            rel = s.get(Relationship, rid)
            assert rel is not None
            rel.tier, rel.potential = "Average", "High"
        people = {o.name: p.id for p, o in s.query(Person, Organisation).join(Organisation)}

        def mail(who: str, days_ago: int, direction: Direction) -> None:
            s.add(
                Interaction(
                    kind=InteractionKind.EMAIL,
                    occurred_at=NOW - timedelta(days=days_ago),
                    direction=direction,
                    participants=[
                        InteractionParticipant(
                            person_id=people[who], address=f"{who.lower()}@example.com", role=ParticipantRole.TO
                        )
                    ],
                )
            )

        for days in (14, 10, 7, 3, 1):
            mail("Zeta", days, Direction.OUTBOUND)
        mail("Alpha", 9, Direction.OUTBOUND)
        mail("Alpha", 8, Direction.OUTBOUND)
        mail("Alpha", 5, Direction.INBOUND)
    policy = FollowUpPolicy(
        cadences={"Average": Cadence("monthly", months=1)}, methods={"High": ("e-mail", "telephone", "face to face")}
    )
    found = BusinessStore(seeded, BusinessPolicy()).over_contacted(policy, NOW)
    assert [(p.name, p.unanswered, p.method) for p in found] == [("Zeta", 5, "telephone")]
    assert "5 messages since" in found[0].line and "no more e-mail, try telephone" in found[0].line
