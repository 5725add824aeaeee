"""Applying a page of contacts: set-based upserts of people, their addresses, phones and postal addresses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.changes import ItemChange, Page, SyncRules
from mapping.hygiene import normalise_company_name
from mapping.policy import org_domain_for
from mapping.records import ContactRecord
from mapping.store.apply.directory import Directory
from mapping.store.apply.links import Links, touch_link, unlink
from mapping.store.batching import among
from mapping.store.bulk import insert_rows, insert_rows_with_ids
from mapping.store.models import (
    AddressKind,
    Base,
    EmailAddress,
    EntityType,
    Person,
    Phone,
    PhoneKind,
    PostalAddress,
)

_TABLES = Base.metadata.tables


def apply_contacts(session: Session, page: Page, links: Links, directory: Directory, now: datetime) -> None:
    """Upsert a page of contacts set-based: a constant number of statements per page, not per contact.

    People, their addresses, phones and postal addresses are loaded in bulk first. Existing people
    are updated through the ORM (one flush); new people are plain rows inserted in one executemany
    whose RETURNING ids come back in row order, and every new e-mail address, phone and postal
    address then goes in with one executemany per table.
    """
    records = [c.record for c in page.changes if isinstance(c.record, ContactRecord)]
    internal = directory.rules.internal_domains
    addresses = {e.address for r in records for e in r.emails if e.is_valid}
    names = {normalise_company_name(r.company_name) for r in records if r.company_name}
    domains = {d for r in records for e in r.emails if (d := org_domain_for(e.address, internal))}
    directory.load(addresses, names, domains)
    result = directory.result
    linked_ids = {link.entity_id for link in links.values() if link.entity_type == EntityType.PERSON}
    known = _PeopleOnPage.load(session, linked_ids | set(directory.person_by_address.values()))
    directory.plan_organisations(
        (r.company_name, _contact_domain(r, internal), r.website)
        for r in records
        if _hidden_contact(r, directory.rules) is None and _unstored_contact(r, internal) is None
    )
    by_new_address: dict[str, _Someone] = {}  # addresses added on this page, to whom
    new_people: list[_NewPerson] = []
    children = _ChildRows()
    linked: list[tuple[ItemChange, _Someone]] = []
    for change in page.changes:
        link = links.get(change.item_id)
        record = change.record
        if record is None:
            result.deleted += unlink(session, page, link, now, directory.rules)
            continue
        assert isinstance(record, ContactRecord)
        hidden = _hidden_contact(record, directory.rules)
        if hidden is not None:
            # A private contact is the staff member's own business: nothing of it is stored, and a
            # contact made private later stops being a source (the person may be known elsewhere).
            result.skipped[hidden] += 1
            if link is not None and link.deleted_at is None:
                link.deleted_at = now
            continue
        valid = [e for e in record.emails if e.is_valid]
        unstored = _unstored_contact(record, internal)
        if unstored is not None:
            result.skipped[unstored] += 1
            continue
        person: _Someone | None = None
        if link is not None and link.entity_type == EntityType.PERSON:
            person = known.people.get(link.entity_id)
        if person is None:
            person = next(
                (
                    known.people.get(directory.person_by_address[e.address])
                    for e in valid
                    if e.address in directory.person_by_address
                ),
                None,
            )
        if person is None:
            person = next((by_new_address[e.address] for e in valid if e.address in by_new_address), None)
        if person is None:
            person = _NewPerson(display_name=record.display_name[:255] or valid[0].address)
            new_people.append(person)
            result.people_created += 1
        _update_person(person, record)
        org_id = directory.organisation(record.company_name, _contact_domain(record, internal), record.website)
        if org_id is not None:
            person.organisation_id = org_id
        _add_addresses(person, record, directory, known, by_new_address, children)
        linked.append((change, person))
    if directory.planned:
        raise RuntimeError("organisations planned for the contacts page were not all used")
    session.flush()  # the updated people and the page's organisation domains
    _insert_people(session, new_people)
    children.insert(session)
    for change, person in linked:
        assert person.id is not None
        created = touch_link(session, page, links, change, EntityType.PERSON, person.id, now)
        result.created += created
        result.updated += not created
    for address, person in by_new_address.items():
        assert person.id is not None
        directory.person_by_address[address] = person.id
        directory.new_addresses.add(address)


@dataclass(slots=True, eq=False)
class _NewPerson:
    """A person first seen on this page, as a plain row: inserted with the page's others in one
    executemany (see :func:`_insert_people`); ``id`` is set from the insert's RETURNING."""

    display_name: str
    given_name: str | None = None
    middle_name: str | None = None
    surname: str | None = None
    nickname: str | None = None
    job_title: str | None = None
    department: str | None = None
    user_fields: dict[str, str] | None = None
    organisation_id: int | None = None
    id: int | None = None
    has_email: bool = False  # whether an address of this page is already theirs (the first is primary)


#: Whom a contact lands on: a stored person (updated through the ORM) or one new on this page.
_Someone = Person | _NewPerson


_PERSON_COLUMNS = (
    "display_name",
    "given_name",
    "middle_name",
    "surname",
    "nickname",
    "job_title",
    "department",
    "organisation_id",
)


def _insert_people(session: Session, people: list[_NewPerson]) -> None:
    """Insert the page's new people in one statement and give each its id, in row order."""
    rows: list[dict[str, object]] = []
    for person in people:
        row: dict[str, object] = {c: getattr(person, c) for c in _PERSON_COLUMNS}
        if person.user_fields is not None:  # an unset one stays SQL NULL (as the ORM leaves it), not JSON 'null'
            row["user_fields"] = person.user_fields
        rows.append(row)
    for person, person_id in zip(people, insert_rows_with_ids(session, "people", rows, json_none="null"), strict=True):
        person.id = person_id


@dataclass
class _ChildRows:
    """The e-mail addresses, phones and postal addresses a page adds, as rows awaiting their person's id."""

    emails: list[tuple[_Someone, dict[str, object]]] = field(default_factory=list)
    phones: list[tuple[_Someone, dict[str, object]]] = field(default_factory=list)
    postal_addresses: list[tuple[_Someone, dict[str, object]]] = field(default_factory=list)

    def insert(self, session: Session) -> None:
        """One executemany per table, once every person has an id."""
        for table, rows in (
            ("email_addresses", self.emails),
            ("phones", self.phones),
            ("postal_addresses", self.postal_addresses),
        ):
            insert_rows(session, table, [{**row, "person_id": p.id} for p, row in rows], json_none="null")


@dataclass
class _PeopleOnPage:
    """The existing people a page of contacts touches, with what they already have, in three queries."""

    people: dict[int, Person]
    has_email: set[int]
    phones: dict[int, set[str]]
    postal_kinds: dict[int, set[AddressKind]]

    @classmethod
    def load(cls, session: Session, ids: set[int]) -> _PeopleOnPage:
        people: dict[int, Person] = {}
        has_email: set[int] = set()
        phones: dict[int, set[str]] = {}
        kinds: dict[int, set[AddressKind]] = {}
        if ids:
            people.update({p.id: p for p in session.scalars(sa.select(Person).where(among(session, Person.id, ids)))})
            has_email.update(
                session.scalars(
                    sa.select(EmailAddress.person_id).where(among(session, EmailAddress.person_id, ids)).distinct()
                )
            )
            for person_id, e164 in session.execute(
                sa.select(Phone.person_id, Phone.e164).where(among(session, Phone.person_id, ids))
            ):
                phones.setdefault(person_id, set()).add(e164)
            for person_id, kind in session.execute(
                sa.select(PostalAddress.person_id, PostalAddress.kind).where(
                    among(session, PostalAddress.person_id, ids)
                )
            ):
                kinds.setdefault(person_id, set()).add(kind)
        return cls(people, has_email, phones, kinds)


def _add_addresses(
    person: _Someone,
    record: ContactRecord,
    directory: Directory,
    known: _PeopleOnPage,
    by_new_address: dict[str, _Someone],
    children: _ChildRows,
) -> None:
    """Add the contact's addresses, phones and postal addresses the person does not have yet."""
    key = id(person) if person.id is None else person.id
    has_email = person.has_email if isinstance(person, _NewPerson) else person.id in known.has_email
    for email in record.emails:
        if not email.is_valid or email.address in directory.person_by_address or email.address in by_new_address:
            continue  # an address already known stays with its person; identity resolution merges
        children.emails.append(
            (
                person,
                {
                    "address": email.address,
                    "original": email.original[:320],
                    "is_primary": not has_email,
                    "is_valid": True,
                },
            )
        )
        has_email = True
        by_new_address[email.address] = person
    if isinstance(person, _NewPerson):
        person.has_email = has_email
    elif has_email:
        known.has_email.add(person.id)
    numbers = known.phones.setdefault(key, set())
    for phone in record.phones:
        if phone.e164 and phone.e164 not in numbers:
            children.phones.append(
                (
                    person,
                    {"e164": phone.e164, "raw": phone.raw[:64], "kind": PhoneKind(phone.kind), "label": phone.label},
                )
            )
            numbers.add(phone.e164)
    kinds = known.postal_kinds.setdefault(key, set())
    for postal in record.postal_addresses:
        kind = AddressKind(postal.kind)
        if kind in kinds:
            continue
        children.postal_addresses.append(
            (
                person,
                {
                    "kind": kind,
                    "street": _cut(postal.street, 512),
                    "city": _cut(postal.city, 128),
                    "state": _cut(postal.state, 128),
                    "postal_code": _cut(postal.postal_code, 32),
                    "country": _cut(postal.country, 64),
                },
            )
        )
        kinds.add(kind)


def _unstored_contact(record: ContactRecord, internal: frozenset[str]) -> str | None:
    """Why a (visible) contact is not stored, or None when it is."""
    valid = [e.address for e in record.emails if e.is_valid]
    if not valid and not record.display_name.strip():
        return "contact without name or address"
    if valid and all(a.split("@")[-1] in internal for a in valid):
        return "internal contact"  # a colleague kept as a contact: staff are not customer relationships
    return None


def _contact_domain(record: ContactRecord, internal: frozenset[str]) -> str | None:
    """The organisation domain of the contact's first valid address that has one."""
    return next((d for e in record.emails if e.is_valid and (d := org_domain_for(e.address, internal))), None)


def _hidden_contact(record: ContactRecord, rules: SyncRules) -> str | None:
    privacy = rules.privacy
    if record.sensitivity == "private" and privacy.skip_private:
        return "private"
    if record.sensitivity == "confidential" and privacy.skip_confidential:
        return "confidential"
    if record.sensitivity == "personal" and privacy.skip_personal:
        return "personal"
    return None


def _update_person(person: _Someone, record: ContactRecord) -> None:
    # The contact is the staff member's own view of the person: its non-empty values win.
    for attr in ("given_name", "middle_name", "surname", "nickname", "job_title", "department"):
        value = getattr(record, attr)
        if value:
            limit = 255 if attr in ("job_title", "department") else 100
            setattr(person, attr, value[:limit])
    if record.display_name.strip():
        person.display_name = record.display_name[:255]
    if record.user_fields:
        merged = {**(person.user_fields or {}), **record.user_fields}
        if merged != person.user_fields:
            person.user_fields = merged  # a new dict: the JSON column sees the change


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None
