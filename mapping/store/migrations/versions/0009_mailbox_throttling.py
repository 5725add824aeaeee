"""Throttling shown per mailbox: when Exchange last made a mailbox's sync wait, and for how long.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_mailboxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_throttled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_throttled_seconds', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_mailboxes', schema=None) as batch_op:
        batch_op.drop_column('last_throttled_seconds')
        batch_op.drop_column('last_throttled_at')
