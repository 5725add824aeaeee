"""Relationships: imported sales history, one classified relationship per organisation (or lone
person), and the category overrides staff set by hand in Outlook.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Enums are plain strings with named CHECK constraints, as in 0001; tier and potential are class names
from the configuration, so they are not checked. Type values are spelt as classification spells them
("sales partner", with a space).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('relationships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=13), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=True),
    sa.Column('value_percent', sa.Float(), nullable=True),
    sa.Column('tier', sa.String(length=64), nullable=True),
    sa.Column('potential', sa.String(length=64), nullable=True),
    sa.Column('owner_mailbox_id', sa.Integer(), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('size', sa.String(length=32), nullable=True),
    sa.Column('geography', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('referred_by', sa.String(length=255), nullable=True),
    sa.Column('first_contact_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_transaction_on', sa.Date(), nullable=True),
    sa.Column('latest_interaction_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inputs', sa.JSON(), nullable=True),
    sa.Column('fired_rules', sa.JSON(), nullable=True),
    sa.Column('classified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('lead', 'prospect', 'customer', 'sales partner', 'vendor')", name=op.f('ck_relationships_type')),
    sa.CheckConstraint("status IN ('active', 'inactive', 'archive')", name=op.f('ck_relationships_status')),
    sa.CheckConstraint('(organisation_id IS NOT NULL AND person_id IS NULL) OR (organisation_id IS NULL AND person_id IS NOT NULL)', name=op.f('ck_relationships_one_subject')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_relationships_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_mailbox_id'], ['staff_mailboxes.id'], name=op.f('fk_relationships_owner_mailbox_id_staff_mailboxes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_relationships_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relationships')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_relationships_organisation_id')),
    sa.UniqueConstraint('person_id', name=op.f('uq_relationships_person_id'))
    )
    with op.batch_alter_table('relationships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relationships_owner_mailbox_id'), ['owner_mailbox_id'], unique=False)

    op.create_table('transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('customer_key', sa.String(length=320), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('matched_by', sa.String(length=16), nullable=True),
    sa.Column('kind', sa.String(length=15), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('product', sa.String(length=255), nullable=True),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('source_line', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('order', 'return', 'referral_credit')", name=op.f('ck_transactions_kind')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_transactions_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_transactions_person_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transactions')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_transactions_fingerprint'))
    )
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transactions_customer_key'), ['customer_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_transactions_occurred_on'), ['occurred_on'], unique=False)
        batch_op.create_index('ix_transactions_organisation_id_occurred_on', ['organisation_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_transactions_person_id'), ['person_id'], unique=False)

    op.create_table('category_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=9), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('item_link_id', sa.Integer(), nullable=True),
    sa.Column('mailbox_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("dimension IN ('type', 'status', 'tier', 'potential', 'owner')", name=op.f('ck_category_overrides_dimension')),
    sa.ForeignKeyConstraint(['item_link_id'], ['item_links.id'], name=op.f('fk_category_overrides_item_link_id_item_links'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mailbox_id'], ['staff_mailboxes.id'], name=op.f('fk_category_overrides_mailbox_id_staff_mailboxes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['relationship_id'], ['relationships.id'], name=op.f('fk_category_overrides_relationship_id_relationships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_overrides'))
    )
    with op.batch_alter_table('category_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_overrides_item_link_id'), ['item_link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_category_overrides_mailbox_id'), ['mailbox_id'], unique=False)
        batch_op.create_index('ix_category_overrides_relationship_id_removed_at', ['relationship_id', 'removed_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('category_overrides', schema=None) as batch_op:
        batch_op.drop_index('ix_category_overrides_relationship_id_removed_at')
        batch_op.drop_index(batch_op.f('ix_category_overrides_mailbox_id'))
        batch_op.drop_index(batch_op.f('ix_category_overrides_item_link_id'))

    op.drop_table('category_overrides')
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transactions_person_id'))
        batch_op.drop_index('ix_transactions_organisation_id_occurred_on')
        batch_op.drop_index(batch_op.f('ix_transactions_occurred_on'))
        batch_op.drop_index(batch_op.f('ix_transactions_customer_key'))

    op.drop_table('transactions')
    with op.batch_alter_table('relationships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relationships_owner_mailbox_id'))

    op.drop_table('relationships')
