"""Staff mailboxes and the sync bookkeeping: which Exchange item is which store row, and each folder's sync state."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mapping.store.models.base import Base, UTCDateTime, _created, _enum, _updated, utcnow


class MailboxBackend(enum.StrEnum):
    EWS = "ews"
    GRAPH = "graph"


class ItemKind(enum.StrEnum):
    CONTACT = "contact"
    MESSAGE = "message"
    CALENDAR = "calendar"
    TASK = "task"


class EntityType(enum.StrEnum):
    PERSON = "person"
    INTERACTION = "interaction"
    TASK = "task"  # a row of ``follow_ups``


class StaffMailbox(Base):
    """A staff mailbox relsync reads from and writes categories and tasks into."""

    __tablename__ = "staff_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(320), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(255))
    backend: Mapped[MailboxBackend] = mapped_column(_enum(MailboxBackend, "backend"), default=MailboxBackend.EWS)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Raised when a mailbox cannot progress on its own (lost permission, persistent throttling),
    # so it shows up in status instead of stalling silently for days.
    needs_attention: Mapped[bool] = mapped_column(default=False)
    attention_reason: Mapped[str | None] = mapped_column(sa.Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Throttling shows in status: a mailbox Exchange keeps making wait is how a sync stalls for days.
    last_throttled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_throttled_seconds: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[datetime] = _created()


class ItemLink(Base):
    """Which store row an Exchange item in one mailbox folder became.

    The same person or e-mail appears in many mailboxes; each copy has its own link. ``entity_id`` is
    polymorphic (person, interaction or follow-up, by ``entity_type``), so it carries no foreign key;
    deleting an entity must delete or re-point its links (identity merges re-point them).
    """

    __tablename__ = "item_links"
    __table_args__ = (
        sa.UniqueConstraint("mailbox_id", "folder", "item_id"),
        # "Which Exchange items show this person?" drives the category write-back.
        sa.Index("ix_item_links_entity_type_entity_id", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(sa.String(64))  # distinguished name: contacts, inbox, ...
    item_id: Mapped[str] = mapped_column(sa.String(512))
    change_key: Mapped[str | None] = mapped_column(sa.String(512))
    item_kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, "item_kind"))
    entity_type: Mapped[EntityType] = mapped_column(_enum(EntityType, "entity_type"))
    entity_id: Mapped[int] = mapped_column()
    # The id we stamped on an item we created (extended property): finds our own items again.
    our_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # The categories as last read from / written to this item: the base of the three-way merge.
    categories: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    # The managed categories relsync last wrote (or found already right) on this item; NULL: never.
    # Staff overrides are what differs from it (mapping.categories.detect_overrides).
    written_categories: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    mailbox: Mapped[StaffMailbox] = relationship()


class SyncState(Base):
    """The opaque SyncFolderItems state (or Graph delta link) of one mailbox folder.

    Written in the same transaction as the page of changes it follows, never before.
    """

    __tablename__ = "sync_states"
    __table_args__ = (sa.UniqueConstraint("mailbox_id", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(sa.String(64))
    folder_id: Mapped[str | None] = mapped_column(sa.String(512))  # the Exchange folder id
    state: Mapped[str | None] = mapped_column(sa.Text)  # None: start (again) with a full sync
    full_syncs: Mapped[int] = mapped_column(default=0)
    last_page_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = _updated()

    mailbox: Mapped[StaffMailbox] = relationship()
