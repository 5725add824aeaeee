"""The overview's fast paths give the direct computation's answer, on SQLite and PostgreSQL:

- revenue by product from the daily sales rollup equals the sum over the sales rows, through imports, rows
  written past the rollup or deleted behind it (read directly until it is rebuilt) and deletions
  followed by a refresh;
- the Pareto curve from whole cents, with names read only near the mark, equals the pure Pareto over
  every customer's stored revenue (ties at the mark included).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapping.reports import Breakdown, CustomerRevenue, breakdown, pareto
from mapping.sales_history import TransactionKind as SalesKind
from mapping.sales_history import TransactionRow
from mapping.store import sales_rollup
from mapping.store.history import record_revenue
from mapping.store.insights import ReportSettings, overview_report
from mapping.store.models import (
    Organisation,
    Relationship,
    RelationshipStatus,
    RelationshipType,
    Transaction,
    TransactionKind,
)
from mapping.store.models_history import RelationshipRevenue, SalesDay
from mapping.store.sales_history import import_sales_history
from mapping.store.store import Store

TODAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
_serial = itertools.count()

KINDS: list[SalesKind] = ["order", "return", "referral_credit"]
Sale = tuple[int, SalesKind, Decimal, str, str | None]
money = st.decimals(min_value="0.01", max_value="5000", places=2, allow_nan=False, allow_infinity=False)
sale = st.tuples(
    st.integers(0, 40),  # days before TODAY
    st.sampled_from(KINDS),
    money,
    st.sampled_from(["EUR", "USD"]),
    st.sampled_from([None, "Widgets", "Gadgets", " ", "Bolts"]),
)


def _rows(sales: list[Sale]) -> list[TransactionRow]:
    return [
        TransactionRow(
            line=i + 2,
            occurred_on=TODAY - timedelta(days=ago),
            customer=f"nobody{n}@nowhere.example",
            kind=kind,
            amount=amount,
            currency=currency,
            product=product,
            external_id=None,
            fingerprint=f"{n:064d}",
        )
        for i, (ago, kind, amount, currency, product) in enumerate(sales)
        for n in [next(_serial)]
    ]


def _by_product(store: Store, currency: str | None, direct: bool) -> Breakdown:
    since = TODAY - timedelta(days=20)
    with store.session() as s:
        if direct:
            pairs = sales_rollup.product_revenue_direct(s, since, TODAY, currency)
        else:
            pairs = sales_rollup.product_revenue(s, since, TODAY, currency)
    return breakdown("product", pairs)


def _current(store: Store) -> bool:
    with store.session() as s:
        return sales_rollup.is_current(s)


def _clear(store: Store) -> None:
    with store.session() as s:
        s.execute(sa.delete(Transaction))
        sales_rollup.refresh(s)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.lists(sale, max_size=12), min_size=1, max_size=4),
    st.lists(sale, max_size=5),
    st.sampled_from([None, "EUR"]),
)
def test_revenue_by_product_from_the_rollup_equals_the_sum_over_the_sales_rows(
    store: Store, imports: list[list[Sale]], behind: list[Sale], currency: str | None
) -> None:
    _clear(store)
    for batch in imports:
        with store.session() as s:
            import_sales_history(s, _rows(batch), "sales.csv")
        assert _current(store)
        assert _by_product(store, currency, direct=False) == _by_product(store, currency, direct=True)
    if behind:
        # Rows written past the import (not through it): the rollup is no longer complete and is not read.
        with store.session() as s:
            for row in _rows(behind):
                s.add(
                    Transaction(
                        occurred_on=row.occurred_on,
                        customer_key=row.customer,
                        kind=TransactionKind(row.kind),
                        amount=row.amount,
                        currency=row.currency,
                        product=row.product,
                        source_file="other.csv",
                        source_line=row.line,
                        fingerprint=row.fingerprint,
                    )
                )
        assert not _current(store)
        assert _by_product(store, currency, direct=False) == _by_product(store, currency, direct=True)
        # The next import finds the mark behind and rebuilds the rollup whole.
        with store.session() as s:
            import_sales_history(s, _rows(behind), "again.csv")
        assert _current(store)
        assert _by_product(store, currency, direct=False) == _by_product(store, currency, direct=True)
    # Deleting rows (as an erasure does) and refreshing keeps them equal.
    with store.session() as s:
        s.execute(sa.delete(Transaction).where(Transaction.id % 2 == 0))
        sales_rollup.refresh(s)
    assert _current(store)
    assert _by_product(store, currency, direct=False) == _by_product(store, currency, direct=True)


def test_a_sales_row_deleted_behind_the_rollup_is_noticed_without_a_refresh(store: Store) -> None:
    _clear(store)
    with store.session() as s:
        import_sales_history(
            s,
            _rows([(1, "order", Decimal("10.00"), "EUR", "Widgets"), (2, "order", Decimal("5.00"), "EUR", "Bolts")]),
            "a.csv",
        )
    assert _current(store)
    with store.session() as s:  # the older row goes, the greatest id stays: only the count tells
        oldest = s.scalar(sa.select(sa.func.min(Transaction.id)))
        s.execute(sa.delete(Transaction).where(Transaction.id == oldest))
    assert not _current(store)
    assert _by_product(store, None, direct=False) == _by_product(store, None, direct=True)
    assert {b.label: b.amount for b in _by_product(store, None, direct=False).bars} == {"Bolts": Decimal("5.00")}
    # The next import finds the mark out of step with the table and rebuilds the rollup whole.
    with store.session() as s:
        import_sales_history(s, _rows([(3, "order", Decimal("1.00"), "EUR", "Widgets")]), "b.csv")
    assert _current(store)
    assert {b.label: b.amount for b in _by_product(store, None, direct=False).bars} == {
        "Bolts": Decimal("5.00"),
        "Widgets": Decimal("1.00"),
    }


def test_an_import_of_known_rows_adds_nothing_to_the_rollup(store: Store) -> None:
    rows = _rows([(1, "order", Decimal("10.10"), "EUR", "Widgets")] * 3)
    with store.session() as s:
        assert import_sales_history(s, rows, "a.csv").imported == 3
    with store.session() as s:
        import_sales_history(s, rows, "a.csv")  # the same rows again: duplicates
    with store.session() as s:
        assert s.scalars(sa.select(SalesDay.net_cents)).all() == [3030]
    assert _current(store)


revenues = st.lists(
    st.tuples(
        st.sampled_from(["Acme", "Bolt", "Crane", "Acme", "Delta"]),  # the same name twice: ties by id
        st.sampled_from([Decimal("-5.00"), Decimal("0.00"), Decimal("10.00"), Decimal("10.00"), Decimal("99.99")])
        | st.decimals(min_value="-100", max_value="1000", places=2, allow_nan=False, allow_infinity=False),
        st.sampled_from(["web", "fair", None]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(revenues, st.sampled_from([0.5, 0.8, 1.0]))
def test_the_overview_pareto_from_stored_revenue_equals_the_pure_pareto(
    store: Store, customers: list[tuple[str, Decimal, str | None]], mark: float
) -> None:
    with store.session() as s:
        s.execute(sa.delete(RelationshipRevenue))
        s.execute(sa.delete(Relationship))
        s.execute(sa.delete(Organisation))
        made: list[tuple[int, str, Decimal, str | None]] = []
        for i, (name, revenue, source) in enumerate(customers):
            org = Organisation(name=name, normalised_name=f"{name.lower()} {i}")
            s.add(org)
            s.flush()
            rel = Relationship(
                organisation_id=org.id,
                type=RelationshipType.CUSTOMER,
                status=RelationshipStatus.ACTIVE,
                source=source,
                classified_at=NOW,
            )
            s.add(rel)
            s.flush()
            made.append((rel.id, name, revenue, source))
        record_revenue(s, {rid: revenue for rid, _, revenue, _ in made}, NOW)
    report = overview_report(store, ReportSettings(pareto_mark=mark), today=TODAY)
    expected = pareto([CustomerRevenue(rid, name, revenue) for rid, name, revenue, _ in made], mark=mark)
    assert report.pareto == expected
    by_source = breakdown("source", ((source, revenue) for _, _, revenue, source in made if revenue > 0))
    assert report.revenue[0] == by_source


@pytest.mark.parametrize("kind", [TransactionKind.ORDER, TransactionKind.RETURN])
def test_the_overview_reads_revenue_by_product_from_the_rollup(store: Store, kind: TransactionKind) -> None:
    with store.session() as s:
        sold: SalesKind = "order" if kind is TransactionKind.ORDER else "return"
        import_sales_history(s, _rows([(3, sold, Decimal("12.34"), "EUR", "Widgets")]), "a.csv")
    report = overview_report(store, ReportSettings(), today=TODAY)
    sign = 1 if kind is TransactionKind.ORDER else -1
    assert {b.label: b.amount for b in report.revenue[3].bars} == {"Widgets": sign * Decimal("12.34")}


def test_the_upgrade_to_counted_marks_rebuilds_a_rollup_a_deletion_left_stale(db_url: str) -> None:
    from mapping.store.migrate import upgrade

    upgrade(db_url, "0018_import_outlook_contacts")
    store = Store(db_url)
    try:
        with store.session() as s:
            for i, amount in enumerate(["10.50", "4.00"]):
                s.execute(
                    sa.insert(Transaction).values(
                        occurred_on=TODAY - timedelta(days=i + 1),
                        customer_key="k",
                        kind="order",
                        amount=Decimal(amount),
                        currency="EUR",
                        product="Widgets",
                        source_file="s.csv",
                        source_line=i + 2,
                        fingerprint=f"stale{i}",
                        imported_at=NOW,
                    )
                )
            # The rollup as 0018 kept it, then the older row deleted behind it (undetectable there).
            s.execute(sa.delete(SalesDay))
            s.execute(sa.insert(SalesDay).values(day=TODAY, product="Widgets", currency="EUR", net_cents=1450))
            s.execute(sa.delete(Transaction).where(Transaction.fingerprint == "stale0"))
        upgrade(db_url)
        assert _current(store)
        assert {b.label: b.amount for b in _by_product(store, None, direct=False).bars} == {"Widgets": Decimal("4.00")}
    finally:
        store.dispose()


def test_the_upgrade_fills_the_rollup_from_the_sales_rows_already_stored(db_url: str) -> None:
    from mapping.store.migrate import upgrade

    upgrade(db_url, "0016_business_sources")
    store = Store(db_url)
    try:
        with store.session() as s:
            for i, (ago, kind, amount, product) in enumerate(
                [(1, "order", "10.50", "Widgets"), (2, "return", "0.25", "Widgets"), (3, "order", "7.00", None)]
            ):
                s.execute(
                    sa.insert(Transaction).values(
                        occurred_on=TODAY - timedelta(days=ago),
                        customer_key="k",
                        kind=kind,
                        amount=Decimal(amount),
                        currency="EUR",
                        product=product,
                        source_file="s.csv",
                        source_line=i + 2,
                        fingerprint=f"upgrade{i}",
                        imported_at=NOW,
                    )
                )
        upgrade(db_url)
        assert _current(store)
        assert _by_product(store, None, direct=False) == _by_product(store, None, direct=True)
        assert {b.label: b.amount for b in _by_product(store, None, direct=False).bars} == {
            "Widgets": Decimal("10.25"),
            "unknown": Decimal("7.00"),
        }
    finally:
        store.dispose()
