"""The business case: key-date triggers handled, and each relationship's "What matters" note.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('followup_triggers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_followup_triggers_follow_up_id_follow_ups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['relationship_id'], ['relationships.id'], name=op.f('fk_followup_triggers_relationship_id_relationships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_triggers')),
    sa.UniqueConstraint('relationship_id', 'key', name='uq_followup_triggers_relationship_key')
    )
    op.create_index(op.f('ix_followup_triggers_follow_up_id'), 'followup_triggers', ['follow_up_id'], unique=False)
    op.create_table('relationship_notes',
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['relationship_id'], ['relationships.id'], name=op.f('fk_relationship_notes_relationship_id_relationships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('relationship_id', name=op.f('pk_relationship_notes'))
    )


def downgrade() -> None:
    op.drop_table('relationship_notes')
    op.drop_index(op.f('ix_followup_triggers_follow_up_id'), table_name='followup_triggers')
    op.drop_table('followup_triggers')
