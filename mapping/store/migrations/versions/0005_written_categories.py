"""What relsync last wrote on each contact (the base of override detection), and a relationship's owner.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('item_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_categories', sa.JSON(), nullable=True))
    with op.batch_alter_table('relationships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('relationships', schema=None) as batch_op:
        batch_op.drop_column('owner')
    with op.batch_alter_table('item_links', schema=None) as batch_op:
        batch_op.drop_column('written_categories')
