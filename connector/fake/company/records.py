"""The generated company's public records (staff, organisations, people, planted cases) and its scales."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from connector.fake.model import Mailbox, PhysicalAddress

#: The "now" of the generated world unless ``build_company(anchor=...)`` says otherwise; fixed so that
#: a seed gives identical data on every machine and every day.
DEFAULT_ANCHOR: Final = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

#: Mail and meetings reach back about 18 months from the anchor.
HISTORY_DAYS: Final = 548
HISTORY_SECONDS: Final = HISTORY_DAYS * 86400

# --------------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Items per mailbox per folder."""

    contacts: int
    inbox: int
    sentitems: int
    calendar: int
    tasks: int

    @property
    def total(self) -> int:
        """Items in one mailbox across all folders."""
        return self.contacts + self.inbox + self.sentitems + self.calendar + self.tasks

    def count(self, folder: str) -> int:
        """Items in one folder (a key of ``FOLDER_KINDS``)."""
        value: int = getattr(self, folder)
        return value


#: Named sizes. "tiny" is for unit tests, "large" has a 100,000-item inbox per mailbox.
SCALES: Final[dict[str, Scale]] = {
    "tiny": Scale(contacts=20, inbox=30, sentitems=20, calendar=16, tasks=5),
    "small": Scale(contacts=80, inbox=220, sentitems=120, calendar=60, tasks=10),
    "medium": Scale(contacts=400, inbox=2_800, sentitems=1_300, calendar=450, tasks=50),
    "large": Scale(contacts=2_500, inbox=100_000, sentitems=40_000, calendar=6_000, tasks=300),
}


@dataclass(frozen=True)
class Staff:
    """One of our own people; each has a mailbox."""

    index: int
    given_name: str
    surname: str
    email: str
    time_zone: str  # IANA, e.g. "Europe/Berlin"
    windows_tz: str  # Windows id, e.g. "W. Europe Standard Time"
    job_title: str
    department: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"

    @property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.name, self.email, mailbox_type="Mailbox")


@dataclass(frozen=True)
class Organisation:
    """An external organisation (customer, prospect, vendor or partner)."""

    index: int
    name: str
    domain: str  # e-mail domain, bare
    website: str  # host name, usually "www." + domain
    country: str  # ISO code, a key of names.COUNTRIES
    industry: str
    kind: str  # customer|prospect|vendor|partner
    address: PhysicalAddress
    phone: str
    owner: int  # staff index of the account owner
    aliases: tuple[str, ...] = ()  # other spellings staff use for it
    people: tuple[int, ...] = ()


@dataclass(frozen=True)
class Person:
    """A person at an external organisation."""

    index: int
    given_name: str
    surname: str
    org: int
    job_title: str
    email: str
    business_phone: str
    mobile_phone: str
    address: PhysicalAddress
    other_emails: tuple[str, ...] = ()  # e.g. a private free-mail address

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"

    @property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.name, self.email)


@dataclass(frozen=True)
class ContactLocation:
    """Where one planted contact sits: ``company.folder(mailbox, "contacts")[index]``."""

    mailbox: str
    index: int
    person: int  # index into FakeCompany.people, or -1 - staff index for a colleague


@dataclass(frozen=True)
class PlantedCase:
    """One deliberate duplicate (``should_merge``) or hard negative (must stay apart)."""

    kind: str
    description: str
    should_merge: bool
    values: tuple[str, ...]
    contacts: tuple[ContactLocation, ...]
