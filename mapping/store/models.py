"""The relationship store's tables, as typed SQLAlchemy 2 declarative models.

Conventions every table follows, and why:

* **Portable on SQLite and PostgreSQL.** Enumerations are short strings guarded by a named
  ``CHECK`` constraint (never a native PostgreSQL enum: adding a value would need its own migration
  dance); "unique where not null" is a partial unique index, which both backends support.
* **Stable constraint names** come from :data:`NAMING_CONVENTION`, so a migration can drop exactly
  the constraint it created on either backend, and ``downgrade`` works.
* **Time is aware UTC.** :class:`UTCDateTime` refuses naive datetimes on the way in and returns aware
  UTC datetimes on the way out, including on SQLite, which has no time zone type.
* **Exchange item ids are long** (base64 of ~150+ bytes), so they live in ``String(512)`` columns.
* **Bodies are not stored**; an interaction keeps at most a short snippet.

The migration ``migrations/versions/0001_initial.py`` creates exactly this schema; ``check()`` in
:mod:`mapping.store.migrate` reports any drift between the two.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC ``datetime`` in Python.

    Binding a naive datetime raises ``ValueError`` (wrapped by SQLAlchemy in ``StatementError``):
    a naive value has no defined instant and would silently shift by the server's offset. Aware values
    in any zone are converted to UTC. PostgreSQL stores ``timestamp with time zone``; SQLite stores the
    UTC wall time as text and gets its ``tzinfo`` back on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused (attach a time zone): {value.isoformat()}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite's DATETIME is text without an offset: store the UTC wall time.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        # PostgreSQL answers in the session's TimeZone; normalise so callers always see UTC.
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant as an aware UTC datetime (the default for every timestamp column)."""
    return datetime.now(UTC)


# --- enumerations (stored as their string value, checked by the database) -----------------------


class DomainKind(enum.StrEnum):
    EMAIL = "email"
    WEB = "web"


class PhoneKind(enum.StrEnum):
    WORK = "work"
    MOBILE = "mobile"
    HOME = "home"
    FAX = "fax"
    OTHER = "other"


class AddressKind(enum.StrEnum):
    WORK = "work"
    HOME = "home"
    OTHER = "other"


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


class InteractionKind(enum.StrEnum):
    EMAIL = "email"
    MEETING = "meeting"
    TASK = "task"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class ParticipantRole(enum.StrEnum):
    FROM = "from"
    TO = "to"
    CC = "cc"
    BCC = "bcc"
    ORGANIZER = "organizer"
    REQUIRED = "required"
    OPTIONAL = "optional"


class ResponseType(enum.StrEnum):
    """A meeting attendee's answer (EWS ``ResponseType`` / Graph ``responseStatus``)."""

    UNKNOWN = "unknown"
    ORGANIZER = "organizer"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"
    NO_RESPONSE = "no_response"


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"  # by staff in Outlook, or by a real interaction before the due date
    CANCELLED = "cancelled"  # superseded: owner changed, tier changed, relationship gone
    DISMISSED = "dismissed"  # staff deleted the task: that period is done with


class FollowUpKind(enum.StrEnum):
    CADENCE = "cadence"  # the recurring follow-up of a tier
    HANDOVER = "handover"  # Eliminate: one task to recommend a competitor, then no cadence


def _enum(cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A portable enum column type: VARCHAR plus a CHECK constraint named ``ck_<table>_<name>``."""
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(m.value) for m in cls),
        values_callable=lambda members: [m.value for m in members],
    )


# --- base ----------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    """Declarative base; its ``metadata`` is what migrations and ``check()`` compare against."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _created() -> Any:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def _updated() -> Any:
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


# --- organisations -------------------------------------------------------------------------------


class Organisation(Base):
    """A company. ``normalised_name`` (from ``mapping.hygiene``) is what duplicate checks look up."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    normalised_name: Mapped[str] = mapped_column(sa.String(255), index=True)
    website: Mapped[str | None] = mapped_column(sa.String(255))
    industry: Mapped[str | None] = mapped_column(sa.String(100))
    # A size band label from configuration ("1-9", "10-49", ...), not a head count.
    size: Mapped[str | None] = mapped_column(sa.String(32))
    country: Mapped[str | None] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    # Set when identity resolution folds this row into another; the row stays for audit and undo.
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    domains: Mapped[list[OrganisationDomain]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )
    people: Mapped[list[Person]] = relationship(back_populates="organisation", passive_deletes=True)
    parent: Mapped[Organisation | None] = relationship(remote_side=[id], foreign_keys=[parent_id])


class OrganisationDomain(Base):
    """A domain that identifies an organisation (``kind=email`` for mail, ``web`` for its site)."""

    __tablename__ = "organisation_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(253), unique=True)  # lower-case, no ``www.``
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DomainKind] = mapped_column(_enum(DomainKind, "kind"), default=DomainKind.EMAIL)
    created_at: Mapped[datetime] = _created()

    organisation: Mapped[Organisation] = relationship(back_populates="domains")


# --- people --------------------------------------------------------------------------------------


class Person(Base):
    """A human being we have a relationship with (one row per person, whatever mailbox saw them)."""

    __tablename__ = "people"
    __table_args__ = (
        # Identity resolution looks candidates up by surname, then given name.
        sa.Index("ix_people_surname_given_name", "surname", "given_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(sa.String(255))
    given_name: Mapped[str | None] = mapped_column(sa.String(100))
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    surname: Mapped[str | None] = mapped_column(sa.String(100))
    nickname: Mapped[str | None] = mapped_column(sa.String(100))
    job_title: Mapped[str | None] = mapped_column(sa.String(255))
    department: Mapped[str | None] = mapped_column(sa.String(255))
    # Outlook user-defined fields staff keep on the contact ("Source", "Referred By", "Industry").
    user_fields: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # Set when this row was found to duplicate another; links and addresses move to the survivor.
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    organisation: Mapped[Organisation | None] = relationship(back_populates="people")
    emails: Mapped[list[EmailAddress]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )
    phones: Mapped[list[Phone]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )
    postal_addresses: Mapped[list[PostalAddress]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )


class EmailAddress(Base):
    """An e-mail address of a person. ``address`` is normalised, so it is unique across the store."""

    __tablename__ = "email_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(320), unique=True)
    original: Mapped[str] = mapped_column(sa.String(320))  # as the user typed it
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"), index=True)
    is_primary: Mapped[bool] = mapped_column(default=False)
    is_valid: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = _created()

    person: Mapped[Person] = relationship(back_populates="emails")


class Phone(Base):
    """A phone number of a person, in E.164 (``raw`` keeps what Exchange had)."""

    __tablename__ = "phones"
    __table_args__ = (sa.UniqueConstraint("person_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"))
    # Indexed on its own: "who has this number?" is an identity lookup.
    e164: Mapped[str] = mapped_column(sa.String(20), index=True)
    raw: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[PhoneKind] = mapped_column(_enum(PhoneKind, "kind"), default=PhoneKind.OTHER)
    label: Mapped[str | None] = mapped_column(sa.String(64))  # e.g. the EWS key "BusinessPhone2"
    created_at: Mapped[datetime] = _created()

    person: Mapped[Person] = relationship(back_populates="phones")


class PostalAddress(Base):
    """A postal address of a person."""

    __tablename__ = "postal_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AddressKind] = mapped_column(_enum(AddressKind, "kind"), default=AddressKind.WORK)
    street: Mapped[str | None] = mapped_column(sa.String(512))
    city: Mapped[str | None] = mapped_column(sa.String(128))
    state: Mapped[str | None] = mapped_column(sa.String(128))
    postal_code: Mapped[str | None] = mapped_column(sa.String(32))
    country: Mapped[str | None] = mapped_column(sa.String(64))  # as given; Exchange has free text
    created_at: Mapped[datetime] = _created()

    person: Mapped[Person] = relationship(back_populates="postal_addresses")


# --- mailboxes and sync bookkeeping --------------------------------------------------------------


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


# --- interactions --------------------------------------------------------------------------------


class Interaction(Base):
    """An e-mail, meeting (occurrence) or task: one row however many mailboxes hold a copy.

    E-mails are deduplicated by ``internet_message_id``. Meetings by ``ical_uid`` plus
    ``occurrence_start`` (the original start of an occurrence, the RECURRENCE-ID); a single,
    non-recurring meeting has ``occurrence_start`` NULL and is unique by ``ical_uid`` alone. Both are
    partial unique indexes, so rows without those ids do not collide.
    """

    __tablename__ = "interactions"
    __table_args__ = (
        sa.Index(
            "uq_interactions_internet_message_id",
            "internet_message_id",
            unique=True,
            postgresql_where=sa.text("internet_message_id IS NOT NULL"),
            sqlite_where=sa.text("internet_message_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_interactions_ical_uid_occurrence_start",
            "ical_uid",
            "occurrence_start",
            unique=True,
            postgresql_where=sa.text("ical_uid IS NOT NULL"),
            sqlite_where=sa.text("ical_uid IS NOT NULL"),
        ),
        # NULLs are distinct in a unique index, so single meetings need their own index.
        sa.Index(
            "uq_interactions_ical_uid_single",
            "ical_uid",
            unique=True,
            postgresql_where=sa.text("ical_uid IS NOT NULL AND occurrence_start IS NULL"),
            sqlite_where=sa.text("ical_uid IS NOT NULL AND occurrence_start IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InteractionKind] = mapped_column(_enum(InteractionKind, "kind"))
    internet_message_id: Mapped[str | None] = mapped_column(sa.String(998))  # RFC 5322 line limit
    ical_uid: Mapped[str | None] = mapped_column(sa.String(512))
    occurrence_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    subject: Mapped[str | None] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_all_day: Mapped[bool] = mapped_column(default=False)
    is_cancelled: Mapped[bool] = mapped_column(default=False)
    # Sensitivity Private/Confidential: reports must not show it to everyone.
    is_private: Mapped[bool] = mapped_column(default=False)
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    conversation_id: Mapped[str | None] = mapped_column(sa.String(512), index=True)
    size_bytes: Mapped[int | None] = mapped_column()
    snippet: Mapped[str | None] = mapped_column(sa.String(512))  # bodies are never stored
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    participants: Mapped[list[InteractionParticipant]] = relationship(
        back_populates="interaction", cascade="all, delete-orphan", passive_deletes=True
    )
    viewers: Mapped[list[InteractionViewer]] = relationship(
        back_populates="interaction", cascade="all, delete-orphan", passive_deletes=True
    )


class InteractionParticipant(Base):
    """Someone on an interaction, by address; ``person_id`` is filled once identity knows them."""

    __tablename__ = "interaction_participants"
    __table_args__ = (sa.UniqueConstraint("interaction_id", "address", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(sa.ForeignKey("interactions.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="SET NULL"), index=True)
    # Normalised; indexed so a newly known address can be attached to its person in one query.
    address: Mapped[str] = mapped_column(sa.String(320), index=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[ParticipantRole] = mapped_column(_enum(ParticipantRole, "role"))
    response: Mapped[ResponseType | None] = mapped_column(_enum(ResponseType, "response"))
    # Set when the participant is one of our own staff mailboxes (direction, internal mail).
    staff_mailbox_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_mailboxes.id", ondelete="SET NULL"), index=True
    )

    interaction: Mapped[Interaction] = relationship(back_populates="participants")
    person: Mapped[Person | None] = relationship()


class InteractionViewer(Base):
    """Which staff mailboxes hold a copy of an interaction (who may see it, whose relationship)."""

    __tablename__ = "interaction_viewers"

    interaction_id: Mapped[int] = mapped_column(sa.ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    first_seen_at: Mapped[datetime] = _created()

    interaction: Mapped[Interaction] = relationship(back_populates="viewers")


# --- follow-ups ----------------------------------------------------------------------------------


class FollowUp(Base):
    """A follow-up task we schedule into an owner's mailbox (``item_links`` entity type ``task``).

    The row is committed *before* the task is created in Exchange, and ``our_id`` is stamped on the task
    as an extended property, so a run that dies between creating the task and recording its id finds
    the task again instead of creating a second one. At most one open follow-up per relationship and
    owner: a partial unique index, so the database itself refuses a second.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        sa.CheckConstraint("person_id IS NOT NULL OR organisation_id IS NOT NULL", name="has_subject"),
        # The planner asks: open follow-ups of this owner, by due date.
        sa.Index("ix_follow_ups_owner_status_due", "owner_mailbox_id", "status", "due_at"),
        sa.Index(
            "uq_follow_ups_open_per_owner",
            "relationship_id",
            "owner_mailbox_id",
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    our_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    relationship_id: Mapped[int] = mapped_column(sa.ForeignKey("relationships.id", ondelete="CASCADE"), index=True)
    owner_mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[FollowUpKind] = mapped_column(_enum(FollowUpKind, "kind"), default=FollowUpKind.CADENCE)
    cadence: Mapped[str | None] = mapped_column(sa.String(32))  # "weekly", "monthly", ... (None: handover)
    method: Mapped[str] = mapped_column(sa.String(128))  # "telephone, e-mail"
    importance: Mapped[str] = mapped_column(sa.String(8), default="Normal")  # Exchange's Low/Normal/High
    subject: Mapped[str] = mapped_column(sa.String(255))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[FollowUpStatus] = mapped_column(_enum(FollowUpStatus, "status"), default=FollowUpStatus.OPEN)
    # Set once the task exists in Exchange (the item link carries its id); NULL: not created yet.
    created_in_exchange_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What Exchange has yet to be told (create, update, complete, delete): an outbox, so a run that
    # dies after deciding and before writing finishes the write on the next run. NULL: in step.
    pending_write: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why it closed: staff, interaction, dismissed, owner_changed, plan_changed, gone.
    closed_reason: Mapped[str | None] = mapped_column(sa.String(32))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class OwnershipChange(Base):
    """Every change of a relationship's owner, with why: ownership is audited, not silently flipped."""

    __tablename__ = "ownership_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_id: Mapped[int] = mapped_column(sa.ForeignKey("relationships.id", ondelete="CASCADE"), index=True)
    from_mailbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="SET NULL"))
    to_mailbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="SET NULL"))
    # explicit (rule or "Owner: ..." category), interactions (most two-way interactions), none.
    source: Mapped[str] = mapped_column(sa.String(16))
    evidence: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    decided_at: Mapped[datetime] = _created()


# --- identity resolution -------------------------------------------------------------------------


class MatchKind(enum.StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"


class MatchStatus(enum.StrEnum):
    PENDING = "pending"  # in the review queue
    MERGED = "merged"
    REJECTED = "rejected"  # never proposed again


class MatchCandidate(Base):
    """A pair of people or organisations that may be one: the review queue, and its decisions.

    A pair is stored once, with ``a_id < b_id``; a rejected pair stays, so it is never proposed again.
    """

    __tablename__ = "match_candidates"
    __table_args__ = (
        sa.UniqueConstraint("kind", "a_id", "b_id"),
        sa.CheckConstraint("a_id < b_id", name="ordered_pair"),
        sa.Index("ix_match_candidates_status_score", "status", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MatchKind] = mapped_column(_enum(MatchKind, "kind"))
    a_id: Mapped[int] = mapped_column()
    b_id: Mapped[int] = mapped_column()
    score: Mapped[float] = mapped_column(sa.Float)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    status: Mapped[MatchStatus] = mapped_column(_enum(MatchStatus, "status"), default=MatchStatus.PENDING)
    decided_by: Mapped[str | None] = mapped_column(sa.String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()


class MergeAudit(Base):
    """One merge or unmerge: what, why (score, evidence, rule or person), when, and how to undo it.

    ``snapshot`` holds everything an unmerge needs to restore both sides exactly: the survivor's
    values before the merge, and the ids of every row moved from the merged record to the survivor.
    """

    __tablename__ = "merge_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MatchKind] = mapped_column(_enum(MatchKind, "kind"))
    action: Mapped[str] = mapped_column(sa.String(16))  # merge | unmerge
    survivor_id: Mapped[int] = mapped_column(index=True)
    merged_id: Mapped[int] = mapped_column(index=True)
    score: Mapped[float | None] = mapped_column(sa.Float)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    reason: Mapped[str] = mapped_column(sa.String(255))  # "rule: score >= 0.92", "by admin@example.com"
    snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    candidate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("match_candidates.id", ondelete="SET NULL"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()


# --- relationships, sales history and classification --------------------------------------------


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
    mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = _created()
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobMark(Base):
    """A job's high-water mark (e.g. when identity resolution last completed), so a run that was
    killed half-way leaves the next run to cover what it did not finish."""

    __tablename__ = "job_marks"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = _updated()


class MailboxLease(Base):
    """Which worker may sync a mailbox now, and when it is next due (see :mod:`mapping.store.leases`).

    ``holder`` is free (NULL) or held until ``expires_at``; a worker that dies stops renewing, so
    another takes over once it expires. ``next_due_at`` is shared by every daemon, so a mailbox is
    synced once per interval however many daemons run; ``failures`` counts errors in a row (back-off).
    """

    __tablename__ = "mailbox_leases"

    mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_mailboxes.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(255))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobLease(Base):
    """A store-wide job (classification, follow-up planning) that one worker at a time may run."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


__all__ = [
    "NAMING_CONVENTION",
    "AddressKind",
    "Base",
    "CategoryDimension",
    "CategoryOverride",
    "Direction",
    "DomainKind",
    "EmailAddress",
    "EntityType",
    "FollowUp",
    "FollowUpKind",
    "FollowUpStatus",
    "Interaction",
    "InteractionKind",
    "InteractionParticipant",
    "InteractionViewer",
    "ItemKind",
    "ItemLink",
    "JobLease",
    "JobMark",
    "MailboxBackend",
    "MailboxLease",
    "MatchCandidate",
    "MatchKind",
    "MatchStatus",
    "MergeAudit",
    "Organisation",
    "OrganisationDomain",
    "OwnershipChange",
    "ParticipantRole",
    "Person",
    "Phone",
    "PhoneKind",
    "PostalAddress",
    "Relationship",
    "RelationshipStatus",
    "RelationshipType",
    "ResponseType",
    "StaffMailbox",
    "SyncState",
    "Transaction",
    "TransactionKind",
    "UTCDateTime",
    "utcnow",
]
