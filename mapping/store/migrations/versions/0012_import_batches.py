"""Contact import batches: what each `relsync import contacts` run created and changed (for undo).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'import_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('file_hash', sa.String(length=64), nullable=False),
        sa.Column('profile', sa.String(length=32), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches')),
    )
    op.create_index(op.f('ix_import_batches_file_hash'), 'import_batches', ['file_hash'], unique=False)
    op.create_table(
        'import_batch_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'],
                                name=op.f('fk_import_batch_items_batch_id_import_batches'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch_items')),
    )
    op.create_index(op.f('ix_import_batch_items_batch_id'), 'import_batch_items', ['batch_id'], unique=False)
    op.create_index('ix_import_batch_items_table_record', 'import_batch_items', ['table_name', 'record_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_import_batch_items_table_record', table_name='import_batch_items')
    op.drop_index(op.f('ix_import_batch_items_batch_id'), table_name='import_batch_items')
    op.drop_table('import_batch_items')
    op.drop_index(op.f('ix_import_batches_file_hash'), table_name='import_batches')
    op.drop_table('import_batches')
