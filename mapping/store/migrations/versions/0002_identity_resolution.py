"""Identity resolution: the review queue of candidate pairs and the merge audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Enums are plain strings with named CHECK constraints, as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('match_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('a_id', sa.Integer(), nullable=False),
    sa.Column('b_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('decided_by', sa.String(length=255), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('a_id < b_id', name=op.f('ck_match_candidates_ordered_pair')),
    sa.CheckConstraint("kind IN ('person', 'organization')", name=op.f('ck_match_candidates_kind')),
    sa.CheckConstraint("status IN ('pending', 'merged', 'rejected')", name=op.f('ck_match_candidates_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_candidates')),
    sa.UniqueConstraint('kind', 'a_id', 'b_id', name=op.f('uq_match_candidates_kind_a_id_b_id'))
    )
    with op.batch_alter_table('match_candidates', schema=None) as batch_op:
        batch_op.create_index('ix_match_candidates_status_score', ['status', 'score'], unique=False)

    op.create_table('merge_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('survivor_id', sa.Integer(), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('person', 'organization')", name=op.f('ck_merge_audit_kind')),
    sa.ForeignKeyConstraint(['candidate_id'], ['match_candidates.id'], name=op.f('fk_merge_audit_candidate_id_match_candidates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merge_audit'))
    )
    with op.batch_alter_table('merge_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merge_audit_merged_id'), ['merged_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_merge_audit_survivor_id'), ['survivor_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('merge_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merge_audit_survivor_id'))
        batch_op.drop_index(batch_op.f('ix_merge_audit_merged_id'))

    op.drop_table('merge_audit')
    with op.batch_alter_table('match_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_match_candidates_status_score')

    op.drop_table('match_candidates')
