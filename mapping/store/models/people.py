"""Organisations and people with their e-mail addresses, phones and postal addresses."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mapping.store.models.base import Base, _created, _enum, _updated


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
