"""The business case's further sources: a referral credit's referred customer (``transactions.referred_key``)
and the domain families the admin confirmed as parent groups (``group_families``).

Revision ID: 0016_business_sources
Revises: 0015_offers
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016_business_sources'
down_revision: str | None = '0015_offers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('transactions') as batch:
        batch.add_column(sa.Column('referred_key', sa.String(length=320), nullable=True))
    op.create_table('group_families',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=253), nullable=False),
    sa.Column('parent_relationship_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_by', sa.String(length=255), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_relationship_id'], ['relationships.id'], name=op.f('fk_group_families_parent_relationship_id_relationships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_families')),
    sa.UniqueConstraint('family', name=op.f('uq_group_families_family'))
    )


def downgrade() -> None:
    op.drop_table('group_families')
    with op.batch_alter_table('transactions') as batch:
        batch.drop_column('referred_key')
