"""Applying one sync page to the store: set-based upserts of people, organisations and interactions.

Everything a page needs is loaded with a handful of ``IN (...)`` queries up front (links, addresses,
organisations, interactions), so a 512-item page costs a constant number of round trips, not one
per item. Matching here is exact only (normalised e-mail, normalised company name, registrable
domain); fuzzy identity resolution is a separate step that merges what this leaves apart.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from mapping.changes import FolderName, ItemChange, MeetingSeries, Page, PageResult, SyncRules
from mapping.hygiene import normalise_company_name, registrable_domain
from mapping.policy import Decision, decide_meeting, decide_message, org_domain_for, should_create_person
from mapping.records import ContactRecord, MeetingRecord, MessageRecord, Participant
from mapping.records import Direction as RecordDirection
from mapping.store.batching import chunked
from mapping.store.models import (
    AddressKind,
    Base,
    Direction,
    DomainKind,
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
    ResponseType,
    StaffMailbox,
    SyncState,
)
from mapping.store.participants import link_people
from mapping.store.privacy import without_suppressed

_ITEM_KIND: dict[str, ItemKind] = {
    "contacts": ItemKind.CONTACT,
    "inbox": ItemKind.MESSAGE,
    "sentitems": ItemKind.MESSAGE,
    "calendar": ItemKind.CALENDAR,
}
_TABLES = Base.metadata.tables


@dataclass
class _Directory:
    """The page's view of people and organisations, loaded in bulk and grown as rows are created."""

    session: Session
    rules: SyncRules
    now: datetime
    result: PageResult
    person_by_address: dict[str, int] = field(default_factory=dict)
    org_by_name: dict[str, int] = field(default_factory=dict)
    org_by_domain: dict[str, int] = field(default_factory=dict)
    staff_by_address: dict[str, int] = field(default_factory=dict)
    #: Ids of organisations inserted ahead by :meth:`plan_organisations`, in the order they are wanted.
    planned: deque[int] = field(default_factory=deque)
    #: In a rehearsal (see :meth:`plan_organisations`) nothing is written: creations are recorded here.
    rehearsed: list[dict[str, str | None]] | None = None
    #: Addresses that got their person on this page: earlier pages' participants are linked to them.
    new_addresses: set[str] = field(default_factory=set)
    #: Organisations still named after their e-mail domain (made from mail before any contact named
    #: the company): the first company name a contact gives replaces it, so the name does not depend
    #: on whether the mail or the contact was synced first.
    domain_named: set[int] = field(default_factory=set)

    def load(self, addresses: set[str], names: set[str], domains: set[str]) -> None:
        s = self.session
        for chunk in chunked(addresses):
            rows = s.execute(
                sa.select(EmailAddress.address, EmailAddress.person_id).where(EmailAddress.address.in_(chunk))
            )
            self.person_by_address.update({a: p for a, p in rows})
        for chunk in chunked(names):
            rows = s.execute(
                sa.select(Organisation.normalised_name, Organisation.id)
                .where(Organisation.normalised_name.in_(chunk), Organisation.merged_into_id.is_(None))
                .order_by(Organisation.id)
            )
            for name, org_id in rows:
                self.org_by_name.setdefault(name, org_id)
        for chunk in chunked(domains):
            rows = s.execute(
                sa.select(OrganisationDomain.domain, OrganisationDomain.organisation_id).where(
                    OrganisationDomain.domain.in_(chunk)
                )
            )
            self.org_by_domain.update({d: o for d, o in rows})
        self._load_domain_named(domains)
        self.staff_by_address = {a: i for a, i in s.execute(sa.select(StaffMailbox.address, StaffMailbox.id))}

    def _load_domain_named(self, domains: set[str]) -> None:
        ids = {self.org_by_domain[d] for d in domains if d in self.org_by_domain}
        for chunk in chunked(ids):
            rows = self.session.execute(
                sa.select(Organisation.id, Organisation.name, OrganisationDomain.domain)
                .join(OrganisationDomain, OrganisationDomain.organisation_id == Organisation.id)
                .where(Organisation.id.in_(chunk), OrganisationDomain.kind == DomainKind.EMAIL)
            )
            self.domain_named.update(org_id for org_id, name, domain in rows if name == _name_from_domain(domain))

    def _name_domain_named(self, org_id: int, company_name: str, normalised: str) -> None:
        """Give an organisation still named after its domain the company name a contact gives."""
        self.domain_named.discard(org_id)
        name, normalised_name = company_name.strip()[:255], normalised[:255]
        if self.rehearsed is None:
            self.session.execute(
                sa.update(Organisation)
                .where(Organisation.id == org_id)
                .values(name=name, normalised_name=normalised_name)
                .execution_options(synchronize_session=False)
            )
        self.org_by_name.setdefault(normalised_name, org_id)

    def organisation(self, company_name: str | None, domain: str | None, website: str | None = None) -> int | None:
        """The organisation for a company name and/or e-mail domain: found exactly, else created."""
        normalised = normalise_company_name(company_name) if company_name else ""
        org_id = self.org_by_name.get(normalised) if normalised else None
        if org_id is None and domain:
            org_id = self.org_by_domain.get(domain)
        if org_id is not None and normalised and company_name and org_id in self.domain_named:
            self._name_domain_named(org_id, company_name, normalised)
        if org_id is None:
            if not normalised and not domain:
                return None
            name = (company_name or "").strip() or _name_from_domain(domain or "")
            normalised_name = (normalised or normalise_company_name(name))[:255]
            org_id = self._create_organisation(
                {"name": name[:255], "normalised_name": normalised_name, "website": website[:255] if website else None}
            )
            self.result.organisations_created += 1
            if normalised_name:
                self.org_by_name.setdefault(normalised_name, org_id)
            if not normalised:
                self.domain_named.add(org_id)
        if domain and domain not in self.org_by_domain:
            if self.rehearsed is None:
                self.session.add(OrganisationDomain(domain=domain, organisation_id=org_id, kind=DomainKind.EMAIL))
            self.org_by_domain[domain] = org_id
        web = registrable_domain(website) if website else None
        if web and web not in self.org_by_domain:
            if self.rehearsed is None:
                self.session.add(OrganisationDomain(domain=web, organisation_id=org_id, kind=DomainKind.WEB))
            self.org_by_domain[web] = org_id
        return org_id

    def _create_organisation(self, values: dict[str, str | None]) -> int:
        if self.rehearsed is not None:
            self.rehearsed.append(values)
            return -len(self.rehearsed)  # a stand-in id, consistent within the rehearsal
        if self.planned:
            return self.planned.popleft()
        # One INSERT ... RETURNING: an ORM flush here would also flush everything pending.
        table = _TABLES["organisations"]
        return int(self.session.execute(sa.insert(table).values(values).returning(table.c.id)).scalar_one())

    def plan_organisations(self, calls: Iterable[tuple[str | None, str | None, str | None]]) -> None:
        """Insert, in one executemany, the organisations the given :meth:`organisation` calls will create.

        The calls are rehearsed on copies of the lookups (same decisions, same order, nothing written);
        the real calls that follow then take the inserted ids in order instead of inserting one by one.
        """
        rehearsal = _Directory(
            self.session,
            self.rules,
            self.now,
            PageResult(),
            org_by_name=dict(self.org_by_name),
            org_by_domain=dict(self.org_by_domain),
            domain_named=set(self.domain_named),
            rehearsed=[],
        )
        for company_name, domain, website in calls:
            rehearsal.organisation(company_name, domain, website)
        if rehearsal.rehearsed:
            table = _TABLES["organisations"]
            statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
            self.planned.extend(self.session.execute(statement, rehearsal.rehearsed).scalars())

    def create_people(self, participants: Iterable[tuple[Participant, Direction]]) -> None:
        """Create, in one batch, the people :meth:`person_for_participant` would create one by one.

        Same decisions in the same order (the first sighting of an unknown address that the policy
        accepts names the person), but one flush for the whole page instead of one per person.
        """
        new: list[tuple[Participant, Person]] = []
        pending: set[str] = set()
        for participant, direction in participants:
            address = participant.address
            if address in self.person_by_address or address in pending:
                continue
            if address in self.staff_by_address:
                continue  # a staff participant never becomes a person (see _set_participants)
            if not should_create_person(
                participant, _record_direction(direction), self.rules.person_policy, self.rules.internal_domains
            ):
                continue
            domain = org_domain_for(address, self.rules.internal_domains)
            person = Person(
                display_name=(participant.name or address)[:255], organisation_id=self.organisation(None, domain)
            )
            self.session.add(person)
            new.append((participant, person))
            pending.add(address)
        if not new:
            return
        self.session.flush()
        for participant, person in new:
            self.session.add(
                EmailAddress(
                    address=participant.address,
                    original=participant.address,
                    person_id=person.id,
                    is_primary=True,
                    is_valid=True,
                )
            )
            self.person_by_address[participant.address] = person.id
            self.new_addresses.add(participant.address)
        self.result.people_created += len(new)

    def person_for_participant(self, participant: Participant, direction: Direction) -> int | None:
        """The known person behind an address, or a new one when the policy says to create it."""
        if participant.address not in self.person_by_address:
            self.create_people([(participant, direction)])
        return self.person_by_address.get(participant.address)


_RECORD_DIRECTION: dict[Direction, RecordDirection] = {
    Direction.INBOUND: "inbound",
    Direction.OUTBOUND: "outbound",
    Direction.INTERNAL: "internal",
}


def _record_direction(direction: Direction) -> RecordDirection:
    return _RECORD_DIRECTION[direction]


def _name_from_domain(domain: str) -> str:
    label = domain.split(".", 1)[0]
    return label.replace("-", " ").title() or domain


@dataclass(slots=True)
class _NewLink:
    """A link first seen on this page, as a plain row: inserted with the page's others in one
    executemany (see :func:`_insert_new_links`); an ORM object would cost more than the insert."""

    mailbox_id: int
    folder: str
    item_id: str
    item_kind: ItemKind
    entity_type: EntityType
    entity_id: int
    first_seen_at: datetime
    last_seen_at: datetime
    change_key: str | None = None
    categories: list[str] | None = None
    deleted_at: datetime | None = None
    our_id: str | None = None
    written_categories: list[str] | None = None
    id: None = None  # no row yet


_Links = dict[str, ItemLink | _NewLink]


def _existing_links(session: Session, page: Page) -> _Links:
    links: _Links = {}
    for chunk in chunked(c.item_id for c in page.changes):
        query = sa.select(ItemLink).where(
            ItemLink.mailbox_id == page.mailbox_id, ItemLink.folder == page.folder, ItemLink.item_id.in_(chunk)
        )
        links.update({link.item_id: link for link in session.scalars(query)})
    return links


def _touch_link(
    session: Session,
    page: Page,
    links: _Links,
    change: ItemChange,
    entity_type: EntityType,
    entity_id: int,
    now: datetime,
) -> bool:
    """Create or refresh the item's link; True when it is new."""
    link = links.get(change.item_id)
    if link is None:
        link = _NewLink(
            mailbox_id=page.mailbox_id,
            folder=page.folder,
            item_id=change.item_id,
            item_kind=_ITEM_KIND[page.folder],
            entity_type=entity_type,
            entity_id=entity_id,
            first_seen_at=now,
            last_seen_at=now,
        )
        links[change.item_id] = link
        created = True
    else:
        created = link.deleted_at is not None
    link.change_key = change.change_key
    link.entity_type = entity_type
    link.entity_id = entity_id
    link.categories = list(change.categories)
    link.last_seen_at = now
    link.deleted_at = None
    return created


#: PostgreSQL SQLSTATEs of losing an insert race to another worker's transaction: unique_violation
#: (the same person, address or interaction inserted and committed by a concurrent page) and
#: deadlock_detected (two pages inserting the same keys in different orders).
_RACE_SQLSTATES = frozenset({"23505", "40P01"})
#: A page that lost a race is applied again this often (each time seeing the winners' committed rows).
RACE_RETRIES = 5


def apply_page(session: Session, page: Page, rules: SyncRules, now: datetime) -> PageResult:
    """Apply one page's changes and save its sync state, inside the caller's transaction.

    Race-safe on PostgreSQL: several workers syncing mailboxes that share contacts and e-mails may
    insert the same address or Message-ID at the same instant. The loser's insert waits for the
    winner's commit and then fails; the page is rolled back to a savepoint taken before it and
    applied again, now finding the winner's rows (READ COMMITTED: each statement sees what is
    committed), so no page fails on a collision. SQLite has one writer, so no race and no savepoint;
    a page without items (a no-change page: only its state) cannot collide and skips it too.
    """
    if session.get_bind().dialect.name != "postgresql" or not any(c.record is not None for c in page.changes):
        return _apply_page(session, page, rules, now)
    for attempt in range(1, RACE_RETRIES + 1):
        try:
            with session.begin_nested():
                return _apply_page(session, page, rules, now)
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            if attempt == RACE_RETRIES or getattr(exc.orig, "sqlstate", None) not in _RACE_SQLSTATES:
                raise
    raise AssertionError("unreachable")


def _apply_page(session: Session, page: Page, rules: SyncRules, now: datetime) -> PageResult:
    result = PageResult()
    for skipped in page.skipped:
        result.skipped[f"bad-item: {skipped.reason}"] += 1
    # Suppressed (erased or excluded) people never come back: their items or addresses are dropped here.
    page = without_suppressed(session, page, rules, result)
    links = _existing_links(session, page)
    directory = _Directory(session, rules, now, result)
    if page.folder == "contacts":
        _apply_contacts(session, page, links, directory, now)
    elif page.folder == "calendar":
        _apply_meetings(session, page, links, directory, now)
    else:
        _apply_messages(session, page, links, directory, now)
    # Whoever appeared on this page may be on interactions other mailboxes stored before: link them,
    # so the store does not depend on which mailbox synced first.
    link_people(session, directory.new_addresses)
    _insert_new_links(session, links)
    _save_state(session, page, now)
    return result


_LINK_COLUMNS = tuple(c.key for c in ItemLink.__table__.columns if c.key != "id")


def _insert_new_links(session: Session, links: _Links) -> None:
    """Insert the links created on this page in one executemany; the ORM sends one INSERT per row."""
    rows = [
        {column: getattr(link, column) for column in _LINK_COLUMNS}
        for link in links.values()
        if isinstance(link, _NewLink)
    ]
    if rows:
        session.execute(sa.insert(_TABLES["item_links"]), rows)


def _save_state(session: Session, page: Page, now: datetime) -> None:
    state = session.scalars(
        sa.select(SyncState).where(SyncState.mailbox_id == page.mailbox_id, SyncState.folder == page.folder)
    ).one_or_none()
    if state is None:
        state = SyncState(mailbox_id=page.mailbox_id, folder=page.folder)
        session.add(state)
    state.state = page.new_state
    state.folder_id = page.folder_id or state.folder_id
    state.last_page_at = now


def unlink_links(
    session: Session, mailbox_id: int, folder: FolderName, links: Iterable[ItemLink], rules: SyncRules, now: datetime
) -> int:
    """Unlink items found gone by a full resync, exactly as if Exchange had reported them deleted."""
    page = Page(mailbox_id=mailbox_id, folder=folder, folder_id=None, changes=(), new_state=None)
    return sum(_unlink(session, page, link, now, rules) for link in links)


def _unlink(session: Session, page: Page, link: ItemLink | _NewLink | None, now: datetime, rules: SyncRules) -> bool:
    """The item is gone from this folder: its link is kept, marked deleted.

    A person stays (the contact was one staff member's card, not the relationship). An interaction
    stays as corporate memory, unless the rules say otherwise and no other mailbox holds a copy.
    """
    if link is None or link.deleted_at is not None:
        return False
    link.deleted_at = now
    if link.entity_type == EntityType.INTERACTION and page.folder != "contacts":
        if rules.keep_interactions_on_delete:
            _drop_viewer(session, link, page.mailbox_id)
        else:
            _forget(session, page, link, keep_link=True)
    return True


def _drop_viewer(session: Session, link: ItemLink | _NewLink, mailbox_id: int) -> None:
    # A series links to its first stored occurrence; viewers of all its occurrences go with it.
    interaction = session.get(Interaction, link.entity_id)
    if interaction is None:
        return
    ids = [interaction.id]
    if interaction.kind == InteractionKind.MEETING and interaction.ical_uid:
        ids = list(session.scalars(sa.select(Interaction.id).where(Interaction.ical_uid == interaction.ical_uid)))
    # The mailbox may still hold another copy (the same e-mail in Inbox and Sent Items): it still sees it.
    other_copy = session.scalar(
        sa.select(ItemLink.id)
        .where(
            ItemLink.mailbox_id == mailbox_id,
            ItemLink.entity_type == EntityType.INTERACTION,
            ItemLink.entity_id.in_(ids),
            ItemLink.deleted_at.is_(None),
            ItemLink.id != link.id,
        )
        .limit(1)
    )
    if other_copy is not None:
        return
    session.execute(
        sa.delete(InteractionViewer).where(
            InteractionViewer.interaction_id.in_(ids), InteractionViewer.mailbox_id == mailbox_id
        )
    )


# ------------------------------------------------------------------------------------------ contacts
def _apply_contacts(session: Session, page: Page, links: _Links, directory: _Directory, now: datetime) -> None:
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
            result.deleted += _unlink(session, page, link, now, directory.rules)
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
        created = _touch_link(session, page, links, change, EntityType.PERSON, person.id, now)
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
    """Insert the page's new people in one executemany and give each its id, in row order."""
    if not people:
        return
    table = _TABLES["people"]
    # An unset user_fields must stay SQL NULL (as the ORM leaves it), not become JSON 'null'.
    statement = (
        sa.insert(table)
        .values(user_fields=sa.bindparam("fields", type_=sa.JSON(none_as_null=True)))
        .returning(table.c.id, sort_by_parameter_order=True)
    )
    rows = [{**{c: getattr(p, c) for c in _PERSON_COLUMNS}, "fields": p.user_fields} for p in people]
    ids = session.execute(statement, rows).scalars().all()
    for person, person_id in zip(people, ids, strict=True):
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
            if rows:
                session.execute(sa.insert(_TABLES[table]), [{**row, "person_id": p.id} for p, row in rows])


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
        for numbers in chunked(ids):
            people.update({p.id: p for p in session.scalars(sa.select(Person).where(Person.id.in_(numbers)))})
            has_email.update(
                session.scalars(sa.select(EmailAddress.person_id).where(EmailAddress.person_id.in_(numbers)).distinct())
            )
            for person_id, e164 in session.execute(
                sa.select(Phone.person_id, Phone.e164).where(Phone.person_id.in_(numbers))
            ):
                phones.setdefault(person_id, set()).add(e164)
            for person_id, kind in session.execute(
                sa.select(PostalAddress.person_id, PostalAddress.kind).where(PostalAddress.person_id.in_(numbers))
            ):
                kinds.setdefault(person_id, set()).add(kind)
        return cls(people, has_email, phones, kinds)


def _add_addresses(
    person: _Someone,
    record: ContactRecord,
    directory: _Directory,
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


# ------------------------------------------------------------------------------------------ messages
def _apply_messages(session: Session, page: Page, links: _Links, directory: _Directory, now: datetime) -> None:
    rules = directory.rules
    result = directory.result
    decided: list[tuple[ItemChange, MessageRecord, Decision]] = []
    for change in page.changes:
        if change.record is None:
            link = links.get(change.item_id)
            result.deleted += _unlink(session, page, link, now, directory.rules)
            continue
        record = change.record
        assert isinstance(record, MessageRecord)
        decision = decide_message(record, rules.privacy, rules.internal_domains)
        if not decision.store:
            result.skipped[decision.reason or "skipped"] += 1
            _forget(session, page, links.get(change.item_id))
            continue
        decided.append((change, record, decision))
    if not decided:
        return
    message_ids = {r.internet_message_id for _, r, _ in decided if r.internet_message_id}
    existing: dict[str, Interaction] = {}
    for chunk in chunked(message_ids):
        rows = session.scalars(
            sa.select(Interaction)
            .where(Interaction.internet_message_id.in_(chunk))
            .options(selectinload(Interaction.participants))
        )
        existing.update({i.internet_message_id: i for i in rows if i.internet_message_id})
    addresses = {p.address for _, _, d in decided for p in d.participants}
    domains = {d for a in addresses if (d := org_domain_for(a, rules.internal_domains))}
    directory.load(addresses, set(), domains)
    directory.create_people(
        _new_participants(
            ((r.internet_message_id, existing.get(r.internet_message_id or ""), d) for _, r, d in decided),
            directory,
        )
    )
    viewers = _viewers_of(session, [i.id for i in existing.values()], page.mailbox_id)
    touched: list[tuple[ItemChange, str]] = []
    # New interactions, their participants and viewers are plain rows, inserted in bulk (the new
    # interactions' ids read back by Message-ID): the ORM's per-object bookkeeping and its one
    # RETURNING insert per row were most of a page's cost.
    new_rows: dict[str, tuple[dict[str, object], set[tuple[str, str]], list[dict[str, object]]]] = {}
    for change, record, decision in decided:
        message_id = record.internet_message_id
        assert message_id is not None and decision.direction is not None
        direction = Direction(decision.direction)
        values: dict[str, object] = {
            "subject": record.subject,
            "conversation_id": record.conversation_id,
            "size_bytes": record.size,
            "snippet": record.snippet,
            "occurred_at": record.occurred_at,
        }
        interaction = existing.get(message_id)
        if interaction is not None:
            for column, value in values.items():
                setattr(interaction, column, value)
            _set_participants(session, interaction, decision.participants, direction, directory)
        else:
            pending = new_rows.get(message_id)
            if pending is None:  # the first copy on the page creates it; a later copy updates it
                pending = new_rows[message_id] = (
                    {"kind": InteractionKind.EMAIL, "internet_message_id": message_id, "direction": direction},
                    set(),
                    [],
                )
            pending[0].update(values)
            pending[2].extend(_participant_rows(decision.participants, direction, directory, pending[1]))
        touched.append((change, message_id))
    session.flush()  # the people, organisations and updated interactions the page brought
    ids = {message_id: interaction.id for message_id, interaction in existing.items()}
    if new_rows:
        session.execute(sa.insert(_TABLES["interactions"]), [row for row, _, _ in new_rows.values()])
        for chunk in chunked(new_rows):
            found = session.execute(
                sa.select(Interaction.internet_message_id, Interaction.id).where(
                    Interaction.internet_message_id.in_(chunk)
                )
            )
            ids.update({key: row_id for key, row_id in found if key})
    participant_rows: list[dict[str, object]] = []
    viewer_rows: list[dict[str, object]] = []
    for message_id, (_, _, its_rows) in new_rows.items():
        interaction_id = ids[message_id]
        for row in its_rows:
            row["interaction_id"] = interaction_id
        participant_rows.extend(its_rows)
        viewer_rows.append({"interaction_id": interaction_id, "mailbox_id": page.mailbox_id})
        viewers.add(interaction_id)
    # Core inserts (one executemany each): the ORM's bulk path issues a statement per row here.
    if participant_rows:
        session.execute(sa.insert(_TABLES["interaction_participants"]), participant_rows)
    if viewer_rows:
        session.execute(sa.insert(_TABLES["interaction_viewers"]), viewer_rows)
    for change, message_id in touched:
        interaction_id = ids[message_id]
        if interaction_id not in viewers:
            session.add(InteractionViewer(interaction_id=interaction_id, mailbox_id=page.mailbox_id))
            viewers.add(interaction_id)
        created = _touch_link(session, page, links, change, EntityType.INTERACTION, interaction_id, now)
        result.created += created
        result.updated += not created


def _new_participants(
    items: Iterable[tuple[object, Interaction | None, Decision]], directory: _Directory
) -> Iterable[tuple[Participant, Direction]]:
    """The (participant, direction) pairs :func:`_set_participants` will resolve, in its order: those
    not yet recorded on their interaction (``key`` identifies the interaction within the page)."""
    haves: dict[object, set[tuple[str, str]]] = {}
    for key, interaction, decision in items:
        have = haves.get(key)
        if have is None:
            have = {(p.address, p.role.value) for p in interaction.participants} if interaction is not None else set()
            haves[key] = have
        assert decision.direction is not None
        direction = Direction(decision.direction)
        for participant in decision.participants:
            if (participant.address, participant.role) in have:
                continue
            have.add((participant.address, participant.role))
            if participant.address not in directory.staff_by_address:
                yield participant, direction


def _viewers_of(session: Session, interaction_ids: list[int], mailbox_id: int) -> set[int]:
    seen: set[int] = set()
    for chunk in chunked(interaction_ids):
        seen.update(
            session.scalars(
                sa.select(InteractionViewer.interaction_id).where(
                    InteractionViewer.mailbox_id == mailbox_id,
                    InteractionViewer.interaction_id.in_(chunk),
                )
            )
        )
    return seen


def _forget(session: Session, page: Page, link: ItemLink | _NewLink | None, keep_link: bool = False) -> None:
    """An item we stored became private (or otherwise unstorable): privacy beats memory."""
    if link is None or link.entity_type != EntityType.INTERACTION:
        return
    _drop_viewer(session, link, page.mailbox_id)
    session.flush()
    interaction = session.get(Interaction, link.entity_id)
    # A series is linked through its first occurrence: every occurrence nobody else holds goes.
    group = [interaction] if interaction is not None else []
    if interaction is not None and interaction.kind == InteractionKind.MEETING and interaction.ical_uid:
        group = list(session.scalars(sa.select(Interaction).where(Interaction.ical_uid == interaction.ical_uid)))
    for member in group:
        if not session.scalar(
            sa.select(sa.func.count())
            .select_from(InteractionViewer)
            .where(InteractionViewer.interaction_id == member.id)
        ):
            session.delete(member)
    if not keep_link and isinstance(link, ItemLink):
        session.delete(link)


_ROLE_RESPONSE = {r.value: r for r in ResponseType}


def _set_participants(
    session: Session,
    interaction: Interaction,
    participants: tuple[Participant, ...],
    direction: Direction,
    directory: _Directory,
) -> None:
    """Participants are the same in every copy; add the ones not yet recorded."""
    have = {(p.address, p.role.value) for p in interaction.participants}
    for participant in participants:
        if (participant.address, participant.role) in have:
            continue
        have.add((participant.address, participant.role))
        staff_id = directory.staff_by_address.get(participant.address)
        person_id = None if staff_id is not None else directory.person_for_participant(participant, direction)
        interaction.participants.append(
            InteractionParticipant(
                address=participant.address,
                display_name=(participant.name or None) and participant.name[:255],
                role=ParticipantRole(participant.role),
                response=_ROLE_RESPONSE.get(participant.response) if participant.response else None,
                person_id=person_id,
                staff_mailbox_id=staff_id,
            )
        )


def _participant_rows(
    participants: tuple[Participant, ...], direction: Direction, directory: _Directory, have: set[tuple[str, str]]
) -> list[dict[str, object]]:
    """:func:`_set_participants` for an interaction created in this page, as rows for a bulk insert."""
    rows: list[dict[str, object]] = []
    for participant in participants:
        if (participant.address, participant.role) in have:
            continue
        have.add((participant.address, participant.role))
        staff_id = directory.staff_by_address.get(participant.address)
        person_id = None if staff_id is not None else directory.person_for_participant(participant, direction)
        rows.append(
            {
                "address": participant.address,
                "display_name": (participant.name or None) and participant.name[:255],
                "role": ParticipantRole(participant.role),
                "response": _ROLE_RESPONSE.get(participant.response) if participant.response else None,
                "person_id": person_id,
                "staff_mailbox_id": staff_id,
            }
        )
    return rows


# ------------------------------------------------------------------------------------------ meetings
#: A meeting occurrence's natural key: (iCalendar UID, original start; None for a single meeting).
_Key = tuple[str, datetime | None]


def _apply_meetings(session: Session, page: Page, links: _Links, directory: _Directory, now: datetime) -> None:
    rules = directory.rules
    result = directory.result
    series_list: list[tuple[ItemChange, MeetingSeries, Decision]] = []
    unlinked: list[ItemLink | _NewLink] = []  # the page's deleted items, for _cancel_deleted_occurrences
    for change in page.changes:
        if change.record is None:
            link = links.get(change.item_id)
            if link is not None and _unlink(session, page, link, now, rules):
                result.deleted += 1
                unlinked.append(link)
            continue
        series = change.record
        assert isinstance(series, MeetingSeries)
        decision = decide_meeting(series.item, rules.privacy, rules.internal_domains)
        if not decision.store:
            result.skipped[decision.reason or "skipped"] += 1
            _forget(session, page, links.get(change.item_id))
            continue
        series_list.append((change, series, decision))
    if not series_list:
        _cancel_deleted_occurrences(session, page, links, unlinked)
        return
    addresses = {p.address for _, _, d in series_list for p in d.participants}
    domains = {d for a in addresses if (d := org_domain_for(a, rules.internal_domains))}
    directory.load(addresses, set(), domains)
    # Every stored occurrence of the page's series, with its participants, in a few queries.
    stored_by_uid: dict[str, dict[datetime | None, Interaction]] = {}
    for chunk in chunked(s.item.uid for _, s, _ in series_list if s.item.uid):
        rows = session.scalars(
            sa.select(Interaction)
            .where(Interaction.ical_uid.in_(chunk))
            .options(selectinload(Interaction.participants))
        )
        for row in rows:
            assert row.ical_uid is not None
            stored_by_uid.setdefault(row.ical_uid, {})[row.occurrence_start] = row
    directory.create_people(
        _new_participants(
            (
                (
                    (series.item.uid, o.occurrence_start),
                    stored_by_uid.get(series.item.uid or "", {}).get(o.occurrence_start),
                    decision,
                )
                for _, series, decision in series_list
                for o in series.occurrences
            ),
            directory,
        )
    )
    viewers = _viewers_of(
        session, [i.id for by_start in stored_by_uid.values() for i in by_start.values()], page.mailbox_id
    )
    # New occurrences, their participants and viewers go in as plain rows (one executemany each),
    # their ids read back by UID; stored ones are updated through the ORM.
    new_rows: dict[_Key, tuple[dict[str, object], set[tuple[str, str]], list[dict[str, object]]]] = {}
    seen_occurrences: list[_Key] = []
    touched: list[tuple[ItemChange, _Key]] = []
    for change, series, decision in series_list:
        assert decision.direction is not None and series.item.uid is not None
        direction = Direction(decision.direction)
        uid = series.item.uid
        stored = stored_by_uid.setdefault(uid, {})
        first: _Key | None = None
        for occurrence in series.occurrences:
            key = (uid, occurrence.occurrence_start)
            values = _meeting_values(occurrence, direction)
            interaction = stored.get(occurrence.occurrence_start)
            if interaction is not None:
                for column, value in values.items():
                    setattr(interaction, column, value)
                _set_participants(session, interaction, decision.participants, direction, directory)
            else:
                pending = new_rows.get(key)
                if pending is None:  # the first series on the page creates it; a later one updates it
                    pending = new_rows[key] = (
                        {"kind": InteractionKind.MEETING, "ical_uid": uid, "occurrence_start": key[1]},
                        set(),
                        [],
                    )
                pending[0].update(values)
                pending[2].extend(_participant_rows(decision.participants, direction, directory, pending[1]))
            seen_occurrences.append(key)
            first = first or key
        if series.window is not None:
            produced = {o.occurrence_start for o in series.occurrences}
            window_start, window_end = series.window
            gone = [
                start
                for start in {*stored, *(k[1] for k in new_rows if k[0] == uid)}
                if start is not None and start not in produced and window_start <= start < window_end  # type: ignore[operator]
            ]
            for start in gone:  # a deleted occurrence did not happen
                if start in stored:
                    stored[start].is_cancelled = True
                else:
                    new_rows[(uid, start)][0]["is_cancelled"] = True
        if first is None:
            result.skipped["no occurrence in window"] += 1
            continue
        touched.append((change, first))
    session.flush()  # the people, organisations and updated occurrences the page brought
    ids: dict[_Key, int] = {
        (uid, start): stored_row.id for uid, by_start in stored_by_uid.items() for start, stored_row in by_start.items()
    }
    if new_rows:
        session.execute(sa.insert(_TABLES["interactions"]), [row for row, _, _ in new_rows.values()])
        for chunk in chunked({uid for uid, _ in new_rows}):
            found = session.execute(
                sa.select(Interaction.ical_uid, Interaction.occurrence_start, Interaction.id).where(
                    Interaction.ical_uid.in_(chunk)
                )
            )
            ids.update({(uid, start): row_id for uid, start, row_id in found if uid})
    participant_rows: list[dict[str, object]] = []
    for key, (_, _, its_rows) in new_rows.items():
        for participant in its_rows:
            participant["interaction_id"] = ids[key]
        participant_rows.extend(its_rows)
    if participant_rows:
        session.execute(sa.insert(_TABLES["interaction_participants"]), participant_rows)
    viewer_rows: list[dict[str, object]] = []
    for key in seen_occurrences:
        if ids[key] not in viewers:
            viewer_rows.append({"interaction_id": ids[key], "mailbox_id": page.mailbox_id})
            viewers.add(ids[key])
    if viewer_rows:
        session.execute(sa.insert(_TABLES["interaction_viewers"]), viewer_rows)
    for change, first_key in touched:
        created = _touch_link(session, page, links, change, EntityType.INTERACTION, ids[first_key], now)
        result.created += created
        result.updated += not created
    _cancel_deleted_occurrences(session, page, links, unlinked)


def _cancel_deleted_occurrences(
    session: Session, page: Page, links: _Links, unlinked: list[ItemLink | _NewLink]
) -> None:
    """Store as cancelled the occurrences a delta round deleted from a series the mailbox still holds.

    Over Graph every occurrence is an item of its own and a deleted one only arrives as removed, where
    EWS expands the series again and finds the occurrence gone (the ``gone`` ones of
    :func:`_apply_meetings`). The same decision here, on a round's last page (the one that carries
    the window): an occurrence deleted in the round (on this page, or named by ``removed_earlier``)
    whose original start lies in the window, of a series of which the mailbox still has a live link
    after the round, did not happen. A whole series deleted (no live link of it left, however many
    pages its removals took) stays as it was, as over EWS; so does an occurrence outside the window
    (it merely left it), a single meeting, and one that is still linked under another item id.
    """
    if page.window is None or not (unlinked or page.removed_earlier):
        return
    window_start, window_end = page.window
    linked_ids = {link.entity_id for link in unlinked if link.entity_type == EntityType.INTERACTION}
    for item_ids in chunked(page.removed_earlier):  # unlinked by the round's earlier pages
        linked_ids.update(
            session.scalars(
                sa.select(ItemLink.entity_id).where(
                    ItemLink.mailbox_id == page.mailbox_id,
                    ItemLink.folder == page.folder,
                    ItemLink.item_id.in_(item_ids),
                    ItemLink.entity_type == EntityType.INTERACTION,
                    ItemLink.deleted_at.is_not(None),
                )
            )
        )
    candidates: list[Interaction] = []
    for chunk in chunked(linked_ids):
        candidates.extend(
            session.scalars(
                sa.select(Interaction).where(
                    Interaction.id.in_(chunk),
                    Interaction.kind == InteractionKind.MEETING,
                    Interaction.ical_uid.is_not(None),
                    Interaction.occurrence_start.is_not(None),
                    Interaction.is_cancelled.is_(False),
                )
            )
        )
    candidates = [
        i for i in candidates if i.occurrence_start is not None and window_start <= i.occurrence_start < window_end
    ]
    if not candidates:
        return
    session.flush()  # the page's unlinked links, so the query below sees only what is still live
    uid_of: dict[int, str] = {}
    for uids in chunked({i.ical_uid for i in candidates if i.ical_uid}):
        rows = session.execute(sa.select(Interaction.id, Interaction.ical_uid).where(Interaction.ical_uid.in_(uids)))
        uid_of.update({row_id: uid for row_id, uid in rows if uid})
    live: set[int] = {
        link.entity_id
        for link in links.values()
        if isinstance(link, _NewLink) and link.deleted_at is None and link.entity_type == EntityType.INTERACTION
    }
    for ids in chunked(uid_of):
        live.update(
            session.scalars(
                sa.select(ItemLink.entity_id).where(
                    ItemLink.mailbox_id == page.mailbox_id,
                    ItemLink.folder == page.folder,
                    ItemLink.entity_type == EntityType.INTERACTION,
                    ItemLink.entity_id.in_(ids),
                    ItemLink.deleted_at.is_(None),
                )
            )
        )
    held = {uid_of[i] for i in live if i in uid_of}  # the series this mailbox still holds
    for interaction in candidates:
        # One still linked (the same occurrence under another item id) did not go anywhere.
        if interaction.ical_uid in held and interaction.id not in live:
            interaction.is_cancelled = True


def _meeting_values(occurrence: MeetingRecord, direction: Direction) -> dict[str, object]:
    """What a meeting occurrence's row takes from its record (on creation and on every update)."""
    return {
        "subject": occurrence.subject,
        "occurred_at": occurrence.start,
        "ends_at": occurrence.end,
        "is_all_day": occurrence.is_all_day,
        "is_cancelled": occurrence.is_cancelled,
        "direction": direction,
    }
