"""Follow-ups: relationship, kind, method, reminder and closing of each task; ownership changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STATUSES = ('open', 'completed', 'cancelled', 'dismissed')


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.create_table('ownership_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('from_mailbox_id', sa.Integer(), nullable=True),
    sa.Column('to_mailbox_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_mailbox_id'], ['staff_mailboxes.id'], name=op.f('fk_ownership_changes_from_mailbox_id_staff_mailboxes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['relationship_id'], ['relationships.id'], name=op.f('fk_ownership_changes_relationship_id_relationships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_mailbox_id'], ['staff_mailboxes.id'], name=op.f('fk_ownership_changes_to_mailbox_id_staff_mailboxes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownership_changes'))
    )
    with op.batch_alter_table('ownership_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ownership_changes_relationship_id'), ['relationship_id'], unique=False)

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relationship_id', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('kind', sa.Enum('cadence', 'handover', name='kind', native_enum=False, create_constraint=True), nullable=False))
        batch_op.add_column(sa.Column('cadence', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('method', sa.String(length=128), nullable=False))
        batch_op.add_column(sa.Column('importance', sa.String(length=8), nullable=False))
        batch_op.add_column(sa.Column('reminder_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('created_in_exchange_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pending_write', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('closed_reason', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_follow_ups_pending_write'), ['pending_write'], unique=False)
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_follow_ups_relationship_id'), ['relationship_id'], unique=False)
        batch_op.create_index('uq_follow_ups_open_per_owner', ['relationship_id', 'owner_mailbox_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_relationship_id_relationships'), 'relationships', ['relationship_id'], ['id'], ondelete='CASCADE')
        # 'dismissed' joins the status vocabulary (staff deleted the task).
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_status'), type_='check')
        batch_op.create_check_constraint('status', sa.text(f"status IN ({_quoted(STATUSES)})"))

    with op.batch_alter_table('relationships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_source', sa.String(length=16), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('relationships', schema=None) as batch_op:
        batch_op.drop_column('owner_source')

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_status'), type_='check')
        batch_op.create_check_constraint('status', sa.text(f"status IN ({_quoted(STATUSES[:-1])})"))
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_relationship_id_relationships'), type_='foreignkey')
        batch_op.drop_index('uq_follow_ups_open_per_owner', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_follow_ups_relationship_id'))
        batch_op.drop_column('note')
        batch_op.drop_index(batch_op.f('ix_follow_ups_pending_write'))
        batch_op.drop_column('pending_write')
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('created_in_exchange_at')
        batch_op.drop_column('reminder_at')
        batch_op.drop_column('importance')
        batch_op.drop_column('method')
        batch_op.drop_column('cadence')
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_kind'), type_='check')
        batch_op.drop_column('kind')
        batch_op.drop_column('relationship_id')

    with op.batch_alter_table('ownership_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ownership_changes_relationship_id'))

    op.drop_table('ownership_changes')
