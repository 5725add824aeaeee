"""The Outlook add-in: Exchange Server user identities linked to staff mailboxes (``addin_links``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('addin_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_hash', sa.String(length=64), nullable=False),
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linked_by', sa.String(length=400), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addin_links')),
    sa.UniqueConstraint('identity_hash', name=op.f('uq_addin_links_identity_hash'))
    )
    op.create_index(op.f('ix_addin_links_mailbox'), 'addin_links', ['mailbox'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_addin_links_mailbox'), table_name='addin_links')
    op.drop_table('addin_links')
