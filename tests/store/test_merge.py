"""Merging duplicates keeps every identity; unmerging restores both sides exactly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from mapping.store import migrate
from mapping.store.merge import MergeError, MergeRequest, merge, unmerge
from mapping.store.models import (
    Base,
    CategoryDimension,
    CategoryOverride,
    Direction,
    EmailAddress,
    EntityType,
    FollowUp,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    ItemKind,
    ItemLink,
    MatchCandidate,
    MatchKind,
    MatchStatus,
    MergeAudit,
    Organisation,
    OrganisationDomain,
    ParticipantRole,
    Person,
    Phone,
    PhoneKind,
    Relationship,
    StaffMailbox,
    Transaction,
    TransactionKind,
    utcnow,
)
from mapping.store.store import Store

AUDIT_TABLES = {"merge_audit", "match_candidates", "audit_log", "audit_head"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path_factory.mktemp('merge') / 'relsync.db'}"
    migrate.upgrade(url)
    store = Store(url)
    yield store
    store.dispose()


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    """A session whose work is rolled back at the end, so examples do not see each other."""
    with store.engine.connect() as conn:
        trans = conn.begin()
        s = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield s
        finally:
            s.close()
            trans.rollback()


def dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every relsync table but the audit ones, timestamps left out."""
    session.flush()
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in AUDIT_TABLES:
            continue
        cols = [c for c in table.columns if not c.name.endswith(("_at",))]
        rows = session.execute(sa.select(*cols).order_by(*table.primary_key.columns)).all()
        out[table.name] = [tuple(r) for r in rows]
    return out


def transaction(n: int, person_id: int | None, org_id: int | None = None) -> Transaction:
    return Transaction(
        occurred_on=date(2026, 3, n % 28 + 1),
        customer_key=f"c{n}@x.example",
        person_id=person_id,
        organisation_id=org_id,
        matched_by="email",
        kind=TransactionKind.ORDER,
        amount=Decimal("10.00") * n,
        currency="EUR",
        source_file="sales.csv",
        source_line=n,
        fingerprint=f"fp-{n}",
    )


def make_person(
    session: Session,
    n: int,
    emails: int,
    phones: list[str],
    links: int,
    mailbox: StaffMailbox,
    name: str | None,
    title: str | None,
) -> Person:
    person = Person(display_name=name or f"Person {n}", given_name=name, job_title=title)
    session.add(person)
    session.flush()
    for i in range(emails):
        session.add(
            EmailAddress(
                address=f"p{n}.{i}@x{n}.example",
                original=f"p{n}.{i}@x{n}.example",
                person_id=person.id,
                is_primary=i == 0,
            )
        )
    for number in phones:
        session.add(Phone(person_id=person.id, e164=number, raw=number, kind=PhoneKind.WORK))
    for i in range(links):
        session.add(
            ItemLink(
                mailbox_id=mailbox.id,
                folder="contacts",
                item_id=f"item-{n}-{i}",
                item_kind=ItemKind.CONTACT,
                entity_type=EntityType.PERSON,
                entity_id=person.id,
            )
        )
    interaction = Interaction(
        kind=InteractionKind.EMAIL, internet_message_id=f"<m{n}@x>", occurred_at=utcnow(), direction=Direction.INBOUND
    )
    session.add(interaction)
    session.flush()
    session.add(
        InteractionParticipant(
            interaction_id=interaction.id,
            person_id=person.id,
            address=f"p{n}.0@x{n}.example",
            role=ParticipantRole.FROM,
        )
    )
    relationship = Relationship(person_id=person.id)
    session.add(relationship)
    session.add(transaction(n, person.id))
    session.flush()
    session.add(
        FollowUp(
            our_id=f"fu-{n}",
            relationship_id=relationship.id,
            owner_mailbox_id=mailbox.id,
            person_id=person.id,
            subject="call",
            method="e-mail",
            due_at=utcnow(),
        )
    )
    session.flush()
    return person


names = st.one_of(st.none(), st.text(min_size=1, max_size=20))
phone_lists = st.lists(st.sampled_from(["+4930123456", "+12125550100", "+81312345678"]), unique=True, max_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    emails_a=st.integers(0, 3),
    emails_b=st.integers(0, 3),
    phones_a=phone_lists,
    phones_b=phone_lists,
    links_a=st.integers(0, 2),
    links_b=st.integers(0, 2),
    name_a=names,
    name_b=names,
    title_b=names,
)
def test_merge_then_unmerge_restores_both_people_exactly(
    store: Store,
    emails_a: int,
    emails_b: int,
    phones_a: list[str],
    phones_b: list[str],
    links_a: int,
    links_b: int,
    name_a: str | None,
    name_b: str | None,
    title_b: str | None,
) -> None:
    with store.engine.connect() as conn:
        trans = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            mailbox = StaffMailbox(address="staff@us.example", display_name="Staff")
            session.add(mailbox)
            session.flush()
            a = make_person(session, 1, emails_a, phones_a, links_a, mailbox, name_a, None)
            b = make_person(session, 2, emails_b, phones_b, links_b, mailbox, name_b, title_b)
            before = dump(session)
            audit = merge(session, MergeRequest(MatchKind.PERSON, a.id, b.id, 0.97, [{"kind": "email"}], "rule"))
            survivor, merged = audit.survivor_id, audit.merged_id
            session.expire_all()
            # Every identity now belongs to the survivor; the merged row remains for audit and undo.
            assert session.get_one(Person, merged).merged_into_id == survivor
            assert set(session.scalars(sa.select(EmailAddress.person_id))) <= {survivor}
            assert set(session.scalars(sa.select(Phone.e164).where(Phone.person_id == survivor))) == set(
                phones_a
            ) | set(phones_b)
            assert set(session.scalars(sa.select(ItemLink.entity_id))) <= {survivor}
            assert set(session.scalars(sa.select(InteractionParticipant.person_id))) == {survivor}
            assert set(session.scalars(sa.select(FollowUp.person_id))) == {survivor}
            assert set(session.scalars(sa.select(Transaction.person_id))) == {survivor}
            unmerge(session, audit.id, "admin@us.example")
            assert dump(session) == before
        finally:
            session.close()
            trans.rollback()


def test_merge_writes_an_audit_entry_and_unmerge_rejects_the_pair(session: Session) -> None:
    mailbox = StaffMailbox(address="staff@us.example", display_name="Staff")
    session.add(mailbox)
    session.flush()
    a = make_person(session, 1, 1, [], 1, mailbox, "Stephen", None)
    b = make_person(session, 2, 1, [], 0, mailbox, "Steve", "CTO")
    candidate = MatchCandidate(kind=MatchKind.PERSON, a_id=a.id, b_id=b.id, score=0.8, evidence=[])
    session.add(candidate)
    session.flush()
    audit = merge(
        session,
        MergeRequest(
            MatchKind.PERSON, a.id, b.id, 0.8, [{"kind": "nickname"}], "by admin@us.example", candidate_id=candidate.id
        ),
    )
    # The contact-backed record (a: has an Outlook contact link) survives; the other's title fills a gap.
    assert audit.survivor_id == a.id and audit.merged_id == b.id
    assert session.get_one(Person, a.id).job_title == "CTO"
    assert audit.evidence == [{"kind": "nickname"}] and audit.reason == "by admin@us.example"
    assert session.get_one(MatchCandidate, candidate.id).status is MatchStatus.MERGED
    undo = unmerge(session, audit.id, "admin@us.example")
    assert undo.action == "unmerge"
    assert session.get_one(MatchCandidate, candidate.id).status is MatchStatus.REJECTED
    assert session.get_one(Person, a.id).job_title is None
    with pytest.raises(MergeError, match="already undone"):
        unmerge(session, audit.id, "admin@us.example")


def test_organisations_merge_with_domains_and_people_and_unmerge(session: Session) -> None:
    ibm = Organisation(name="IBM", normalised_name="ibm")
    long = Organisation(
        name="International Business Machines, Inc.",
        normalised_name="international business machines",
        website="www.ibm.example",
    )
    session.add_all([ibm, long])
    session.flush()
    session.add(OrganisationDomain(domain="ibm.example", organisation_id=long.id))
    person = Person(display_name="Dana", organisation_id=ibm.id)
    session.add(person)
    session.flush()
    before = dump(session)
    audit = merge(session, MergeRequest(MatchKind.ORGANIZATION, ibm.id, long.id, 0.95, [], "rule"))
    assert audit.survivor_id == long.id  # the one with a domain
    session.expire_all()
    assert session.get_one(Person, person.id).organisation_id == long.id
    unmerge(session, audit.id, "admin")
    assert dump(session) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(MergeAudit)) == 2


def test_merging_a_record_twice_or_with_itself_is_refused(session: Session) -> None:
    a, b, c = (Organisation(name=n, normalised_name=n) for n in ("a", "b", "c"))
    session.add_all([a, b, c])
    session.flush()
    with pytest.raises(MergeError, match="itself"):
        merge(session, MergeRequest(MatchKind.ORGANIZATION, a.id, a.id, None, [], "x"))
    audit = merge(session, MergeRequest(MatchKind.ORGANIZATION, a.id, b.id, None, [], "x"))
    with pytest.raises(MergeError, match="already merged"):
        merge(session, MergeRequest(MatchKind.ORGANIZATION, audit.merged_id, c.id, None, [], "x"))


# --- a merged person's facts (transactions, relationship), on SQLite and PostgreSQL ---------------


@pytest.fixture
def any_session(db_url: str) -> Iterator[Session]:
    """A session on a fresh migrated database of each backend, rolled back at the end."""
    migrate.upgrade(db_url)
    both = Store(db_url)
    try:
        with both.engine.connect() as conn:
            trans = conn.begin()
            s = Session(bind=conn, join_transaction_mode="create_savepoint")
            try:
                yield s
            finally:
                s.close()
                trans.rollback()
    finally:
        both.dispose()


def _mailbox(session: Session, address: str) -> StaffMailbox:
    mailbox = StaffMailbox(address=address, display_name=address)
    session.add(mailbox)
    session.flush()
    return mailbox


def _customer(
    session: Session,
    n: int,
    mailbox: StaffMailbox,
    *,
    contact: bool,
    org_id: int | None = None,
    relationship: bool = True,
) -> tuple[Person, Relationship | None]:
    """A person with two transactions, and (unless told) a relationship with an override and a follow-up."""
    person = Person(display_name=f"Customer {n}", organisation_id=org_id)
    session.add(person)
    session.flush()
    if contact:  # an Outlook contact behind it: this record survives a merge
        session.add(
            ItemLink(
                mailbox_id=mailbox.id,
                folder="contacts",
                item_id=f"c-{n}",
                item_kind=ItemKind.CONTACT,
                entity_type=EntityType.PERSON,
                entity_id=person.id,
            )
        )
    session.add_all([transaction(10 * n, person.id, org_id), transaction(10 * n + 1, person.id, org_id)])
    rel = None
    if relationship:
        rel = Relationship(person_id=person.id, owner=mailbox.address)
        session.add(rel)
        session.flush()
        session.add(
            CategoryOverride(
                relationship_id=rel.id, dimension=CategoryDimension.TIER, value="Superior", mailbox_id=mailbox.id
            )
        )
        session.add(
            FollowUp(
                our_id=f"rel-fu-{n}",
                relationship_id=rel.id,
                owner_mailbox_id=mailbox.id,
                person_id=person.id,
                subject="call back",
                method="telephone",
                due_at=utcnow(),
            )
        )
    session.flush()
    return person, rel


def _merge_people(session: Session, a: Person, b: Person) -> MergeAudit:
    audit = merge(session, MergeRequest(MatchKind.PERSON, a.id, b.id, 0.95, [{"kind": "email"}], "rule"))
    session.expire_all()
    return audit


def test_a_merged_persons_transactions_and_relationship_move_to_the_survivor(any_session: Session) -> None:
    mailbox = _mailbox(any_session, "staff@us.example")
    keep, _ = _customer(any_session, 1, mailbox, contact=True, relationship=False)
    gone, theirs = _customer(any_session, 2, mailbox, contact=False)
    assert theirs is not None
    before = dump(any_session)
    audit = _merge_people(any_session, keep, gone)
    assert (audit.survivor_id, audit.merged_id) == (keep.id, gone.id)
    assert set(any_session.scalars(sa.select(Transaction.person_id))) == {keep.id}
    # The survivor had no relationship: the merged one's moves whole (owner, override, follow-up).
    moved = any_session.get_one(Relationship, theirs.id)
    assert moved.person_id == keep.id and moved.owner == "staff@us.example"
    assert set(any_session.scalars(sa.select(CategoryOverride.relationship_id))) == {theirs.id}
    unmerge(any_session, audit.id, "admin@us.example")
    assert dump(any_session) == before


def test_when_the_survivor_has_a_relationship_the_merged_ones_overrides_and_follow_ups_join_it(
    any_session: Session,
) -> None:
    staff, other = _mailbox(any_session, "staff@us.example"), _mailbox(any_session, "other@us.example")
    keep, mine = _customer(any_session, 1, staff, contact=True)
    gone, theirs = _customer(any_session, 2, other, contact=False)
    # An open follow-up of an owner who already has one open on the survivor's relationship.
    assert mine is not None and theirs is not None
    clash = FollowUp(
        our_id="clash",
        relationship_id=theirs.id,
        owner_mailbox_id=staff.id,
        person_id=gone.id,
        subject="visit",
        method="visit",
        due_at=utcnow(),
    )
    any_session.add(clash)
    any_session.flush()
    before = dump(any_session)
    audit = _merge_people(any_session, keep, gone)
    assert audit.survivor_id == keep.id
    assert set(any_session.scalars(sa.select(Transaction.person_id))) == {keep.id}
    assert any_session.get_one(Relationship, theirs.id).person_id == gone.id  # stays, unused, for undo
    assert set(any_session.scalars(sa.select(CategoryOverride.relationship_id))) == {mine.id}
    follow_ups = {r[0]: r[1] for r in any_session.execute(sa.select(FollowUp.our_id, FollowUp.relationship_id))}
    assert follow_ups == {"rel-fu-1": mine.id, "rel-fu-2": mine.id, "clash": theirs.id}
    unmerge(any_session, audit.id, "admin@us.example")
    assert dump(any_session) == before


def test_a_survivor_at_an_organisation_takes_the_overrides_into_the_organisations_relationship(
    any_session: Session,
) -> None:
    mailbox = _mailbox(any_session, "staff@us.example")
    acme = Organisation(name="Acme", normalised_name="acme")
    any_session.add(acme)
    any_session.flush()
    acme_rel = Relationship(organisation_id=acme.id)
    any_session.add(acme_rel)
    any_session.flush()
    keep, _ = _customer(any_session, 1, mailbox, contact=True, org_id=acme.id, relationship=False)
    gone, theirs = _customer(any_session, 2, mailbox, contact=False)
    assert theirs is not None
    before = dump(any_session)
    audit = _merge_people(any_session, keep, gone)
    assert set(any_session.scalars(sa.select(CategoryOverride.relationship_id))) == {acme_rel.id}
    assert any_session.get_one(Relationship, theirs.id).person_id == gone.id
    assert set(any_session.scalars(sa.select(Transaction.person_id))) == {keep.id}
    unmerge(any_session, audit.id, "admin@us.example")
    assert dump(any_session) == before


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keep_rel=st.booleans(),
    gone_rel=st.booleans(),
    keep_org=st.sampled_from(["none", "org", "org with relationship"]),
    one_owner=st.booleans(),
)
def test_a_merged_persons_facts_round_trip_in_every_shape(
    any_session: Session, keep_rel: bool, gone_rel: bool, keep_org: str, one_owner: bool
) -> None:
    nested = any_session.begin_nested()  # each example starts from an empty store
    try:
        staff = _mailbox(any_session, "staff@us.example")
        other = staff if one_owner else _mailbox(any_session, "other@us.example")
        org_id = None
        if keep_org != "none":
            org = Organisation(name="Acme", normalised_name="acme")
            any_session.add(org)
            any_session.flush()
            org_id = org.id
            if keep_org == "org with relationship":
                any_session.add(Relationship(organisation_id=org.id))
        keep, _ = _customer(any_session, 1, staff, contact=True, org_id=org_id, relationship=keep_rel)
        gone, _ = _customer(any_session, 2, other, contact=False, relationship=gone_rel)
        before = dump(any_session)
        audit = _merge_people(any_session, keep, gone)
        assert audit.survivor_id == keep.id
        assert set(any_session.scalars(sa.select(Transaction.person_id))) == {keep.id}
        # Every staff override now sits on a relationship the survivor is classified under, or stays with
        # the merged person's unused relationship only when the survivor has none to take it.
        live = set(
            any_session.scalars(
                sa.select(Relationship.id).where(
                    sa.or_(Relationship.person_id == keep.id, Relationship.organisation_id == org_id)
                )
            )
        )
        overrides = set(any_session.scalars(sa.select(CategoryOverride.relationship_id)))
        if live:
            assert overrides <= live
        unmerge(any_session, audit.id, "admin@us.example")
        assert dump(any_session) == before
    finally:
        nested.rollback()
