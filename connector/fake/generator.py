"""Deterministic, lazy data generator for the fake Exchange.

``build_company(seed, mailboxes, scale)`` returns a :class:`FakeCompany`: a small company model
(staff, external organisations and their people, the planted duplicates) built once, and
``folder(mailbox, folder)`` sequences whose items are generated on demand.

Determinism. Item ``i`` of a folder is produced from a ``random.Random`` seeded with a stable hash
(BLAKE2b) of ``(seed, family, mailbox index, slot)``; Python's ``hash()`` of ``str`` is salted per
process and is never used, nor is the iteration order of a set of strings. Faker (pinned) is used only
while building the company model, with per-instance seeds, so no global Faker state leaks in.
Generating item ``i`` never generates items ``0..i-1``.

Cross-mailbox copies. One message can live in several mailboxes (the sender's Sent Items and each
internal recipient's Inbox). Those messages are organised in *rounds* (see :class:`_Fanout`): in round
``t`` every mailbox ``a`` sends one message, to the mailboxes ``a + o`` (mod N) for the offsets ``o``
of that round, which depend on ``t`` only. So every mailbox receives exactly ``len(offsets(t))``
copies per round, and inbox slot ``j`` maps back to ``(round, offset)`` and so to its sender by plain
arithmetic, without enumerating other mailboxes. Meetings use the same scheme for attendee copies.

Folder layout (slot ranges, all computed once in :class:`_Layout`):

* ``sentitems``: internal rounds | outbound to a customer with staff on Cc | customer threads (replies)
* ``inbox``: internal copies | copies of staff-Cc'd outbound mail | inbound mail to several staff |
  a periodic mix of customer threads, newsletters, no-reply and free-mail senders
* ``contacts``: planted duplicates | the mailbox's book of customers | a long tail of extra people
* ``calendar``: meetings organised here | copies of colleagues' meetings | external invitations |
  personal appointments and all-day events
* ``tasks``: independent tasks

The ``.co.uk`` pair. The "company for ``co.uk``" trap needs a real multi-label public suffix: no
reserved name (RFC 2606 / RFC 6761) sits under one, and ``brightwater.example.co.uk`` would make
``example.co.uk`` the registrable domain of every such organisation. So the two UK organisations use
``brightwater-example.co.uk`` and ``harbourview-example.co.uk``: real suffix, obviously fictional label.
Nothing here ever resolves or sends to those names.
"""

from __future__ import annotations

import base64
import hashlib
import random
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Final, TypeVar, overload
from zoneinfo import ZoneInfo

from connector.fake import addressbook, names
from connector.fake.model import (
    FOLDER_KINDS,
    Attendee,
    ExtendedProp,
    ItemSpec,
    Mailbox,
    PhysicalAddress,
    Recurrence,
)

#: The "now" of the generated world unless ``build_company(anchor=...)`` says otherwise; fixed so that
#: a seed gives identical data on every machine and every day.
DEFAULT_ANCHOR: Final = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

#: Mail and meetings reach back about 18 months from the anchor.
HISTORY_DAYS: Final = 548
_HISTORY_SECONDS: Final = HISTORY_DAYS * 86400
_UTC: Final = UTC
T = TypeVar("T")
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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


# --------------------------------------------------------------------------------------------------
# Hashing and small helpers
# --------------------------------------------------------------------------------------------------


def _h64(*parts: object) -> int:
    """A stable 64-bit hash of the parts (BLAKE2b; unlike ``hash()`` not salted per process)."""
    key = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def _rng(*parts: object) -> random.Random:
    return random.Random(_h64(*parts))


_FOLD: Final = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def _ascii(text: str) -> str:
    """Lower-case ASCII local-part material from a name ("Jürgen Groß" -> "juergen.gross")."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode()
    out = []
    for ch in folded.lower():
        if ch.isalnum():
            out.append(ch)
        elif ch in " -.'":
            out.append("." if ch == " " else ("-" if ch == "-" else ""))
    return "".join(out).strip(".-")


def _slug(text: str) -> str:
    return _ascii(text).replace(".", "-")


def _pick(rng: random.Random, seq: Sequence[T]) -> T:
    """``rng.choice`` at a fraction of the cost (one ``random()``), equally stable across versions."""
    return seq[int(rng.random() * len(seq))]


def _between(rng: random.Random, lo: int, hi: int | None = None) -> int:
    """``rng.randrange(lo, hi)`` (or ``randrange(lo)``) via one ``random()``; hot paths call it a lot."""
    if hi is None:
        lo, hi = 0, lo
    return lo + int(rng.random() * (hi - lo))


def _weighted(rng: random.Random, items: Sequence[tuple[Any, int]]) -> Any:
    total = sum(w for _, w in items)
    x = _between(rng, total)
    for item, w in items:
        if x < w:
            return item
        x -= w
    raise AssertionError("unreachable")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def _name_pools(locale: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(given names, surnames) straight from Faker's provider tables (fast, and pinned with Faker)."""
    import importlib

    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    if locale == "ja_JP":
        first = tuple(provider.first_romanized_names)
        last = tuple(provider.last_romanized_names)
    else:
        first = tuple(dict.fromkeys([*provider.first_names_female, *provider.first_names_male]))
        last = tuple(dict.fromkeys(provider.last_names))
    return first, last


def _conversation_id(*parts: object) -> str:
    # EWS ConversationIds are opaque base64; this one has the usual "AAQk" look and is stable.
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=24).digest()
    return base64.b64encode(b"\x00\x04\x24\x00" + digest).decode()


def _uid(*parts: object) -> str:
    # The shape Outlook gives meeting UIDs (a hex GlobalObjectId).
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest().upper()
    return "040000008200E00074C5B7101A82E00800000000" + digest


# --------------------------------------------------------------------------------------------------
# Recurrence helpers (public: the fake server expands series with the same code)
# --------------------------------------------------------------------------------------------------


def _add_months(d: date, months: int, day: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, day)


def occurrence_starts(recurrence: Recurrence, first_start: datetime, limit: int = 500) -> list[datetime]:
    """The original start instants of a series, in the first start's time zone.

    ``first_start`` is the master's ``Start`` (aware, in the event's zone); occurrences keep its wall
    clock time, so their UTC instant moves across a DST change, as Exchange does. At most ``limit``
    occurrences are returned for a series without end.
    """
    tz = first_start.tzinfo
    wall = first_start.replace(tzinfo=None).time()
    max_n = recurrence.occurrences if recurrence.occurrences is not None else limit
    out: list[datetime] = []

    def emit(d: date) -> bool:
        if d < recurrence.start:
            return True
        if recurrence.end is not None and d > recurrence.end:
            return False
        out.append(datetime.combine(d, wall, tzinfo=tz))
        return len(out) < max_n

    if recurrence.pattern == "Daily":
        d = recurrence.start
        while emit(d):
            d += timedelta(days=recurrence.interval)
    elif recurrence.pattern == "Weekly":
        days = sorted(_WEEKDAYS.index(x) for x in recurrence.days_of_week) or [recurrence.start.weekday()]
        week = recurrence.start - timedelta(days=recurrence.start.weekday())
        going = True
        while going:
            for wd in days:
                if not emit(week + timedelta(days=wd)):
                    going = False
                    break
            week += timedelta(weeks=recurrence.interval)
    else:
        dom = recurrence.day_of_month or recurrence.start.day
        k = 0
        while emit(_add_months(recurrence.start.replace(day=1), k, dom)):
            k += recurrence.interval
    return out


def _dst_transitions(anchor: datetime) -> tuple[tuple[str, date], ...]:
    """DST changes in Berlin and New York within the generated window (oldest first)."""
    found: list[tuple[str, date]] = []
    lo = (anchor - timedelta(days=HISTORY_DAYS - 60)).date()
    hi = (anchor + timedelta(days=45)).date()
    for zone_name in ("Europe/Berlin", "America/New_York"):
        tz = _zone(zone_name)
        d = lo
        while d <= hi:
            a = datetime.combine(d, time(12), tzinfo=tz).utcoffset()
            b = datetime.combine(d + timedelta(days=1), time(12), tzinfo=tz).utcoffset()
            if a != b:
                found.append((zone_name, d + timedelta(days=1)))
            d += timedelta(days=1)
    found.sort(key=lambda x: (x[1], x[0]))
    return tuple(found)


# --------------------------------------------------------------------------------------------------
# Fan-out rounds: one item, several mailboxes
# --------------------------------------------------------------------------------------------------


class _Fanout:
    """Rounds of items that each land in several mailboxes, invertible by arithmetic.

    In round ``t`` every mailbox ``a`` (the anchor) produces one item, which lands in mailboxes
    ``a + o`` (mod n) for ``o`` in ``offsets(t)``. ``counts`` is a periodic pattern of how many other
    mailboxes receive a copy; with ``include_anchor`` the anchor itself also receives one (offset 0).
    """

    def __init__(self, seed: int, family: str, n: int, counts: tuple[int, ...], include_anchor: bool):
        self.seed, self.family, self.n = seed, family, n
        self.counts = tuple(min(c, n - 1) for c in counts)
        self.include_anchor = include_anchor
        self.period = len(self.counts)
        extra = 1 if include_anchor else 0
        self.per_round = tuple(c + extra for c in self.counts)
        self.prefix = tuple(sum(self.per_round[:r]) for r in range(self.period + 1))
        self.table = tuple((r, i) for r in range(self.period) for i in range(self.per_round[r]))
        self._cache: dict[int, tuple[int, ...]] = {}

    def copies(self, rounds: int) -> int:
        """Copies each mailbox holds when rounds ``0..rounds-1`` exist."""
        full, part = divmod(rounds, self.period)
        return full * self.prefix[-1] + self.prefix[part]

    def offsets(self, t: int) -> tuple[int, ...]:
        """The receiving offsets of round ``t``: a partial Fisher-Yates draw from a stable hash."""
        cached = self._cache.get(t)
        if cached is not None:
            return cached
        if len(self._cache) > 4096:  # bounded: a 100,000-item folder must not grow memory
            self._cache.clear()
        k = self.counts[t % self.period]
        pool = list(range(1, self.n))
        h = _h64(self.seed, self.family, "offsets", t)
        chosen = []
        for _ in range(k):
            h, idx = divmod(h, len(pool))
            chosen.append(pool.pop(idx))
        result = ((0,) if self.include_anchor else ()) + tuple(chosen)
        self._cache[t] = result
        return result

    def locate(self, mailbox: int, j: int) -> tuple[int, int, int]:
        """Copy ``j`` of ``mailbox`` -> (round, anchor mailbox, position in the round's offsets)."""
        c, q = divmod(j, self.prefix[-1])
        r, i = self.table[q]
        t = c * self.period + r
        return t, (mailbox - self.offsets(t)[i]) % self.n, i

    def copy_index(self, t: int, i: int) -> int:
        """Inverse of :meth:`locate`: the copy slot that round ``t``'s ``i``-th receiver holds it in."""
        c, r = divmod(t, self.period)
        return c * self.prefix[-1] + self.prefix[r] + i


# Customer threads: (messages, starts with the customer writing) per thread, repeating.
_THREAD_SHAPES: Final = ((1, True), (2, True), (3, True), (1, True), (2, False), (4, True), (1, False), (3, False))


def _thread_tables() -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    inbound: list[tuple[int, int]] = []
    outbound: list[tuple[int, int]] = []
    for local, (length, starts_in) in enumerate(_THREAD_SHAPES):
        for p in range(length):
            (inbound if (p % 2 == 0) == starts_in else outbound).append((local, p))
    return tuple(inbound), tuple(outbound)


_THREAD_IN, _THREAD_OUT = _thread_tables()

# The tail of the inbox repeats this mix: T customer thread, N newsletter, R no-reply, F free-mail.
_INBOX_MIX: Final = "TTNTTFTRTTTNTTFTTTRT"
_MIX_RANK: Final = tuple(_INBOX_MIX[:q].count(_INBOX_MIX[q]) for q in range(len(_INBOX_MIX)))
_MIX_COUNT: Final = {k: _INBOX_MIX.count(k) for k in "TNRF"}

# Own meetings repeat these shapes (index t % 8); chosen so that even "tiny" has each kind.
_MEETING_SHAPES: Final = ("single", "weekly", "single", "dst", "private", "monthly", "allday", "internal")
_MEETING_STAFF: Final = (1, 2, 1, 1, 0, 1, 3, 1)  # colleagues invited, by shape
_PERSONAL_SHAPES: Final = ("allday", "appointment", "allday", "vacation")


@dataclass(frozen=True)
class _Layout:
    """Slot ranges of each folder (same for every mailbox of one company)."""

    int_rounds: int
    occ_rounds: int
    imr_rounds: int
    inbox_int: int
    inbox_occ: int
    inbox_imr: int
    mtg_rounds: int
    xmtg_rounds: int
    cal_copies: int
    cal_x: int


# --------------------------------------------------------------------------------------------------
# The company
# --------------------------------------------------------------------------------------------------

_ContactRef = tuple[str, int, str]  # ("person"|"staff", index, variant)


class FakeCompany:
    """A generated company: the small model plus lazy folders (implements ``CompanySource``).

    Read-only facts for tests (treat as immutable):

    * ``seed``, ``scale`` (:class:`Scale`), ``anchor`` (aware UTC "now"), ``name`` and ``domain`` (ours)
    * ``staff``: :class:`Staff` per mailbox, in mailbox order (name, e-mail, IANA and Windows zone)
    * ``organisations`` / ``people``: the external world (:class:`Organisation`, :class:`Person`);
      the planted ones come first: 0 IBM, 1 Acme Corp, 2 Acme Bank, 3 Brightwater, 4 Harbourview
    * ``planted``: every :class:`PlantedCase` (kinds: org_alias, nickname, two_addresses, www_domain,
      legal_form, same_customer, public_suffix, hard_negative_org, hard_negative_person, own_domain),
      each pointing at its contacts; they fit in the first 13 contact slots, so any scale with at
      least 13 contacts per mailbox holds them all
    * ``layout``: the slot ranges of the folders (see the module docstring)

    Every generated item carries notes in ``ItemSpec.extra`` (never served): ``kind`` (internal,
    outbound_cc, inbound_multi, thread, newsletter, noreply, freemail, person, colleague, extra, role,
    meeting, external_meeting, personal, exception, task) and, for items held by several mailboxes,
    ``copies``: every ``(mailbox, folder, slot)`` that holds the same message or meeting.
    """

    def __init__(self, seed: int, n_mailboxes: int, scale: Scale, anchor: datetime) -> None:
        if n_mailboxes < 1:
            raise ValueError("a company needs at least one mailbox")
        if anchor.tzinfo is None:
            raise ValueError("anchor must be timezone-aware")
        self.seed = seed
        self.scale = scale
        self.anchor = anchor.astimezone(_UTC)
        self.name = names.OWN_COMPANY
        self.domain = names.OWN_DOMAIN
        self.n = n_mailboxes
        self._transitions = _dst_transitions(self.anchor)
        self.staff: tuple[Staff, ...] = self._build_staff()
        self._staff_index = {s.email.lower(): s.index for s in self.staff}
        orgs, people = self._build_world()
        self.organisations: tuple[Organisation, ...] = orgs
        self.people: tuple[Person, ...] = people
        self._books = self._build_books()
        # Mailbox records are immutable; build them once instead of once per generated item.
        self._smb = tuple(s.mailbox for s in self.staff)
        self._pmb = tuple(p.mailbox for p in self.people)
        self.planted: tuple[PlantedCase, ...] = ()
        self._contact_refs = self._build_contact_refs()
        # Private and old-employer addresses, extra phones (connector/fake/addressbook.py).
        self._planted_people = frozenset(range(self._p_smith_harbour + 1))  # the planted people come first
        self._facts = addressbook.person_facts(seed, self.people, self.organisations, self._planted_people)
        self._int = _Fanout(seed, "int", self.n, (1, 1, 2, 1, 3, 1, 2, 1), False)
        self._occ = _Fanout(seed, "occ", self.n, (1, 2, 1), False)
        self._imr = _Fanout(seed, "imr", self.n, (0, 1, 2, 0, 1), True)
        self._mtg = _Fanout(seed, "mtg", self.n, _MEETING_STAFF, False)
        self._xmtg = _Fanout(seed, "xmtg", self.n, (0, 1, 0, 0, 1), True)
        self.layout = self._build_layout()
        self._folders: dict[tuple[int, str], LazyFolder] = {}

    # ---- public API ------------------------------------------------------------------------------

    def mailboxes(self) -> tuple[Mailbox, ...]:
        """The staff mailboxes, in staff order."""
        return tuple(s.mailbox for s in self.staff)

    def folder(self, mailbox: str, folder: str) -> LazyFolder:
        """The lazy item sequence of one distinguished folder of one staff mailbox."""
        if folder not in FOLDER_KINDS:
            raise KeyError(f"unknown folder {folder!r}")
        m = self.staff_index(mailbox)
        key = (m, folder)
        if key not in self._folders:
            self._folders[key] = LazyFolder(self, m, folder, self._folder_len(folder))
        return self._folders[key]

    def staff_index(self, mailbox: str) -> int:
        """Index of a staff mailbox by e-mail address (case-insensitive)."""
        try:
            return self._staff_index[mailbox.lower()]
        except KeyError:
            raise KeyError(f"no mailbox {mailbox!r} in this company") from None

    def planted_case(self, kind: str) -> PlantedCase:
        """The planted duplicate or hard negative of one kind (see ``planted`` for the kinds)."""
        for case in self.planted:
            if case.kind == kind:
                return case
        raise KeyError(kind)

    def book(self, mailbox: str) -> tuple[Person, ...]:
        """The external people a staff member deals with (the source of their threads and contacts)."""
        return tuple(self.people[p] for p in self._books[self.staff_index(mailbox)])

    def item(self, m: int, folder: str, i: int) -> ItemSpec:
        """Item ``i`` of folder ``folder`` of mailbox index ``m`` (no bounds check; see LazyFolder)."""
        if folder == "inbox":
            return self._inbox(m, i)
        if folder == "sentitems":
            return self._sent(m, i)
        if folder == "contacts":
            return self._contact(m, i)
        if folder == "calendar":
            return self._calendar(m, i)
        return self._task(m, i)

    # ---- model building (once, cheap) ------------------------------------------------------------

    def _build_staff(self) -> tuple[Staff, ...]:
        rng = _rng(self.seed, "staff")
        out: list[Staff] = []
        used: set[str] = set()  # membership only, never iterated
        weighted = [(z, z[3]) for z in names.STAFF_ZONES]
        for i in range(self.n):
            # The first three staff cover Berlin, New York and Tokyo so even small companies span zones.
            zone = names.STAFF_ZONES[i] if i < 3 else _weighted(rng, weighted)
            first, last = _name_pools(zone[2])
            given, surname = _pick(rng, first), _pick(rng, last)
            local = f"{_ascii(given)}.{_ascii(surname)}"
            email, k = f"{local}@{self.domain}", 2
            while email in used:
                email, k = f"{local}{k}@{self.domain}", k + 1
            used.add(email)
            title, dept = _pick(rng, names.STAFF_TITLES)
            out.append(Staff(i, given, surname, email, zone[0], zone[1], title, dept))
        return tuple(out)

    def _build_world(self) -> tuple[tuple[Organisation, ...], tuple[Person, ...]]:
        from faker import Faker

        rng = _rng(self.seed, "world")
        fakers: dict[str, Faker] = {}

        def faker(country: str) -> Faker:
            if country not in fakers:
                f = Faker(names.COUNTRIES[country][0])
                f.seed_instance(_h64(self.seed, "faker", country))
                fakers[country] = f
            return fakers[country]

        def address(country: str) -> PhysicalAddress:
            f = faker(country)
            cname = names.COUNTRIES[country][1]
            if country == "JP":
                return PhysicalAddress(
                    f"{f.town()}{f.chome()}{f.ban()}{f.gou()}", f.city(), f.prefecture(), cname, f.zipcode()
                )
            state = f.state_abbr() if country == "US" else ""
            return PhysicalAddress(f.street_address().replace("\n", ", "), f.city(), state, cname, f.postcode())

        orgs: list[dict[str, Any]] = []
        used_domains: set[str] = set()

        def add_org(
            name: str,
            domain: str,
            country: str,
            industry: str,
            kind: str,
            aliases: tuple[str, ...] = (),
            website: str | None = None,
        ) -> int:
            used_domains.add(domain)
            orgs.append(
                dict(
                    index=len(orgs),
                    name=name,
                    domain=domain,
                    website=website or f"www.{domain}",
                    country=country,
                    industry=industry,
                    kind=kind,
                    address=address(country),
                    phone=faker(country).phone_number(),
                    owner=_between(rng, self.n),
                    aliases=aliases,
                    people=[],
                )
            )
            return len(orgs) - 1

        # Planted organisations first, so their indices are fixed (see _PLANTED_ORGS).
        ibm = add_org(
            "IBM", "ibm.example", "US", "Software", "customer", aliases=("International Business Machines, Inc.",)
        )
        acme = add_org("Acme Corp", "acme.example", "US", "Manufacturing", "customer", aliases=("ACME Corporation",))
        acme_bank = add_org("Acme Bank", "acmebank.example", "US", "Financial Services", "prospect")
        bright = add_org("Brightwater Ltd", "brightwater-example.co.uk", "GB", "Retail", "customer")
        harbour = add_org("Harbourview Ltd", "harbourview-example.co.uk", "GB", "Hospitality", "customer")

        n_orgs = min(400, 30 + 8 * self.n)
        countries = [(c, v[3]) for c, v in names.COUNTRIES.items()]
        kinds = (("customer", 60), ("prospect", 20), ("vendor", 12), ("partner", 8))
        while len(orgs) < n_orgs:
            country = _weighted(rng, countries)
            stem = _pick(rng, names.ORG_STEMS)
            if rng.random() < 0.5:
                base = f"{stem} {_pick(rng, names.ORG_SECOND)}"
            else:
                base = f"{stem} {_pick(rng, _name_pools(names.COUNTRIES[country][0])[1])}"
            domain = f"{_slug(base)}.example"
            if domain in used_domains or not _slug(base):
                continue
            legal = _pick(rng, names.LEGAL_FORMS[country])
            add_org(f"{base} {legal}", domain, country, _pick(rng, names.INDUSTRIES), _weighted(rng, kinds))

        people: list[Person] = []
        used_emails: set[str] = set()

        def add_person(
            org: int, given: str, surname: str, title: str, *, local: str | None = None, other: tuple[str, ...] = ()
        ) -> int:
            o = orgs[org]
            f = faker(o["country"])
            base = local or f"{_ascii(given)}.{_ascii(surname)}"
            email, k = f"{base}@{o['domain']}", 2
            while email in used_emails:
                email, k = f"{base}{k}@{o['domain']}", k + 1
            used_emails.add(email)
            # Most people share the organisation's address; some sit at another site.
            addr = o["address"] if rng.random() < 0.8 else address(o["country"])
            people.append(
                Person(
                    len(people),
                    given,
                    surname,
                    org,
                    title,
                    email,
                    o["phone"] if rng.random() < 0.3 else f.phone_number(),
                    f.phone_number(),
                    addr,
                    other,
                )
            )
            o["people"].append(len(people) - 1)
            return len(people) - 1

        self._p_dana = add_person(ibm, "Dana", "Whitfield", "CIO")
        self._p_raj = add_person(ibm, "Raj", "Patel", "Procurement Lead")
        self._p_stephen = add_person(acme, "Stephen", "Miller", "Purchasing Manager")
        self._p_laura = add_person(acme, "Laura", "Chen", "Operations Manager")
        self._p_smith_bank = add_person(acme_bank, "John", "Smith", "Relationship Manager")
        self._p_maria = add_person(bright, "Maria", "Lopez", "Head of Procurement", other=("maria.lopez84@gmail.com",))
        self._p_oliver = add_person(bright, "Oliver", "Grant", "Managing Director")
        self._p_smith_harbour = add_person(harbour, "John", "Smith", "Facilities Manager")

        for o in orgs:
            country = o["country"]
            first, last = _name_pools(names.COUNTRIES[country][0])
            for _ in range(_between(rng, 1, 6)):
                add_person(o["index"], _pick(rng, first), _pick(rng, last), _pick(rng, names.JOB_TITLES))

        org_records = tuple(Organisation(**{**o, "people": tuple(o["people"])}) for o in orgs)
        return org_records, tuple(people)

    def _build_books(self) -> tuple[tuple[int, ...], ...]:
        rng = _rng(self.seed, "books")
        books: list[list[int]] = [[] for _ in range(self.n)]
        for o in self.organisations:
            for p in o.people:
                books[o.owner].append(p)
                # A quarter of the people are known to a second colleague too (shared accounts).
                if self.n > 1 and rng.random() < 0.25:
                    books[(o.owner + 1 + _between(rng, self.n - 1)) % self.n].append(p)
        for m, b in enumerate(books):
            if not b:  # tiny companies: nobody may be left without customers
                b.extend(range(m % len(self.people), len(self.people), self.n))
        return tuple(tuple(sorted(set(b))) for b in books)

    def _build_contact_refs(self) -> tuple[tuple[_ContactRef, ...], ...]:
        refs: list[list[_ContactRef]] = [[] for _ in range(self.n)]
        placed: dict[str, list[ContactLocation]] = {}

        def put(kind: str, m: int, who: str, idx: int, variant: str = "") -> None:
            m %= self.n
            refs[m].append((who, idx, variant))
            person = idx if who == "person" else -1 - idx
            placed.setdefault(kind, []).append(ContactLocation(self.staff[m].email, len(refs[m]) - 1, person))

        put("org_alias", 0, "person", self._p_dana, "")
        put("org_alias", 1, "person", self._p_raj, "org_alias")
        put("nickname", 0, "person", self._p_stephen, "")
        put("nickname", 1, "person", self._p_stephen, "steve")
        put("legal_form", 2, "person", self._p_laura, "legal_form")
        put("two_addresses", 0, "person", self._p_maria, "")
        put("two_addresses", 1, "person", self._p_maria, "freemail_only")
        for m, variant in enumerate(("", "lastfirst", "intl_phone")):
            put("same_customer", m, "person", self._p_oliver, variant)
        put("hard_negative_org", 3, "person", self._p_smith_bank, "")
        put("hard_negative_person", 4, "person", self._p_smith_harbour, "")
        put("own_domain", 0, "staff", 1 % self.n, "")
        loc = {k: tuple(v) for k, v in placed.items()}

        def first(kind: str) -> ContactLocation:
            return loc[kind][0]

        acme, bank = self.organisations[1], self.organisations[2]
        bright, harbour = self.organisations[3], self.organisations[4]
        self.planted = (
            PlantedCase(
                "org_alias",
                "one organisation under its short and its legal name",
                True,
                ("IBM", "International Business Machines, Inc."),
                loc["org_alias"],
            ),
            PlantedCase(
                "nickname",
                "the same person as Stephen and as Steve (same surname and company)",
                True,
                ("Stephen Miller", "Steve Miller"),
                loc["nickname"],
            ),
            PlantedCase(
                "two_addresses",
                "one person with a work and a free-mail address",
                True,
                (self.people[self._p_maria].email, *self.people[self._p_maria].other_emails),
                loc["two_addresses"],
            ),
            PlantedCase(
                "www_domain",
                "website with www. and e-mail domain without it",
                True,
                (acme.website, acme.domain),
                (first("nickname"), *loc["legal_form"]),
            ),
            PlantedCase(
                "legal_form",
                "legal-form and case variants of one organisation name",
                True,
                ("Acme Corp", "ACME Corporation"),
                (first("nickname"), *loc["legal_form"]),
            ),
            PlantedCase(
                "same_customer",
                "one customer kept as a contact in several mailboxes",
                True,
                (self.people[self._p_oliver].name,),
                loc["same_customer"],
            ),
            PlantedCase(
                "public_suffix",
                "two organisations under the multi-label suffix co.uk",
                False,
                (bright.domain, harbour.domain),
                (first("two_addresses"), *loc["hard_negative_person"]),
            ),
            PlantedCase(
                "hard_negative_org",
                "similar names, different organisations",
                False,
                (acme.name, bank.name),
                (first("nickname"), *loc["hard_negative_org"]),
            ),
            PlantedCase(
                "hard_negative_person",
                "same name, different people at different companies",
                False,
                ("John Smith", "John Smith"),
                (*loc["hard_negative_org"], *loc["hard_negative_person"]),
            ),
            PlantedCase(
                "own_domain",
                "a colleague kept as a contact: our own domain is not a customer",
                False,
                (self.domain,),
                loc["own_domain"],
            ),
        )
        planted_people = {(c.mailbox, c.person) for case in self.planted for c in case.contacts}
        for m in range(self.n):
            email = self.staff[m].email
            for p in self._books[m]:
                if (email, p) not in planted_people:
                    refs[m].append(("person", p, ""))
        return tuple(tuple(r) for r in refs)

    def _build_layout(self) -> _Layout:
        sc = self.scale
        int_rounds = sc.sentitems * 25 // 100 if self.n > 1 else 0
        occ_rounds = sc.sentitems * 10 // 100 if self.n > 1 else 0
        imr_rounds = max(1, sc.inbox * 6 // 100)
        # Never let copies crowd out the customer mail: cap the fixed part of the inbox at 60 %.
        budget = sc.inbox * 60 // 100
        while (
            self._int.copies(int_rounds) + self._occ.copies(occ_rounds) + self._imr.copies(imr_rounds) > budget
        ) and (int_rounds or occ_rounds or imr_rounds):
            int_rounds, occ_rounds, imr_rounds = int_rounds * 3 // 4, occ_rounds * 3 // 4, imr_rounds * 3 // 4
        mtg_rounds = sc.calendar * 35 // 100
        xmtg_rounds = max(1, sc.calendar * 8 // 100)
        while (
            mtg_rounds + self._mtg.copies(mtg_rounds) + self._xmtg.copies(xmtg_rounds) > sc.calendar * 85 // 100
            and mtg_rounds
        ):
            mtg_rounds -= 1
        return _Layout(
            int_rounds,
            occ_rounds,
            imr_rounds,
            self._int.copies(int_rounds),
            self._occ.copies(occ_rounds),
            self._imr.copies(imr_rounds),
            mtg_rounds,
            xmtg_rounds,
            self._mtg.copies(mtg_rounds),
            self._xmtg.copies(xmtg_rounds),
        )

    def _folder_len(self, folder: str) -> int:
        return self.scale.count(folder)

    # ---- shared bits ------------------------------------------------------------------------------

    def _past(self, rng: random.Random, min_days: float = 0.0) -> datetime:
        """A past instant within the history window, whole seconds, UTC."""
        lo = int(min_days * 86400)
        return self.anchor - timedelta(seconds=lo + _between(rng, _HISTORY_SECONDS - lo))

    def _body(self, h: int, greeting: str, signature: str) -> str:
        """A short plain-text body; every choice comes from the bits of one stable hash ``h``."""
        h, n = divmod(h, 3)
        lines = [greeting, ""]
        for _ in range(n + 1):
            h, s = divmod(h, len(names.BODY_SENTENCES))
            h, p = divmod(h, len(names.PRODUCTS))
            h, k = divmod(h, 498)
            lines.append(names.BODY_SENTENCES[s].format(p=names.PRODUCTS[p], k=k + 2))
        lines += ["", "Best regards,", signature]
        return "\n".join(lines)

    def _mid(self, domain: str, *key: object) -> str:
        return f"<{_h64(self.seed, 'mid', *key):016x}.{self.seed & 0xFFFF:x}@{domain}>"

    def _message(
        self,
        *,
        sender: Mailbox,
        to: tuple[Mailbox, ...],
        cc: tuple[Mailbox, ...],
        subject: str,
        topic: str,
        body: str,
        sent: datetime,
        mid: str,
        conversation: str,
        references: tuple[str, ...] = (),
        sensitivity: str = "Normal",
        importance: str = "Normal",
        categories: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Note",
            "Subject": subject,
            "Sensitivity": sensitivity,
            "Body": body,
            "Importance": importance,
            "DateTimeSent": sent,
            "DateTimeCreated": sent,
            "InternetMessageId": mid,
            "ConversationId": conversation,
            "ConversationTopic": topic,
            "Sender": sender,
            "From": sender,
            "ToRecipients": to,
        }
        if cc:
            fields["CcRecipients"] = cc
        if categories:
            fields["Categories"] = categories
        if references:
            fields["References"] = " ".join(references)
            fields["InReplyTo"] = references[-1]
        return fields

    def _deliver(self, fields: dict[str, Any], viewer: int, folder: str, *key: object) -> dict[str, Any]:
        """The copy of a message one mailbox holds (Sent Items: read, received = sent)."""
        out = dict(fields)
        sent: datetime = fields["DateTimeSent"]
        if folder == "sentitems":
            out["DateTimeReceived"], out["IsRead"] = sent, True
        else:
            h = _h64(self.seed, "recv", viewer, *key)
            out["DateTimeReceived"] = sent + timedelta(seconds=2 + h % 90)
            # Old mail is nearly always read; the last few days' mail often is not.
            out["IsRead"] = (h >> 8) % 100 < (95 if self.anchor - sent > timedelta(days=3) else 40)
        out["LastModifiedTime"] = out["DateTimeReceived"]
        return out

    def _freemail_person(self, rng: random.Random) -> Mailbox:
        country = _pick(rng, tuple(names.COUNTRIES))
        first, last = _name_pools(names.COUNTRIES[country][0])
        given, surname = _pick(rng, first), _pick(rng, last)
        domain = _pick(rng, names.FREEMAIL_DOMAINS)
        style = _between(rng, 3)
        local = (
            f"{_ascii(given)}.{_ascii(surname)}"
            if style == 0
            else f"{_ascii(given)}{_ascii(surname)}{_between(rng, 1, 99)}"
            if style == 1
            else f"{_ascii(given)[:1]}{_ascii(surname)}{_between(rng, 1960, 2005)}"
        )
        return Mailbox(f"{given} {surname}", f"{local}@{domain}")

    # ---- sent items -------------------------------------------------------------------------------

    def _sent(self, m: int, i: int) -> ItemSpec:
        lay = self.layout
        if i < lay.int_rounds:
            fields, extra = self._internal(m, i)
            extra["copies"] = self._copies(self._int, "inbox", 0, m, i, include_self=("sentitems", i))
            return ItemSpec("Message", self._deliver(fields, m, "sentitems", "int", m, i), extra=extra)
        i2 = i - lay.int_rounds
        if i2 < lay.occ_rounds:
            fields, extra = self._outbound_cc(m, i2)
            extra["copies"] = self._copies(self._occ, "inbox", lay.inbox_int, m, i2, include_self=("sentitems", i))
            return ItemSpec("Message", self._deliver(fields, m, "sentitems", "occ", m, i2), extra=extra)
        j = i2 - lay.occ_rounds
        c, q = divmod(j, len(_THREAD_OUT))
        local, pos = _THREAD_OUT[q]
        fields, extra = self._thread_message(m, c * len(_THREAD_SHAPES) + local, pos)
        return ItemSpec("Message", self._deliver(fields, m, "sentitems", "thr", m, extra["thread"], pos), extra=extra)

    def _copies(
        self, fan: _Fanout, folder: str, base: int, anchor: int, t: int, include_self: tuple[str, int] | None = None
    ) -> tuple[tuple[str, str, int], ...]:
        """Every (mailbox, folder, slot) holding the item of round ``t`` of ``anchor``."""
        out = []
        if include_self is not None:
            out.append((self.staff[anchor].email, include_self[0], include_self[1]))
        for idx, off in enumerate(fan.offsets(t)):
            out.append((self.staff[(anchor + off) % self.n].email, folder, base + fan.copy_index(t, idx)))
        return tuple(out)

    def _internal(self, a: int, t: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Round ``t`` of internal mail sent by staff ``a``."""
        rng = _rng(self.seed, "int", a, t)
        sender = self.staff[a]
        rcpts = tuple(self._smb[(a + o) % self.n] for o in self._int.offsets(t))
        sensitivity = "Normal"
        if t % 10 == 3:  # a fixed share, so every scale has some (tests rely on it)
            sensitivity, subject = "Confidential", _pick(rng, names.CONFIDENTIAL_SUBJECTS)
        elif t % 10 == 7:
            sensitivity, subject = "Private", _pick(rng, names.PRIVATE_SUBJECTS)
        else:
            subject = _pick(rng, names.INTERNAL_SUBJECTS).format(q=_between(rng, 1, 5))
        sent = self._past(rng)
        greeting = f"Hi {rcpts[0].name.split()[0]}," if len(rcpts) == 1 else "Hi all,"
        fields = self._message(
            sender=self._smb[a],
            to=rcpts[:1],
            cc=rcpts[1:],
            subject=subject,
            topic=subject,
            body=self._body(rng.getrandbits(64), greeting, sender.given_name),
            sent=sent,
            mid=self._mid(self.domain, "int", a, t),
            conversation=_conversation_id(self.seed, "int", a, t),
            sensitivity=sensitivity,
            importance="High" if rng.random() < 0.05 else "Normal",
        )
        return fields, {"kind": "internal", "key": ("int", a, t)}

    def _outbound_cc(self, a: int, u: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Round ``u`` of mail from staff ``a`` to a customer with colleagues on Cc."""
        rng = _rng(self.seed, "occ", a, u)
        sender = self.staff[a]
        person = self.people[_pick(rng, self._books[a])]
        cc = tuple(self._smb[(a + o) % self.n] for o in self._occ.offsets(u))
        subject = _pick(rng, names.THREAD_SUBJECTS).format(
            p=_pick(rng, names.PRODUCTS), n=_between(rng, 10000, 99999), y=self.anchor.year
        )
        fields = self._message(
            sender=self._smb[a],
            to=(self._pmb[person.index],),
            cc=cc,
            subject=subject,
            topic=subject,
            body=self._body(rng.getrandbits(64), f"Dear {person.given_name},", sender.name),
            sent=self._past(rng),
            mid=self._mid(self.domain, "occ", a, u),
            conversation=_conversation_id(self.seed, "occ", a, u),
        )
        return fields, {"kind": "outbound_cc", "key": ("occ", a, u), "person": person.index}

    def _inbound_multi(self, a: int, v: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Round ``v`` of mail from a customer of staff ``a`` to ``a`` and colleagues."""
        rng = _rng(self.seed, "imr", a, v)
        person = self.people[_pick(rng, self._books[a])]
        offs = self._imr.offsets(v)
        rcpts = tuple(self._smb[(a + o) % self.n] for o in offs)
        subject = _pick(rng, names.THREAD_SUBJECTS).format(
            p=_pick(rng, names.PRODUCTS), n=_between(rng, 10000, 99999), y=self.anchor.year
        )
        domain = person.email.rsplit("@", 1)[1]
        fields = self._message(
            sender=self._pmb[person.index],
            to=rcpts[:1],
            cc=rcpts[1:],
            subject=subject,
            topic=subject,
            body=self._body(
                rng.getrandbits(64), "Hello all," if len(rcpts) > 1 else f"Hi {rcpts[0].name.split()[0]},", person.name
            ),
            sent=self._past(rng),
            mid=self._mid(domain, "imr", a, v),
            conversation=_conversation_id(self.seed, "imr", a, v),
        )
        return fields, {"kind": "inbound_multi", "key": ("imr", a, v), "person": person.index}

    # ---- customer threads ------------------------------------------------------------------------

    def _thread_message(self, m: int, h: int, pos: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Message ``pos`` of customer thread ``h`` of staff ``m`` (both directions)."""
        length, starts_in = _THREAD_SHAPES[h % len(_THREAD_SHAPES)]
        rng = _rng(self.seed, "thr", m, h)
        staff = self.staff[m]
        roll = rng.random()
        person_index = -1
        if roll < 0.88:
            person_index = _pick(rng, self._books[m])
            p = self.people[person_index]
            counterpart = self._pmb[person_index]
            # The two-address person writes from her private address now and then.
            if p.other_emails and rng.random() < 0.5:
                counterpart = Mailbox(p.name, p.other_emails[0])
        else:
            counterpart = self._freemail_person(rng)
        subject = _pick(rng, names.THREAD_SUBJECTS).format(
            p=_pick(rng, names.PRODUCTS), n=_between(rng, 10000, 99999), y=self.anchor.year
        )
        # Gaps between replies: hours to a few days; the whole thread stays in the past.
        bits = rng.getrandbits(80)
        gaps = [600 + (bits >> (20 * k)) % (3 * 86400 - 600) for k in range(4)]
        start = self._past(rng, min_days=sum(gaps) / 86400 + 0.01)
        sensitivity = "Private" if h % 25 == 4 else ("Personal" if h % 40 == 9 else "Normal")
        categories = (_pick(rng, names.MESSAGE_CATEGORIES),) if rng.random() < 0.05 else ()
        cext = counterpart.email.rsplit("@", 1)[1]
        own = self.domain

        def mid(k: int) -> str:
            inbound_k = (k % 2 == 0) == starts_in
            return self._mid(cext if inbound_k else own, "thr", m, h, k)

        inbound = (pos % 2 == 0) == starts_in
        sent = start + timedelta(seconds=sum(gaps[:pos]))
        body_bits = _h64(self.seed, "thrmsg", m, h, pos)
        if inbound:
            sender, to = counterpart, (self._smb[m],)
            body = self._body(body_bits, f"Hi {staff.given_name},", counterpart.name)
        else:
            sender, to = self._smb[m], (counterpart,)
            body = self._body(body_bits, f"Dear {counterpart.name.split()[0]},", staff.name)
        fields = self._message(
            sender=sender,
            to=to,
            cc=(),
            subject=subject if pos == 0 else f"RE: {subject}",
            topic=subject,
            body=body,
            sent=sent,
            mid=mid(pos),
            conversation=_conversation_id(self.seed, "thr", m, h),
            references=tuple(mid(k) for k in range(pos)),
            sensitivity=sensitivity,
            categories=categories,
        )
        extra = {
            "kind": "thread",
            "thread": h,
            "position": pos,
            "length": length,
            "person": person_index,
            "freemail": person_index < 0 or counterpart.email != self.people[person_index].email,
        }
        return fields, extra

    # ---- inbox -------------------------------------------------------------------------------------

    def _inbox(self, m: int, i: int) -> ItemSpec:
        lay = self.layout
        if i < lay.inbox_int:
            t, a, _ = self._int.locate(m, i)
            fields, extra = self._internal(a, t)
            extra["copies"] = self._copies(self._int, "inbox", 0, a, t, include_self=("sentitems", t))
            return ItemSpec("Message", self._deliver(fields, m, "inbox", "int", a, t), extra=extra)
        i2 = i - lay.inbox_int
        if i2 < lay.inbox_occ:
            u, a, _ = self._occ.locate(m, i2)
            fields, extra = self._outbound_cc(a, u)
            extra["copies"] = self._copies(
                self._occ, "inbox", lay.inbox_int, a, u, include_self=("sentitems", lay.int_rounds + u)
            )
            return ItemSpec("Message", self._deliver(fields, m, "inbox", "occ", a, u), extra=extra)
        i3 = i2 - lay.inbox_occ
        if i3 < lay.inbox_imr:
            v, a, _ = self._imr.locate(m, i3)
            fields, extra = self._inbound_multi(a, v)
            extra["copies"] = self._copies(self._imr, "inbox", lay.inbox_int + lay.inbox_occ, a, v)
            return ItemSpec("Message", self._deliver(fields, m, "inbox", "imr", a, v), extra=extra)
        j = i3 - lay.inbox_imr
        c, q = divmod(j, len(_INBOX_MIX))
        kind = _INBOX_MIX[q]
        k = c * _MIX_COUNT[kind] + _MIX_RANK[q]
        if kind == "T":
            c2, q2 = divmod(k, len(_THREAD_IN))
            local, pos = _THREAD_IN[q2]
            fields, extra = self._thread_message(m, c2 * len(_THREAD_SHAPES) + local, pos)
            return ItemSpec("Message", self._deliver(fields, m, "inbox", "thr", m, extra["thread"], pos), extra=extra)
        fields, extra = self._bulk(m, kind, k)
        return ItemSpec("Message", self._deliver(fields, m, "inbox", kind, m, k), extra=extra)

    def _bulk(self, m: int, kind: str, k: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Newsletters (N), no-reply notices (R) and one-off free-mail senders (F)."""
        rng = _rng(self.seed, "bulk", kind, m, k)
        staff = self.staff[m]
        sent = self._past(rng)
        if kind == "F":
            sender = self._freemail_person(rng)
            subject = _pick(
                rng,
                ("Enquiry", "Question about your products", "Price for {p}?", "Do you deliver to private customers?"),
            ).format(p=_pick(rng, names.PRODUCTS))
            body = self._body(rng.getrandbits(64), "Hello,", sender.name)
            extra_kind = "freemail"
        else:
            table = names.NEWSLETTERS if kind == "N" else names.NOREPLY
            display, address, subjects = table[k % len(table)]
            sender = Mailbox(display, address)
            subject = _pick(rng, subjects).format(n=_between(rng, 100, 9999))
            body = (
                f"{subject}\n\nThis message was sent to {staff.email}.\nUnsubscribe: https://{address.split('@')[1]}/u"
            )
            extra_kind = "newsletter" if kind == "N" else "noreply"
        domain = sender.email.rsplit("@", 1)[1]
        fields = self._message(
            sender=sender,
            to=(self._smb[m],),
            cc=(),
            subject=subject,
            topic=subject,
            body=body,
            sent=sent,
            mid=self._mid(domain, "bulk", kind, m, k),
            conversation=_conversation_id(self.seed, "bulk", kind, m, k),
        )
        return fields, {"kind": extra_kind, "key": ("bulk", kind, m, k)}

    # ---- contacts ----------------------------------------------------------------------------------

    def _contact(self, m: int, i: int) -> ItemSpec:
        refs = self._contact_refs[m]
        rng = _rng(self.seed, "contact", m, i)
        if i < len(refs):
            who, idx, variant = refs[i]
            if who == "person" and addressbook.is_role_slot(i):
                org = self.organisations[self.people[idx].org]
                fields = addressbook.role_contact(self.seed, m, i, org, self._past(rng))
                return ItemSpec("Contact", fields, extra={"kind": "role", "org": org.index})
            if who == "staff":
                s = self.staff[idx]
                fields = self._contact_fields(
                    rng, s.given_name, s.surname, self.name, s.job_title, {"EmailAddress1": s.email}, {}, None, ""
                )
                return ItemSpec("Contact", fields, extra={"kind": "colleague", "staff": idx})
            p = self.people[idx]
            fields = self._person_contact(rng, p, variant)
            if idx not in self._planted_people:  # planted cases stay exactly as they are described
                fields = addressbook.enrich_contact(self.seed, m, i, self._facts[idx], self.organisations[p.org],
                                                    fields)
            return ItemSpec("Contact", fields, extra={"kind": "person", "person": idx, "variant": variant})
        # The long tail: people only this mailbox knows, at one of the known organisations.
        org = self.organisations[_between(rng, len(self.organisations))]
        if addressbook.is_role_slot(i):
            fields = addressbook.role_contact(self.seed, m, i, org, self._past(rng))
            return ItemSpec("Contact", fields, extra={"kind": "role", "org": org.index})
        first, last = _name_pools(names.COUNTRIES[org.country][0])
        given, surname = _pick(rng, first), _pick(rng, last)
        email = f"{_ascii(given)}.{_ascii(surname)}@{org.domain}"
        phones = {"BusinessPhone": org.phone}
        fields = self._contact_fields(
            rng,
            given,
            surname,
            org.name,
            _pick(rng, names.JOB_TITLES),
            {"EmailAddress1": email},
            phones,
            org.address,
            org.website,
        )
        return ItemSpec("Contact", fields, extra={"kind": "extra", "org": org.index})

    def _person_contact(self, rng: random.Random, p: Person, variant: str) -> dict[str, Any]:
        org = self.organisations[p.org]
        company = org.name
        given = p.given_name
        emails = {"EmailAddress1": p.email}
        title = p.job_title
        phones = {"BusinessPhone": p.business_phone, "MobilePhone": p.mobile_phone}
        if variant == "steve":
            given = "Steve"
            emails = {"EmailAddress1": f"steve@{org.domain}"}
        elif variant in ("org_alias", "legal_form"):
            company = org.aliases[0]
        elif variant == "freemail_only":
            emails = {"EmailAddress1": p.other_emails[0]}
            phones = {"MobilePhone": p.mobile_phone}
        elif variant == "lastfirst":
            title = ""
        elif variant == "intl_phone":
            code = {"US": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "NL": "+31", "JP": "+81"}[org.country]
            digits = "".join(ch for ch in p.business_phone.split("x")[0] if ch.isdigit()).lstrip("0")
            phones = {"BusinessPhone": f"{code} {digits}", "MobilePhone": p.mobile_phone}
        else:
            if len(p.other_emails) and rng.random() < 0.5:
                emails["EmailAddress2"] = p.other_emails[0]
        fields = self._contact_fields(
            rng, given, p.surname, company, title, emails, phones, p.address, org.website, industry=org.industry
        )
        if variant == "lastfirst":
            fields["DisplayName"] = f"{p.surname}, {given}"
        if variant == "legal_form":
            fields["BusinessHomePage"] = f"http://{org.website}"
        return fields

    def _contact_fields(
        self,
        rng: random.Random,
        given: str,
        surname: str,
        company: str,
        title: str,
        emails: dict[str, str],
        phones: dict[str, str],
        address: PhysicalAddress | None,
        website: str,
        industry: str = "",
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Contact",
            "DisplayName": f"{given} {surname}",
            "GivenName": given,
            "Surname": surname,
            "FileAs": f"{surname}, {given}",
            "CompanyName": company,
            "EmailAddresses": emails,
        }
        if title:
            fields["JobTitle"] = title
        if phones:
            fields["PhoneNumbers"] = phones
        if address is not None:
            fields["PhysicalAddresses"] = {"Business": address}
        if website and rng.random() < 0.3:
            fields["BusinessHomePage"] = f"https://{website}/"
        if rng.random() < 0.2:
            fields["Categories"] = (_pick(rng, names.CONTACT_CATEGORIES),)
        props: list[ExtendedProp] = []
        if rng.random() < 0.25:
            props.append(
                ExtendedProp(
                    "String",
                    _pick(rng, ("Trade fair", "Web", "Phone", "Referral", "Campaign")),
                    distinguished_set_id="PublicStrings",
                    property_name="Source",
                )
            )
        if rng.random() < 0.1:
            first, last = _name_pools("en_US")
            props.append(
                ExtendedProp(
                    "String",
                    f"{_pick(rng, first)} {_pick(rng, last)}",
                    distinguished_set_id="PublicStrings",
                    property_name="Referred By",
                )
            )
        if industry and rng.random() < 0.2:
            props.append(
                ExtendedProp("String", industry, distinguished_set_id="PublicStrings", property_name="Industry")
            )
        if props:
            fields["ExtendedProperty"] = tuple(props)
        created = self._past(rng)
        fields["DateTimeCreated"] = created
        fields["LastModifiedTime"] = created
        return fields

    # ---- calendar ----------------------------------------------------------------------------------

    def _calendar(self, m: int, i: int) -> ItemSpec:
        lay = self.layout
        if i < lay.mtg_rounds:
            spec = self._meeting(m, i)
            spec.extra["copies"] = self._copies(
                self._mtg, "calendar", lay.mtg_rounds, m, i, include_self=("calendar", i)
            )
            return spec
        i2 = i - lay.mtg_rounds
        if i2 < lay.cal_copies:
            t, a, _ = self._mtg.locate(m, i2)
            spec = self._meeting(a, t)
            spec.extra["copies"] = self._copies(
                self._mtg, "calendar", lay.mtg_rounds, a, t, include_self=("calendar", t)
            )
            return spec
        i3 = i2 - lay.cal_copies
        if i3 < lay.cal_x:
            v, a, _ = self._xmtg.locate(m, i3)
            spec = self._external_meeting(a, v)
            spec.extra["copies"] = self._copies(self._xmtg, "calendar", lay.mtg_rounds + lay.cal_copies, a, v)
            return spec
        return self._personal(m, i3 - lay.cal_x)

    def _local_start(self, rng: random.Random, zone: str, lo_days: int, hi_days: int) -> datetime:
        """A weekday business-hours start in ``zone``, ``lo..hi`` days from the anchor."""
        d = (self.anchor + timedelta(days=_between(rng, lo_days, hi_days))).astimezone(_zone(zone)).date()
        while d.weekday() >= 5:
            d += timedelta(days=1)
        return datetime.combine(d, time(_between(rng, 8, 17), _pick(rng, (0, 0, 30))), tzinfo=_zone(zone))

    def _meeting(self, a: int, t: int) -> ItemSpec:
        """Meeting ``t`` organised by staff ``a`` (the same spec in every attendee's calendar)."""
        rng = _rng(self.seed, "mtg", a, t)
        org = self.staff[a]
        shape = _MEETING_SHAPES[t % len(_MEETING_SHAPES)]
        colleagues = tuple(self._smb[(a + o) % self.n] for o in self._mtg.offsets(t))
        internal_only = shape in ("weekly", "allday", "internal") or not self._books[a]
        externals: tuple[Mailbox, ...] = ()
        if not internal_only and shape != "private":
            k = _between(rng, 1, 4)
            externals = tuple(self._pmb[_pick(rng, self._books[a])] for _ in range(k))
            externals = tuple(dict.fromkeys(externals))  # same person drawn twice -> once
        zone = org.time_zone
        recurrence: Recurrence | None = None
        duration = timedelta(minutes=_pick(rng, (30, 60, 60, 90)))
        if shape == "dst":
            zone, transition = _pick(rng, self._transitions)
            start_day = transition - timedelta(weeks=_between(rng, 2, 4), days=5)  # a Tuesday
            start = datetime.combine(start_day, time(_pick(rng, (9, 10, 14)), 0), tzinfo=_zone(zone))
            recurrence = Recurrence(
                "Weekly", 1, start_day, days_of_week=(_WEEKDAYS[start_day.weekday()],), occurrences=_between(rng, 6, 10)
            )
        elif shape == "weekly":
            start = self._local_start(rng, zone, -400, -30)
            if rng.random() < 0.5:
                recurrence = Recurrence(
                    "Weekly", _pick(rng, (1, 1, 2)), start.date(), days_of_week=(_WEEKDAYS[start.weekday()],)
                )
            else:
                recurrence = Recurrence(
                    "Weekly",
                    1,
                    start.date(),
                    days_of_week=(_WEEKDAYS[start.weekday()],),
                    occurrences=_between(rng, 10, 30),
                )
        elif shape == "monthly":
            start = self._local_start(rng, zone, -400, -60)
            day = min(start.day, 28)
            start = start.replace(day=day)
            recurrence = Recurrence(
                "AbsoluteMonthly",
                1,
                start.date(),
                day_of_month=day,
                end=start.date() + timedelta(days=_between(rng, 150, 365)),
            )
        else:
            start = self._local_start(rng, zone, -HISTORY_DAYS + 30, 60)
        if shape == "allday":
            day0 = start.date()
            start = datetime.combine(day0, time(0), tzinfo=_zone(zone))
            end = datetime.combine(day0 + timedelta(days=_between(rng, 1, 3)), time(0), tzinfo=_zone(zone))
            subject = _pick(rng, ("Company offsite", "Sales kick-off", "Team day"))
        else:
            end = start + duration
            if shape in ("weekly", "internal"):
                subject = _pick(rng, names.INTERNAL_MEETING_SUBJECTS)
            elif shape == "private":
                subject = _pick(rng, names.PRIVATE_SUBJECTS)
            else:
                subject = _pick(rng, names.MEETING_SUBJECTS).format(p=_pick(rng, names.PRODUCTS))
        past = start < self.anchor
        attendees = [Attendee(self._smb[a], "Organizer")]
        for mb in (*colleagues, *externals):
            response = _pick(
                rng,
                ("Accept", "Accept", "Tentative", "Decline") if past else ("Accept", "Tentative", "NoResponseReceived"),
            )
            attendees.append(Attendee(mb, response))
        optional: tuple[Attendee, ...] = ()
        if len(attendees) > 2 and rng.random() < 0.3:
            optional, attendees = (attendees[-1],), attendees[:-1]
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Appointment",
            "Subject": subject,
            "Body": f"{subject}\n\nAgenda to follow.",
            "Sensitivity": "Private" if shape == "private" else "Normal",
            "Importance": "Normal",
            "Start": start,
            "End": end,
            "IsAllDayEvent": shape == "allday",
            "LegacyFreeBusyStatus": "Busy",
            "Location": "" if shape == "private" else _pick(rng, names.LOCATIONS),
            "UID": _uid(self.seed, "mtg", a, t),
            "Organizer": self._smb[a],
            "CalendarItemType": "RecurringMaster" if recurrence else "Single",
            "StartTimeZone": names.WINDOWS_ZONES[zone],
            "EndTimeZone": names.WINDOWS_ZONES[zone],
            "ReminderIsSet": True,
            "IsCancelled": False,
            "DateTimeCreated": min(start, self.anchor) - timedelta(days=_between(rng, 1, 20)),
        }
        if len(attendees) > 1:
            fields["RequiredAttendees"] = tuple(attendees)
        if optional:
            fields["OptionalAttendees"] = optional
        exceptions: tuple[ItemSpec, ...] = ()
        deleted: tuple[datetime, ...] = ()
        extra: dict[str, Any] = {
            "kind": "meeting",
            "shape": shape,
            "organiser": a,
            "round": t,
            "internal_only": not externals,
        }
        if recurrence is not None:
            fields["Recurrence"] = recurrence
            exceptions, deleted = self._series_changes(rng, fields, recurrence, shape)
            if shape == "dst":
                extra["dst_zone"] = zone
        return ItemSpec("CalendarItem", fields, exceptions=exceptions, deleted_occurrences=deleted, extra=extra)

    def _series_changes(
        self, rng: random.Random, master: dict[str, Any], rec: Recurrence, shape: str
    ) -> tuple[tuple[ItemSpec, ...], tuple[datetime, ...]]:
        """Moved occurrences and deleted occurrences of a series (weekly series always get both)."""
        starts = occurrence_starts(rec, master["Start"], limit=12)
        if len(starts) < 4 or shape == "dst":
            return (), ()
        picks = rng.sample(range(1, len(starts)), 3 if len(starts) > 4 else 2)
        duration = master["End"] - master["Start"]
        exceptions = []
        for k in picks[:-1]:
            original = starts[k]
            moved = original + timedelta(hours=_pick(rng, (1, 2, 24, -1)))
            fields = {key: v for key, v in master.items() if key != "Recurrence"}
            fields.update(
                CalendarItemType="Exception",
                Start=moved,
                End=moved + duration,
                Subject=f"{master['Subject']} (moved)",
                UID=master["UID"],
            )
            exceptions.append(ItemSpec("CalendarItem", fields, original_start=original, extra={"kind": "exception"}))
        return tuple(exceptions), (starts[picks[-1]],)

    def _external_meeting(self, a: int, v: int) -> ItemSpec:
        """An invitation from a customer to staff ``a`` (and maybe colleagues)."""
        rng = _rng(self.seed, "xmtg", a, v)
        person = self.people[_pick(rng, self._books[a])]
        org = self.organisations[person.org]
        zone = names.COUNTRIES[org.country][2]
        start = self._local_start(rng, zone, -HISTORY_DAYS + 30, 60)
        end = start + timedelta(minutes=_pick(rng, (30, 60)))
        staff = tuple(self._smb[(a + o) % self.n] for o in self._xmtg.offsets(v))
        attendees = (
            Attendee(self._pmb[person.index], "Organizer"),
            *(Attendee(s, _pick(rng, ("Accept", "Tentative"))) for s in staff),
        )
        subject = _pick(rng, names.MEETING_SUBJECTS).format(p=_pick(rng, names.PRODUCTS))
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Appointment",
            "Subject": subject,
            "Body": f"Invitation from {org.name}",
            "Sensitivity": "Normal",
            "Importance": "Normal",
            "Start": start,
            "End": end,
            "IsAllDayEvent": False,
            "LegacyFreeBusyStatus": "Busy",
            "Location": _pick(rng, names.LOCATIONS),
            "UID": _uid(self.seed, "xmtg", a, v),
            "Organizer": self._pmb[person.index],
            "CalendarItemType": "Single",
            "StartTimeZone": names.WINDOWS_ZONES[zone],
            "EndTimeZone": names.WINDOWS_ZONES[zone],
            "ReminderIsSet": True,
            "IsCancelled": False,
            "RequiredAttendees": attendees,
            "DateTimeCreated": min(start, self.anchor) - timedelta(days=_between(rng, 1, 20)),
        }
        return ItemSpec(
            "CalendarItem", fields, extra={"kind": "external_meeting", "person": person.index, "internal_only": False}
        )

    def _personal(self, m: int, k: int) -> ItemSpec:
        """Appointments and all-day events with no attendees."""
        rng = _rng(self.seed, "personal", m, k)
        staff = self.staff[m]
        tz = _zone(staff.time_zone)
        shape = _PERSONAL_SHAPES[k % len(_PERSONAL_SHAPES)]
        day = (self.anchor + timedelta(days=_between(rng, -HISTORY_DAYS + 30, 90))).astimezone(tz).date()
        sensitivity = "Normal"
        if shape in ("allday", "vacation"):
            if shape == "vacation":
                subject, busy, days = "Vacation", "OOF", _between(rng, 3, 15)
            else:
                subject, busy = _pick(rng, names.ALL_DAY_SUBJECTS)
                days = 1
            start = datetime.combine(day, time(0), tzinfo=tz)
            end = datetime.combine(day + timedelta(days=days), time(0), tzinfo=tz)
            all_day = True
        else:
            subject, busy, all_day = _pick(rng, ("Dentist", "Focus time", "Call parents", "Gym")), "Busy", False
            sensitivity = "Private" if subject in ("Dentist", "Call parents") else "Normal"
            start = datetime.combine(day, time(_between(rng, 7, 18)), tzinfo=tz)
            end = start + timedelta(hours=1)
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Appointment",
            "Subject": subject,
            "Body": "",
            "Sensitivity": sensitivity,
            "Importance": "Normal",
            "Start": start,
            "End": end,
            "IsAllDayEvent": all_day,
            "LegacyFreeBusyStatus": busy,
            "Location": "",
            "UID": _uid(self.seed, "personal", m, k),
            "Organizer": self._smb[m],
            "CalendarItemType": "Single",
            "StartTimeZone": staff.windows_tz,
            "EndTimeZone": staff.windows_tz,
            "ReminderIsSet": not all_day,
            "IsCancelled": False,
            "DateTimeCreated": min(start, self.anchor) - timedelta(days=_between(rng, 1, 30)),
        }
        return ItemSpec("CalendarItem", fields, extra={"kind": "personal", "shape": shape, "internal_only": True})

    # ---- tasks --------------------------------------------------------------------------------------

    def _task(self, m: int, i: int) -> ItemSpec:
        rng = _rng(self.seed, "task", m, i)
        staff = self.staff[m]
        tz = _zone(staff.time_zone)
        status = _pick(rng, ("NotStarted", "NotStarted", "InProgress", "Completed", "WaitingOnOthers", "Deferred"))
        pct = {"NotStarted": 0.0, "Completed": 100.0}.get(status, float(_pick(rng, (25, 50, 75))))
        due_day = (self.anchor + timedelta(days=_between(rng, -120, 60))).astimezone(tz).date()
        due = datetime.combine(due_day, time(0), tzinfo=tz)
        start = due - timedelta(days=_between(rng, 1, 30))
        subject = _pick(rng, names.TASK_SUBJECTS).format(p=_pick(rng, names.PRODUCTS), n=_between(rng, 1000, 9999))
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Task",
            "Subject": subject,
            "Body": "",
            "Status": status,
            "PercentComplete": pct,
            "IsComplete": status == "Completed",
            "DueDate": due,
            "StartDate": start,
            "Importance": _pick(rng, ("Low", "Normal", "Normal", "High")),
            "Sensitivity": "Normal",
            "Owner": staff.name,
            "ReminderIsSet": status != "Completed" and rng.random() < 0.5,
            "DateTimeCreated": min(start, self.anchor - timedelta(days=1)).astimezone(_UTC),
        }
        if status == "Completed":
            fields["CompleteDate"] = min(due + timedelta(days=_between(rng, -5, 5)), self.anchor)
        if rng.random() < 0.3:
            fields["Categories"] = (_pick(rng, names.MESSAGE_CATEGORIES),)
        return ItemSpec("Task", fields, extra={"kind": "task"})


class LazyFolder(Sequence[ItemSpec]):
    """The items of one folder: ``len()`` is free, ``[i]`` generates item ``i`` on demand.

    Nothing is cached: reading the same index twice builds two equal items.
    """

    def __init__(self, company: FakeCompany, mailbox: int, folder: str, length: int) -> None:
        self._company, self._m, self._folder, self._len = company, mailbox, folder, length

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> ItemSpec: ...

    @overload
    def __getitem__(self, index: slice) -> list[ItemSpec]: ...

    def __getitem__(self, index: int | slice) -> ItemSpec | list[ItemSpec]:
        if isinstance(index, slice):
            return [self._company.item(self._m, self._folder, i) for i in range(*index.indices(self._len))]
        i = index + self._len if index < 0 else index
        if not 0 <= i < self._len:
            raise IndexError(f"{self._folder} index {index} out of range (len {self._len})")
        return self._company.item(self._m, self._folder, i)

    def __iter__(self) -> Iterator[ItemSpec]:
        for i in range(self._len):
            yield self._company.item(self._m, self._folder, i)


def build_company(
    seed: int, mailboxes: int, scale: str | Scale = "small", anchor: datetime | None = None
) -> FakeCompany:
    """Build the fake company for ``seed`` with ``mailboxes`` staff mailboxes.

    ``scale`` is a key of :data:`SCALES` or a :class:`Scale`; ``anchor`` is the "now" of the world
    (default :data:`DEFAULT_ANCHOR`). The same arguments give byte-identical items everywhere. Cost is
    independent of the scale: only the company model (a few hundred organisations and people) is built.
    """
    sc = SCALES[scale] if isinstance(scale, str) else scale
    return FakeCompany(seed, mailboxes, sc, anchor or DEFAULT_ANCHOR)


__all__ = [
    "DEFAULT_ANCHOR",
    "HISTORY_DAYS",
    "SCALES",
    "ContactLocation",
    "FakeCompany",
    "LazyFolder",
    "Organisation",
    "Person",
    "PlantedCase",
    "Scale",
    "Staff",
    "build_company",
    "occurrence_starts",
]
