"""Report store services on SQLite and PostgreSQL: overview, movement from history, compliance, data
quality, a relationship's card and search, on a small hand-made store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from mapping.reports import UNCLASSIFIED, ReportInputError
from mapping.store.history import classifications_as_of, record_changes
from mapping.store.insights import (
    ReportSettings,
    compliance_report,
    movement_report,
    overview_report,
)
from mapping.store.insights_card import MAX_SEARCH_LENGTH, relationship_card, search
from mapping.store.insights_quality import quality_report
from mapping.store.migrate import downgrade, upgrade
from mapping.store.models import (
    Direction,
    EmailAddress,
    EntityType,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    InteractionViewer,
    ItemKind,
    ItemLink,
    MatchCandidate,
    MatchKind,
    Organisation,
    OrganisationDomain,
    ParticipantRole,
    Person,
    Phone,
    Relationship,
    RelationshipStatus,
    RelationshipType,
    StaffMailbox,
    Transaction,
    TransactionKind,
)
from mapping.store.models_history import ClassificationChange
from mapping.store.store import Store

TODAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
SETTINGS = ReportSettings(
    tier_order=("Superior", "Average", "Marginal", "Eliminate"),
    potential_order=("High", "Average", "Low"),
    cadence_days={"Superior": 7, "Average": 31, "Marginal": 92},
)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _tx(
    n: int, day: date, amount: str, kind: TransactionKind = TransactionKind.ORDER, *, product: str | None = None
) -> Transaction:
    return Transaction(
        occurred_on=day,
        customer_key=f"key{n}",
        kind=kind,
        amount=Decimal(amount),
        currency="EUR",
        product=product,
        source_file="sales.csv",
        source_line=n + 1,
        fingerprint=f"fp{n}",
    )


# Transaction has no ORM relationships: link by id after flush instead.
def _link_tx(t: Transaction, org: Organisation | None, person: Person | None) -> None:
    t.organisation_id = org.id if org else None
    t.person_id = person.id if person else None


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One migrated store with :func:`build_company` per backend, shared by the tests that only read."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('insights') / 'relsync.db'}"
        cleanup = None
    else:
        server = request.getfixturevalue("pg_server_url")
        name = f"relsync_t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
        cleanup = (admin, name)
    upgrade(url)
    store = Store(url)
    store.ids = build_company(store)  # type: ignore[attr-defined]
    try:
        yield store
    finally:
        store.dispose()
        if cleanup is not None:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def company(store: Store) -> dict[str, int]:
    """A fresh store (per test, for tests that write) with :func:`build_company`."""
    return build_company(store)


def build_company(store: Store) -> dict[str, int]:
    """Acme (Superior/High), Bolt (Average/Low, no domain), Crane (Marginal/Low), Solo (a person)."""
    with store.session() as s:
        ann = StaffMailbox(address="ann@us.example", display_name="Ann")
        bob = StaffMailbox(address="bob@us.example", display_name="Bob")
        acme = Organisation(
            name="Acme 100% Tools",
            normalised_name="acme 100% tools",
            domains=[OrganisationDomain(domain="acme.com")],
            industry="Manufacturing",
        )
        bolt = Organisation(name="Bolt_Works", normalised_name="bolt works")
        crane = Organisation(name="Crane", normalised_name="crane", domains=[OrganisationDomain(domain="crane.io")])
        jane = Person(
            display_name="Jane Roe",
            organisation=acme,
            emails=[EmailAddress(address="jane@acme.com", original="jane@acme.com")],
            phones=[Phone(e164="+4930123456", raw="030 123456")],
        )
        joe = Person(display_name="Joe Bloggs", organisation=bolt)
        solo = Person(
            display_name="Sole Trader",
            emails=[EmailAddress(address="solo@gmail.com", original="solo@gmail.com", is_valid=False)],
        )
        s.add_all([ann, bob, acme, bolt, crane, jane, joe, solo])
        s.flush()

        def rel(**kw: Any) -> Relationship:
            return Relationship(status=RelationshipStatus.ACTIVE, classified_at=NOW, **kw)

        rels = {
            "acme": rel(
                organisation_id=acme.id,
                type=RelationshipType.CUSTOMER,
                tier="Superior",
                potential="High",
                source="web",
                industry="Manufacturing",
                owner_mailbox_id=ann.id,
                latest_interaction_at=_at(TODAY - timedelta(days=30)),
            ),
            "bolt": rel(
                organisation_id=bolt.id,
                type=RelationshipType.CUSTOMER,
                tier="Average",
                potential="Low",
                source="fair",
                owner_mailbox_id=bob.id,
                latest_interaction_at=_at(TODAY - timedelta(days=3)),
            ),
            "crane": rel(
                organisation_id=crane.id,
                type=RelationshipType.LEAD,
                tier="Marginal",
                potential="Low",
                owner_mailbox_id=ann.id,
            ),
            "solo": rel(person_id=solo.id, type=RelationshipType.CUSTOMER, tier="Average", potential="High"),
        }
        s.add_all(rels.values())
        s.flush()
        txs = [
            (_tx(1, TODAY - timedelta(days=10), "800.00", product="Widgets"), acme, None),
            (_tx(2, TODAY - timedelta(days=9), "50.00", TransactionKind.RETURN, product="Widgets"), acme, None),
            (_tx(3, TODAY - timedelta(days=100), "150.00", product="Gadgets"), bolt, None),
            (_tx(4, TODAY - timedelta(days=20), "100.00", product="Widgets"), None, solo),
            (_tx(5, TODAY - timedelta(days=5), "999.00", product="Mystery"), None, None),  # unmatched
            (_tx(6, TODAY - timedelta(days=800), "5000.00", product="Widgets"), bolt, None),  # outside the period
        ]
        for t, org, person in txs:
            _link_tx(t, org, person)
            s.add(t)
        mail = Interaction(
            kind=InteractionKind.EMAIL,
            subject="Quote for widgets",
            occurred_at=_at(TODAY, 9),
            direction=Direction.INBOUND,
            internet_message_id="<m1@acme.com>",
            snippet="secret body",
        )
        private = Interaction(
            kind=InteractionKind.EMAIL,
            subject="Private matter",
            occurred_at=_at(TODAY, 11),
            direction=Direction.INBOUND,
            internet_message_id="<m2@acme.com>",
            is_private=True,
        )
        s.add_all([mail, private])
        s.flush()
        for item in (mail, private):
            s.add(
                InteractionParticipant(
                    interaction_id=item.id, person_id=jane.id, address="jane@acme.com", role=ParticipantRole.FROM
                )
            )
        s.add_all(
            [
                InteractionViewer(interaction_id=mail.id, mailbox_id=ann.id),
                InteractionViewer(interaction_id=mail.id, mailbox_id=bob.id),
            ]
        )
        s.add(
            ItemLink(
                mailbox_id=ann.id,
                folder="contacts",
                item_id="c-solo",
                item_kind=ItemKind.CONTACT,
                entity_type=EntityType.PERSON,
                entity_id=solo.id,
            )
        )
        s.add_all(
            [
                FollowUp(
                    our_id="f1",
                    relationship_id=rels["acme"].id,
                    owner_mailbox_id=ann.id,
                    organisation_id=acme.id,
                    method="e-mail",
                    subject="Call Acme",
                    due_at=_at(TODAY - timedelta(days=3)),
                    created_at=_at(TODAY - timedelta(days=40)),
                ),
                FollowUp(
                    our_id="f2",
                    relationship_id=rels["crane"].id,
                    owner_mailbox_id=ann.id,
                    organisation_id=crane.id,
                    method="e-mail",
                    subject="Call Crane",
                    due_at=_at(TODAY),
                    created_at=_at(TODAY - timedelta(days=40)),
                ),
                FollowUp(
                    our_id="f3",
                    relationship_id=rels["bolt"].id,
                    owner_mailbox_id=bob.id,
                    organisation_id=bolt.id,
                    method="e-mail",
                    subject="Call Bolt",
                    due_at=_at(TODAY - timedelta(days=5)),
                    status=FollowUpStatus.COMPLETED,
                    completed_at=_at(TODAY - timedelta(days=6)),
                    created_at=_at(TODAY - timedelta(days=40)),
                ),
            ]
        )
        a, b = sorted((jane.id, joe.id))
        s.add(MatchCandidate(kind=MatchKind.PERSON, a_id=a, b_id=b, score=0.81))
        s.flush()
        return {**{k: r.id for k, r in rels.items()}, "jane": jane.id, "joe": joe.id, "solo_person": solo.id}


def test_overview_counts_pareto_and_revenue_in_the_period(shared: Store) -> None:
    store = shared
    report = overview_report(store, SETTINGS, today=TODAY)
    o = report.overview
    assert o.total == 4
    assert dict(o.by_type) == {"customer": 3, "lead": 1}
    assert o.tiers[:3] == ("Superior", "Average", "Marginal")
    assert o.matrix[0][0] == 1 and o.matrix[1] == (1, 0, 1)  # Superior x High; Average: High and Low
    p = report.pareto
    # Acme 750, Bolt 150, Solo 100 (the person's own relationship); the 5000 of two years ago is outside.
    assert p.total == Decimal("1000.00") and p.customers == 3
    assert [c.name for c in p.inside] == ["Acme 100% Tools", "Bolt_Works"]
    by = {b.dimension: {bar.label: bar.amount for bar in b.bars} for b in report.revenue}
    assert by["source"] == {"web": Decimal("750.00"), "fair": Decimal("150.00"), "unknown": Decimal("100.00")}
    assert by["product"] == {"Widgets": Decimal("850.00"), "Gadgets": Decimal("150.00"), "Mystery": Decimal("999.00")}
    assert report.since == TODAY - timedelta(days=364)


def test_a_future_as_of_day_is_refused_in_one_sentence(shared: Store) -> None:
    store = shared
    with pytest.raises(ReportInputError, match=r"--as-of 2026-07-01 is in the future \(today is 2026-06-30\)"):
        overview_report(store, SETTINGS, as_of=TODAY + timedelta(days=1), today=TODAY)
    with pytest.raises(ReportInputError, match="before it starts"):
        movement_report(store, TODAY, TODAY - timedelta(days=1), SETTINGS, today=TODAY)


def test_history_records_only_changes_and_movement_reads_it(store: Store, company: dict[str, int]) -> None:
    acme = company["acme"]
    start = datetime(2026, 1, 10, tzinfo=UTC)

    def classify(at: datetime, **tiers: str) -> int:
        with store.session() as s:
            rows = [
                {
                    "id": company[k],
                    "type": RelationshipType.CUSTOMER,
                    "status": RelationshipStatus.ACTIVE,
                    "tier": tier,
                    "potential": "High",
                    "value_percent": 50.0,
                }
                for k, tier in tiers.items()
            ]
            written = record_changes(s, rows, at)
            s.execute(sa.update(Relationship), [{k: v for k, v in r.items()} for r in rows])
            return written

    with store.session() as s:  # a clean slate: these relationships were never classified
        s.execute(sa.update(Relationship).values(tier=None, type=None, status=None, potential=None, value_percent=None))
    assert classify(start, acme="Average", bolt="Average") == 2
    assert classify(start + timedelta(days=1), acme="Average", bolt="Average") == 0  # nothing changed
    assert classify(datetime(2026, 3, 1, tzinfo=UTC), acme="Superior") == 1
    assert classify(datetime(2026, 5, 1, tzinfo=UTC), bolt="Marginal") == 1
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ClassificationChange)) == 4
        assert classifications_as_of(s, datetime(2026, 4, 1, tzinfo=UTC))[acme].tier == "Superior"
    moved = movement_report(store, date(2026, 2, 1), date(2026, 4, 1), SETTINGS, today=TODAY)
    assert [(m.name, m.before, m.after) for m in moved.moves] == [("Acme 100% Tools", "Average", "Superior")]
    assert moved.unchanged == 1
    since_start = movement_report(store, date(2026, 1, 1), TODAY, SETTINGS, today=TODAY)
    assert {(m.before, m.after) for m in since_start.moves} == {(UNCLASSIFIED, "Superior"), (UNCLASSIFIED, "Marginal")}
    past = overview_report(store, SETTINGS, as_of=date(2026, 2, 1), today=TODAY)
    assert dict(past.overview.by_tier)["Average"] == 2 and past.overview.total == 2


def test_upgrade_backfills_the_current_classification_as_first_history_row(db_url: str) -> None:
    upgrade(db_url, "0009")
    store = Store(db_url)
    try:
        with store.session() as s:
            org = Organisation(name="Old Co", normalised_name="old co")
            s.add(org)
            s.flush()
            s.add_all(
                [
                    Relationship(
                        organisation_id=org.id,
                        tier="Average",
                        potential="Low",
                        classified_at=NOW,
                        type=RelationshipType.CUSTOMER,
                        status=RelationshipStatus.ACTIVE,
                    )
                ]
            )
        upgrade(db_url)
        with store.session() as s:
            rows = s.execute(
                sa.select(ClassificationChange.tier, ClassificationChange.changed_at, ClassificationChange.type)
            ).all()
        assert rows == [("Average", NOW, "customer")]
        downgrade(db_url, "0009")
        upgrade(db_url)
    finally:
        store.dispose()


def test_compliance_counts_per_owner(shared: Store) -> None:
    store = shared
    ann, bob = compliance_report(store, SETTINGS, today=TODAY)
    assert (ann.owner, ann.open, ann.due, ann.overdue, ann.average_days_overdue) == ("ann@us.example", 2, 1, 1, 3.0)
    assert (bob.done, bob.done_on_time, bob.on_time_percent) == (1, 1, 100.0)
    # Acme (Superior, weekly) last heard from 30 days ago; Crane (Marginal) never.
    assert ann.lapsed_by_tier == (("Marginal", 1), ("Superior", 1))
    assert bob.lapsed == 0


def test_data_quality_lists(shared: Store) -> None:
    store = shared
    q = quality_report(store, limit=10)
    assert [i.label for i in q.get("people_without_valid_address").items] == ["Joe Bloggs", "Sole Trader"]
    assert [i.label for i in q.get("contacts_without_organisation").items] == ["Sole Trader"]
    assert [i.label for i in q.get("organisations_without_domain").items] == ["Bolt_Works"]
    assert [i.label for i in q.get("pending_duplicates").items] == ["Jane Roe / Joe Bloggs"]
    unmatched = q.get("unmatched_sales_rows")
    assert unmatched.total == 1 and "sales.csv line 6: 999.00 EUR" in unmatched.items[0].detail
    assert quality_report(store, limit=0).get("people_without_valid_address").total == 2


def test_relationship_card_has_everything_but_bodies_and_private_items(shared: Store) -> None:
    store, company = shared, shared.ids  # type: ignore[attr-defined]
    card = relationship_card(store, company["acme"])
    assert card is not None
    assert card.name == "Acme 100% Tools" and card.owner == "ann@us.example"
    assert card.organisation is not None and card.organisation.domains == ("acme.com",)
    assert [p.name for p in card.people] == ["Jane Roe"] and card.people[0].phones == ("+4930123456",)
    assert [(t.subject, t.mailboxes) for t in card.timeline] == [
        ("Quote for widgets", ("ann@us.example", "bob@us.example"))
    ]
    assert "secret body" not in repr(card)
    assert card.interactions_total == 1 and card.transactions_total == 2
    assert (card.interactions_count, card.transactions_count) == ("1", "2")
    assert card.key_dates.next_follow_up == TODAY - timedelta(days=3)
    assert card.classification["result"]["tier"] == "Superior"
    assert [(d.kind, d.status) for d in card.duplicates] == [("person", "pending")]
    solo = relationship_card(store, company["solo"])
    assert solo is not None and solo.kind == "person" and solo.transactions_total == 1
    assert relationship_card(store, 999_999) is None


def test_search_by_name_email_domain_or_phone(shared: Store) -> None:
    for text, expected, how in [
        ("jane@acme", "Acme 100% Tools", "e-mail"),
        ("030 123", "Acme 100% Tools", "phone"),
        ("crane.io", "Crane", "domain"),
        ("ACME 100", "Acme 100% Tools", "name"),
        ("sole", "Sole Trader", "name"),
    ]:
        assert [(h.name, h.matched) for h in search(shared, text)] == [(expected, how)], text


def test_search_wildcards_are_plain_and_long_text_is_refused(shared: Store) -> None:
    store = shared
    assert [h.name for h in search(store, "_")] == ["Bolt_Works"]
    assert [h.name for h in search(store, "%")] == ["Acme 100% Tools"]
    assert search(store, "   ") == ()
    with pytest.raises(ReportInputError, match=f"at most {MAX_SEARCH_LENGTH}"):
        search(store, "x" * 10_000)


def test_a_busy_relationships_timeline_walks_the_time_index_to_the_same_answer(
    shared: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mapping.store import insights_card

    acme = shared.ids["acme"]  # type: ignore[attr-defined]
    by_participants = relationship_card(shared, acme)
    monkeypatch.setattr(insights_card, "WALK_ABOVE", 0)
    walked = relationship_card(shared, acme)
    assert by_participants is not None and walked is not None
    assert walked.timeline == by_participants.timeline and walked.interactions_total == 1
    monkeypatch.setattr(insights_card, "COUNT_CAP", 1)  # a total past the cap is counted no further
    capped = relationship_card(shared, acme)
    assert capped is not None and capped.transactions_total == 2 and capped.transactions_count == "1+"


def test_today_ranks_customers_by_the_revenue_classification_stored(store: Store, company: dict[str, int]) -> None:
    from mapping.store.history import record_revenue

    summed = overview_report(store, SETTINGS, today=TODAY).pareto
    assert summed.total == Decimal("1000.00")  # no classification yet: summed from the sales rows
    with store.session() as s:
        assert (
            record_revenue(
                s,
                {company["acme"]: Decimal("750"), company["bolt"]: Decimal("150.004"), company["solo"]: Decimal("-20")},
                NOW,
            )
            == 3
        )
        assert record_revenue(s, {company["acme"]: Decimal("750.00"), company["bolt"]: Decimal("90")}, NOW) == 1
    stored = overview_report(store, SETTINGS, today=TODAY).pareto
    assert [(c.name, c.revenue) for c in stored.inside] == [("Acme 100% Tools", Decimal("750.00"))]
    assert stored.customers == 2 and stored.total == Decimal("840.00")  # Solo's loss is not revenue
    # An earlier day is always summed from the sales rows of its own period.
    past = overview_report(store, SETTINGS, as_of=TODAY - timedelta(days=1), today=TODAY).pareto
    assert past.total == Decimal("1000.00")


def test_control_characters_in_a_search_are_spaces_never_a_database_error(shared: Store) -> None:
    assert search(shared, "\x00" * 50) == ()
    assert [h.name for h in search(shared, "\x00Acme\x00")] == ["Acme 100% Tools"]
