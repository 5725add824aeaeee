"""One relationship's page (:func:`relationship_card`) and finding relationships (:func:`search`).

For the web console's relationship page and, later, the Outlook add-in: everything the organisation
knows about one relationship in one read transaction (seed "12 Principles", 10). The interaction
timeline spans every staff mailbox (each entry says which mailboxes hold it) and never carries bodies
or snippets; private items are left out. Every list is bounded (newest first) and says its total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.reports import ReportInputError
from mapping.store.classification import explain_relationship
from mapping.store.models import (
    EmailAddress,
    FollowUp,
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
)
from mapping.store.store import Store

#: The longest search text accepted (a name, an address, a domain or a phone number fits easily).
MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True, slots=True)
class PersonView:
    id: int
    name: str
    job_title: str | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrganisationView:
    id: int
    name: str
    website: str | None
    industry: str | None
    size: str | None
    country: str | None
    domains: tuple[str, ...]
    parent: str | None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One interaction (no body, no snippet) and the staff mailboxes that hold it."""

    interaction_id: int
    occurred_at: datetime
    kind: str
    direction: str
    subject: str | None
    mailboxes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TransactionView:
    id: int
    occurred_on: date
    kind: str
    amount: Decimal
    currency: str
    product: str | None


@dataclass(frozen=True, slots=True)
class FollowUpView:
    id: int
    owner: str
    subject: str
    due: date
    status: str
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DuplicateView:
    """A match candidate involving this relationship's organisation or people."""

    candidate_id: int
    kind: str
    a_id: int
    b_id: int
    score: float
    status: str


@dataclass(frozen=True, slots=True)
class KeyDates:
    first_contact_at: datetime | None
    latest_interaction_at: datetime | None
    latest_transaction_on: date | None
    next_follow_up: date | None


@dataclass(frozen=True, slots=True)
class RelationshipCard:
    """Everything one relationship's page shows.

    ``classification`` is what ``relsync explain`` shows (result, inputs, fired rules, overrides).
    ``*_total`` fields count what the bounded lists were cut from, up to :data:`COUNT_CAP`; a total of
    ``COUNT_CAP + 1`` means more than that.
    """

    id: int
    name: str
    kind: str  # "organization" or "person"
    owner: str | None
    organisation: OrganisationView | None
    people: tuple[PersonView, ...]
    classification: dict[str, Any]
    key_dates: KeyDates
    timeline: tuple[TimelineEntry, ...]
    interactions_total: int
    transactions: tuple[TransactionView, ...]
    transactions_total: int
    follow_ups: tuple[FollowUpView, ...]
    duplicates: tuple[DuplicateView, ...]

    @property
    def interactions_count(self) -> str:
        """``interactions_total`` as a page says it: "1,000+" past :data:`COUNT_CAP`."""
        return _count_text(self.interactions_total)

    @property
    def transactions_count(self) -> str:
        """``transactions_total`` as a page says it: "1,000+" past :data:`COUNT_CAP`."""
        return _count_text(self.transactions_total)


def _count_text(total: int) -> str:
    return f"{COUNT_CAP:,}+" if total > COUNT_CAP else f"{total:,}"


def _grouped(session: Session, query: Any) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for key, value in session.execute(query):
        out.setdefault(key, []).append(value)
    return out


def _people(session: Session, ids: list[int]) -> tuple[PersonView, ...]:
    if not ids:
        return ()
    emails = _grouped(
        session,
        sa.select(EmailAddress.person_id, EmailAddress.address)
        .where(EmailAddress.person_id.in_(ids))
        .order_by(EmailAddress.person_id, EmailAddress.is_primary.desc(), EmailAddress.address),
    )
    phones = _grouped(
        session,
        sa.select(Phone.person_id, Phone.e164).where(Phone.person_id.in_(ids)).order_by(Phone.person_id, Phone.e164),
    )
    rows = session.execute(
        sa.select(Person.id, Person.display_name, Person.job_title)
        .where(Person.id.in_(ids))
        .order_by(Person.display_name, Person.id)
    )
    return tuple(
        PersonView(pid, name, title, tuple(emails.get(pid, ())), tuple(phones.get(pid, ())))
        for pid, name, title in rows
    )


def _organisation(session: Session, org: Organisation) -> OrganisationView:
    domains = tuple(
        session.scalars(
            sa.select(OrganisationDomain.domain)
            .where(OrganisationDomain.organisation_id == org.id)
            .order_by(OrganisationDomain.domain)
        )
    )
    parent = (
        session.scalar(sa.select(Organisation.name).where(Organisation.id == org.parent_id))
        if org.parent_id is not None
        else None
    )
    return OrganisationView(org.id, org.name, org.website, org.industry, org.size, org.country, domains, parent)


#: Above this many interactions, the newest are found by walking the time index (see :func:`_timeline`).
WALK_ABOVE = 500
#: Totals are counted up to this many; ``COUNT_CAP + 1`` means "more than COUNT_CAP" (a page says
#: "1,000+"): counting a big customer's every e-mail would cost more than the rest of its page.
COUNT_CAP = 1_000


def _capped_count(session: Session, query: Any) -> int:
    """How many rows ``query`` gives, counting at most ``COUNT_CAP + 1``."""
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.limit(COUNT_CAP + 1).subquery())) or 0)


def _timeline(session: Session, people: list[int], limit: int) -> tuple[tuple[TimelineEntry, ...], int]:
    """The newest ``limit`` visible interactions of ``people`` and how many there are in all.

    A relationship with a few interactions: fetch them all by participant and keep the newest. A busy
    one (tens of thousands): walk interactions newest first along the time index and keep those with one
    of its people, which stops after ``limit`` hits instead of sorting every interaction it ever had.
    """
    if not people:
        return (), 0
    i, p = Interaction, InteractionParticipant
    theirs = sa.select(p.interaction_id).where(p.person_id.in_(people))
    # Counted from the participants' person index (distinct: two of its people on one e-mail count once).
    total = _capped_count(
        session,
        sa.select(p.interaction_id)
        .join(i, i.id == p.interaction_id)
        .where(p.person_id.in_(people), i.is_private.is_(False))
        .distinct(),
    )
    columns = (i.id, i.occurred_at, i.kind, i.direction, i.subject)
    if total > WALK_ABOVE:
        mine = sa.exists().where(p.interaction_id == i.id, p.person_id.in_(people))
        query = sa.select(*columns).where(mine, i.is_private.is_(False))
    else:
        query = sa.select(*columns).where(i.id.in_(theirs), i.is_private.is_(False))
    rows = list(session.execute(query.order_by(i.occurred_at.desc(), i.id.desc()).limit(limit)))
    viewers = _grouped(
        session,
        sa.select(InteractionViewer.interaction_id, StaffMailbox.address)
        .join(StaffMailbox, StaffMailbox.id == InteractionViewer.mailbox_id)
        .where(InteractionViewer.interaction_id.in_([r[0] for r in rows] or [-1]))
        .order_by(InteractionViewer.interaction_id, StaffMailbox.address),
    )
    return tuple(
        TimelineEntry(iid, at, str(kind.value), str(direction.value), subject, tuple(viewers.get(iid, ())))
        for iid, at, kind, direction, subject in rows
    ), total


def _transactions(
    session: Session, rel: Relationship, people: list[int], limit: int
) -> tuple[tuple[TransactionView, ...], int]:
    """The newest ``limit`` sales rows of the relationship and how many (capped) there are: its
    organisation's rows, and its people's rows that carry no organisation. Each part is read along its
    own index (one OR of both would read every row of a big customer)."""
    t = Transaction
    parts = []
    if rel.organisation_id is not None:
        parts.append(t.organisation_id == rel.organisation_id)
    if people:
        # coalesce(): "no organisation" as an expression, so the planner reads the person_id index
        # (the organisation_id one would walk every unmatched and person-only row of the store).
        parts.append(sa.and_(t.person_id.in_(people), sa.func.coalesce(t.organisation_id, 0) == 0))
    columns = (t.id, t.occurred_on, t.kind, t.amount, t.currency, t.product)
    rows: list[Any] = []
    total = 0
    for mine in parts:
        total += _capped_count(session, sa.select(t.id).where(mine))
        rows += session.execute(
            sa.select(*columns).where(mine).order_by(t.occurred_on.desc(), t.id.desc()).limit(limit)
        ).all()
    rows.sort(key=lambda row: (row[1], row[0]), reverse=True)
    return tuple(
        TransactionView(tid, day, str(kind.value), Decimal(str(amount)).quantize(Decimal("0.01")), currency, product)
        for tid, day, kind, amount, currency, product in rows[:limit]
    ), min(total, COUNT_CAP + 1)


def _follow_ups(session: Session, rel_id: int, limit: int) -> tuple[FollowUpView, ...]:
    f = FollowUp
    rows = session.execute(
        sa.select(f.id, StaffMailbox.address, f.subject, f.due_at, f.status, f.completed_at)
        .join(StaffMailbox, StaffMailbox.id == f.owner_mailbox_id)
        .where(f.relationship_id == rel_id)
        .order_by(f.due_at.desc(), f.id.desc())
        .limit(limit)
    )
    return tuple(
        FollowUpView(fid, owner, subject, due.date(), str(status.value), done)
        for fid, owner, subject, due, status, done in rows
    )


def _duplicates(session: Session, org_id: int | None, people: list[int]) -> tuple[DuplicateView, ...]:
    c = MatchCandidate
    about = []
    if org_id is not None:
        about.append(sa.and_(c.kind == MatchKind.ORGANIZATION, sa.or_(c.a_id == org_id, c.b_id == org_id)))
    if people:
        about.append(sa.and_(c.kind == MatchKind.PERSON, sa.or_(c.a_id.in_(people), c.b_id.in_(people))))
    if not about:
        return ()
    rows = session.execute(
        sa.select(c.id, c.kind, c.a_id, c.b_id, c.score, c.status)
        .where(sa.or_(*about))
        .order_by(c.score.desc(), c.id)
        .limit(100)
    )
    return tuple(
        DuplicateView(cid, str(kind.value), a, b, float(score), str(status.value))
        for cid, kind, a, b, score, status in rows
    )


def relationship_card(store: Store, relationship_id: int, limit: int = 100) -> RelationshipCard | None:
    """Everything about relationship ``relationship_id`` (None: no such relationship). Lists hold at most
    ``limit`` entries each, newest first; people at most 500."""
    with store.session() as s:
        rel = s.get(Relationship, relationship_id)
        if rel is None:
            return None
        org = s.get(Organisation, rel.organisation_id) if rel.organisation_id is not None else None
        if org is not None:
            people = list(
                s.scalars(
                    sa.select(Person.id)
                    .where(Person.organisation_id == org.id, Person.merged_into_id.is_(None))
                    .order_by(Person.id)
                    .limit(500)
                )
            )
        else:
            people = [rel.person_id] if rel.person_id is not None else []
        explained = explain_relationship(s, rel)
        timeline, interactions_total = _timeline(s, people, limit)
        transactions, transactions_total = _transactions(s, rel, people, limit)
        follow_ups = _follow_ups(s, rel.id, limit)
        next_due = min((f.due for f in follow_ups if f.status == "open"), default=None)
        owner = (
            s.scalar(sa.select(StaffMailbox.address).where(StaffMailbox.id == rel.owner_mailbox_id))
            if rel.owner_mailbox_id is not None
            else rel.owner
        )
        return RelationshipCard(
            id=rel.id,
            name=str(explained["name"]),
            kind=str(explained["kind"]),
            owner=owner,
            organisation=_organisation(s, org) if org is not None else None,
            people=_people(s, people),
            classification=explained,
            key_dates=KeyDates(rel.first_contact_at, rel.latest_interaction_at, rel.latest_transaction_on, next_due),
            timeline=timeline,
            interactions_total=interactions_total,
            transactions=transactions,
            transactions_total=transactions_total,
            follow_ups=follow_ups,
            duplicates=_duplicates(s, rel.organisation_id, people),
        )


# --- search -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A relationship found, and what matched (``"name"``, ``"e-mail"``, ``"domain"`` or ``"phone"``)."""

    relationship_id: int
    name: str
    kind: str
    matched: str


_PHONE = re.compile(r"^\+?[\d\s().\-/]{4,}$")
#: Control characters (NUL among them) are never part of a name, address or number: SQLite's LIKE would
#: stop at a NUL (matching everything) and PostgreSQL refuses text holding one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DOMAIN = re.compile(r"^[\w.-]+\.[a-z]{2,}$", re.IGNORECASE)


def _relationships_of_people(session: Session, people: set[int]) -> set[int]:
    if not people:
        return set()
    r = Relationship
    ids = sorted(people)
    orgs = sa.select(Person.organisation_id).where(Person.id.in_(ids), Person.organisation_id.is_not(None))
    return set(session.scalars(sa.select(r.id).where(sa.or_(r.person_id.in_(ids), r.organisation_id.in_(orgs)))))


def search(store: Store, text: str, limit: int = 50) -> tuple[SearchHit, ...]:
    """Relationships whose organisation or people match ``text`` by name, e-mail address, domain or phone
    (case-insensitive "contains"; ``%`` and ``_`` are plain characters, control characters are spaces).
    Blank text finds nothing; text longer than :data:`MAX_SEARCH_LENGTH` is a
    :class:`~mapping.reports.ReportInputError`. At most ``limit`` hits, by name."""
    query = _CONTROL.sub(" ", text).strip()
    if len(query) > MAX_SEARCH_LENGTH:
        raise ReportInputError(
            f"the search text is {len(query)} characters long: search for at most {MAX_SEARCH_LENGTH} "
            "(a name, an e-mail address, a domain or a phone number)"
        )
    if not query:
        return ()
    folded = query.casefold()
    found: dict[int, str] = {}
    with store.session() as s:

        def add(ids: set[int], how: str) -> None:
            for rid in sorted(ids):
                found.setdefault(rid, how)

        live_people = Person.merged_into_id.is_(None)
        if "@" in folded:
            people = set(
                s.scalars(
                    sa.select(EmailAddress.person_id)
                    .where(EmailAddress.address.contains(folded, autoescape=True))
                    .limit(1000)
                )
            )
            add(_relationships_of_people(s, people), "e-mail")
        if _PHONE.match(query):
            # E.164 has no national trunk prefix: "030 123" is found in "+4930123...".
            digits = re.sub(r"\D", "", query).lstrip("0")
            if len(digits) >= 4:
                people = set(
                    s.scalars(
                        sa.select(Phone.person_id).where(Phone.e164.contains(digits, autoescape=True)).limit(1000)
                    )
                )
                add(_relationships_of_people(s, people), "phone")
        if _DOMAIN.match(query) and "@" not in folded:
            orgs = sa.select(OrganisationDomain.organisation_id).where(
                OrganisationDomain.domain.contains(folded, autoescape=True)
            )
            add(
                set(s.scalars(sa.select(Relationship.id).where(Relationship.organisation_id.in_(orgs)).limit(1000))),
                "domain",
            )
        org_names = sa.select(Organisation.id).where(
            sa.func.lower(Organisation.name).contains(folded, autoescape=True), Organisation.merged_into_id.is_(None)
        )
        add(
            set(s.scalars(sa.select(Relationship.id).where(Relationship.organisation_id.in_(org_names)).limit(1000))),
            "name",
        )
        people = set(
            s.scalars(
                sa.select(Person.id)
                .where(sa.func.lower(Person.display_name).contains(folded, autoescape=True), live_people)
                .limit(1000)
            )
        )
        add(_relationships_of_people(s, people), "name")
        if not found:
            return ()
        r = Relationship
        rows = s.execute(
            sa.select(r.id, sa.func.coalesce(Organisation.name, Person.display_name), r.organisation_id.is_not(None))
            .outerjoin(Organisation, Organisation.id == r.organisation_id)
            .outerjoin(Person, Person.id == r.person_id)
            .where(r.id.in_(sorted(found)))
        )
        hits = [
            SearchHit(rid, name or f"#{rid}", "organization" if is_org else "person", found[rid])
            for rid, name, is_org in rows
        ]
    hits.sort(key=lambda h: (h.name.casefold(), h.relationship_id))
    return tuple(hits[:limit])


__all__ = [
    "COUNT_CAP",
    "MAX_SEARCH_LENGTH",
    "WALK_ABOVE",
    "DuplicateView",
    "FollowUpView",
    "KeyDates",
    "OrganisationView",
    "PersonView",
    "RelationshipCard",
    "SearchHit",
    "TimelineEntry",
    "TransactionView",
    "relationship_card",
    "search",
]
