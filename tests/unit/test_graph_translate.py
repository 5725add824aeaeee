"""Graph JSON -> records (and Graph error bodies -> errors): fixtures in Graph v1.0 shapes (graph_api.md),
and the same item given to the EWS translation (real exchangelib objects in memory) and to the Graph one
must give the same record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from exchangelib import Attendee, CalendarItem, Contact, EWSDate, EWSDateTime, EWSTimeZone, Mailbox, Message
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress
from exchangelib.properties import ConversationId
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import (
    AuthenticationFailed,
    ChangeConflict,
    ExchangeProtocolError,
    MailboxUnavailable,
    SyncStateInvalid,
    Throttled,
    TransientError,
)
from connector.ews import translate as ews_translate
from connector.graph.client import graph_error, mailbox_of
from connector.graph.translate import (
    contact_record,
    extended_properties,
    meeting_record,
    meeting_series,
    message_record,
    property_value,
    removed,
    series_master_id,
    user_field_property,
)
from connector.translate_rules import BadItem
from mapping.records import Participant

EWS_UTC = EWSTimeZone("UTC")
EWS_BERLIN = EWSTimeZone("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def who(address: str, name: str | None = None) -> dict[str, Any]:
    return {"emailAddress": {"name": name if name is not None else address, "address": address}}


# --- contacts ------------------------------------------------------------------------------------


def graph_contact(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "@odata.etag": 'W/"CK1"',
        "id": "AAMkC1",
        "changeKey": "CK1",
        "categories": ["Customer", "Value: Superior"],
        "displayName": "Jane Doe",
        "givenName": "Jane",
        "middleName": "Q.",
        "surname": "Doe",
        "nickName": "JD",
        "companyName": "ACME, Inc.",
        "jobTitle": "Buyer",
        "department": "Purchasing",
        "businessHomePage": "https://www.acme.example",
        "emailAddresses": [
            {"name": "Jane Doe", "address": "Jane.Doe@ACME.example"},
            {"name": "Jane Doe", "address": "jane.doe@acme.example"},
            {"name": "Jane Doe", "address": "jane at home"},
        ],
        "businessPhones": ["030 1234567"],
        "homePhones": ["   "],
        "mobilePhone": "+49 151 23456789",
        "businessAddress": {
            "street": "Hauptstr. 1",
            "city": "Berlin",
            "state": None,
            "countryOrRegion": "Germany",
            "postalCode": "10115",
        },
        "homeAddress": {},
        "otherAddress": {},
        "singleValueExtendedProperties": [{"id": "Integer 0x36", "value": "0"}],
    }
    item.update(overrides)
    return item


def test_contact_becomes_a_record_with_normalised_emails_phones_and_addresses() -> None:
    record = contact_record(graph_contact(), default_region="DE")
    assert (record.item_id, record.change_key) == ("AAMkC1", "CK1")
    assert (record.display_name, record.given_name, record.middle_name, record.surname, record.nickname) == (
        "Jane Doe",
        "Jane",
        "Q.",
        "Doe",
        "JD",
    )
    assert (record.company_name, record.job_title, record.department) == ("ACME, Inc.", "Buyer", "Purchasing")
    assert record.website == "https://www.acme.example"
    # The same address twice is kept once; what the user typed wrong stays, flagged invalid.
    assert [(e.address, e.is_valid, e.label) for e in record.emails] == [
        ("jane.doe@acme.example", True, "EmailAddress1"),
        ("jane at home", False, "EmailAddress3"),
    ]
    assert [(p.e164, p.kind, p.label) for p in record.phones] == [
        ("+49301234567", "work", "BusinessPhone"),
        ("+4915123456789", "mobile", "MobilePhone"),
    ]
    [address] = record.postal_addresses
    assert (address.kind, address.label, address.street, address.city, address.postal_code, address.country) == (
        "work",
        "Business",
        "Hauptstr. 1",
        "Berlin",
        "10115",
        "Germany",
    )
    assert record.categories == ("Customer", "Value: Superior")
    assert record.sensitivity == "normal"


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ([{"id": "Integer 0x36", "value": "2"}], "private"),
        ([{"id": "Integer 0x0036", "value": "1"}], "personal"),
        ([{"id": "integer 0x36", "value": "3"}], "confidential"),
        ([{"id": "Integer 0x36", "value": "9"}], "confidential"),  # unknown: the strictest
        ([{"id": "Integer 0x36", "value": "x"}], "confidential"),
        ([], "normal"),
        (None, "normal"),
    ],
)
def test_contact_sensitivity_comes_from_pr_sensitivity(properties: Any, expected: str) -> None:
    assert contact_record(graph_contact(singleValueExtendedProperties=properties)).sensitivity == expected


def test_contact_user_fields_are_read_from_their_public_strings_properties() -> None:
    item = graph_contact(
        singleValueExtendedProperties=[
            {"id": "String {00020329-0000-0000-c000-000000000046} Name Source", "value": " Referral "},
            {"id": "Integer 0x36", "value": "0"},
        ]
    )
    record = contact_record(item, user_fields=("Source", "Referred By"))
    assert record.user_fields == {"Source": "Referral"}
    assert user_field_property("Source") == "String {00020329-0000-0000-C000-000000000046} Name Source"


def test_contact_display_name_falls_back_like_ews() -> None:
    bare: dict[str, Any] = {
        "id": "C",
        "displayName": "",
        "givenName": None,
        "surname": None,
        "companyName": None,
        "emailAddresses": [],
    }
    assert contact_record({**bare, "givenName": "Jane", "surname": "Doe"}).display_name == "Jane Doe"
    assert contact_record({**bare, "companyName": "ACME"}).display_name == "ACME"
    assert contact_record({**bare, "emailAddresses": [{"address": "jane@acme.example"}]}).display_name == (
        "jane@acme.example"
    )
    assert contact_record({**bare, "mobilePhone": "+49 151 23456789"}).display_name == "+4915123456789"
    with pytest.raises(BadItem, match="no address"):
        contact_record(bare)


def test_contact_with_absurd_or_malformed_fields_is_a_bad_item() -> None:
    with pytest.raises(BadItem, match="display name too long"):
        contact_record(graph_contact(displayName="x" * (ews_translate.MAX_TEXT_CHARS + 1)))
    with pytest.raises(BadItem, match="no item id"):
        contact_record(graph_contact(id=None))
    with pytest.raises(BadItem, match="is not a list"):
        contact_record(graph_contact(emailAddresses="jane@acme.example"))
    with pytest.raises(BadItem, match="is not text"):
        contact_record(graph_contact(surname=42))


names = st.text(st.characters(codec="utf-8", categories=("L", "Zs", "Pd")), max_size=30)
emails = st.lists(
    st.sampled_from(
        [
            "Jane@ACME.example",
            "jane@acme.example",
            "bob@northwind.example",
            "not an address",
            "dana@fabrikam.example",
            "",
        ]
    ),
    max_size=3,
)
phones = st.sampled_from(["030 1234567", "+49 151 23456789", "+1 212 555 0100", "0", "  ", "12"])


@settings(max_examples=150, deadline=None)
@given(
    given_name=st.none() | names,
    surname=st.none() | names,
    company=st.none() | names,
    email_list=emails,
    business=st.lists(phones, max_size=2),
    home=st.lists(phones, max_size=2),
    mobile=st.none() | phones,
    sensitivity=st.sampled_from(["Normal", "Personal", "Private", "Confidential"]),
    street=st.none() | names,
)
def test_a_contact_gives_the_same_record_over_ews_and_graph(
    given_name: str | None,
    surname: str | None,
    company: str | None,
    email_list: list[str],
    business: list[str],
    home: list[str],
    mobile: str | None,
    sensitivity: str,
    street: str | None,
) -> None:
    email_list = [e for e in email_list if e]
    labelled = [("BusinessPhone", "BusinessPhone2")[n] for n in range(len(business))]
    labelled_home = [("HomePhone", "HomePhone2")[n] for n in range(len(home))]
    ews = Contact(
        id="C1",
        changekey="CK",
        given_name=given_name,
        surname=surname,
        company_name=company,
        email_addresses=[EmailAddress(email=e, label=f"EmailAddress{n + 1}") for n, e in enumerate(email_list)],
        phone_numbers=[PhoneNumber(label=lab, phone_number=p) for lab, p in zip(labelled, business, strict=True)]
        + [PhoneNumber(label=lab, phone_number=p) for lab, p in zip(labelled_home, home, strict=True)]
        + ([PhoneNumber(label="MobilePhone", phone_number=mobile)] if mobile else []),
        physical_addresses=[PhysicalAddress(label="Business", street=street)] if street else [],
        sensitivity=sensitivity,
    )
    graph = {
        "id": "C1",
        "changeKey": "CK",
        "givenName": given_name,
        "surname": surname,
        "companyName": company,
        "emailAddresses": [{"name": "x", "address": e} for e in email_list],
        "businessPhones": business,
        "homePhones": home,
        "mobilePhone": mobile,
        "businessAddress": {"street": street} if street else {},
        "singleValueExtendedProperties": [
            {"id": "Integer 0x36", "value": str(["Normal", "Personal", "Private", "Confidential"].index(sensitivity))}
        ],
    }
    try:
        expected = ews_translate.contact_record(ews, "DE")
    except BadItem as exc:
        with pytest.raises(BadItem) as raised:
            contact_record(graph, "DE")
        assert raised.value.reason == exc.reason
        return
    assert contact_record(graph, "DE") == expected


# --- messages ------------------------------------------------------------------------------------


def graph_message(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.message",
        "id": "AAMkM1",
        "changeKey": "MCK",
        "subject": "Quote for 200 pallets",
        "internetMessageId": "<abc@acme.example>",
        "conversationId": "CONV-1",
        "sentDateTime": "2026-05-04T10:00:00Z",
        "receivedDateTime": "2026-05-04T10:01:00Z",
        "from": who("Jane.Doe@ACME.example", "Jane Doe"),
        "sender": who("assistant@acme.example", "Assistant"),
        "toRecipients": [who("dana@northwind-traders.example", "Dana")],
        "ccRecipients": [{"emailAddress": {"address": "lee@northwind-traders.example"}}],
        "bccRecipients": [],
        "categories": ["Customer"],
        "singleValueExtendedProperties": [
            {"id": "Integer 0x36", "value": "0"},
            {"id": "Integer 0xe08", "value": "4321"},
            {"id": "String 0x1a", "value": "IPM.Note"},
        ],
    }
    item.update(overrides)
    return item


def test_message_becomes_a_record_with_size_and_class_from_extended_properties() -> None:
    record = message_record(graph_message(), "inbox")
    assert (record.item_id, record.change_key, record.folder) == ("AAMkM1", "MCK", "inbox")
    assert (record.internet_message_id, record.conversation_id) == ("<abc@acme.example>", "CONV-1")
    assert (record.sent_at, record.received_at) == (utc(2026, 5, 4, 10), utc(2026, 5, 4, 10, 1))
    assert record.participants == (
        Participant("jane.doe@acme.example", "Jane Doe", "from"),
        Participant("dana@northwind-traders.example", "Dana", "to"),
        Participant("lee@northwind-traders.example", None, "cc"),
    )
    assert (record.size, record.item_class, record.sensitivity, record.snippet) == (4321, "IPM.Note", "normal", None)


def test_message_sender_falls_back_to_sender_then_to_the_owner_in_sent_items() -> None:
    assert message_record(graph_message(**{"from": None}), "inbox").sender == Participant(
        "assistant@acme.example", "Assistant", "from"
    )
    item = graph_message(**{"from": None, "sender": None})
    assert message_record(item, "inbox").sender is None
    assert message_record(item, "sentitems", owner="Alice@Contoso.example").sender == Participant(
        "alice@contoso.example", None, "from"
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"@odata.type": "#microsoft.graph.eventMessage"}, "not an e-mail: eventMessage"),
        (
            {"singleValueExtendedProperties": [{"id": "String 0x001A", "value": "REPORT.IPM.Note.NDR"}]},
            "unsupported item class: REPORT.IPM.Note.NDR",
        ),
        ({"sentDateTime": None, "receivedDateTime": None}, "no date: neither sent nor received time"),
        ({"sentDateTime": "1601-01-01T00:00:00Z"}, "sent time out of range: 1601-01-01T00:00:00+00:00"),
        ({"sentDateTime": "2026-05-04T10:00:00"}, "sent time has no time zone"),
        ({"sentDateTime": "yesterday"}, "sent time is not a date-time: 'yesterday'"),
        (
            {"from": who("EX:/o=ExchangeLabs"), "sender": None, "toRecipients": [], "ccRecipients": []},
            "no address: no participant with a valid e-mail address",
        ),
        ({"subject": "x" * 5000}, "subject too long: 5000 chars"),
    ],
)
def test_messages_that_cannot_be_interactions_are_bad_items(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(BadItem) as raised:
        message_record(graph_message(**overrides), "inbox")
    assert raised.value.reason == reason and raised.value.item_id == "AAMkM1"


def test_message_snippet_comes_from_the_body_preview_when_asked_for() -> None:
    item = graph_message(bodyPreview="Hello Dana,\r\n\r\n  please find our quote attached.")
    assert message_record(item, "inbox").snippet is None
    assert message_record(item, "inbox", snippet_chars=20).snippet == "Hello Dana, please f"


def test_seven_fractional_digits_and_offsets_are_read() -> None:
    item = graph_message(sentDateTime="2026-05-04T12:00:00.1234567+02:00")
    assert message_record(item, "inbox").sent_at == datetime(2026, 5, 4, 10, 0, 0, 123456, tzinfo=UTC)


addresses = st.sampled_from(
    ["Jane.Doe@ACME.example", "dana@northwind.example", "EX:/o=Legacy", "lee@fabrikam.example", "not-an-address"]
)


@settings(max_examples=150, deadline=None)
@given(
    author=st.none() | addresses,
    sender=st.none() | addresses,
    to=st.lists(addresses, max_size=3),
    cc=st.lists(addresses, max_size=2),
    folder=st.sampled_from(["inbox", "sentitems"]),
    sent=st.none() | st.datetimes(datetime(1890, 1, 1), datetime(2210, 1, 1), timezones=st.just(UTC)),
    subject=st.none() | st.text(max_size=20),
    item_class=st.sampled_from(["IPM.Note", "IPM.Note.SMIME", "REPORT.IPM.Note.NDR", "IPM.Note.Receipt"]),
)
def test_a_message_gives_the_same_record_over_ews_and_graph(
    author: str | None,
    sender: str | None,
    to: list[str],
    cc: list[str],
    folder: str,
    sent: datetime | None,
    subject: str | None,
    item_class: str,
) -> None:
    sent = sent.replace(microsecond=0) if sent else None
    received = utc(2026, 5, 4, 10, 1)
    ews = Message(
        id="M1",
        changekey="MCK",
        subject=subject,
        message_id="<m@x>",
        conversation_id=ConversationId(id="CONV"),
        datetime_sent=EWSDateTime.from_datetime(sent) if sent else None,
        datetime_received=EWSDateTime.from_datetime(received),
        author=Mailbox(email_address=author) if author else None,
        sender=Mailbox(email_address=sender) if sender else None,
        to_recipients=[Mailbox(email_address=a) for a in to],
        cc_recipients=[Mailbox(email_address=a) for a in cc],
        item_class=item_class,
        size=100,
        sensitivity="Private",
    )
    graph = graph_message(
        id="M1",
        subject=subject,
        internetMessageId="<m@x>",
        conversationId="CONV",
        sentDateTime=sent.strftime("%Y-%m-%dT%H:%M:%SZ") if sent else None,
        receivedDateTime="2026-05-04T10:01:00Z",
        **{"from": {"emailAddress": {"address": author}} if author else None},
        sender={"emailAddress": {"address": sender}} if sender else None,
        toRecipients=[{"emailAddress": {"address": a}} for a in to],
        ccRecipients=[{"emailAddress": {"address": a}} for a in cc],
        singleValueExtendedProperties=[
            {"id": "Integer 0x36", "value": "2"},
            {"id": "Integer 0xe08", "value": "100"},
            {"id": "String 0x1a", "value": item_class},
        ],
    )
    try:
        expected = ews_translate.message_record(ews, folder, owner="alice@contoso.example")
    except BadItem as exc:
        with pytest.raises(BadItem) as raised:
            message_record(graph, folder, owner="alice@contoso.example")
        assert raised.value.reason == exc.reason
        return
    assert message_record(graph, folder, owner="alice@contoso.example") == expected


# --- meetings ------------------------------------------------------------------------------------


def graph_event(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "AAMkE1",
        "changeKey": "ECK",
        "iCalUId": "040000008200E00074C5B7101A82E008",
        "subject": "Quarterly review",
        "start": {"dateTime": "2026-03-23T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-23T09:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "W. Europe Standard Time",
        "originalEndTimeZone": "W. Europe Standard Time",
        "isAllDay": False,
        "isCancelled": False,
        "sensitivity": "normal",
        "showAs": "busy",
        "type": "singleInstance",
        "seriesMasterId": None,
        "location": {"displayName": "ACME HQ"},
        "organizer": who("dana@northwind-traders.example", "Dana"),
        "attendees": [
            {
                "type": "required",
                "status": {"response": "accepted", "time": "0001-01-01T00:00:00Z"},
                **who("jane@acme.example", "Jane"),
            },
            {
                "type": "optional",
                "status": {"response": "tentativelyAccepted", "time": "0001-01-01T00:00:00Z"},
                "emailAddress": {"address": "bob@acme.example"},
            },
            {
                "type": "resource",
                "status": {"response": "accepted", "time": "0001-01-01T00:00:00Z"},
                **who("room-1@northwind-traders.example"),
            },
        ],
        "categories": [],
    }
    item.update(overrides)
    return item


def test_meeting_becomes_a_record_in_utc_with_its_iana_zone() -> None:
    record = meeting_record(graph_event())
    assert (record.start, record.end) == (utc(2026, 3, 23, 8), utc(2026, 3, 23, 9))
    assert record.time_zone == "Europe/Berlin"
    assert (record.uid, record.occurrence_start, record.calendar_item_type) == (
        "040000008200E00074C5B7101A82E008",
        None,
        "single",
    )
    assert not record.is_all_day and record.start_date is None
    assert record.participants == (
        Participant("dana@northwind-traders.example", "Dana", "organizer", "organizer"),
        Participant("jane@acme.example", "Jane", "required", "accepted"),
        Participant("bob@acme.example", None, "optional", "tentative"),
    )  # the meeting room (a resource) is not a participant
    assert (record.subject, record.location, record.sensitivity, record.is_cancelled) == (
        "Quarterly review",
        "ACME HQ",
        "normal",
        False,
    )


def test_an_occurrence_is_keyed_by_its_series_uid_and_original_start() -> None:
    item = graph_event(
        type="occurrence",
        seriesMasterId="AAMkMaster",
        iCalUId="SERIES-20260323T080000Z",
        originalStart="2026-03-23T08:00:00Z",
        start={"dateTime": "2026-03-24T08:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2026-03-24T09:00:00.0000000", "timeZone": "UTC"},
    )
    assert series_master_id(item) == "AAMkMaster"
    series = meeting_series(item, "SERIES")
    assert series.occurrences == (series.item,) and series.window is None
    record = series.item
    assert (record.uid, record.occurrence_start, record.start) == ("SERIES", utc(2026, 3, 23, 8), utc(2026, 3, 24, 8))
    assert record.calendar_item_type == "occurrence"
    assert meeting_record({**item, "type": "exception"}, "SERIES").calendar_item_type == "exception"
    with pytest.raises(BadItem, match="series of this occurrence is unknown"):
        meeting_record(item)
    assert series_master_id(graph_event()) is None


def test_all_day_event_is_dates_with_local_midnight_instants() -> None:
    item = graph_event(
        isAllDay=True,
        start={"dateTime": "2026-05-04T00:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2026-05-06T00:00:00.0000000", "timeZone": "UTC"},
    )
    record = meeting_record(item)
    assert record.is_all_day
    assert (record.start_date, record.end_date) == (date(2026, 5, 4), date(2026, 5, 6))
    assert record.start == utc(2026, 5, 3, 22) and record.end == utc(2026, 5, 5, 22)  # Berlin midnights


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"end": {"dateTime": "2026-03-23T07:00:00.0000000", "timeZone": "UTC"}}, "ends before it starts"),
        ({"start": None}, "no start"),
        (
            {"start": {"dateTime": "4501-01-01T00:00:00.0000000", "timeZone": "UTC"}},
            "start out of range: 4501-01-01T00:00:00+00:00",
        ),
        (
            {"organizer": {"emailAddress": {"name": "", "address": ""}}, "attendees": []},
            "no address: no organiser or attendee with a valid e-mail address",
        ),
        ({"location": {"displayName": "x" * 4097}}, "location too long: 4097 chars"),
    ],
)
def test_meetings_that_cannot_be_interactions_are_bad_items(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(BadItem) as raised:
        meeting_record(graph_event(**overrides))
    assert raised.value.reason == reason


def test_unknown_zones_and_sensitivities_fall_back_like_ews() -> None:
    record = meeting_record(graph_event(originalStartTimeZone="Mars Standard Time", sensitivity="secret"))
    assert record.time_zone == "UTC" and record.sensitivity == "confidential"
    assert meeting_record(graph_event(sensitivity="private")).sensitivity == "private"


def test_removed_entries_are_recognised() -> None:
    assert removed({"id": "X", "@removed": {"reason": "deleted"}})
    assert removed({"id": "X", "@removed": {"reason": "changed"}})
    assert not removed(graph_event())


def test_extended_property_ids_are_compared_in_any_spelling() -> None:
    props = extended_properties({"singleValueExtendedProperties": [{"id": "Integer 0x36", "value": "2"}, {"x": 1}]})
    assert property_value(props, "Integer 0x0036") == "2" and property_value(props, "integer 0X36") == "2"
    assert property_value(props, "String 0x001A") is None


RESPONSES = [
    ("Unknown", "none"),
    ("Organizer", "organizer"),
    ("Tentative", "tentativelyAccepted"),
    ("Accept", "accepted"),
    ("Decline", "declined"),
    ("NoResponseReceived", "notResponded"),
]


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    minutes=st.integers(-30, 600),
    all_day=st.booleans(),
    days=st.integers(1, 3),
    zone=st.sampled_from(
        [
            ("W. Europe Standard Time", "Europe/Berlin"),
            ("UTC", "UTC"),
            ("Pacific Standard Time", "America/Los_Angeles"),
            ("Tokyo Standard Time", "Asia/Tokyo"),
        ]
    ),
    responses=st.lists(st.sampled_from(RESPONSES), max_size=3),
    sensitivity=st.sampled_from(["Normal", "Personal", "Private", "Confidential"]),
    cancelled=st.booleans(),
)
def test_a_single_meeting_gives_the_same_record_over_ews_and_graph(
    start: datetime,
    minutes: int,
    all_day: bool,
    days: int,
    zone: tuple[str, str],
    responses: list[tuple[str, str]],
    sensitivity: str,
    cancelled: bool,
) -> None:
    windows, iana = zone
    start = start.replace(second=0, microsecond=0)
    people = [f"p{n}@fabrikam.example" for n in range(len(responses))]
    ews_zone = EWSTimeZone(iana)
    if all_day:
        first = start.date()
        ews_start: Any = EWSDate(first.year, first.month, first.day)
        last = first + timedelta(days=days - 1)
        ews_end: Any = EWSDate(last.year, last.month, last.day)
        graph_start = {"dateTime": f"{first.isoformat()}T00:00:00.0000000", "timeZone": "UTC"}
        graph_end = {"dateTime": f"{(first + timedelta(days=days)).isoformat()}T00:00:00.0000000", "timeZone": "UTC"}
    else:
        end = start + timedelta(minutes=minutes)
        ews_start = EWSDateTime.from_datetime(start).astimezone(ews_zone)
        ews_end = EWSDateTime.from_datetime(end).astimezone(ews_zone)
        graph_start = {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}
        graph_end = {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}
    ews = CalendarItem(
        id="E1",
        changekey="ECK",
        uid="UID-1",
        subject="Review",
        location="Room",
        start=ews_start,
        end=ews_end,
        is_all_day=all_day,
        _start_timezone=ews_zone,
        organizer=Mailbox(name="Dana", email_address="dana@x.example"),
        required_attendees=[
            Attendee(mailbox=Mailbox(email_address=a), response_type=r[0])
            for a, r in zip(people, responses, strict=True)
        ],
        sensitivity=sensitivity,
        type="Single",
        is_cancelled=cancelled,
    )
    graph = graph_event(
        id="E1",
        iCalUId="UID-1",
        subject="Review",
        location={"displayName": "Room"},
        start=graph_start,
        end=graph_end,
        isAllDay=all_day,
        originalStartTimeZone=windows,
        organizer=who("dana@x.example", "Dana"),
        attendees=[
            {"type": "required", "status": {"response": r[1]}, "emailAddress": {"address": a}}
            for a, r in zip(people, responses, strict=True)
        ],
        sensitivity=sensitivity.lower(),
        isCancelled=cancelled,
    )
    try:
        expected = ews_translate.meeting_record(ews)
    except BadItem as exc:
        with pytest.raises(BadItem) as raised:
            meeting_record(graph)
        assert raised.value.reason == exc.reason
        return
    assert meeting_record(graph) == expected


# --- Graph error bodies -> the connector's errors ---------------------------------------------------


def error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "r", "date": "d"}}}


@pytest.mark.parametrize(
    ("status", "code", "kind", "words"),
    [
        (404, "ErrorInvalidUser", MailboxUnavailable, "the mailbox does not exist"),
        (403, "ErrorAccessDenied", MailboxUnavailable, "outside the app's scope (RBAC for Applications)"),
        (410, "SyncStateNotFound", SyncStateInvalid, "SyncStateNotFound"),
        (400, "resyncRequired", SyncStateInvalid, "resyncRequired"),
        (412, "ErrorIrresolvableConflict", ChangeConflict, "ErrorIrresolvableConflict"),
        (401, "InvalidAuthenticationToken", AuthenticationFailed, "Fix: grant the app"),
        (400, "BadRequest", ExchangeProtocolError, "as malformed (BadRequest: startDateTime is required)"),
        (404, "ErrorItemNotFound", ExchangeProtocolError, "HTTP 404 (ErrorItemNotFound"),
        (500, "InternalServerError", TransientError, "HTTP 500"),
        (429, "TooManyRequests", Throttled, "throttled"),
    ],
)
def test_graph_errors_become_the_connectors_errors_with_a_sentence(
    status: int, code: str, kind: type[Exception], words: str
) -> None:
    message = "startDateTime is required" if code == "BadRequest" else "something"
    translated = graph_error(
        status,
        error(code, message),
        mailbox="alice@contoso.example",
        where="GET /v1.0/users/alice@contoso.example/calendarView/delta",
    )
    assert type(translated) is kind and words in str(translated)
    assert translated.mailbox == "alice@contoso.example"


def test_an_error_without_a_graph_body_still_says_what_happened() -> None:
    translated = graph_error(502, None, mailbox=None, where="GET /v1.0/$batch")
    assert isinstance(translated, TransientError) and "HTTP 502" in str(translated)


def test_the_mailbox_of_a_graph_url_is_read_from_its_path() -> None:
    assert mailbox_of("https://graph.microsoft.com/v1.0/users/Alice%40Contoso.example/contacts/delta?$x=1") == (
        "alice@contoso.example"
    )
    assert mailbox_of("/users/bob@contoso.example/events/AAMk?$select=iCalUId") == "bob@contoso.example"
    assert mailbox_of("https://graph.microsoft.com/v1.0/$batch") is None
