"""The web console: the sales history's daily rollup for the overview's revenue by product
(``sales_daily`` and its mark, filled from the sales rows here), and staff overrides set from the
console by someone who is not a synced staff mailbox (``category_overrides.set_by``; ``mailbox_id``
may be empty then); an index of relationship_revenue by revenue (the Pareto curve's customers).
Downgrading removes the overrides set from the console by someone without a staff mailbox.

Revision ID: 0017_console_rollup
Revises: 0016_business_sources
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '0017_console_rollup'
down_revision: str | None = '0016_business_sources'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    op.create_table('sales_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('product', sa.String(length=255), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('net_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'product', 'currency', name=op.f('pk_sales_daily'))
    )
    op.create_table('sales_rollup_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('max_transaction_id', sa.BigInteger(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_rollup_mark'))
    )
    op.create_index('ix_relationship_revenue_net_revenue', 'relationship_revenue', ['net_revenue', 'relationship_id'], unique=False)
    # SQLite rebuilds the table (its CHECK constraint is reflected and kept).
    with op.batch_alter_table('category_overrides', schema=None) as batch_op:
        batch_op.add_column(sa.Column('set_by', sa.String(length=400), nullable=True))
        batch_op.alter_column('mailbox_id', existing_type=sa.Integer(), nullable=True)
    _fill_rollup()


def _fill_rollup() -> None:
    t = sa.table(
        'transactions',
        sa.column('id', sa.Integer()),
        sa.column('occurred_on', sa.Date()),
        sa.column('product', sa.String()),
        sa.column('currency', sa.String()),
        sa.column('kind', sa.String()),
        sa.column('amount', sa.Numeric(14, 2)),
    )
    daily = sa.table(
        'sales_daily',
        sa.column('day', sa.Date()),
        sa.column('product', sa.String()),
        sa.column('currency', sa.String()),
        sa.column('net_cents', sa.BigInteger()),
    )
    mark = sa.table(
        'sales_rollup_mark',
        sa.column('id', sa.Integer()),
        sa.column('max_transaction_id', sa.BigInteger()),
        sa.column('refreshed_at', sa.DateTime(timezone=True)),
    )
    cents = sa.cast(sa.func.round(t.c.amount * 100), sa.BigInteger)
    net = sa.func.sum(sa.case((t.c.kind == 'order', cents), (t.c.kind == 'return', -cents), else_=0))
    product = sa.func.coalesce(t.c.product, '')
    grouped = sa.select(t.c.occurred_on, product, t.c.currency, net).group_by(t.c.occurred_on, product, t.c.currency)
    op.execute(sa.insert(daily).from_select(['day', 'product', 'currency', 'net_cents'], grouped))
    greatest = sa.select(sa.func.coalesce(sa.func.max(t.c.id), 0)).scalar_subquery()
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == 'sqlite':  # UTC wall time, as UTCDateTime stores it there
        now = now.replace(tzinfo=None)
    op.execute(sa.insert(mark).from_select(
        ['id', 'max_transaction_id', 'refreshed_at'],
        sa.select(sa.literal(1), greatest, sa.literal(now, sa.DateTime(timezone=True))),
    ))


def downgrade() -> None:
    op.execute("DELETE FROM category_overrides WHERE mailbox_id IS NULL")
    with op.batch_alter_table('category_overrides', schema=None) as batch_op:
        batch_op.alter_column('mailbox_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('set_by')
    op.drop_index('ix_relationship_revenue_net_revenue', table_name='relationship_revenue')
    op.drop_table('sales_rollup_mark')
    op.drop_table('sales_daily')
