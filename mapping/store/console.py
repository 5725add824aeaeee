"""Store services of the web console: relationship search, the relationship page, follow-up lists
and sync health. Each call owns its (read-only) transaction and returns plain frozen dataclasses, so
the web tier renders them without knowing SQL.

Private items are never stored (``privacy``), and an interaction marked private or confidential is
left off the timeline as well. Every list is bounded: a page never loads a whole table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.classification import explain_relationship
from mapping.store.models import (
    EmailAddress,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionParticipant,
    InteractionViewer,
    MatchCandidate,
    MatchKind,
    Organisation,
    OrganisationDomain,
    Person,
    Phone,
    Relationship,
    StaffMailbox,
    Transaction,
    TransactionKind,
)
from mapping.store.reports import mailbox_status
from mapping.store.store import Store

#: The longest search the console accepts: an e-mail address (RFC 5321) is the longest thing it matches.
MAX_SEARCH_CHARS = 320
SEARCH_LIMIT = 50
_PHONE = re.compile(r"^\+?[\d\s().\-/]{6,}$")


class SearchTooLong(ValueError):
    """A search longer than anything the store holds."""


@dataclass(frozen=True)
class SearchHit:
    relationship_id: int
    name: str
    kind: str  # organization | person
    type: str | None
    tier: str | None
    owner: str | None
    matched: str  # what matched: "name", "e-mail", "domain", "phone"


@dataclass(frozen=True)
class PersonView:
    id: int
    name: str
    job_title: str | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]


@dataclass(frozen=True)
class TimelineEntry:
    interaction_id: int
    occurred_at: datetime
    kind: str
    direction: str
    subject: str
    mailboxes: tuple[str, ...]  # the staff mailboxes holding a copy
    people: tuple[str, ...]  # who of this relationship took part


@dataclass(frozen=True)
class TransactionView:
    occurred_on: date
    kind: str
    amount: Decimal
    currency: str
    product: str | None


@dataclass(frozen=True)
class FollowUpView:
    id: int
    relationship_id: int
    relationship: str
    owner: str
    subject: str
    due_at: datetime
    status: str
    completed_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class DuplicateView:
    pair_id: int
    kind: str
    status: str
    score: float
    other: str  # the other record's name


@dataclass(frozen=True)
class RelationshipPage:
    id: int
    name: str
    kind: str
    organisation: str | None
    group: str | None  # the parent organisation
    domains: tuple[str, ...]
    people: tuple[PersonView, ...]
    explanation: dict[str, Any]
    key_dates: tuple[tuple[str, str], ...]
    timeline: tuple[TimelineEntry, ...]
    timeline_total: int
    transactions: tuple[TransactionView, ...]
    revenue: dict[str, Decimal] = field(default_factory=dict)  # net, per currency
    follow_ups: tuple[FollowUpView, ...] = ()
    duplicates: tuple[DuplicateView, ...] = ()


def _name_of(session: Session, rel: Relationship) -> tuple[str, str]:
    if rel.organisation_id is not None:
        org = session.get(Organisation, rel.organisation_id)
        return (org.name if org else f"organisation {rel.organisation_id}"), "organization"
    person = session.get(Person, rel.person_id) if rel.person_id is not None else None
    return (person.display_name if person else f"person {rel.person_id}"), "person"


def _relationship_ids_of_people(session: Session, person_ids: Sequence[int]) -> dict[int, int]:
    """person id -> relationship id: the organisation's relationship, else the person's own."""
    if not person_ids:
        return {}
    rows = session.execute(
        sa.select(Person.id, Relationship.id)
        .join(Relationship, sa.or_(
            sa.and_(Person.organisation_id.is_not(None), Relationship.organisation_id == Person.organisation_id),
            sa.and_(Person.organisation_id.is_(None), Relationship.person_id == Person.id)))
        .where(Person.id.in_(person_ids))
    ).all()
    return {p: r for p, r in rows}


def search_relationships(store: Store, query: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Relationships matching ``query`` by e-mail address (whole or part), domain, phone number (its
    digits) or name (containing it, case-insensitive); raises :class:`SearchTooLong` beyond
    :data:`MAX_SEARCH_CHARS`. At most ``limit`` hits, best kind of match first."""
    text = query.strip()
    if len(text) > MAX_SEARCH_CHARS:
        raise SearchTooLong(f"the search is {len(text):,} characters; names, e-mail addresses and domains are at "
                            f"most {MAX_SEARCH_CHARS}: search for part of a name, an address or a domain")
    if not text:
        return []
    folded = text.casefold()
    found: dict[int, str] = {}
    with store.session() as s:
        person_ids: list[tuple[int, str]] = []
        if "@" in folded:
            person_ids += [(p, "e-mail") for p in s.scalars(
                sa.select(EmailAddress.person_id).where(EmailAddress.address.contains(folded, autoescape=True))
                .limit(limit))]
        domain = folded.removeprefix("@").removeprefix("www.")
        if "." in domain and " " not in domain:
            orgs = s.scalars(sa.select(OrganisationDomain.organisation_id)
                             .where(OrganisationDomain.domain == domain).limit(limit))
            for rel_id in s.scalars(sa.select(Relationship.id).where(Relationship.organisation_id.in_(list(orgs)))):
                found.setdefault(rel_id, "domain")
        digits = re.sub(r"\D", "", text)
        if _PHONE.match(text) and len(digits) >= 6:
            person_ids += [(p, "phone") for p in s.scalars(
                sa.select(Phone.person_id).where(Phone.e164.endswith(digits[-9:], autoescape=True)).limit(limit))]
        by_person = _relationship_ids_of_people(s, [p for p, _ in person_ids])
        for p, how in person_ids:
            if p in by_person:
                found.setdefault(by_person[p], how)
        if len(found) < limit:
            org_rels = s.scalars(
                sa.select(Relationship.id).join(Organisation, Organisation.id == Relationship.organisation_id)
                .where(sa.func.lower(Organisation.name).contains(folded, autoescape=True),
                       Organisation.merged_into_id.is_(None)).limit(limit))
            for rel_id in org_rels:
                found.setdefault(rel_id, "name")
            people = list(s.scalars(
                sa.select(Person.id).where(sa.func.lower(Person.display_name).contains(folded, autoescape=True),
                                           Person.merged_into_id.is_(None)).limit(limit)))
            for rel_id in _relationship_ids_of_people(s, people).values():
                found.setdefault(rel_id, "name")
        ids = list(found)[:limit]
        rels = s.scalars(sa.select(Relationship).where(Relationship.id.in_(ids))).all()
        hits = []
        for rel in rels:
            name, kind = _name_of(s, rel)
            hits.append(SearchHit(rel.id, name, kind, str(rel.type) if rel.type else None, rel.tier, rel.owner,
                                  found[rel.id]))
    order = {"e-mail": 0, "domain": 1, "phone": 2, "name": 3}
    return sorted(hits, key=lambda h: (order[h.matched], h.name.casefold(), h.relationship_id))


def _people_of(session: Session, rel: Relationship) -> list[Person]:
    if rel.organisation_id is not None:
        return list(session.scalars(sa.select(Person).where(Person.organisation_id == rel.organisation_id,
                                                            Person.merged_into_id.is_(None))
                                    .order_by(Person.display_name, Person.id).limit(500)))
    person = session.get(Person, rel.person_id) if rel.person_id is not None else None
    return [person] if person is not None else []


def _timeline(session: Session, person_ids: Sequence[int], names: dict[int, str],
              limit: int) -> tuple[list[TimelineEntry], int]:
    if not person_ids:
        return [], 0
    ids = (sa.select(InteractionParticipant.interaction_id)
           .where(InteractionParticipant.person_id.in_(person_ids)).distinct().scalar_subquery())
    visible = sa.and_(Interaction.id.in_(ids), Interaction.is_private.is_(False))
    total = session.scalar(sa.select(sa.func.count()).select_from(Interaction).where(visible)) or 0
    rows = list(session.scalars(sa.select(Interaction).where(visible)
                                .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit)))
    if not rows:
        return [], total
    shown = [r.id for r in rows]
    holders: dict[int, list[str]] = {}
    for iid, address in session.execute(
        sa.select(InteractionViewer.interaction_id, StaffMailbox.address)
        .join(StaffMailbox, StaffMailbox.id == InteractionViewer.mailbox_id)
        .where(InteractionViewer.interaction_id.in_(shown)).order_by(StaffMailbox.address)
    ):
        holders.setdefault(iid, []).append(address)
    who: dict[int, set[str]] = {}
    for iid, pid in session.execute(
        sa.select(InteractionParticipant.interaction_id, InteractionParticipant.person_id)
        .where(InteractionParticipant.interaction_id.in_(shown), InteractionParticipant.person_id.in_(person_ids))
    ):
        if pid is not None:
            who.setdefault(iid, set()).add(names.get(pid, str(pid)))
    entries = [TimelineEntry(r.id, r.occurred_at, str(r.kind), str(r.direction), r.subject or "(no subject)",
                             tuple(holders.get(r.id, ())), tuple(sorted(who.get(r.id, ())))) for r in rows]
    return entries, total


def _follow_up_views(session: Session, where: Any, now: datetime, limit: int) -> list[FollowUpView]:
    rows = session.execute(
        sa.select(FollowUp, StaffMailbox.address).join(StaffMailbox, StaffMailbox.id == FollowUp.owner_mailbox_id)
        .where(where).order_by(FollowUp.due_at, FollowUp.id).limit(limit)
    ).all()
    rel_ids = {f.relationship_id for f, _ in rows}
    names = {rel.id: _name_of(session, rel)[0]
             for rel in session.scalars(sa.select(Relationship).where(Relationship.id.in_(rel_ids)))}
    return [FollowUpView(f.id, f.relationship_id, names.get(f.relationship_id, "?"), owner, f.subject, f.due_at,
                         str(f.status), f.completed_at, f.status is FollowUpStatus.OPEN and f.due_at < now)
            for f, owner in rows]


def relationship_page(store: Store, relationship_id: int, now: datetime, timeline_limit: int = 200,
                      ) -> RelationshipPage | None:
    """Everything the store knows about one relationship, or None when there is no such relationship."""
    with store.session() as s:
        rel = s.get(Relationship, relationship_id)
        if rel is None:
            return None
        name, kind = _name_of(s, rel)
        org = s.get(Organisation, rel.organisation_id) if rel.organisation_id is not None else None
        if org is None and rel.person_id is not None:
            person = s.get(Person, rel.person_id)
            org = s.get(Organisation, person.organisation_id) if person and person.organisation_id else None
        parent = s.get(Organisation, org.parent_id) if org is not None and org.parent_id else None
        domains = tuple(s.scalars(sa.select(OrganisationDomain.domain)
                                  .where(OrganisationDomain.organisation_id == org.id)
                                  .order_by(OrganisationDomain.domain))) if org is not None else ()
        people = _people_of(s, rel)
        person_ids = [p.id for p in people]
        emails: dict[int, list[str]] = {}
        phones: dict[int, list[str]] = {}
        if person_ids:
            for pid, address in s.execute(sa.select(EmailAddress.person_id, EmailAddress.address)
                                          .where(EmailAddress.person_id.in_(person_ids))
                                          .order_by(EmailAddress.is_primary.desc(), EmailAddress.address)):
                emails.setdefault(pid, []).append(address)
            for pid, number in s.execute(sa.select(Phone.person_id, Phone.e164).where(Phone.person_id.in_(person_ids))
                                         .order_by(Phone.e164)):
                phones.setdefault(pid, []).append(number)
        names = {p.id: p.display_name for p in people}
        timeline, total = _timeline(s, person_ids, names, timeline_limit)
        owned = (Transaction.organisation_id == rel.organisation_id if rel.organisation_id is not None
                 else Transaction.person_id == rel.person_id)
        transactions = [TransactionView(t.occurred_on, str(t.kind), t.amount, t.currency, t.product)
                        for t in s.scalars(sa.select(Transaction).where(owned)
                                           .order_by(Transaction.occurred_on.desc(), Transaction.id.desc())
                                           .limit(100))]
        revenue: dict[str, Decimal] = {}
        sign = sa.case((Transaction.kind == TransactionKind.RETURN, -Transaction.amount), else_=Transaction.amount)
        for currency, amount in s.execute(sa.select(Transaction.currency, sa.func.sum(sign)).where(owned)
                                          .group_by(Transaction.currency)):
            revenue[currency] = Decimal(amount or 0)
        follow_ups = _follow_up_views(s, FollowUp.relationship_id == rel.id, now, 50)
        duplicates = _duplicates(s, person_ids, org.id if org is not None else None)
        key_dates = tuple((label, value) for label, value in (
            ("first contact", _day(rel.first_contact_at)),
            ("latest interaction", _day(rel.latest_interaction_at)),
            ("latest purchase", rel.latest_transaction_on.isoformat() if rel.latest_transaction_on else None),
            ("classified", _day(rel.classified_at)),
            ("next follow-up", next((_day(f.due_at) for f in follow_ups if f.status == "open"), None)),
        ) if value)
        return RelationshipPage(
            id=rel.id, name=name, kind=kind, organisation=org.name if org else None,
            group=parent.name if parent else None, domains=domains,
            people=tuple(PersonView(p.id, p.display_name, p.job_title, tuple(emails.get(p.id, ())),
                                    tuple(phones.get(p.id, ()))) for p in people),
            explanation=explain_relationship(s, rel), key_dates=key_dates, timeline=tuple(timeline),
            timeline_total=total, transactions=tuple(transactions), revenue=revenue,
            follow_ups=tuple(follow_ups), duplicates=tuple(duplicates),
        )


def _day(value: datetime | None) -> str | None:
    return value.date().isoformat() if value is not None else None


def _duplicates(session: Session, person_ids: Sequence[int], org_id: int | None) -> list[DuplicateView]:
    conditions = []
    if person_ids:
        conditions.append(sa.and_(MatchCandidate.kind == MatchKind.PERSON,
                                  sa.or_(MatchCandidate.a_id.in_(person_ids), MatchCandidate.b_id.in_(person_ids))))
    if org_id is not None:
        conditions.append(sa.and_(MatchCandidate.kind == MatchKind.ORGANIZATION,
                                  sa.or_(MatchCandidate.a_id == org_id, MatchCandidate.b_id == org_id)))
    if not conditions:
        return []
    out = []
    for c in session.scalars(sa.select(MatchCandidate).where(sa.or_(*conditions))
                             .order_by(MatchCandidate.score.desc()).limit(50)):
        mine = set(person_ids) if c.kind is MatchKind.PERSON else {org_id}
        other_id = c.b_id if c.a_id in mine else c.a_id
        label = "?"
        if c.kind is MatchKind.PERSON:
            person = session.get(Person, other_id)
            label = person.display_name if person is not None else label
        else:
            org = session.get(Organisation, other_id)
            label = org.name if org is not None else label
        out.append(DuplicateView(c.id, str(c.kind), str(c.status), round(c.score, 3), label))
    return out


def follow_ups(store: Store, now: datetime, owner: str | None = None, state: str = "open",
               limit: int = 500) -> list[FollowUpView]:
    """Follow-up tasks by due date: ``state`` open, overdue or all; ``owner`` an owner mailbox's address."""
    with store.session() as s:
        conditions: list[Any] = []
        if owner is not None:
            conditions.append(sa.func.lower(StaffMailbox.address) == owner.casefold())
        if state in ("open", "overdue"):
            conditions.append(FollowUp.status == FollowUpStatus.OPEN)
        if state == "overdue":
            conditions.append(FollowUp.due_at < now)
        return _follow_up_views(s, sa.and_(sa.true(), *conditions), now, limit)


def relationship_exists(store: Store, relationship_id: int) -> bool:
    with store.session() as s:
        return s.get(Relationship, relationship_id) is not None


def sync_health(store: Store, now: datetime, configured: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per mailbox, what ``relsync status`` shows (rows of :func:`mapping.store.reports.mailbox_status`)."""
    with store.session() as s:
        return mailbox_status(s, now, configured=configured)
