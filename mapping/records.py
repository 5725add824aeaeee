"""Plain, immutable records the sync engine upserts into the store.

The connector translates Exchange (or Graph) items into these; everything in :mod:`mapping` works on
them and never sees an exchangelib object. They carry no message or meeting bodies: at most a short
``snippet``, cut by the connector to the configured length.

Conventions:

- Every ``datetime`` is timezone-aware and in UTC (``tzinfo is datetime.UTC``); the originating
  IANA time zone of a meeting is kept separately in ``MeetingRecord.time_zone``.
- E-mail addresses in ``Participant`` and ``EmailRecord.address`` are normalised (see
  :func:`mapping.hygiene.normalise_email`): lower-case, no display name, no ``mailto:``.
- Collections are tuples, so records are hashable and safe to share, except
  ``ContactRecord.user_fields`` (a dict, for convenience; do not mutate it).
- Enumerated strings use the store's values (``mapping/store/models.py``): lower-case.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar

Sensitivity = Literal["normal", "personal", "private", "confidential"]
PhoneKind = Literal["work", "mobile", "home", "fax", "other"]
AddressKind = Literal["work", "home", "other"]
Role = Literal["from", "to", "cc", "bcc", "organizer", "required", "optional"]
Response = Literal["unknown", "organizer", "accepted", "tentative", "declined", "no_response"]
CalendarItemType = Literal["single", "occurrence", "exception", "recurring_master"]
Direction = Literal["inbound", "outbound", "internal"]

_C = TypeVar("_C", bound=type)


def pickled_as_tuple(cls: _C) -> _C:
    """Pickle a frozen slotted dataclass as its class and a tuple of its fields.

    Pages of records cross to the writer process (mapping.store.page_writer) pickled: the state
    dataclasses give slotted classes (a list built from ``fields()`` per object, then one
    ``object.__setattr__`` per field) took twice as long both ways, about a CPU second per 20,000
    messages on this machine. Unpickling calls the class, so the record is built as any other.
    """
    names: tuple[str, ...] = vars(cls)["__match_args__"]  # every field, in __init__ order
    fields_of: Callable[[Any], tuple[object, ...]] = operator.attrgetter(*names)

    def __reduce__(self: object) -> tuple[type, tuple[object, ...]]:
        values = fields_of(self)
        return cls, values if isinstance(values, tuple) else (values,)

    setattr(cls, "__reduce__", __reduce__)  # noqa: B010 (mypy: a method cannot be assigned)
    return cls


#: Roles of the person who sent or organised an interaction (as opposed to its recipients).
ORIGINATOR_ROLES: frozenset[Role] = frozenset({"from", "organizer"})


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class EmailRecord:
    """One e-mail address: ``address`` normalised for matching, ``original`` as the user typed it."""

    address: str
    original: str
    is_valid: bool
    label: str | None = None  # EWS key EmailAddress1..3 on a contact

    @property
    def domain(self) -> str | None:
        """The part after the last ``@`` (``None`` when there is none)."""
        at = self.address.rfind("@")
        return self.address[at + 1 :] or None if at >= 0 else None


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class PhoneRecord:
    """One phone number: ``e164`` is ``None`` when phonenumbers could not make a possible number of it."""

    e164: str | None
    raw: str
    label: str | None  # the EWS key, e.g. "BusinessPhone2"
    kind: PhoneKind
    extension: str | None = None
    is_valid: bool = False  # phonenumbers' strict check (known number ranges), not just length


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class PostalRecord:
    """A postal address as given (Exchange keeps free text; the country is not an ISO code)."""

    kind: AddressKind
    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    label: str | None = None  # the EWS key: Business|Home|Other


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class ContactRecord:
    """An Outlook contact of one mailbox."""

    item_id: str
    change_key: str | None
    display_name: str
    given_name: str | None = None
    middle_name: str | None = None
    surname: str | None = None
    nickname: str | None = None
    company_name: str | None = None
    job_title: str | None = None
    department: str | None = None
    website: str | None = None
    emails: tuple[EmailRecord, ...] = ()
    phones: tuple[PhoneRecord, ...] = ()
    postal_addresses: tuple[PostalRecord, ...] = ()
    categories: tuple[str, ...] = ()
    sensitivity: Sensitivity = "normal"
    #: PS_PUBLIC_STRINGS named properties ("Source", "Referred By", "Industry", ...) that have a value.
    user_fields: dict[str, str] = field(default_factory=dict)


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Participant:
    """Someone on a message or meeting, by normalised address."""

    address: str
    name: str | None
    role: Role
    response: Response | None = None  # meetings only

    @property
    def domain(self) -> str:
        """The address's domain (normalised addresses always have one)."""
        return self.address.rpartition("@")[2]


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class MessageRecord:
    """An e-mail in one mailbox folder (``inbox`` or ``sentitems``). No body, only an optional snippet."""

    item_id: str
    change_key: str | None
    folder: str
    internet_message_id: str | None
    conversation_id: str | None
    subject: str | None
    sent_at: datetime | None
    received_at: datetime | None
    participants: tuple[Participant, ...]
    size: int | None = None
    sensitivity: Sensitivity = "normal"
    item_class: str | None = None
    snippet: str | None = None

    @property
    def sender(self) -> Participant | None:
        """The ``from`` participant, if the message has one."""
        return next((p for p in self.participants if p.role == "from"), None)

    @property
    def occurred_at(self) -> datetime:
        """When the interaction happened: sent time, else received time."""
        when = self.sent_at or self.received_at
        assert when is not None, "the connector never builds a message without a date"
        return when


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class MeetingRecord:
    """A calendar item: a single meeting, a recurring master, or one occurrence/exception of a series.

    ``start``/``end`` are UTC instants. For all-day events they are local midnights of the event's
    ``time_zone`` and ``start_date``/``end_date`` carry the calendar dates, ``end_date`` *exclusive*
    (iCalendar's DTEND convention: a one-day event on 3 May has ``end_date`` 4 May).

    ``occurrence_start`` identifies an occurrence within its series (the original start, in UTC: the
    iCalendar RECURRENCE-ID); it is ``None`` for single items and recurring masters. Together with
    ``uid`` it is the meeting's identity across mailboxes.
    """

    item_id: str
    change_key: str | None
    uid: str | None
    occurrence_start: datetime | None
    start: datetime
    end: datetime
    is_all_day: bool
    time_zone: str  # IANA, e.g. "Europe/Berlin"
    subject: str | None
    location: str | None
    participants: tuple[Participant, ...]
    is_cancelled: bool = False
    sensitivity: Sensitivity = "normal"
    calendar_item_type: CalendarItemType = "single"
    start_date: date | None = None
    end_date: date | None = None

    @property
    def organizer(self) -> Participant | None:
        """The ``organizer`` participant, if known."""
        return next((p for p in self.participants if p.role == "organizer"), None)
