"""Store services of the reports (issue 17): the overview, tier movement and cadence compliance.

Each service opens its own read transaction, loads exactly what its computation in
:mod:`mapping.reports` needs with aggregate SQL (relationships grouped by classification, the sales
history summed per customer and per product from covering indexes, follow-ups counted per owner, status
and due day) and returns that computation's result. The web console and ``relsync report`` call these;
neither writes SQL. Data quality lists: :mod:`mapping.store.insights_quality`; one relationship's page
and search: :mod:`mapping.store.insights_card`.

Every service takes a :class:`ReportSettings` (what the configuration says about tiers, potentials,
cadences and the value period; ``scheduler.report_settings`` builds it from the loaded config).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mapping.reports import (
    Breakdown,
    ClassCount,
    CustomerRevenue,
    FollowUpBucket,
    LapsedCount,
    Movement,
    Overview,
    OwnerCompliance,
    Pareto,
    ReportInputError,
    breakdown,
    check_range,
    compliance,
    lapse_cutoffs,
    overview,
    pareto,
    pareto_shape,
    ranked,
    tier_movement,
    with_customers,
)
from mapping.store.history import latest_rows
from mapping.store.models import (
    FollowUp,
    Organisation,
    Person,
    Relationship,
    StaffMailbox,
    Transaction,
)
from mapping.store.models_history import ClassificationChange, RelationshipRevenue
from mapping.store.sales_rollup import in_period, net_amount, product_revenue
from mapping.store.store import Store

_CENT = Decimal("0.01")
#: The revenue breakdowns of the overview, in display order.
REVENUE_DIMENSIONS = ("source", "industry", "size", "product")


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """What the reports take from the configuration.

    ``tier_order`` / ``potential_order``: class names best first (rows and columns of the matrices);
    ``cadence_days``: tier -> days of its follow-up cadence (tiers without one are left out);
    ``value_period_days``: the revenue period ending on the report's day (as classification values it);
    ``currency``: only sales rows in it (None: every row, amounts added as they are);
    ``followup_statuses``: relationship statuses the follow-up plan covers.
    """

    tier_order: tuple[str, ...] = ()
    potential_order: tuple[str, ...] = ()
    cadence_days: Mapping[str, int] = field(default_factory=dict)
    value_period_days: int = 365
    currency: str | None = None
    followup_statuses: tuple[str, ...] = ("active", "inactive")
    pareto_mark: float = 0.8


@dataclass(frozen=True, slots=True)
class OverviewReport:
    """The overview page: counts and matrix, the Pareto curve and revenue breakdowns.

    ``since``..``as_of`` (both included) is the revenue period; ``revenue`` holds one
    :class:`~mapping.reports.Breakdown` per :data:`REVENUE_DIMENSIONS` entry, in that order.
    """

    as_of: date
    since: date
    overview: Overview
    pareto: Pareto
    revenue: tuple[Breakdown, ...]


def check_as_of(as_of: date | None, today: date) -> date:
    """The report's day: ``as_of``, or ``today`` when not given; a day after ``today`` is refused."""
    if as_of is None:
        return today
    if as_of > today:
        raise ReportInputError(
            f"--as-of {as_of.isoformat()} is in the future (today is {today.isoformat()}): give today or an earlier day"
        )
    return as_of


def day_end(day: date) -> datetime:
    """The instant a day ends (UTC): what happened *on* ``day`` is before it."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _today() -> date:
    return datetime.now(UTC).date()


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(_CENT)


# --- overview -------------------------------------------------------------------------------------


def _class_counts(session: Session, as_of: date, today: date) -> list[ClassCount]:
    """Relationships grouped by classification: today from the relationship rows, an earlier day from
    each relationship's latest classification history row of that day."""
    if as_of >= today:
        r = Relationship
        query: Any = sa.select(r.type, r.status, r.tier, r.potential, sa.func.count()).group_by(
            r.type, r.status, r.tier, r.potential
        )
    else:
        h = ClassificationChange
        last = latest_rows(day_end(as_of))
        query = (
            sa.select(h.type, h.status, h.tier, h.potential, sa.func.count())
            .join(last, last.c.id == h.id)
            .group_by(h.type, h.status, h.tier, h.potential)
        )
    return [
        ClassCount(getattr(kind, "value", kind), getattr(status, "value", status), tier, potential, int(count))
        for kind, status, tier, potential, count in session.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class _CustomerRow:
    relationship_id: int
    name: str
    revenue: Decimal
    source: str | None
    industry: str | None
    size: str | None


def _customers(session: Session, since: date, as_of: date, currency: str | None) -> list[_CustomerRow]:
    """Each relationship's net revenue in the period (organisation rows by organisation; rows of a person
    without organisation by the person's relationship), with what the breakdowns group it by."""
    t, r = Transaction, Relationship
    period = in_period(since, as_of, currency)
    by_org = (
        sa.select(t.organisation_id.label("oid"), net_amount().label("revenue"))
        .where(t.organisation_id.is_not(None), period)
        .group_by(t.organisation_id)
        .subquery()
    )
    org_part = sa.select(r.id.label("rid"), by_org.c.revenue).join(by_org, by_org.c.oid == r.organisation_id)
    by_person = (
        sa.select(t.person_id.label("pid"), net_amount().label("revenue"))
        .where(t.organisation_id.is_(None), t.person_id.is_not(None), period)
        .group_by(t.person_id)
        .subquery()
    )
    r_org, r_person = aliased(Relationship), aliased(Relationship)
    person_part = (
        sa.select(sa.func.coalesce(r_org.id, r_person.id).label("rid"), by_person.c.revenue)
        .join(Person, Person.id == by_person.c.pid)
        .outerjoin(r_org, r_org.organisation_id == Person.organisation_id)
        .outerjoin(r_person, r_person.person_id == Person.id)
    )
    both = sa.union_all(org_part, person_part).subquery()
    per_rel = (
        sa.select(both.c.rid, sa.func.sum(both.c.revenue).label("revenue"))
        .where(both.c.rid.is_not(None))
        .group_by(both.c.rid)
        .subquery()
    )
    query = (
        sa.select(
            r.id,
            sa.func.coalesce(Organisation.name, Person.display_name),
            per_rel.c.revenue,
            # The relationship's own value (a rule or a contact's user field) wins over the company's.
            r.source,
            sa.func.coalesce(r.industry, Organisation.industry),
            sa.func.coalesce(r.size, Organisation.size),
        )
        .join(per_rel, per_rel.c.rid == r.id)
        .outerjoin(Organisation, Organisation.id == r.organisation_id)
        .outerjoin(Person, Person.id == r.person_id)
    )
    return [
        _CustomerRow(rid, name or f"#{rid}", _money(revenue), source, industry, size)
        for rid, name, revenue, source, industry, size in session.connection().execute(query)
    ]


_Group = tuple[str | None, str | None, str | None, Decimal]  # (source, industry, size, revenue)


def _cents(column: Any) -> Any:
    """Money as whole cents in SQL (exact: the stored amounts have two decimals)."""
    return sa.cast(sa.func.round(column * sa.literal_column("100")), sa.BigInteger)


def _driver_column(session: Session, query: sa.Select[Any]) -> list[Any]:
    """The first column of a query without bound parameters, fetched by the database driver itself:
    for a hundred thousand rows, building SQLAlchemy rows would cost more than the query."""
    conn = session.connection()
    sql = str(query.compile(dialect=conn.dialect))
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()


def _classified_pareto(session: Session, mark: float) -> tuple[Pareto, list[_Group]] | None:
    """The Pareto curve of each relationship's positive net revenue as its last classification computed
    it, and those revenues summed in SQL per (source, industry, size) for the breakdowns (None: no
    classification has stored revenue yet).

    Only whole cents are read for every customer (ranked and added up as integers); names are read for
    the few inside the mark. The result equals :func:`mapping.reports.pareto` over every customer."""
    rr, r = RelationshipRevenue, Relationship
    if session.scalar(sa.select(rr.relationship_id).limit(1)) is None:
        return None
    positive = rr.net_revenue > 0
    conn = session.connection()  # Core rows: the ORM's row handling would cost more than the query
    amounts = _driver_column(session, sa.select(_cents(rr.net_revenue)).where(rr.net_revenue > sa.literal_column("0")))
    cents = sorted(map(int, amounts), reverse=True)
    shape = pareto_shape(cents, mark)
    inside: list[CustomerRevenue] = []
    if shape.inside_count:
        # Everyone at or above the last inside revenue (ties at the mark are ranked by name, then id).
        floor = Decimal(cents[shape.inside_count - 1]).scaleb(-2)
        near = sa.select(r.id, sa.func.coalesce(Organisation.name, Person.display_name), rr.net_revenue)
        near = near.join(rr, rr.relationship_id == r.id).where(rr.net_revenue >= floor)
        near = near.outerjoin(Organisation, Organisation.id == r.organisation_id)
        near = near.outerjoin(Person, Person.id == r.person_id)
        found = [
            CustomerRevenue(rid, name or f"#{rid}", _money(money)) for rid, name, money in conn.execute(near).all()
        ]
        inside = ranked(found)[: shape.inside_count]
    curve = with_customers(shape, mark, inside, Decimal(shape.total).scaleb(-2))
    industry = sa.func.coalesce(r.industry, Organisation.industry)
    size = sa.func.coalesce(r.size, Organisation.size)
    grouped = (
        sa.select(r.source, industry, size, sa.func.sum(_cents(rr.net_revenue)))
        .join(rr, rr.relationship_id == r.id)
        .outerjoin(Organisation, Organisation.id == r.organisation_id)
        .where(positive)
        .group_by(r.source, industry, size)
    )
    groups: list[_Group] = [
        (source, ind, sz, Decimal(int(total)).scaleb(-2)) for source, ind, sz, total in conn.execute(grouped)
    ]
    return curve, groups


def overview_report(
    store: Store, settings: ReportSettings = ReportSettings(), as_of: date | None = None, today: date | None = None
) -> OverviewReport:
    """The overview as of ``as_of`` (default: today; a future day is a :class:`ReportInputError`).

    Counts come from the relationships (today) or from classification history (an earlier day). Revenue
    per customer is, today, what the last classification computed (orders less returns plus referral
    credits over its value period: the numbers the tiers came from, stored beside them); on an earlier
    day, or before any classification stored it, it is summed from the sales history over the
    ``value_period_days`` ending on the day (orders less returns). Revenue by product is always the
    sales history of that period, read from its daily rollup
    (:mod:`mapping.store.sales_rollup`). ``today`` is for tests (default: the UTC date).
    """
    today = today or _today()
    day = check_as_of(as_of, today)
    since = day - timedelta(days=settings.value_period_days - 1)
    with store.session() as s:
        counts = _class_counts(s, day, today)
        classified = _classified_pareto(s, settings.pareto_mark) if day >= today else None
        if classified is None:
            rows = _customers(s, since, day, settings.currency)
            customers = [CustomerRevenue(c.relationship_id, c.name, c.revenue) for c in rows]
            curve = pareto(customers, mark=settings.pareto_mark)
            groups: list[_Group] = [(c.source, c.industry, c.size, c.revenue) for c in rows if c.revenue > 0]
        else:
            curve, groups = classified
        products = product_revenue(s, since, day, settings.currency)
    result = overview(counts, settings.tier_order, settings.potential_order)
    revenue = (
        breakdown("source", ((g[0], g[3]) for g in groups)),
        breakdown("industry", ((g[1], g[3]) for g in groups)),
        breakdown("size", ((g[2], g[3]) for g in groups)),
        breakdown("product", products),
    )
    return OverviewReport(day, since, result, curve, revenue)


# --- tier movement ----------------------------------------------------------------------------------


def _tiers_before(session: Session, before: datetime) -> dict[int, str | None]:
    h = ClassificationChange
    last = latest_rows(before)
    return {
        rid: tier for rid, tier in session.execute(sa.select(h.relationship_id, h.tier).join(last, last.c.id == h.id))
    }


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    r = Relationship
    names: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 5000):
        query = (
            sa.select(r.id, sa.func.coalesce(Organisation.name, Person.display_name))
            .outerjoin(Organisation, Organisation.id == r.organisation_id)
            .outerjoin(Person, Person.id == r.person_id)
            .where(r.id.in_(ordered[start : start + 5000]))
        )
        names.update({rid: name or f"#{rid}" for rid, name in session.execute(query)})
    return names


def movement_report(
    store: Store, start: date, end: date, settings: ReportSettings = ReportSettings(), today: date | None = None
) -> Movement:
    """What moved between tiers from the start of ``start`` to the end of ``end`` (both days included).

    A range that ends before it starts, or ends in the future, is a :class:`ReportInputError`.
    """
    check_range(start, end)
    check_as_of(end, today or _today())
    with store.session() as s:
        before = _tiers_before(s, datetime.combine(start, time(0), tzinfo=UTC))
        after = _tiers_before(s, day_end(end))
        moved = {rid for rid in before.keys() | after.keys() if before.get(rid) != after.get(rid)}
        names = _names(s, moved)
    return tier_movement(start, end, before, after, names, settings.tier_order)


# --- cadence compliance -----------------------------------------------------------------------------


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def compliance_report(
    store: Store, settings: ReportSettings = ReportSettings(), as_of: date | None = None, today: date | None = None
) -> tuple[OwnerCompliance, ...]:
    """Cadence compliance per owner on ``as_of`` (default today): follow-ups created by the end of that
    day, counted by owner, status, due day and whether completion came on time (their status is today's:
    the store keeps no history of follow-ups); lapsed relationships per owner and tier, from each
    relationship's latest interaction."""
    day = check_as_of(as_of, today or _today())
    f, mb = FollowUp, StaffMailbox
    due_day = sa.func.date(f.due_at)
    on_time = sa.func.date(f.completed_at) <= due_day
    buckets_query = (
        sa.select(mb.address, f.status, due_day, on_time, sa.func.count())
        .join(mb, mb.id == f.owner_mailbox_id)
        .where(f.created_at < day_end(day))
        .group_by(mb.address, f.status, due_day, on_time)
    )
    r = Relationship
    with store.session() as s:
        buckets = [
            FollowUpBucket(
                address, getattr(status, "value", status), _day(due), None if done is None else bool(done), int(count)
            )
            for address, status, due, done, count in s.execute(buckets_query)
        ]
        lapsed: list[LapsedCount] = []
        for tier, cutoff in sorted(lapse_cutoffs(settings.cadence_days, day).items()):
            since = datetime.combine(cutoff, time(0), tzinfo=UTC)
            query = (
                sa.select(mb.address, sa.func.count())
                .select_from(r)
                .join(mb, mb.id == r.owner_mailbox_id)
                .where(
                    r.tier == tier,
                    r.status.in_(settings.followup_statuses),
                    sa.or_(r.latest_interaction_at.is_(None), r.latest_interaction_at < since),
                )
                .group_by(mb.address)
            )
            lapsed += [LapsedCount(address, tier, int(count)) for address, count in s.execute(query)]
    return compliance(buckets, lapsed, day)


__all__ = [
    "REVENUE_DIMENSIONS",
    "OverviewReport",
    "ReportSettings",
    "check_as_of",
    "compliance_report",
    "day_end",
    "movement_report",
    "overview_report",
]
