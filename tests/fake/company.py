"""A tiny hand-made company for the fake Exchange tests (no generator needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from connector.fake.model import (
    Attendee,
    ExtendedProp,
    ItemSpec,
    Mailbox,
    PhysicalAddress,
    Recurrence,
)

DOMAIN = "contoso.test"
ALICE = Mailbox("Alice Archer", f"alice@{DOMAIN}", mailbox_type="Mailbox")
BOB = Mailbox("Bob Baker", f"bob@{DOMAIN}", mailbox_type="Mailbox")
DANA = Mailbox("Dana Dunn", "dana@fabrikam.test")
ERIN = Mailbox("Erin Estrada", "erin@northwind.test")

OUR_SET = "c3e7a7a8-8f26-4d0e-9f0d-4c1d7a1f5e11"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
SERIES_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 Berlin (CET)


def contact(n: int, name: str, email: str, **extra: object) -> ItemSpec:
    given, _, surname = name.partition(" ")
    fields: dict[str, object] = {
        "Subject": name,
        "DisplayName": name,
        "GivenName": given,
        "Surname": surname,
        "FileAs": f"{surname}, {given}",
        "CompanyName": email.split("@")[1].split(".")[0].title(),
        "EmailAddresses": {"EmailAddress1": email},
        "PhoneNumbers": {"BusinessPhone": f"+49 30 1234{n:03d}", "MobilePhone": f"+49 170 555{n:03d}"},
        "PhysicalAddresses": {"Business": PhysicalAddress("Hauptstr. 1", "Berlin", "BE", "Germany", "10115")},
        "DateTimeCreated": T0 - timedelta(days=30 - n),
        "LastModifiedTime": T0 - timedelta(days=30 - n),
    }
    fields.update(extra)
    return ItemSpec("Contact", fields)


def message(n: int, subject: str, sender: Mailbox, to: tuple[Mailbox, ...], **extra: object) -> ItemSpec:
    when = T0 + timedelta(hours=n)
    fields: dict[str, object] = {
        "Subject": subject,
        "Body": f"Hello,\n\nabout {subject} & <things>.\n",
        "DateTimeReceived": when,
        "DateTimeSent": when - timedelta(minutes=1),
        "DateTimeCreated": when,
        "LastModifiedTime": when,
        "Sender": sender,
        "From": sender,
        "ToRecipients": to,
        "InternetMessageId": f"<msg{n}@{DOMAIN}>",
        "ConversationId": f"CONV-{n}",
        "ConversationTopic": subject,
        "IsRead": n % 2 == 0,
    }
    fields.update(extra)
    return ItemSpec("Message", fields)


def calendar_items() -> list[ItemSpec]:
    berlin = ZoneInfo("Europe/Berlin")
    single = ItemSpec(
        "CalendarItem",
        {
            "Subject": "Quarterly review with Fabrikam",
            "Start": datetime(2026, 3, 10, 14, 0, tzinfo=berlin),
            "End": datetime(2026, 3, 10, 15, 30, tzinfo=berlin),
            "StartTimeZone": "W. Europe Standard Time",
            "EndTimeZone": "W. Europe Standard Time",
            "Location": "Room 1",
            "UID": "uid-single",
            "Organizer": ALICE,
            "RequiredAttendees": (Attendee(DANA, "Accept"), Attendee(ALICE, "Organizer")),
            "IsMeeting": True,
            "Categories": ("Customer",),
        },
    )
    all_day = ItemSpec(
        "CalendarItem",
        {
            "Subject": "Trade fair",
            "Start": datetime(2026, 3, 12, 0, 0, tzinfo=berlin),
            "End": datetime(2026, 3, 13, 0, 0, tzinfo=berlin),
            "StartTimeZone": "W. Europe Standard Time",
            "EndTimeZone": "W. Europe Standard Time",
            "IsAllDayEvent": True,
            "LegacyFreeBusyStatus": "Free",
            "UID": "uid-allday",
        },
    )
    exception = ItemSpec(
        "CalendarItem",
        {
            "Subject": "Weekly sync (moved)",
            "Start": SERIES_START + timedelta(weeks=1, hours=2),
            "End": SERIES_START + timedelta(weeks=1, hours=3),
            "CalendarItemType": "Exception",
        },
        original_start=SERIES_START + timedelta(weeks=1),
    )
    master = ItemSpec(
        "CalendarItem",
        {
            "Subject": "Weekly sync",
            "Start": SERIES_START,
            "End": SERIES_START + timedelta(hours=1),
            "StartTimeZone": "W. Europe Standard Time",
            "EndTimeZone": "W. Europe Standard Time",
            "Recurrence": Recurrence("Weekly", 1, date(2026, 3, 2), days_of_week=("Monday",), occurrences=6),
            "UID": "uid-series",
            "Organizer": ALICE,
            "RequiredAttendees": (Attendee(ERIN, "Tentative"),),
            "IsMeeting": True,
        },
        exceptions=(exception,),
        deleted_occurrences=(SERIES_START + timedelta(weeks=2),),
    )
    private = ItemSpec(
        "CalendarItem",
        {
            "Subject": "Doctor",
            "Start": datetime(2026, 3, 11, 7, 0, tzinfo=UTC),
            "End": datetime(2026, 3, 11, 8, 0, tzinfo=UTC),
            "Sensitivity": "Private",
            "UID": "uid-private",
        },
    )
    return [single, all_day, master, private]


def tasks() -> list[ItemSpec]:
    return [
        ItemSpec(
            "Task",
            {
                "Subject": "Call Dana about renewal",
                "Body": "Renewal due in April.",
                "DueDate": datetime(2026, 3, 20, tzinfo=UTC),
                "StartDate": datetime(2026, 3, 16, tzinfo=UTC),
                "Status": "InProgress",
                "PercentComplete": 50.0,
                "Categories": ("Follow-up", "Value: Superior"),
                "ExtendedProperty": (
                    ExtendedProp("String", "crm-1", property_set_id=OUR_SET, property_name="relsync-id"),
                ),
            },
        ),
        ItemSpec(
            "Task",
            {
                "Subject": "Send brochure",
                "Status": "Completed",
                "PercentComplete": 100.0,
                "IsComplete": True,
                "CompleteDate": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            },
        ),
    ]


@dataclass
class TinyCompany:
    """A CompanySource with two staff mailboxes and a handful of items (plus optional bulk inbox)."""

    seed: int = 1
    domain: str = DOMAIN
    inbox_size: int = 0  # extra generated messages in alice's inbox
    _cache: dict[tuple[str, str], Sequence[ItemSpec]] = field(default_factory=dict)

    def mailboxes(self) -> tuple[Mailbox, ...]:
        return (ALICE, BOB)

    def folder(self, mailbox: str, folder: str) -> Sequence[ItemSpec]:
        key = (mailbox, folder)
        if key not in self._cache:
            self._cache[key] = self._build(mailbox, folder)
        return self._cache[key]

    def _build(self, mailbox: str, folder: str) -> Sequence[ItemSpec]:
        if mailbox != ALICE.email:
            return [contact(1, "Frank Fischer", "frank@contoso-partner.test")] if folder == "contacts" else []
        if folder == "contacts":
            return [
                contact(
                    1,
                    "Dana Dunn",
                    DANA.email,
                    Categories=("Customer",),
                    ExtendedProperty=(
                        ExtendedProp("String", "crm-dana", property_set_id=OUR_SET, property_name="relsync-id"),
                    ),
                ),
                contact(2, "Erin Estrada", ERIN.email, Sensitivity="Private", JobTitle="CTO"),
                contact(3, "Steve O'Neil & Sons", "steve@oneil.test", Nickname="Stephen"),
            ]
        if folder == "inbox":
            base = [
                message(1, "Offer for Fabrikam", DANA, (ALICE,), Categories=("Customer",)),
                message(2, "Re: Offer for Fabrikam", DANA, (ALICE, BOB), CcRecipients=(ERIN,)),
                message(3, "Private: lunch?", ERIN, (ALICE,), Sensitivity="Private"),
            ]
            return base + [message(10 + i, f"Newsletter {i}", ERIN, (ALICE,)) for i in range(self.inbox_size)]
        if folder == "sentitems":
            return [message(4, "Our proposal", ALICE, (DANA,), IsRead=True)]
        if folder == "calendar":
            return calendar_items()
        if folder == "tasks":
            return tasks()
        return []


class LazyMessages(Sequence[ItemSpec]):
    """A lazy folder of ``n`` realistic messages (item i built on demand), for scale tests."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if not 0 <= i < self.n:
            raise IndexError(i)
        return message(
            i,
            f"Message {i}: quarterly numbers",
            DANA if i % 2 else ERIN,
            (ALICE,),
            Categories=("Customer",) if i % 3 == 0 else (),
        )


@dataclass
class BulkCompany:
    """One mailbox whose inbox holds ``n`` lazily generated messages."""

    n: int = 1500
    seed: int = 2
    domain: str = DOMAIN

    def mailboxes(self) -> tuple[Mailbox, ...]:
        return (ALICE,)

    def folder(self, mailbox: str, folder: str) -> Sequence[ItemSpec]:
        return LazyMessages(self.n) if folder == "inbox" else []
