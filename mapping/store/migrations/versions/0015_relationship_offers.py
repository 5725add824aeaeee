"""What to offer next, kept per relationship for the Outlook card (``relationship_offers``).

Revision ID: 0015_offers
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015_offers'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('relationship_offers',
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('suggestions', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['relationship_id'], ['relationships.id'], name=op.f('fk_relationship_offers_relationship_id_relationships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('relationship_id', name=op.f('pk_relationship_offers'))
    )


def downgrade() -> None:
    op.drop_table('relationship_offers')
