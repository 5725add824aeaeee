"""The models on a migrated database: round-trips, uniqueness, cascades, CHECKed enumerations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from mapping.store.models import (
    Direction,
    EmailAddress,
    EntityType,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    InteractionViewer,
    ItemKind,
    ItemLink,
    Organisation,
    OrganisationDomain,
    ParticipantRole,
    Person,
    Phone,
    PhoneKind,
    PostalAddress,
    StaffMailbox,
    SyncState,
)
from mapping.store.store import Store

IST = timezone(timedelta(hours=5, minutes=30))
WHEN = datetime(2026, 3, 29, 1, 30, tzinfo=IST)


def _email(message_id: str | None, **kw: object) -> Interaction:
    return Interaction(
        kind=InteractionKind.EMAIL,
        internet_message_id=message_id,
        occurred_at=WHEN,
        direction=Direction.INBOUND,
        **kw,
    )


def _meeting(uid: str, occurrence: datetime | None) -> Interaction:
    return Interaction(
        kind=InteractionKind.MEETING,
        ical_uid=uid,
        occurrence_start=occurrence,
        occurred_at=occurrence or WHEN,
        direction=Direction.INTERNAL,
    )


def _count(store: Store, model: type[object]) -> int:
    with store.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_a_person_with_organisation_and_contact_details_round_trips(store: Store) -> None:
    with store.session() as s:
        org = Organisation(name="Acme, Inc.", normalised_name="acme", country="GB")
        org.domains.append(OrganisationDomain(domain="acme.co.uk"))
        person = Person(display_name="Stephen Fry", given_name="Stephen", surname="Fry", organisation=org)
        person.emails.append(EmailAddress(address="stephen@acme.co.uk", original="Stephen@Acme.co.uk"))
        person.phones.append(Phone(e164="+442071234567", raw="020 7123 4567", kind=PhoneKind.WORK))
        person.postal_addresses.append(PostalAddress(city="London", postal_code="SW1A 1AA"))
        s.add(person)

    with store.session() as s:
        loaded = s.scalars(sa.select(Person).where(Person.surname == "Fry")).one()
        assert loaded.organisation is not None
        assert loaded.organisation.domains[0].domain == "acme.co.uk"
        assert [e.address for e in loaded.emails] == ["stephen@acme.co.uk"]
        assert loaded.emails[0].is_primary is False and loaded.emails[0].is_valid is True
        assert loaded.phones[0].kind is PhoneKind.WORK
        assert loaded.postal_addresses[0].city == "London"
        assert loaded.created_at.tzinfo is UTC


def test_aware_datetimes_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    with store.session() as s:
        s.add(_email("<a@x>", ends_at=WHEN + timedelta(minutes=5)))

    with store.session() as s:
        got = s.scalars(sa.select(Interaction)).one()

    assert got.occurred_at == WHEN
    assert got.occurred_at.tzinfo is UTC
    assert got.occurred_at.hour == 20 and got.occurred_at.day == 28  # 01:30 +05:30 is 20:00 UTC
    assert got.ends_at is not None and got.ends_at.tzinfo is UTC


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime refused"), store.session() as s:
        s.add(
            Interaction(
                kind=InteractionKind.EMAIL,
                occurred_at=datetime(2026, 1, 1, 12, 0),
                direction=Direction.INBOUND,
            )
        )
    assert _count(store, Interaction) == 0


def test_the_same_internet_message_id_cannot_be_stored_twice(store: Store) -> None:
    with store.session() as s:
        s.add(_email("<same@example.com>"))

    with pytest.raises(IntegrityError), store.session() as s:
        s.add(_email("<same@example.com>"))
    assert _count(store, Interaction) == 1


def test_interactions_without_a_message_id_do_not_collide(store: Store) -> None:
    with store.session() as s:
        s.add_all([_email(None), _email(None), _email("<b@x>")])
    assert _count(store, Interaction) == 3


def test_meeting_occurrences_are_unique_per_uid_and_original_start(store: Store) -> None:
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    with store.session() as s:
        s.add_all([_meeting("uid-1", start), _meeting("uid-1", start + timedelta(days=7))])

    with pytest.raises(IntegrityError), store.session() as s:
        # The same occurrence, seen from another zone: still the same instant.
        s.add(_meeting("uid-1", start.astimezone(IST)))
    assert _count(store, Interaction) == 2


def test_a_single_meeting_is_unique_by_uid_alone(store: Store) -> None:
    with store.session() as s:
        s.add(_meeting("uid-single", None))

    with pytest.raises(IntegrityError), store.session() as s:
        s.add(_meeting("uid-single", None))


def test_the_same_email_address_cannot_belong_to_two_people(store: Store) -> None:
    with store.session() as s:
        s.add(Person(display_name="Ann", emails=[EmailAddress(address="ann@x.com", original="ann@x.com")]))

    with pytest.raises(IntegrityError), store.session() as s:
        s.add(Person(display_name="Anne", emails=[EmailAddress(address="ann@x.com", original="Ann@X.com")]))
    assert _count(store, Person) == 1


def test_a_phone_number_is_unique_per_person(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(
            Person(
                display_name="Bo",
                phones=[
                    Phone(e164="+4930123456", raw="030 123456"),
                    Phone(e164="+4930123456", raw="+49 30 123456"),
                ],
            )
        )


def test_an_item_link_is_unique_per_mailbox_folder_and_long_exchange_id(store: Store) -> None:
    mailbox = store.ensure_mailbox("ann@corp.example", "Ann")
    long_id = "AAMkAGI2" + "x" * 500  # real EWS ids run to 150-200 characters; leave room

    def link() -> ItemLink:
        return ItemLink(
            mailbox_id=mailbox.id,
            folder="contacts",
            item_id=long_id,
            item_kind=ItemKind.CONTACT,
            entity_type=EntityType.PERSON,
            entity_id=1,
            categories=["Customer", "Value: Superior"],
        )

    with store.session() as s:
        s.add(link())
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(link())

    with store.session() as s:
        got = s.scalars(sa.select(ItemLink)).one()
        assert got.item_id == long_id
        assert got.categories == ["Customer", "Value: Superior"]
        assert got.item_kind is ItemKind.CONTACT


def test_the_database_rejects_an_unknown_enumeration_value(store: Store) -> None:
    # Bypass the ORM's own validation: the CHECK constraint is the last line of defence.
    with pytest.raises(IntegrityError), store.session() as s:
        s.execute(
            sa.text(
                "INSERT INTO staff_mailboxes (address, display_name, backend, enabled, needs_attention,"
                " created_at) VALUES ('x@y', 'X', 'imap', true, false, CURRENT_TIMESTAMP)"
            )
        )


def test_deleting_a_person_cascades_to_contact_details_and_unlinks_participants(store: Store) -> None:
    with store.session() as s:
        person = Person(display_name="Cy", emails=[EmailAddress(address="cy@x.com", original="cy@x.com")])
        person.phones.append(Phone(e164="+15551234567", raw="555-123-4567"))
        interaction = _email("<c@x>")
        interaction.participants.append(
            InteractionParticipant(person=person, address="cy@x.com", role=ParticipantRole.FROM)
        )
        s.add_all([person, interaction])

    with store.session() as s:
        # Core DELETE, not the ORM: the database itself must cascade (PRAGMA foreign_keys on SQLite).
        s.execute(sa.delete(Person))

    assert _count(store, EmailAddress) == 0
    assert _count(store, Phone) == 0
    with store.session() as s:
        participant = s.scalars(sa.select(InteractionParticipant)).one()
        assert participant.person_id is None and participant.address == "cy@x.com"


def test_deleting_a_mailbox_cascades_to_its_links_states_and_viewers(store: Store) -> None:
    mailbox = store.ensure_mailbox("bob@corp.example", "Bob")
    with store.session() as s:
        interaction = _email("<d@x>")
        interaction.viewers.append(InteractionViewer(mailbox_id=mailbox.id))
        s.add_all(
            [
                interaction,
                SyncState(mailbox_id=mailbox.id, folder="inbox", state="opaque"),
                ItemLink(
                    mailbox_id=mailbox.id,
                    folder="inbox",
                    item_id="AAMk1",
                    item_kind=ItemKind.MESSAGE,
                    entity_type=EntityType.INTERACTION,
                    entity_id=1,
                ),
            ]
        )

    with store.session() as s:
        s.execute(sa.delete(StaffMailbox))

    assert (_count(store, SyncState), _count(store, ItemLink), _count(store, InteractionViewer)) == (0, 0, 0)
    assert _count(store, Interaction) == 1  # the interaction itself is the company's, it stays


def test_a_foreign_key_to_a_missing_row_is_refused(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(EmailAddress(address="ghost@x.com", original="ghost@x.com", person_id=999_999))
