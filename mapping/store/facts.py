"""The facts classification needs, per relationship, loaded set-based from the store.

* :func:`ensure_relationships` gives every live organisation, and every live person without an
  organisation, its ``relationships`` row (one ``INSERT ... SELECT`` each).
* :func:`load_facts` builds one :class:`mapping.relationship_records.RelationshipFacts` per
  relationship from a handful of grouped queries (no per-relationship round trips), so 100,000
  relationships load in seconds.

Who an interaction or a transaction counts for: a person's interactions and transactions count for
their organisation's relationship when they have one, else for their own. An interaction with three
people of one organisation counts once for it. Internal and cancelled interactions, meetings still in
the future, and participants who are our own staff do not count. Transactions matched to an
organisation that was merged since count for the survivor (one level of merge).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mapping.relationship_records import RelationshipFacts
from mapping.store.models import (
    CategoryOverride,
    Direction,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    Organisation,
    Person,
    Relationship,
    Transaction,
    TransactionKind,
    utcnow,
)

_ZERO = Decimal("0.00")


def ensure_relationships(session: Session) -> int:
    """Create the missing relationship rows (per live organisation, per live person without one).

    Returns how many were created. Existing rows are never changed or removed.
    """
    now = utcnow()
    stamp = sa.literal(now, Relationship.created_at.type)
    orgs = sa.select(Organisation.id, stamp, stamp).where(
        Organisation.merged_into_id.is_(None),
        ~sa.exists().where(Relationship.organisation_id == Organisation.id),
    )
    people = sa.select(Person.id, stamp, stamp).where(
        Person.merged_into_id.is_(None),
        Person.organisation_id.is_(None),
        ~sa.exists().where(Relationship.person_id == Person.id),
    )
    created = 0
    for column, query in (("organisation_id", orgs), ("person_id", people)):
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... SELECT through the ORM session.
        created += len(
            session.execute(
                sa.insert(Relationship)
                .from_select([column, "created_at", "updated_at"], query)
                .returning(Relationship.id)
            ).all()
        )
    return created


@dataclass
class _Money:
    orders: Decimal = _ZERO
    orders_previous: Decimal = _ZERO  # the value period before (growth in order value)
    returns: Decimal = _ZERO
    referral_credits: Decimal = _ZERO
    transaction_count: int = 0
    order_count: int = 0
    referrals_made: int = 0
    first_on: date | None = None
    latest_on: date | None = None


@dataclass
class _Contact:
    first_at: datetime | None = None
    latest_at: datetime | None = None
    latest_inbound_at: datetime | None = None
    inbound_recent: int = 0
    outbound_recent: int = 0
    meetings_recent: int = 0
    inbound_previous: int = 0
    outbound_previous: int = 0
    meetings_previous: int = 0


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates (MIN/MAX) bypass the column type on SQLite: restore UTC.
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns MIN/MAX of a DATETIME as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _add(a: _Money, b: _Money) -> _Money:
    firsts = [d for d in (a.first_on, b.first_on) if d is not None]
    latests = [d for d in (a.latest_on, b.latest_on) if d is not None]
    return _Money(
        a.orders + b.orders,
        a.orders_previous + b.orders_previous,
        a.returns + b.returns,
        a.referral_credits + b.referral_credits,
        a.transaction_count + b.transaction_count,
        a.order_count + b.order_count,
        a.referrals_made + b.referrals_made,
        min(firsts, default=None),
        max(latests, default=None),
    )


def _survivors(session: Session) -> dict[int, int]:
    """Merged organisation id -> its live survivor (following chains of merges)."""
    query = sa.select(Organisation.id, Organisation.merged_into_id).where(Organisation.merged_into_id.is_not(None))
    parent: dict[int, int] = {i: m for i, m in session.connection().execute(query) if m is not None}
    out: dict[int, int] = {}
    for start in parent:
        current, seen = start, {start}
        while current in parent and parent[current] not in seen:
            current = parent[current]
            seen.add(current)
        out[start] = current
    return out


def _money(
    session: Session, since: date, before: date, currency: str | None, survivors: dict[int, int]
) -> tuple[dict[int, _Money], dict[int, _Money]]:
    """Transactions summed per organisation (survivor) and per person without organisation; orders
    also over the period from ``before`` to ``since`` (the value period before this one)."""
    t = Transaction
    in_period = t.occurred_on >= since
    in_previous = sa.and_(t.occurred_on >= before, t.occurred_on < since)
    if currency is not None:
        in_period = sa.and_(in_period, t.currency == currency)
        in_previous = sa.and_(in_previous, t.currency == currency)

    def amount_of(kind: TransactionKind, period: Any = in_period) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(period, t.kind == kind), t.amount))), 0)

    measures = (
        amount_of(TransactionKind.ORDER),
        amount_of(TransactionKind.ORDER, in_previous),
        amount_of(TransactionKind.RETURN),
        amount_of(TransactionKind.REFERRAL_CREDIT),
        sa.func.count(t.id),
        sa.func.count(sa.case((t.kind == TransactionKind.ORDER, t.id))),
        sa.func.count(sa.case((t.kind == TransactionKind.REFERRAL_CREDIT, t.id))),
        sa.func.min(t.occurred_on),
        sa.func.max(t.occurred_on),
    )
    by_org = sa.select(t.organisation_id, *measures).where(t.organisation_id.is_not(None)).group_by(t.organisation_id)
    by_person = (
        sa.select(t.person_id, *measures)
        .where(t.organisation_id.is_(None), t.person_id.is_not(None))
        .group_by(t.person_id)
    )
    orgs: dict[int, _Money] = {}
    people: dict[int, _Money] = {}
    conn = session.connection()
    for target, query in ((orgs, by_org), (people, by_person)):
        for key, orders, previous, returns, credits, count, order_count, referrals, first, latest in conn.execute(
            query
        ):
            money = _Money(
                Decimal(orders).quantize(_ZERO),
                Decimal(previous).quantize(_ZERO),
                Decimal(returns).quantize(_ZERO),
                Decimal(credits).quantize(_ZERO),
                count,
                order_count,
                referrals,
                _day(first),
                _day(latest),
            )
            if target is orgs:
                key = survivors.get(key, key)
            if key in target:  # a merged organisation's rows and its survivor's, in either order
                money = _add(target[key], money)
            target[key] = money
    return orgs, people


def _contacts(session: Session, now: datetime, window: timedelta) -> tuple[dict[int, _Contact], dict[int, _Contact]]:
    """Interactions counted per organisation and per person without organisation."""
    i, p, person = Interaction, InteractionParticipant, Person
    recent_from, previous_from = now - window, now - 2 * window
    org_links = (
        sa.select(p.interaction_id.label("iid"), person.organisation_id.label("key"))
        .join(person, person.id == p.person_id)
        .where(person.organisation_id.is_not(None), p.staff_mailbox_id.is_(None))
        .distinct()
        .subquery()
    )
    person_links = (
        sa.select(p.interaction_id.label("iid"), person.id.label("key"))
        .join(person, person.id == p.person_id)
        .where(person.organisation_id.is_(None), p.staff_mailbox_id.is_(None))
        .distinct()
        .subquery()
    )
    recent = i.occurred_at >= recent_from
    previous = sa.and_(i.occurred_at >= previous_from, i.occurred_at < recent_from)
    email, meeting = i.kind == InteractionKind.EMAIL, i.kind == InteractionKind.MEETING
    inbound, outbound = i.direction == Direction.INBOUND, i.direction == Direction.OUTBOUND

    def count(*conditions: Any) -> Any:
        return sa.func.count(sa.case((sa.and_(*conditions), i.id)))

    orgs: dict[int, _Contact] = {}
    people: dict[int, _Contact] = {}
    conn = session.connection()
    for target, links in ((orgs, org_links), (people, person_links)):
        query = (
            sa.select(
                links.c.key,
                sa.func.min(i.occurred_at),
                sa.func.max(i.occurred_at),
                sa.func.max(sa.case((inbound, i.occurred_at))),
                count(recent, email, inbound),
                count(recent, email, outbound),
                count(recent, meeting),
                count(previous, email, inbound),
                count(previous, email, outbound),
                count(previous, meeting),
            )
            .join(i, i.id == links.c.iid)
            .where(i.is_cancelled.is_(False), i.direction != Direction.INTERNAL, i.occurred_at <= now)
            .group_by(links.c.key)
        )
        for key, first, latest, latest_in, *counts in conn.execute(query):
            target[key] = _Contact(_aware(first), _aware(latest), _aware(latest_in), *counts)
    return orgs, people


def _products(
    session: Session, survivors: dict[int, int]
) -> tuple[dict[int, tuple[str, ...]], dict[int, tuple[str, ...]]]:
    t = Transaction
    by_org = (
        sa.select(t.organisation_id, t.product).where(t.organisation_id.is_not(None), t.product.is_not(None)).distinct()
    )
    by_person = (
        sa.select(t.person_id, t.product)
        .where(t.organisation_id.is_(None), t.person_id.is_not(None), t.product.is_not(None))
        .distinct()
    )
    orgs: dict[int, set[str]] = {}
    people: dict[int, set[str]] = {}
    conn = session.connection()
    for key, product in conn.execute(by_org):
        if key is not None and product is not None:
            orgs.setdefault(survivors.get(key, key), set()).add(product)
    for key, product in conn.execute(by_person):
        if key is not None and product is not None:
            people.setdefault(key, set()).add(product)
    return ({k: tuple(sorted(v)) for k, v in orgs.items()}, {k: tuple(sorted(v)) for k, v in people.items()})


def _overrides(session: Session) -> dict[int, dict[str, str]]:
    """Live staff overrides per relationship; the newest wins when mailboxes disagree."""
    out: dict[int, dict[str, str]] = {}
    rows = session.execute(
        sa.select(CategoryOverride.relationship_id, CategoryOverride.dimension, CategoryOverride.value)
        .where(CategoryOverride.removed_at.is_(None))
        .order_by(CategoryOverride.created_at, CategoryOverride.id)
    )
    for relationship_id, dimension, value in rows:
        out.setdefault(relationship_id, {})[str(dimension)] = value
    return out


def _earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def load_facts(
    session: Session,
    *,
    now: datetime | None = None,
    value_period_days: int = 365,
    window_days: int = 90,
    currency: str | None = None,
    relationship_ids: Iterable[int] | None = None,
) -> list[RelationshipFacts]:
    """One :class:`RelationshipFacts` per relationship row (call :func:`ensure_relationships` first).

    ``id`` is the relationship's id (as a string). Money (``orders``, ``returns``,
    ``referral_credits``) is summed over the ``value_period_days`` up to ``now`` and, when
    ``currency`` is given, over that currency only (no exchange rates: amounts in other currencies
    are left out of the sums, never added at face value). Counts, first/latest dates, products and
    ``referrals_made`` (referral-credit rows) cover all history. Interactions are counted in the
    recent ``window_days`` and the window before. ``user_fields`` are the Outlook user-defined fields
    staff keep on the relationship's contacts (for an organisation: its people's, the most recently
    updated person's value winning).
    """
    now = now or utcnow()
    since = (now - timedelta(days=value_period_days)).date()
    before = (now - timedelta(days=2 * value_period_days)).date()
    survivors = _survivors(session)
    money_org, money_person = _money(session, since, before, currency, survivors)
    contact_org, contact_person = _contacts(session, now, timedelta(days=window_days))
    products_org, products_person = _products(session, survivors)
    overrides = _overrides(session)
    fields_org, fields_person = _user_fields(session)
    parent = aliased(Organisation)
    query = (
        sa.select(
            Relationship.id,
            Relationship.organisation_id,
            Relationship.person_id,
            sa.func.coalesce(Organisation.name, Person.display_name),
            Organisation.industry,
            Organisation.size,
            Organisation.country,
            parent.name,
            Relationship.source,
            Relationship.referred_by,
            Relationship.industry,
            Relationship.size,
            Relationship.geography,
        )
        .outerjoin(Organisation, Organisation.id == Relationship.organisation_id)
        .outerjoin(Person, Person.id == Relationship.person_id)
        .outerjoin(parent, parent.id == Organisation.parent_id)
        .order_by(Relationship.id)
    )
    if relationship_ids is not None:
        query = query.where(Relationship.id.in_(list(relationship_ids)))
    midnight: dict[date, datetime] = {}

    def at_midnight(day: date | None) -> datetime | None:
        if day is None:
            return None
        if day not in midnight:
            midnight[day] = datetime.combine(day, time(0), tzinfo=UTC)
        return midnight[day]

    out: list[RelationshipFacts] = []
    for (
        rid,
        org_id,
        person_id,
        name,
        industry,
        size,
        country,
        parent_name,
        source,
        referred_by,
        rel_industry,
        rel_size,
        rel_geography,
    ) in session.connection().execute(query):
        if org_id is not None:
            money, contact, products = money_org.get(org_id), contact_org.get(org_id), products_org.get(org_id, ())
        else:
            key = person_id if person_id is not None else -1
            money, contact, products = money_person.get(key), contact_person.get(key), products_person.get(key, ())
        m, c = money or _Money(), contact or _Contact()
        out.append(
            RelationshipFacts(
                id=str(rid),
                kind="organization" if org_id is not None else "person",
                name=name or "",
                orders=m.orders,
                orders_previous=m.orders_previous,
                returns=m.returns,
                referral_credits=m.referral_credits,
                transaction_count=m.transaction_count,
                order_count=m.order_count,
                first_contact_at=_earliest(c.first_at, at_midnight(m.first_on)),
                latest_transaction_at=at_midnight(m.latest_on),
                latest_interaction_at=c.latest_at,
                latest_inbound_at=c.latest_inbound_at,
                inbound_recent=c.inbound_recent,
                outbound_recent=c.outbound_recent,
                meetings_recent=c.meetings_recent,
                inbound_previous=c.inbound_previous,
                outbound_previous=c.outbound_previous,
                meetings_previous=c.meetings_previous,
                size=size or rel_size,
                industry=industry or rel_industry,
                geography=country or rel_geography,
                products=products,
                source=source,
                referred_by=referred_by,
                referrals_made=m.referrals_made,
                parent_name=parent_name,
                overrides=overrides.get(rid, {}),
                user_fields=(
                    fields_org.get(org_id, {})
                    if org_id is not None
                    else fields_person.get(person_id if person_id is not None else -1, {})
                ),
            )
        )
    return out


def _user_fields(session: Session) -> tuple[dict[int, dict[str, str]], dict[int, dict[str, str]]]:
    """User-defined fields by organisation and by person; the most recently updated person wins."""
    by_org: dict[int, dict[str, str]] = {}
    by_person: dict[int, dict[str, str]] = {}
    rows = session.execute(
        sa.select(Person.id, Person.organisation_id, Person.user_fields)
        .where(Person.user_fields.is_not(None), Person.merged_into_id.is_(None))
        .order_by(Person.updated_at, Person.id)
    )
    for person_id, org_id, fields in rows:
        if not fields:
            continue
        values = {str(k): str(v) for k, v in dict(fields).items()}
        by_person[person_id] = values
        if org_id is not None:
            by_org.setdefault(org_id, {}).update(values)
    return by_org, by_person


__all__ = ["ensure_relationships", "load_facts"]
