"""The page's directory: people and organisations loaded in bulk, found or created by exact match
(normalised e-mail, normalised company name, registrable domain)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.changes import PageResult, SyncRules
from mapping.hygiene import normalise_company_name, registrable_domain
from mapping.policy import org_domain_for, should_create_person
from mapping.records import Direction as RecordDirection
from mapping.records import Participant
from mapping.store.batching import among, chunked
from mapping.store.bulk import insert_rows, insert_rows_with_ids
from mapping.store.models import (
    Base,
    Direction,
    DomainKind,
    EmailAddress,
    Organisation,
    OrganisationDomain,
    StaffMailbox,
)

_TABLES = Base.metadata.tables


_RECORD_DIRECTION: dict[Direction, RecordDirection] = {
    Direction.INBOUND: "inbound",
    Direction.OUTBOUND: "outbound",
    Direction.INTERNAL: "internal",
}


@dataclass
class Directory:
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
    #: (address, role, direction) the person policy declined on this page: the policy's answer
    #: depends on nothing else, and every later participant with them would ask again.
    declined: set[tuple[str, str, Direction]] = field(default_factory=set)

    def load(self, addresses: set[str], names: set[str], domains: set[str]) -> None:
        s = self.session
        if addresses:
            rows = s.execute(
                sa.select(EmailAddress.address, EmailAddress.person_id).where(among(s, EmailAddress.address, addresses))
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
        if domains:
            rows = s.execute(
                sa.select(OrganisationDomain.domain, OrganisationDomain.organisation_id).where(
                    among(s, OrganisationDomain.domain, domains)
                )
            )
            self.org_by_domain.update({d: o for d, o in rows})
        self._load_domain_named(domains)
        self.staff_by_address = {a: i for a, i in s.execute(sa.select(StaffMailbox.address, StaffMailbox.id))}

    def _load_domain_named(self, domains: set[str]) -> None:
        ids = {self.org_by_domain[d] for d in domains if d in self.org_by_domain}
        if ids:
            rows = self.session.execute(
                sa.select(Organisation.id, Organisation.name, OrganisationDomain.domain)
                .join(OrganisationDomain, OrganisationDomain.organisation_id == Organisation.id)
                .where(among(self.session, Organisation.id, ids), OrganisationDomain.kind == DomainKind.EMAIL)
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
        rehearsal = Directory(
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
        new: list[tuple[Participant, dict[str, object]]] = []
        pending: set[str] = set()
        for participant, direction in participants:
            address = participant.address
            if address in self.person_by_address or address in pending:
                continue
            if address in self.staff_by_address:
                continue  # a staff participant never becomes a person (see set_participants)
            declined = (address, participant.role, direction)
            if declined in self.declined:
                continue
            if not should_create_person(
                participant, _record_direction(direction), self.rules.person_policy, self.rules.internal_domains
            ):
                self.declined.add(declined)
                continue
            domain = org_domain_for(address, self.rules.internal_domains)
            name = (participant.name or address)[:255]
            new.append((participant, {"display_name": name, "organisation_id": self.organisation(None, domain)}))
            pending.add(address)
        if not new:
            return
        # Plain rows, one statement per table: ORM objects (one INSERT ... RETURNING per person) cost more.
        ids = insert_rows_with_ids(self.session, "people", [row for _, row in new], json_none="null")
        emails: list[dict[str, object]] = []
        for (participant, _), person_id in zip(new, ids, strict=True):
            emails.append(
                {
                    "address": participant.address,
                    "original": participant.address,
                    "person_id": person_id,
                    "is_primary": True,
                    "is_valid": True,
                }
            )
            self.person_by_address[participant.address] = person_id
            self.new_addresses.add(participant.address)
        insert_rows(self.session, "email_addresses", emails, json_none="null")
        self.result.people_created += len(new)

    def person_for_participant(self, participant: Participant, direction: Direction) -> int | None:
        """The known person behind an address, or a new one when the policy says to create it."""
        if participant.address not in self.person_by_address:
            if (participant.address, participant.role, direction) in self.declined:
                return None
            self.create_people([(participant, direction)])
        return self.person_by_address.get(participant.address)


def _record_direction(direction: Direction) -> RecordDirection:
    return _RECORD_DIRECTION[direction]


def _name_from_domain(domain: str) -> str:
    label = domain.split(".", 1)[0]
    return label.replace("-", " ").title() or domain
