"""Classification history: one row per change of a relationship's classification.

Tier movement between two dates (issue 17) needs what each relationship *was* on a day, and the
relationship row only holds what it *is*. :func:`mapping.store.history.record_changes` appends a row
here whenever classification stores a result that differs from the stored one (type, status, tier,
potential or value %), so the row of a relationship with the greatest ``id`` at or before a day is its
classification on that day. Rows are only appended, in time order (``id`` grows with ``changed_at``).

The migration ``0010_classification_history`` creates the table and backfills each classified
relationship's current classification as its first row.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models import Base, UTCDateTime


class ClassificationChange(Base):
    """What a relationship's classification became at ``changed_at`` (the values after the change)."""

    __tablename__ = "classification_history"
    __table_args__ = (
        # "Each relationship's latest row before a day": by relationship, then time.
        sa.Index("ix_classification_history_relationship_id_changed_at", "relationship_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(sa.ForeignKey("relationships.id", ondelete="CASCADE"))
    # Indexed: a movement report between two dates reads only the rows up to its end.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Plain strings (the relationship row checks the vocabularies; history keeps what was there).
    type: Mapped[str | None] = mapped_column(sa.String(16))
    status: Mapped[str | None] = mapped_column(sa.String(16))
    tier: Mapped[str | None] = mapped_column(sa.String(64))
    potential: Mapped[str | None] = mapped_column(sa.String(64))
    value_percent: Mapped[float | None] = mapped_column(sa.Float)


__all__ = [
    "REPORT_RELATIONSHIP_INDEX",
    "REPORT_TRANSACTION_INDEXES",
    "ClassificationChange",
    "RelationshipRevenue",
    "SalesDay",
    "SalesRollupMark",
]


class RelationshipRevenue(Base):
    """A relationship's net revenue over the value period, as its last classification computed it.

    Written by classification beside the result (:func:`mapping.store.history.record_revenue`), so the
    overview ranks customers (the Pareto curve, revenue by source, industry, size) from 100,000 rows
    instead of summing a million sales rows per page view, with exactly the numbers the tiers came from.
    """

    __tablename__ = "relationship_revenue"
    __table_args__ = (
        # The overview reads every positive revenue and the customers above the Pareto mark from here.
        sa.Index("ix_relationship_revenue_net_revenue", "net_revenue", "relationship_id"),
    )

    relationship_id: Mapped[int] = mapped_column(
        sa.ForeignKey("relationships.id", ondelete="CASCADE"), primary_key=True
    )
    net_revenue: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Counting relationships by classification reads only this index (no table rows, no sort).
_R = Base.metadata.tables["relationships"]
REPORT_RELATIONSHIP_INDEX = sa.Index(
    "ix_relationships_report_classification", _R.c.type, _R.c.status, _R.c.tier, _R.c.potential
)

# The sales history as the reports read it: revenue per customer over a period (grouped by
# organisation) and by product. Covering indexes, so the overview sums a million rows from an index
# walked in group order, without touching the table. Declared here, beside the other report-only
# schema, so models.py does not grow; they belong to the ``transactions`` table.
_T = Base.metadata.tables["transactions"]
REPORT_TRANSACTION_INDEXES = (
    sa.Index(
        "ix_transactions_report_customer",
        _T.c.organisation_id,
        _T.c.person_id,
        _T.c.occurred_on,
        _T.c.kind,
        _T.c.amount,
        _T.c.currency,
    ),
    sa.Index("ix_transactions_report_product", _T.c.product, _T.c.occurred_on, _T.c.kind, _T.c.amount, _T.c.currency),
)


class SalesDay(Base):
    """The sales history summed per day, product and currency (net of returns, in whole cents): what the
    overview's revenue by product reads (a year is some ten thousand rows, not a million sales rows).

    Kept by :mod:`mapping.store.sales_rollup` as sales rows are imported or erased; ``product`` is ``""``
    for rows without one. :class:`SalesRollupMark` says up to which sales row it is complete.
    """

    __tablename__ = "sales_daily"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    product: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    net_cents: Mapped[int] = mapped_column(sa.BigInteger)


class SalesRollupMark(Base):
    """One row: the rollup holds the ``transaction_count`` sales rows up to ``max_transaction_id``. When
    the greatest id in ``transactions`` differs, rows came in past the rollup; when the count differs,
    rows were deleted behind it. Either way the reports sum the sales rows instead."""

    __tablename__ = "sales_rollup_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    max_transaction_id: Mapped[int] = mapped_column(sa.BigInteger)
    transaction_count: Mapped[int] = mapped_column(sa.BigInteger, server_default=sa.text("0"))
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())
