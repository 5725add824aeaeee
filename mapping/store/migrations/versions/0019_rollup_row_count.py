"""The sales rollup's mark also holds the number of sales rows, so a deleted sales row is noticed.

Revision ID: 0019_rollup_row_count
Revises: 0018_import_outlook_contacts
Create Date: 2026-12-07

Before, the overview trusted the rollup while its mark equalled the greatest sales row id: deleting a
sales row that was not the newest went unnoticed unless the deleting code rebuilt the rollup. The mark
is set from the table as it is now; a rollup that such a deletion left stale is rebuilt with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '0019_rollup_row_count'
down_revision: str | None = '0018_import_outlook_contacts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sales_rollup_mark', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('transaction_count', sa.BigInteger(), server_default=sa.text('0'), nullable=False)
        )
    _rebuild_rollup()


def _rebuild_rollup() -> None:
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
        sa.column('transaction_count', sa.BigInteger()),
        sa.column('refreshed_at', sa.DateTime(timezone=True)),
    )
    op.execute(sa.delete(daily))
    op.execute(sa.delete(mark))
    cents = sa.cast(sa.func.round(t.c.amount * 100), sa.BigInteger)
    net = sa.func.sum(sa.case((t.c.kind == 'order', cents), (t.c.kind == 'return', -cents), else_=0))
    product = sa.func.coalesce(t.c.product, '')
    grouped = sa.select(t.c.occurred_on, product, t.c.currency, net).group_by(t.c.occurred_on, product, t.c.currency)
    op.execute(sa.insert(daily).from_select(['day', 'product', 'currency', 'net_cents'], grouped))
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == 'sqlite':  # UTC wall time, as UTCDateTime stores it there
        now = now.replace(tzinfo=None)
    at = sa.select(
        sa.literal(1),
        sa.func.coalesce(sa.func.max(t.c.id), 0),
        sa.func.count(t.c.id),
        sa.literal(now, sa.DateTime(timezone=True)),
    )
    op.execute(sa.insert(mark).from_select(['id', 'max_transaction_id', 'transaction_count', 'refreshed_at'], at))


def downgrade() -> None:
    with op.batch_alter_table('sales_rollup_mark', schema=None) as batch_op:
        batch_op.drop_column('transaction_count')
