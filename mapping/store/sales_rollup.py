"""The sales history summed per day, product and currency (:class:`~mapping.store.models_history.SalesDay`),
for the overview's revenue by product: a year of it is some ten thousand rows instead of a million sales
rows summed on every page view.

How it stays equal to the sales rows:

- The mark (:class:`~mapping.store.models_history.SalesRollupMark`) is the table's :func:`position` the
  rollup was built at: the greatest sales row id and the number of sales rows.
- :func:`record_inserted` adds the rows an import has just inserted (in the import's transaction), and
  moves the mark from the position before the insert to the one after it, in one conditional
  ``UPDATE``; when the mark was not where the import found the table (rows came in or went some other
  way, or a concurrent import moved it first), the whole rollup is rebuilt instead (:func:`refresh`, one
  ``INSERT ... SELECT``).
- :func:`refresh` rebuilds it from the sales rows: after sales rows are deleted (an erasure), and from the
  migrations.
- :func:`product_revenue` reads it only while the mark equals the table's position (both read from an
  index), and otherwise sums the sales rows as :func:`product_revenue_direct` does. So a sales row
  written past the rollup is never missed, and neither is one deleted behind it (the count drops), even
  by code that does not call :func:`refresh`.

Amounts are whole cents (integers), so adding and subtracting rows is exact on SQLite too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.models import Transaction, TransactionKind, utcnow
from mapping.store.models_history import SalesDay, SalesRollupMark

_MARK_ID = 1
_CENT = Decimal("0.01")


def net_amount() -> Any:
    """Orders add, returns subtract, referral credits are not sales (SQL, summed over sales rows)."""
    t = Transaction
    return sa.func.sum(
        sa.case((t.kind == TransactionKind.ORDER, t.amount), (t.kind == TransactionKind.RETURN, -t.amount), else_=0)
    )


def in_period(since: date, as_of: date, currency: str | None) -> sa.ColumnElement[bool]:
    """Sales rows from ``since`` to ``as_of`` (both included), in ``currency`` when one is given."""
    t = Transaction
    condition = sa.and_(t.occurred_on >= since, t.occurred_on <= as_of)
    return sa.and_(condition, t.currency == currency) if currency is not None else condition


def _net_cents() -> Any:
    t = Transaction
    cents = sa.cast(sa.func.round(t.amount * 100), sa.BigInteger)
    return sa.func.sum(
        sa.case((t.kind == TransactionKind.ORDER, cents), (t.kind == TransactionKind.RETURN, -cents), else_=0)
    )


def _row_cents(kind: Any, amount: Any) -> int:
    cents = int((Decimal(str(amount)) * 100).to_integral_value(ROUND_HALF_UP))
    kind = getattr(kind, "value", kind)
    return cents if kind == TransactionKind.ORDER.value else -cents if kind == TransactionKind.RETURN.value else 0


def position(session: Session) -> tuple[int, int]:
    """The greatest sales row id (0 without any) and the number of sales rows, in one query: read before
    inserting and passed to :func:`record_inserted`."""
    row = session.execute(sa.select(sa.func.max(Transaction.id), sa.func.count(Transaction.id))).one()
    return int(row[0] or 0), int(row[1] or 0)


def _set_mark(session: Session, at: tuple[int, int], now: datetime) -> None:
    values = {"max_transaction_id": at[0], "transaction_count": at[1], "refreshed_at": now}
    updated = session.execute(
        sa.update(SalesRollupMark)
        .where(SalesRollupMark.id == _MARK_ID)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(updated, "rowcount", 0):
        session.execute(sa.insert(SalesRollupMark).values(id=_MARK_ID, **values))


def refresh(session: Session, now: datetime | None = None) -> int:
    """Rebuild the rollup from every sales row (in the caller's transaction); returns its row count."""
    t = Transaction
    session.execute(sa.delete(SalesDay).execution_options(synchronize_session=False))
    product = sa.func.coalesce(t.product, "")
    grouped = sa.select(t.occurred_on, product, t.currency, _net_cents()).group_by(t.occurred_on, product, t.currency)
    session.execute(
        sa.insert(SalesDay).from_select(["day", "product", "currency", "net_cents"], grouped),
        execution_options={"synchronize_session": False},
    )
    _set_mark(session, position(session), now or utcnow())
    return int(session.scalar(sa.select(sa.func.count()).select_from(SalesDay)) or 0)


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    table: Any = SalesDay.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "product", "currency"], set_={"net_cents": table.c.net_cents + stmt.excluded.net_cents}
    )
    for start in range(0, len(rows), 2000):
        session.execute(stmt, rows[start : start + 2000])


def record_inserted(
    session: Session, inserted: Sequence[Sequence[Any]], before: tuple[int, int], now: datetime | None = None
) -> None:
    """Add just-inserted sales rows, each ``(id, occurred_on, product, currency, kind, amount)``, to the
    rollup; ``before`` is :func:`position` read before they were inserted."""
    if not inserted:
        return
    now = now or utcnow()
    after = max(before[0], max(int(row[0]) for row in inserted))
    moved = session.execute(
        sa.update(SalesRollupMark)
        .where(
            SalesRollupMark.id == _MARK_ID,
            SalesRollupMark.max_transaction_id == before[0],
            SalesRollupMark.transaction_count == before[1],
        )
        .values(max_transaction_id=after, transaction_count=before[1] + len(inserted), refreshed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(moved, "rowcount", 0):
        refresh(session, now)  # the rollup was not complete up to ``before``: rebuild it whole
        return
    sums: dict[tuple[date, str, str], int] = {}
    for _id, day, product, currency, kind, amount in inserted:
        key = (day, product or "", currency)
        sums[key] = sums.get(key, 0) + _row_cents(kind, amount)
    _upsert(session, [{"day": d, "product": p, "currency": c, "net_cents": n} for (d, p, c), n in sums.items()])


def is_current(session: Session) -> bool:
    """Whether the rollup holds exactly the sales rows there are (its mark is the table's :func:`position`)."""
    mark = session.execute(
        sa.select(SalesRollupMark.max_transaction_id, SalesRollupMark.transaction_count).where(
            SalesRollupMark.id == _MARK_ID
        )
    ).first()
    return mark is not None and (int(mark[0]), int(mark[1])) == position(session)


def product_revenue_direct(
    session: Session, since: date, as_of: date, currency: str | None
) -> list[tuple[str | None, Decimal]]:
    """Net revenue per product summed from every sales row of the period (matched to a customer or not)."""
    t = Transaction
    query = sa.select(t.product, net_amount()).where(in_period(since, as_of, currency)).group_by(t.product)
    return [(product, Decimal(str(amount or 0)).quantize(_CENT)) for product, amount in session.execute(query)]


def product_revenue(
    session: Session, since: date, as_of: date, currency: str | None
) -> list[tuple[str | None, Decimal]]:
    """Net revenue per product in the period (None: no product): from the rollup while it is complete,
    else as :func:`product_revenue_direct`. The two give the same breakdown."""
    if not is_current(session):
        return product_revenue_direct(session, since, as_of, currency)
    d = SalesDay
    period = sa.and_(d.day >= since, d.day <= as_of)
    if currency is not None:
        period = sa.and_(period, d.currency == currency)
    query = sa.select(d.product, sa.func.sum(d.net_cents)).where(period).group_by(d.product)
    return [(product or None, Decimal(int(cents or 0)).scaleb(-2)) for product, cents in session.execute(query)]


__all__ = [
    "in_period",
    "is_current",
    "net_amount",
    "position",
    "product_revenue",
    "product_revenue_direct",
    "record_inserted",
    "refresh",
]
