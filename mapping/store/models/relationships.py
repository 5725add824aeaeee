"""Relationships, the sales history behind them and the staff's category overrides."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mapping.store.models.base import Base, UTCDateTime, _created, _enum, _updated


class TransactionKind(enum.StrEnum):
    ORDER = "order"
    RETURN = "return"
    REFERRAL_CREDIT = "referral_credit"


class RelationshipType(enum.StrEnum):
    LEAD = "lead"
    PROSPECT = "prospect"
    CUSTOMER = "customer"
    SALES_PARTNER = "sales partner"  # spelt as mapping.relationship_records spells it
    VENDOR = "vendor"


class RelationshipStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVE = "archive"


class CategoryDimension(enum.StrEnum):
    """What a staff override sets (``mapping.relationship_records.Dimension``)."""

    TYPE = "type"
    STATUS = "status"
    TIER = "tier"
    POTENTIAL = "potential"
    OWNER = "owner"


class Transaction(Base):
    """One line of sales history imported from the accounting system (CSV).

    ``amount`` is positive as given; its sign comes from ``kind`` (a return subtracts). Rows that
    identity resolution could not match keep ``organisation_id`` and ``person_id`` NULL, so a later
    import or re-match can still attach them. ``fingerprint`` (SHA-256 of the normalised row and its
    occurrence number among identical rows of the file) makes re-importing a file add nothing.
    """

    __tablename__ = "transactions"
    __table_args__ = (sa.Index("ix_transactions_organisation_id_occurred_on", "organisation_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_on: Mapped[date] = mapped_column(sa.Date, index=True)
    customer_key: Mapped[str] = mapped_column(sa.String(320), index=True)  # as given in the file
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="SET NULL"), index=True)
    # How the customer key was matched: email, email_domain, domain, name, fuzzy, previous (NULL: unmatched).
    matched_by: Mapped[str | None] = mapped_column(sa.String(16))
    kind: Mapped[TransactionKind] = mapped_column(_enum(TransactionKind, "kind"))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    currency: Mapped[str] = mapped_column(sa.String(3))  # ISO 4217
    product: Mapped[str | None] = mapped_column(sa.String(255))
    external_id: Mapped[str | None] = mapped_column(sa.String(255))
    # A referral credit's referred customer, as the file gives it (matched like ``customer_key``).
    referred_key: Mapped[str | None] = mapped_column(sa.String(320))
    source_file: Mapped[str] = mapped_column(sa.String(255))
    source_line: Mapped[int] = mapped_column()
    fingerprint: Mapped[str] = mapped_column(sa.String(64), unique=True)
    imported_at: Mapped[datetime] = _created()


class Relationship(Base):
    """The classified relationship with one organisation, or with one person who has none.

    ``tier`` and ``potential`` are class names from the configuration, so the database does not
    check them; ``type`` and ``status`` are fixed vocabularies and are checked.
    """

    __tablename__ = "relationships"
    __table_args__ = (
        sa.CheckConstraint(
            "(organisation_id IS NOT NULL AND person_id IS NULL) "
            "OR (organisation_id IS NULL AND person_id IS NOT NULL)",
            name="one_subject",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    type: Mapped[RelationshipType | None] = mapped_column(_enum(RelationshipType, "type"))
    status: Mapped[RelationshipStatus | None] = mapped_column(_enum(RelationshipStatus, "status"))
    value_percent: Mapped[float | None] = mapped_column(sa.Float)
    tier: Mapped[str | None] = mapped_column(sa.String(64))
    potential: Mapped[str | None] = mapped_column(sa.String(64))
    owner_mailbox_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_mailboxes.id", ondelete="SET NULL"), index=True
    )
    # Who owns it, as a rule or override set it (an e-mail address, usually a staff mailbox's).
    owner: Mapped[str | None] = mapped_column(sa.String(320))
    # How ``owner_mailbox_id`` was decided: explicit (rule or category) or interactions (ownership_changes).
    owner_source: Mapped[str | None] = mapped_column(sa.String(16))
    industry: Mapped[str | None] = mapped_column(sa.String(100))
    size: Mapped[str | None] = mapped_column(sa.String(32))
    geography: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str | None] = mapped_column(sa.String(64))
    referred_by: Mapped[str | None] = mapped_column(sa.String(255))
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    latest_transaction_on: Mapped[date | None] = mapped_column(sa.Date)
    latest_interaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the classifier saw and which rules fired: ``relsync explain`` shows them.
    inputs: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    fired_rules: Mapped[list[Any] | None] = mapped_column(sa.JSON)
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class CategoryOverride(Base):
    """A managed category staff set (or removed) by hand on a contact: respected until they remove it."""

    __tablename__ = "category_overrides"
    __table_args__ = (sa.Index("ix_category_overrides_relationship_id_removed_at", "relationship_id", "removed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(sa.ForeignKey("relationships.id", ondelete="CASCADE"))
    dimension: Mapped[CategoryDimension] = mapped_column(_enum(CategoryDimension, "dimension"))
    value: Mapped[str] = mapped_column(sa.String(255))
    item_link_id: Mapped[int | None] = mapped_column(sa.ForeignKey("item_links.id", ondelete="SET NULL"), index=True)
    # The staff mailbox that set it (Outlook, the add-in, the console); None when set from the web
    # console by someone who is not a synced mailbox: ``set_by`` says who then (``web:<address>``).
    mailbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = _created()
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    set_by: Mapped[str | None] = mapped_column(sa.String(400))
