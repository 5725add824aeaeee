"""Mailbox leases (which daemon syncs a mailbox, when it is next due, failures in a row) and job leases.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mailbox_leases',
    sa.Column('mailbox_id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=True),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['mailbox_id'], ['staff_mailboxes.id'], name=op.f('fk_mailbox_leases_mailbox_id_staff_mailboxes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mailbox_id', name=op.f('pk_mailbox_leases'))
    )
    with op.batch_alter_table('mailbox_leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailbox_leases_next_due_at'), ['next_due_at'], unique=False)

    op.create_table('job_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases'))
    )


def downgrade() -> None:
    op.drop_table('job_leases')
    with op.batch_alter_table('mailbox_leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_leases_next_due_at'))
    op.drop_table('mailbox_leases')
