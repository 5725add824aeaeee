"""Outlook contacts created by a contact import (``import_outlook_contacts``, issue 19 ``--to-outlook``).

Revision ID: 0018_import_outlook_contacts
Revises: 0017_console_rollup
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018_import_outlook_contacts'
down_revision: str | None = '0017_console_rollup'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_outlook_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('our_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.String(length=512), nullable=True),
    sa.Column('change_key', sa.String(length=512), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_outlook_contacts_batch_id_import_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_outlook_contacts')),
    sa.UniqueConstraint('our_id', name=op.f('uq_import_outlook_contacts_our_id'))
    )
    op.create_index(op.f('ix_import_outlook_contacts_batch_id'), 'import_outlook_contacts', ['batch_id'], unique=False)
    op.create_index(op.f('ix_import_outlook_contacts_person_id'), 'import_outlook_contacts', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_import_outlook_contacts_person_id'), table_name='import_outlook_contacts')
    op.drop_index(op.f('ix_import_outlook_contacts_batch_id'), table_name='import_outlook_contacts')
    op.drop_table('import_outlook_contacts')
