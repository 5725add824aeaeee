"""Classification history (one row per change, for tier movement) and the reports' indexes.

Backfill: every classified relationship's current classification becomes its first row, dated when it
was classified, so a movement report has a starting point from the day of the upgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('classification_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('tier', sa.String(length=64), nullable=True),
    sa.Column('potential', sa.String(length=64), nullable=True),
    sa.Column('value_percent', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['relationship_id'], ['relationships.id'], name=op.f('fk_classification_history_relationship_id_relationships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classification_history'))
    )
    op.create_index(op.f('ix_classification_history_changed_at'), 'classification_history', ['changed_at'], unique=False)
    op.create_index('ix_classification_history_relationship_id_changed_at', 'classification_history', ['relationship_id', 'changed_at'], unique=False)
    # The reports read the sales history from covering indexes (revenue per customer, by product).
    op.create_index('ix_transactions_report_customer', 'transactions', ['organisation_id', 'person_id', 'occurred_on', 'kind', 'amount', 'currency'], unique=False)
    op.create_index('ix_transactions_report_product', 'transactions', ['product', 'occurred_on', 'kind', 'amount', 'currency'], unique=False)
    op.execute(
        "INSERT INTO classification_history (relationship_id, changed_at, type, status, tier, potential, value_percent) "
        "SELECT id, classified_at, type, status, tier, potential, value_percent FROM relationships "
        "WHERE classified_at IS NOT NULL ORDER BY classified_at, id"
    )


def downgrade() -> None:
    op.drop_index('ix_transactions_report_product', table_name='transactions')
    op.drop_index('ix_transactions_report_customer', table_name='transactions')
    op.drop_index('ix_classification_history_relationship_id_changed_at', table_name='classification_history')
    op.drop_index(op.f('ix_classification_history_changed_at'), table_name='classification_history')
    op.drop_table('classification_history')
