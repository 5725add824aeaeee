"""Plain records the fake Exchange is built from.

The data generator (``generator.py``) produces :class:`ItemSpec` values; the fake mailbox store
(``mailbox.py``) keeps them and the SOAP layer turns them into EWS XML in the schema's element order.
Nothing here knows XML.

An ``ItemSpec`` carries its fields in a dict keyed by the **EWS element local name** of
``types.xsd`` (``Subject``, ``ToRecipients``, ``EmailAddresses`` ...). The Python type of each value
is fixed per element, so the generator and the serializer agree without importing each other:

==========================  =====================================================================
element                     Python value
==========================  =====================================================================
Subject, Body, ItemClass,   ``str`` (Body is plain text; it is served as ``BodyType="Text"``)
Sensitivity, Importance     ``str`` (Normal|Personal|Private|Confidential; Low|Normal|High)
Categories                  ``tuple[str, ...]``
DateTimeReceived/Sent/      timezone-aware ``datetime`` (served in UTC, ``Z``)
Created, LastModifiedTime
HasAttachments, IsRead,     ``bool``
IsAllDayEvent, IsCancelled,
IsComplete, ReminderIsSet
ExtendedProperty            ``tuple[ExtendedProp, ...]``
Sender, From, Organizer     :class:`Mailbox`
To/Cc/BccRecipients         ``tuple[Mailbox, ...]``
InternetMessageId,          ``str``
ConversationId,
ConversationTopic,
References, InReplyTo
DisplayName, GivenName,     ``str``
MiddleName, Surname,
Nickname, CompanyName,
JobTitle, Department,
FileAs, BusinessHomePage
EmailAddresses              ``dict[str, str]``: key EmailAddress1..3 -> address
PhoneNumbers                ``dict[str, str]``: key (BusinessPhone, MobilePhone, ...) -> number
PhysicalAddresses           ``dict[str, PhysicalAddress]``: key Business|Home|Other
Start, End                  aware ``datetime`` (the instant); for all-day events midnight in the
                            event's time zone
StartTimeZone, EndTimeZone  ``str``: a Windows time zone id ("W. Europe Standard Time")
Location, UID,              ``str``
CalendarItemType,           (Single|Occurrence|Exception|RecurringMaster)
LegacyFreeBusyStatus
Required/OptionalAttendees  ``tuple[Attendee, ...]``
Recurrence                  :class:`Recurrence`
DueDate, StartDate,         aware ``datetime``
CompleteDate
Status                      ``str`` (NotStarted|InProgress|Completed|WaitingOnOthers|Deferred)
PercentComplete             ``float``
Owner                       ``str``
==========================  =====================================================================

Recurring series: a master carries ``exceptions`` (modified occurrences, each a full ``ItemSpec``
of type Exception with ``original_start``) and ``deleted_occurrences`` (original starts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

#: DistributionList (in Contacts) and MeetingRequest (in the Inbox) are served as real Exchange serves them,
#: so clients can be tested on items that are neither a contact nor an e-mail.
ItemKind = Literal["Contact", "Message", "CalendarItem", "Task", "DistributionList", "MeetingRequest"]

#: The distinguished folders every fake mailbox has, with the item kind each holds.
FOLDER_KINDS: dict[str, ItemKind | None] = {
    "contacts": "Contact",
    "inbox": "Message",
    "sentitems": "Message",
    "calendar": "CalendarItem",
    "tasks": "Task",
}

#: The other distinguished folders every Exchange mailbox has; they start empty (the generator fills none).
#: Deleted Items holds any kind (None). See
#: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid
EMPTY_FOLDER_KINDS: dict[str, ItemKind | None] = {
    "drafts": "Message",
    "deleteditems": None,
    "junkemail": "Message",
    "outbox": "Message",
}
#: Every item folder of a fake mailbox.
MAILBOX_FOLDER_KINDS: dict[str, ItemKind | None] = {**FOLDER_KINDS, **EMPTY_FOLDER_KINDS}

#: The MAPI item class of each kind (``ItemClass`` in EWS, the same values behind Graph's resources).
ITEM_CLASS: dict[ItemKind, str] = {
    "Message": "IPM.Note",
    "Contact": "IPM.Contact",
    "CalendarItem": "IPM.Appointment",
    "Task": "IPM.Task",
    "DistributionList": "IPM.DistList",
    "MeetingRequest": "IPM.Schedule.Meeting.Request",
}


@dataclass(frozen=True, slots=True)
class Mailbox:
    """An e-mail participant (EmailAddressType)."""

    name: str
    email: str
    routing_type: str = "SMTP"
    mailbox_type: str = "OneOff"


@dataclass(frozen=True, slots=True)
class Attendee:
    """A meeting attendee with the response Exchange records for them."""

    mailbox: Mailbox
    response: str = "Unknown"  # Unknown|Organizer|Tentative|Accept|Decline|NoResponseReceived


@dataclass(frozen=True, slots=True)
class PhysicalAddress:
    street: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class ExtendedProp:
    """One MAPI extended property. Exactly one of set id / distinguished set is used."""

    property_type: str  # String|Integer|Boolean|SystemTime|...
    value: str
    property_set_id: str | None = None
    distinguished_set_id: str | None = None  # e.g. PublicStrings
    property_name: str | None = None
    property_tag: str | None = None  # e.g. "0x3a45"


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A recurrence pattern plus its range, as RecurrenceType holds it."""

    pattern: Literal["Daily", "Weekly", "AbsoluteMonthly"]
    interval: int
    start: date
    days_of_week: tuple[str, ...] = ()  # Monday..Sunday, for Weekly
    day_of_month: int | None = None  # for AbsoluteMonthly
    end: date | None = None  # EndDateRecurrence when set
    occurrences: int | None = None  # NumberedRecurrence when set; NoEndRecurrence when neither


@dataclass(slots=True)
class ItemSpec:
    """One Exchange item as plain data. See the module docstring for ``fields``."""

    kind: ItemKind
    fields: dict[str, Any]
    exceptions: tuple[ItemSpec, ...] = ()
    deleted_occurrences: tuple[datetime, ...] = ()
    original_start: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # generator notes, never served


class CompanySource(Protocol):
    """What the fake server needs from a generated company (see ``generator.build_company``).

    ``folder()`` is lazy: ``len()`` is cheap and item ``i`` is produced on demand, the same item for the
    same seed every time, so a 100,000-item folder costs no memory until it is read.
    """

    seed: int
    domain: str  # the company's own (internal) e-mail domain

    def mailboxes(self) -> tuple[Mailbox, ...]:
        """The staff mailboxes (mailbox_type "Mailbox"), in a stable order."""
        ...

    def folder(self, mailbox: str, folder: str) -> Sequence[ItemSpec]:
        """The generated items of one distinguished folder (a key of FOLDER_KINDS)."""
        ...
