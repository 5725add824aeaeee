"""What the business case's pure functions need, loaded set-based from the store (issue 16).

One query each: the relationships (names, tiers, industry and size), the sales history (orders,
returns and referral credits per relationship), the Outlook user-defined fields staff keep on
contacts (referrals, parent organisations, the "What matters" note), and the organisations' own
parent links. Values written by hand in a user field ("Acme Corp", "jane@acme.com", "Jane Doe")
are matched to a relationship by e-mail address, then organisation name (normalised, as the sales
import matches), then a person's display name; a value that matches nothing is counted, not guessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.group_sources import OrgProfile
from mapping.hygiene import normalise_company_name
from mapping.keydates import Order
from mapping.store.models import (
    EmailAddress,
    Organisation,
    OrganisationDomain,
    Person,
    Relationship,
    Transaction,
    TransactionKind,
)
from mapping.store.models_business import GroupFamily
from mapping.store.sales_history import CustomerMatcher, Match

_ZERO = Decimal(0)


@dataclass
class Sales:
    """Each relationship's sales history: orders (all history), and net revenue per period."""

    orders: dict[int, list[Order]] = field(default_factory=lambda: defaultdict(list))
    net: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # the value period
    recent_orders: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # growth: recent
    previous_orders: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))  # the one before
    products: list[tuple[int, str]] = field(default_factory=list)  # (relationship, product as written)

    def first_order(self) -> dict[int, date]:
        return {rid: min(o.day for o in orders) for rid, orders in self.orders.items() if orders}


@dataclass(frozen=True)
class Relationships:
    """Names, tiers and profiles of every relationship, and how to find one by a hand-written value."""

    names: dict[int, str]
    tiers: dict[int, str | None]
    industry: dict[int, str | None]
    size: dict[int, str | None]
    of_org: dict[int, int]
    of_person: dict[int, int]  # people without an organisation
    organisations: frozenset[int]  # relationship ids that are organisations
    by_email: dict[str, int]
    by_org_name: dict[str, int | None]  # None: two organisations share the name (ambiguous)
    by_person_name: dict[str, int | None]

    def find(self, value: str) -> int | None:
        """The relationship a hand-written value names, or None (unknown, or ambiguous)."""
        text = value.strip()
        if not text:
            return None
        if "@" in text:
            return self.by_email.get(text.casefold())
        key = normalise_company_name(text)
        if key and key in self.by_org_name:
            return self.by_org_name[key]
        return self.by_person_name.get(text.casefold())


def load_relationships(session: Session) -> Relationships:
    """Every relationship with its name and profile, and the lookups for hand-written values."""
    names: dict[int, str] = {}
    tiers: dict[int, str | None] = {}
    industry: dict[int, str | None] = {}
    size: dict[int, str | None] = {}
    of_org: dict[int, int] = {}
    of_person: dict[int, int] = {}
    by_org_name: dict[str, int | None] = {}
    rows = session.execute(
        sa.select(
            Relationship.id,
            Relationship.organisation_id,
            Relationship.person_id,
            Relationship.tier,
            Relationship.industry,
            Relationship.size,
            Organisation.name,
            Organisation.normalised_name,
            Organisation.industry,
            Organisation.size,
            Person.display_name,
        )
        .outerjoin(Organisation, Organisation.id == Relationship.organisation_id)
        .outerjoin(Person, Person.id == Relationship.person_id)
    )
    for rid, org_id, person_id, tier, r_industry, r_size, org_name, org_key, o_industry, o_size, person_name in rows:
        names[rid] = org_name or person_name or f"relationship {rid}"
        tiers[rid] = tier
        industry[rid] = o_industry or r_industry
        size[rid] = o_size or r_size
        if org_id is not None:
            of_org[org_id] = rid
            # The stored key (hygiene's, written with the name), as the sales import matches names.
            key = org_key or normalise_company_name(org_name or "")
            if key:
                by_org_name[key] = None if key in by_org_name and by_org_name[key] != rid else rid
        elif person_id is not None:
            of_person[person_id] = rid
    by_email: dict[str, int] = {}
    by_person_name: dict[str, int | None] = {}
    for person_id, org_id, display, address in session.execute(
        sa.select(Person.id, Person.organisation_id, Person.display_name, EmailAddress.address)
        .outerjoin(EmailAddress, EmailAddress.person_id == Person.id)
        .where(Person.merged_into_id.is_(None))
    ):
        found = of_org.get(org_id) if org_id is not None else of_person.get(person_id)
        if found is None:
            continue
        rid = found
        if address:
            by_email[str(address).casefold()] = rid
        if display:
            key = str(display).casefold().strip()
            by_person_name[key] = None if key in by_person_name and by_person_name[key] != rid else rid
    return Relationships(
        names,
        tiers,
        industry,
        size,
        of_org,
        of_person,
        frozenset(of_org.values()),
        by_email,
        by_org_name,
        by_person_name,
    )


def load_sales(
    session: Session,
    rels: Relationships,
    today: date,
    value_period_days: int,
    currency: str | None,
) -> Sales:
    """The sales history per relationship (one pass over the transactions).

    Orders of every day (the usual interval between orders needs the history); net revenue (orders less
    returns plus referral credits) over the value period, as classification counts it; the order value
    of the last value period and the one before (growth in order value). Only ``currency`` counts when
    given (amounts in other currencies are not converted).
    """
    out = Sales()
    query = sa.select(
        Transaction.id,
        Transaction.organisation_id,
        Transaction.person_id,
        Transaction.kind,
        Transaction.occurred_on,
        Transaction.amount,
        Transaction.external_id,
        Transaction.product,
    )
    query = query.where(sa.or_(Transaction.organisation_id.is_not(None), Transaction.person_id.is_not(None)))
    if currency:
        query = query.where(Transaction.currency == currency)
    person_org = dict(
        session.execute(sa.select(Person.id, Person.organisation_id).where(Person.organisation_id.is_not(None))).all()
    )
    for tid, org_id, person_id, kind, day, amount, external_id, product in session.execute(query):
        if org_id is None and person_id in person_org:
            org_id = person_org[person_id]
        rid = _rid(rels, org_id, person_id)
        if rid is None:
            continue
        age = (today - day).days
        signed = -amount if kind == TransactionKind.RETURN else amount
        if 0 <= age < value_period_days:
            out.net[rid] += signed
        if kind != TransactionKind.ORDER:
            continue
        out.orders[rid].append(Order(external_id or f"#{tid}", day, amount))
        if product:
            out.products.append((rid, product))
        if 0 <= age < value_period_days:
            out.recent_orders[rid] += amount
        elif value_period_days <= age < 2 * value_period_days:
            out.previous_orders[rid] += amount
    return out


def load_user_fields(session: Session, rels: Relationships, names: tuple[str, ...]) -> dict[str, dict[int, str]]:
    """Field name -> relationship id -> the value staff wrote (the most recently updated contact wins)."""
    wanted = set(names)
    out: dict[str, dict[int, str]] = {n: {} for n in names}
    for person_id, org_id, fields in session.execute(
        sa.select(Person.id, Person.organisation_id, Person.user_fields)
        .where(Person.user_fields.is_not(None), Person.merged_into_id.is_(None))
        .order_by(Person.updated_at, Person.id)
    ):
        if not fields:
            continue
        rid = _rid(rels, org_id, person_id)
        if rid is None:
            continue
        for key, value in dict(fields).items():
            if key in wanted and value is not None and str(value).strip():
                out[key][rid] = str(value)
    return out


def organisation_parents(session: Session, rels: Relationships) -> list[tuple[int, int]]:
    """(child, parent) relationship ids from the organisations' own parent links."""
    out = []
    for org_id, parent_id in session.execute(
        sa.select(Organisation.id, Organisation.parent_id).where(
            Organisation.parent_id.is_not(None), Organisation.merged_into_id.is_(None)
        )
    ):
        child = rels.of_org.get(org_id)
        parent = rels.of_org.get(parent_id) if parent_id is not None else None
        if child is not None and parent is not None:
            out.append((child, parent))
    return out


def org_profiles(session: Session, rels: Relationships) -> list[OrgProfile]:
    """Every live organisation's relationship id, name and domains (parent rules, domain families)."""
    domains: dict[int, list[str]] = defaultdict(list)
    for org_id, domain in session.execute(sa.select(OrganisationDomain.organisation_id, OrganisationDomain.domain)):
        domains[org_id].append(domain)
    return [
        OrgProfile(rid, rels.names.get(rid, ""), tuple(sorted(domains.get(org_id, ()))))
        for org_id, rid in sorted(rels.of_org.items(), key=lambda kv: kv[1])
    ]


def confirmed_families(session: Session) -> dict[str, int]:
    """Domain family -> the parent relationship the admin confirmed it with."""
    rows = session.execute(sa.select(GroupFamily.family, GroupFamily.parent_relationship_id))
    return {str(family): int(parent) for family, parent in rows}


@dataclass(frozen=True, slots=True)
class CreditReferral:
    """A referral-credit transaction naming the customer referred (``referred`` None: no match)."""

    referrer: int
    referred: int | None
    key: str
    line: int
    source_file: str


def referral_credits(session: Session, rels: Relationships) -> list[CreditReferral]:
    """The referral-credit rows of the sales history that name the referred customer, oldest first,
    the referred key matched as a customer key is (:class:`mapping.store.sales_history.CustomerMatcher`:
    e-mail, domain, exact normalised name, an earlier transaction's match; not fuzzy names, whose index
    of every organisation is too dear for each classification pass)."""
    rows = session.execute(
        sa.select(
            Transaction.organisation_id,
            Transaction.person_id,
            Transaction.referred_key,
            Transaction.source_line,
            Transaction.source_file,
        )
        .where(Transaction.kind == TransactionKind.REFERRAL_CREDIT, Transaction.referred_key.is_not(None))
        .order_by(Transaction.occurred_on, Transaction.id)
    ).all()
    if not rows:
        return []
    matcher = CustomerMatcher(session, fuzzy=False)
    matcher.prepare({str(r.referred_key) for r in rows})
    person_org = _person_orgs(session, {r.person_id for r in rows if r.person_id is not None})
    out = []
    for org_id, person_id, key, line, source in rows:
        if org_id is None and person_id is not None:
            org_id = person_org.get(person_id)
        referrer = _rid(rels, org_id, person_id)
        if referrer is None:
            continue
        match = matcher.resolve(str(key))
        referred = _rid(rels, match.organisation_id, match.person_id) if isinstance(match, Match) else None
        out.append(CreditReferral(referrer, referred, str(key), int(line), str(source)))
    return out


def _person_orgs(session: Session, ids: set[int]) -> dict[int, int]:
    if not ids:
        return {}
    return {
        pid: oid
        for pid, oid in session.execute(sa.select(Person.id, Person.organisation_id).where(Person.id.in_(sorted(ids))))
        if oid is not None
    }


def _rid(rels: Relationships, org_id: int | None, person_id: int | None) -> int | None:
    """The relationship of an organisation, else of a person without one."""
    if org_id is not None:
        return rels.of_org.get(org_id)
    return rels.of_person.get(person_id) if person_id is not None else None
