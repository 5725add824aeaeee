"""The fast EWS page reader gives the records exchangelib's parse gives, field by field.

Hypothesis generates contacts, e-mails and calendar items (absent fields, empty strings, non-ASCII,
invalid addresses, time zones, all-day events, recurrences with deleted occurrences), puts them in a
mailbox of the schema-validating fake Exchange, updates read flags (``ReadFlagChange``) and deletes
some (``Delete``); the pages are fetched over real HTTP through exchangelib (``RawSyncFolderItems``),
and each page is parsed both ways: by the fast reader (connector.ews.fast, exchangelib for what
it cannot read) and by exchangelib alone. The translated changes and skipped items must be equal.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from exchangelib.protocol import close_connections
from exchangelib.services import SyncFolderItems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from connector.base import CallStats
from connector.engine import SyncSettings
from connector.ews.client import EwsConnection
from connector.ews.fast.common import exchangelib_change
from connector.ews.reader import EwsFolder, EwsReader
from connector.ews.settings import EwsSettings
from connector.fake.ews.server import FakeExchange
from connector.fake.model import Attendee, ItemSpec, Mailbox, PhysicalAddress, Recurrence
from connector.fake.recurrence import occurrence_starts
from mapping.changes import FolderName, ItemChange, MeetingSeries, SkippedItem
from mapping.store.store import Store

DOMAIN = "contoso.example"
ALICE = Mailbox("Alice Archer", f"alice@{DOMAIN}", mailbox_type="Mailbox")
NOW = datetime.now(UTC).replace(microsecond=0)

TEXT = st.one_of(
    st.none(),
    st.just(""),
    st.just("   "),
    st.text(st.characters(whitelist_categories=("L", "N", "P", "Zs", "S")), max_size=12),
    st.sampled_from(["Jürgen Müller", "Åsa Öberg", "山田 太郎", "Zoë O'Neil", " padded "]),
)
#: A contact's web page: EWS types it xs:anyURI, so only what the schema accepts as one (any text
#: would make the fake send a response Microsoft's schema refuses).
WEB_PAGE = st.one_of(
    st.none(),
    st.just(""),
    st.from_regex(r"(https?://)?[a-z0-9-]{1,12}(\.[a-z]{2,6}){1,2}(/[A-Za-z0-9_.~%-]{0,12})?", fullmatch=True),
    st.sampled_from(["www.müller.example", "https://contoso.example/team?id=7#top"]),
)
ADDRESSES = st.sampled_from(
    [
        "dana@fabrikam.example",
        "Erin@Northwind.example",
        "jürgen@müller.example",
        "gina.g@gmail.com",
        "not-an-address",
        "/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=abc",
        f"bob@{DOMAIN}",
        "",
    ]
)
#: A mailbox's EmailAddress must not be empty (types.xsd NonEmptyStringType); a contact's entry may be.
MAILBOXES = st.builds(Mailbox, st.sampled_from(["Dana Dunn", "", "Ünal Çelik", "  "]), ADDRESSES.filter(bool))
WHEN = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0)
)
ZONES = st.sampled_from(
    [
        "UTC",
        "W. Europe Standard Time",
        "Pacific Standard Time",
        "Tokyo Standard Time",
        "India Standard Time",
        "Not A Zone",
    ]
)


def _fields(**values: Any) -> dict[str, Any]:
    """An item's fields without the absent ones (None)."""
    return {k: v for k, v in values.items() if v is not None and v != () and v != {}}


@st.composite
def contacts(draw: st.DrawFn) -> ItemSpec:
    emails = draw(
        st.dictionaries(st.sampled_from(["EmailAddress1", "EmailAddress2", "EmailAddress3"]), ADDRESSES, max_size=3)
    )
    phones = draw(
        st.dictionaries(
            st.sampled_from(["BusinessPhone", "MobilePhone", "HomePhone"]),
            st.sampled_from(["+49 30 1234567", "(425) 555-0100", "555 0100", "n/a", " "]),
            max_size=3,
        )
    )
    postal = draw(
        st.dictionaries(
            st.sampled_from(["Business", "Home", "Other"]),
            st.builds(
                PhysicalAddress,
                st.sampled_from(["", "Hauptstraße 1", "1 Main St"]),
                st.sampled_from(["", "Köln", "Seattle"]),
                st.sampled_from(["", "WA"]),
                st.sampled_from(["", "Deutschland", "USA"]),
                st.sampled_from(["", "98052"]),
            ),
            max_size=2,
        )
    )
    return ItemSpec(
        "Contact",
        _fields(
            DisplayName=draw(TEXT),
            GivenName=draw(TEXT),
            MiddleName=draw(TEXT),
            Surname=draw(TEXT),
            Nickname=draw(TEXT),
            CompanyName=draw(TEXT),
            JobTitle=draw(TEXT),
            Department=draw(TEXT),
            BusinessHomePage=draw(WEB_PAGE),
            EmailAddresses=emails,
            PhoneNumbers=phones,
            PhysicalAddresses=postal,
            Categories=tuple(draw(st.lists(st.sampled_from(["VIP", "Kunde", "客户"]), max_size=2))),
            Sensitivity=draw(st.sampled_from([None, "Normal", "Private", "Personal", "Confidential"])),
        ),
    )


@st.composite
def messages(draw: st.DrawFn) -> ItemSpec:
    return ItemSpec(
        "Message",
        _fields(
            Subject=draw(TEXT),
            DateTimeSent=draw(st.none() | WHEN),
            DateTimeReceived=draw(st.none() | WHEN),
            DateTimeCreated=draw(st.none() | WHEN),
            From=draw(st.none() | MAILBOXES),
            Sender=draw(st.none() | MAILBOXES),
            ToRecipients=tuple(draw(st.lists(MAILBOXES, max_size=3))),
            CcRecipients=tuple(draw(st.lists(MAILBOXES, max_size=2))),
            BccRecipients=tuple(draw(st.lists(MAILBOXES, max_size=1))),
            InternetMessageId=draw(st.none() | st.sampled_from(["<a@b.example>", "", "<ü@x.example>"])),
            ConversationId=draw(st.none() | st.sampled_from(["CONV-1", "CONV-ü"])),
            ItemClass=draw(st.sampled_from([None, "IPM.Note", "IPM.Note.SMIME", "REPORT.IPM.Note.NDR"])),
            Sensitivity=draw(st.sampled_from([None, "Normal", "Private"])),
            Categories=tuple(draw(st.lists(st.sampled_from(["Rot", "Blue"]), max_size=2))),
            IsRead=draw(st.booleans()),
        ),
    )


@st.composite
def meetings(draw: st.DrawFn) -> ItemSpec:
    start = NOW + timedelta(hours=draw(st.integers(-24 * 200, 24 * 100)))
    all_day = draw(st.booleans())
    if all_day:
        start = start.replace(hour=0, minute=0, second=0)
    end = start + timedelta(days=1) if all_day else start + timedelta(minutes=draw(st.integers(0, 240)))
    recurrence = draw(
        st.none()
        | st.builds(
            Recurrence,
            st.sampled_from(["Daily", "Weekly", "AbsoluteMonthly"]),
            st.integers(1, 3),
            st.just(start.date()),
            st.just(("Monday", "Thursday")),
            st.just(start.day),
            st.none() | st.just(start.date() + timedelta(days=90)),
            st.none() | st.integers(1, 10),
        )
    )
    if recurrence is not None and recurrence.pattern == "AbsoluteMonthly" and start.day > 28:
        recurrence = replace(recurrence, day_of_month=28)
    zone = draw(ZONES)
    spec = ItemSpec(
        "CalendarItem",
        _fields(
            Subject=draw(TEXT),
            Location=draw(TEXT),
            Start=start,
            End=end,
            StartTimeZone=zone,
            EndTimeZone=zone,
            IsAllDayEvent=all_day,
            UID=draw(st.sampled_from(["uid-1", "uid-ü", ""])),
            Organizer=draw(st.none() | MAILBOXES),
            RequiredAttendees=tuple(
                Attendee(m, r)
                for m, r in draw(
                    st.lists(st.tuples(MAILBOXES, st.sampled_from(["Accept", "Decline", "Unknown"])), max_size=3)
                )
            ),
            OptionalAttendees=tuple(Attendee(m) for m in draw(st.lists(MAILBOXES, max_size=1))),
            Recurrence=recurrence,
            CalendarItemType="RecurringMaster" if recurrence else "Single",
            IsMeeting=True,
            IsCancelled=draw(st.booleans()),
        ),
    )
    if recurrence is not None:
        starts = occurrence_starts(spec)[:6]
        picked: list[datetime] = draw(st.lists(st.sampled_from(starts), max_size=3, unique=True)) if starts else []
        delete_one: bool = draw(st.booleans())
        if picked and delete_one:
            spec.deleted_occurrences = (picked.pop(),)
        spec.exceptions = tuple(draw(exceptions(spec, original)) for original in picked)
    return spec


@st.composite
def exceptions(draw: st.DrawFn, master: ItemSpec, original: datetime) -> ItemSpec:
    """A modified occurrence of ``master``: moved (by days for an all-day series), and maybe with its own
    subject, location, attendees or cancellation (what only GetItem of the exception item tells)."""
    fields = {k: v for k, v in master.fields.items() if k != "Recurrence"}
    all_day = bool(fields.get("IsAllDayEvent"))
    moved = original + (
        timedelta(days=draw(st.integers(-2, 2))) if all_day else timedelta(hours=draw(st.integers(-30, 30)))
    )
    fields.update(Start=moved, End=moved + (master.fields["End"] - master.fields["Start"]))
    fields["CalendarItemType"] = "Exception"
    for name, strategy in (
        ("Subject", TEXT),
        ("Location", TEXT),
        ("IsCancelled", st.booleans()),
        (
            "RequiredAttendees",
            st.lists(MAILBOXES, max_size=2).map(lambda ms: tuple(Attendee(m, "Tentative") for m in ms)),
        ),
    ):
        if draw(st.booleans()):
            value = draw(strategy)
            if value is None or value == ():
                fields.pop(name, None)
            else:
                fields[name] = value
    return ItemSpec("CalendarItem", fields, original_start=original)


FOLDERS: dict[FolderName, Any] = {
    "contacts": contacts(),
    "inbox": messages(),
    "sentitems": messages(),
    "calendar": meetings(),
}


@dataclass
class Env:
    ex: FakeExchange
    reader: EwsReader
    states: dict[str, str | None] = field(default_factory=dict)


@dataclass
class _Company:
    seed: int = 3
    domain: str = DOMAIN

    def mailboxes(self) -> tuple[Mailbox, ...]:
        return (ALICE,)

    def folder(self, mailbox: str, folder: str) -> tuple[ItemSpec, ...]:
        return ()


@pytest.fixture(scope="module")
def env(ews_schema: etree.XMLSchema, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    ex = FakeExchange(_Company(), validate=ews_schema).start()
    connection = EwsConnection(
        EwsSettings(endpoint=ex.url, username=ex.username, password=ex.password, auth="basic", timeout_seconds=10)
    )
    store = Store(f"sqlite:///{Path(tmp_path_factory.mktemp('fast')) / 'unused.db'}")
    reader = EwsReader(connection, store, SyncSettings(page_size=7, fast_reader=True))
    yield Env(ex, reader)
    close_connections()
    connection.close()
    ex.stop()
    store.dispose()
    assert sorted(set(ex.violations)) == [], "the fake sent responses that fail the EWS schema"


def _comparable(changes: list[ItemChange], skipped: list[SkippedItem]) -> tuple[list[Any], list[SkippedItem]]:
    # A series' window is "now" +- the configured days, taken at each translation: equal up to the clock.
    def plain(change: ItemChange) -> Any:
        record = change.record
        if isinstance(record, MeetingSeries):
            return replace(change, record=replace(record, window=None))
        return change

    return [plain(c) for c in changes], skipped


def _read_both_ways(env: Env, folder_name: FolderName, read: list[ItemChange] | None = None) -> int:
    """Read the folder's new pages; assert each parses the same both ways; return the changes seen (and
    put the fast reader's changes into ``read``)."""
    mailbox = env.reader.open(ALICE.email, 1)
    folder = mailbox.folder(folder_name, CallStats(), structlog.get_logger())
    assert isinstance(folder, EwsFolder)
    parser = SyncFolderItems(account=mailbox.account)
    state = env.states.get(folder_name)
    seen = 0
    while True:
        page = folder.fetch(state, CallStats())
        elems = list(page.items)
        slow = env.reader._translate(
            mailbox.account, folder_name, [exchangelib_change(parser, copy.deepcopy(e)) for e in elems], folder.log
        )
        fast = folder.translate(page, CallStats())
        assert _comparable(*fast) == _comparable(*slow)
        if read is not None:
            read += fast[0]
        seen += len(elems)
        state = page.new_state
        if page.next_state is None:
            break
    env.states[folder_name] = state
    return seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_reader_gives_the_records_exchangelib_gives(env: Env, data: st.DataObject) -> None:
    folder_name: FolderName = data.draw(st.sampled_from(list(FOLDERS)))
    specs = data.draw(st.lists(FOLDERS[folder_name], min_size=1, max_size=9))
    mb = env.ex.mailboxes[ALICE.email]
    ids = [mb.create(folder_name, spec) for spec in specs]
    if folder_name in ("inbox", "sentitems") and data.draw(st.booleans()):
        _read_both_ways(env, folder_name)  # so the read flag reaches the client as a ReadFlagChange
        mb.update(ids[0], IsRead=not specs[0].fields.get("IsRead", False))
    for item_id in ids[1:]:
        if data.draw(st.booleans()):
            mb.delete(item_id)
    before = env.reader.fast_items
    _read_both_ways(env, folder_name)
    # The first item is never deleted: the fast reader reads it, unless it is an all-day event in a zone
    # exchangelib does not know (it then converts its dates in this machine's zone: exchangelib's parse).
    first = specs[0].fields
    unknown_zone_all_day = bool(first.get("IsAllDayEvent")) and first.get("StartTimeZone") == "Not A Zone"
    assert env.reader.fast_items > before or unknown_zone_all_day


def test_date_outside_the_fast_form_goes_to_exchangelib_and_reads_the_same(env: Env) -> None:
    """A message whose only date is in 1601 (Exchange's null date): the same skip reason both ways."""
    mb = env.ex.mailboxes[ALICE.email]
    mb.create(
        "inbox",
        ItemSpec(
            "Message",
            {
                "Subject": "old",
                "DateTimeReceived": datetime(1601, 1, 1, tzinfo=UTC),
                "From": Mailbox("Dana", "dana@fabrikam.example"),
            },
        ),
    )
    assert _read_both_ways(env, "inbox") >= 1


def test_exception_items_are_read_by_the_fast_reader_as_exchangelib_reads_them(env: Env) -> None:
    """A weekly series in the window with a moved, renamed occurrence and a deleted one: GetItem fetches
    the exception item, the fast reader reads it (no item handed to exchangelib) and both ways agree."""
    start = (NOW - timedelta(days=14)).replace(hour=9, minute=0, second=0)
    master = ItemSpec(
        "CalendarItem",
        {
            "Subject": "Weekly review",
            "Start": start,
            "End": start + timedelta(hours=1),
            "StartTimeZone": "W. Europe Standard Time",
            "EndTimeZone": "W. Europe Standard Time",
            "Organizer": Mailbox("Dana Dunn", "dana@fabrikam.example"),
            "Recurrence": Recurrence("Weekly", 1, start.date(), (start.strftime("%A"),)),
            "CalendarItemType": "RecurringMaster",
            "UID": "uid-weekly",
        },
    )
    originals = occurrence_starts(master)[1:3]
    moved = {**master.fields, "Subject": "Weekly review (Köln)", "Start": originals[0] + timedelta(hours=2)}
    moved["End"] = moved["Start"] + timedelta(hours=1)
    del moved["Recurrence"]
    moved["CalendarItemType"] = "Exception"
    master.exceptions = (ItemSpec("CalendarItem", moved, original_start=originals[0]),)
    master.deleted_occurrences = (originals[1],)
    env.ex.mailboxes[ALICE.email].create("calendar", master)
    get_items, fallbacks = env.ex.stats.operations["GetItem"], env.reader.fast_fallbacks
    changes: list[ItemChange] = []
    _read_both_ways(env, "calendar", changes)
    assert env.ex.stats.operations["GetItem"] > get_items
    assert env.reader.fast_fallbacks == fallbacks
    series = [c.record for c in changes if isinstance(c.record, MeetingSeries)]
    subjects = {o.occurrence_start: o.subject for s in series for o in s.occurrences}
    assert subjects.get(originals[0]) == "Weekly review (Köln)"
    assert originals[1] not in subjects
