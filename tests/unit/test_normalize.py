"""Exchange item -> record, on real exchangelib item objects built in memory (no server, no mocks)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from exchangelib import (
    Attendee,
    CalendarItem,
    Contact,
    DistributionList,
    EWSDate,
    EWSDateTime,
    EWSTimeZone,
    HTMLBody,
    Mailbox,
    Message,
)
from exchangelib.fields import InvalidField
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress
from exchangelib.items import MeetingRequest
from exchangelib.properties import ConversationId
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    AbsoluteYearlyPattern,
    DailyPattern,
    DailyRegeneration,
    DeletedOccurrence,
    EndDatePattern,
    NoEndPattern,
    NumberedPattern,
    Occurrence,
    Recurrence,
    RelativeMonthlyPattern,
    RelativeYearlyPattern,
    WeeklyPattern,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.ews.translate import (
    MAX_TEXT_CHARS,
    BadItem,
    contact_record,
    deleted_occurrence_starts,
    meeting_record,
    message_record,
    modified_occurrence_records,
    recurrence_spec,
    register_user_fields,
    reset_user_fields,
    windows_to_iana,
)
from mapping.records import Participant
from mapping.recurrence import RecurrenceSpec, expand_occurrences

EWS_UTC = EWSTimeZone("UTC")
EWS_BERLIN = EWSTimeZone("Europe/Berlin")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- contacts ------------------------------------------------------------------------------------


@pytest.fixture
def user_fields() -> Iterator[None]:
    """Registration is process-wide: leave Contact as we found it for the suites that sync."""
    reset_user_fields()
    yield
    reset_user_fields()


def test_contact_becomes_a_record_with_normalised_emails_phones_and_addresses() -> None:
    item = Contact(
        id="C1",
        changekey="CK1",
        display_name="Jane Doe",
        given_name="Jane",
        middle_name="Q.",
        surname="Doe",
        nickname="JD",
        company_name="ACME, Inc.",
        job_title="Buyer",
        department="Purchasing",
        business_homepage="https://www.acme.example",
        email_addresses=[
            EmailAddress(email="Jane.Doe@ACME.example", label="EmailAddress1"),
            EmailAddress(email="jane.doe@acme.example", label="EmailAddress2"),  # same address twice
            EmailAddress(email="jane at home", label="EmailAddress3"),
        ],
        phone_numbers=[
            PhoneNumber(label="BusinessPhone", phone_number="030 1234567"),
            PhoneNumber(label="MobilePhone", phone_number="+49 151 23456789"),
            PhoneNumber(label="HomePhone", phone_number="   "),
        ],
        physical_addresses=[
            PhysicalAddress(label="Business", street="Hauptstr. 1", city="Berlin", zipcode="10115", country="Germany"),
            PhysicalAddress(label="Home"),
        ],
        categories=["Customer", "Value: Superior"],
        sensitivity="Normal",
    )
    record = contact_record(item, default_region="DE")
    assert record.item_id == "C1" and record.change_key == "CK1"
    assert (record.display_name, record.given_name, record.middle_name, record.surname) == (
        "Jane Doe",
        "Jane",
        "Q.",
        "Doe",
    )
    assert (record.company_name, record.job_title, record.department) == ("ACME, Inc.", "Buyer", "Purchasing")
    assert record.website == "https://www.acme.example"
    assert [(e.address, e.is_valid, e.label) for e in record.emails] == [
        ("jane.doe@acme.example", True, "EmailAddress1"),
        ("jane at home", False, "EmailAddress3"),
    ]
    assert [(p.e164, p.kind, p.label) for p in record.phones] == [
        ("+49301234567", "work", "BusinessPhone"),
        ("+4915123456789", "mobile", "MobilePhone"),
    ]
    assert len(record.postal_addresses) == 1
    address = record.postal_addresses[0]
    assert (address.kind, address.street, address.city, address.postal_code) == (
        "work",
        "Hauptstr. 1",
        "Berlin",
        "10115",
    )
    assert record.categories == ("Customer", "Value: Superior")
    assert record.sensitivity == "normal"


def test_contact_user_fields_come_from_registered_public_strings_properties(user_fields: None) -> None:
    names = register_user_fields(["Source", "Referred By", "Industry"])
    assert names["Referred By"] == "relsync_uf_referred_by"
    field = Contact.get_field_by_fieldname("relsync_uf_referred_by")
    assert field.value_cls.distinguished_property_set_id == "PublicStrings"
    assert field.value_cls.property_name == "Referred By"
    assert field.value_cls.property_type == "String"
    item = Contact(id="C2", display_name="Bob", relsync_uf_source="Referral", relsync_uf_referred_by=" Jane Doe ")
    assert contact_record(item).user_fields == {"Source": "Referral", "Referred By": "Jane Doe"}


def test_a_contact_whose_user_field_holds_10_kb_of_text_is_kept_whole_for_the_business_case(
    user_fields: None,
) -> None:
    """Staff may paste a long text into "What matters": the contact is not lost (the business case cuts
    the note and reports it, mapping.what_matters); only beyond 64 KB is the item refused, by name."""
    register_user_fields(["What matters", "Referred By"])
    note = "Quality first; " * 700  # about 10 KB
    item = Contact(id="C3", display_name="Carol", relsync_uf_what_matters=note, relsync_uf_referred_by="Acme")
    record = contact_record(item)
    assert record.user_fields == {"What matters": note.strip(), "Referred By": "Acme"}
    with pytest.raises(BadItem, match="What matters too long"):
        contact_record(Contact(id="C4", display_name="Dan", relsync_uf_what_matters="x" * 70_000))


def test_registering_user_fields_twice_is_harmless(user_fields: None) -> None:
    first = register_user_fields(["Source"])
    again = register_user_fields(["Source", "Source"])
    assert first["Source"] == again["Source"]


def test_user_fields_can_be_reset(user_fields: None) -> None:
    register_user_fields(["Source"])
    reset_user_fields()
    with pytest.raises(InvalidField):
        Contact.get_field_by_fieldname("relsync_uf_source")
    assert register_user_fields(["Source"]) == {"Source": "relsync_uf_source"}


def test_user_field_colliding_with_another_property_is_refused(user_fields: None) -> None:
    register_user_fields(["Industry"])
    with pytest.raises(ValueError, match="already taken"):
        register_user_fields(["industry"])  # slugs to the same attribute, different property


def test_contact_without_display_name_falls_back_to_name_company_or_address() -> None:
    assert contact_record(Contact(id="C", given_name="Jane", surname="Doe")).display_name == "Jane Doe"
    assert contact_record(Contact(id="C", company_name="ACME")).display_name == "ACME"
    item = Contact(id="C", email_addresses=[EmailAddress(email="jane@acme.example")])
    assert contact_record(item).display_name == "jane@acme.example"


def test_contact_with_no_name_address_or_phone_is_a_bad_item() -> None:
    with pytest.raises(BadItem) as caught:
        contact_record(Contact(id="C9"))
    assert caught.value.item_id == "C9"
    assert "no address" in caught.value.reason


def test_distribution_list_is_a_bad_item_with_its_id() -> None:
    with pytest.raises(BadItem) as caught:
        contact_record(DistributionList(id="DL1", display_name="All customers"))
    assert caught.value.item_id == "DL1"
    assert "DistributionList" in caught.value.reason


def test_contact_with_absurd_name_is_rejected_not_truncated() -> None:
    with pytest.raises(BadItem, match="display name too long"):
        contact_record(Contact(id="C", display_name="x" * (MAX_TEXT_CHARS + 1)))


def test_private_contact_keeps_its_sensitivity() -> None:
    assert contact_record(Contact(id="C", display_name="X", sensitivity="Private")).sensitivity == "private"


# --- messages ------------------------------------------------------------------------------------


def make_message(**overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "id": "M1",
        "changekey": "MCK",
        "subject": "Quote for 200 pallets",
        "message_id": "<abc@acme.example>",
        "conversation_id": ConversationId(id="CONV-1"),
        "datetime_sent": EWSDateTime(2026, 5, 4, 10, 0, tzinfo=EWS_UTC),
        "datetime_received": EWSDateTime(2026, 5, 4, 10, 1, tzinfo=EWS_UTC),
        "author": Mailbox(name="Jane Doe", email_address="Jane.Doe@ACME.example"),
        "to_recipients": [Mailbox(name="Dana", email_address="dana@northwind-traders.example")],
        "cc_recipients": [Mailbox(email_address="lee@northwind-traders.example")],
        "bcc_recipients": [],
        "item_class": "IPM.Note",
        "size": 4321,
        "body": "Hello Dana, please find our quote attached.",
    }
    fields.update(overrides)
    return Message(**fields)


def test_message_becomes_a_record_without_its_body() -> None:
    record = message_record(make_message(), "inbox")
    assert record.item_id == "M1" and record.change_key == "MCK" and record.folder == "inbox"
    assert record.internet_message_id == "<abc@acme.example>"
    assert record.conversation_id == "CONV-1"
    assert record.subject == "Quote for 200 pallets"
    assert record.sent_at == utc(2026, 5, 4, 10) and record.received_at == utc(2026, 5, 4, 10, 1)
    assert type(record.sent_at) is datetime  # no exchangelib types leak into records
    assert record.participants == (
        Participant("jane.doe@acme.example", "Jane Doe", "from"),
        Participant("dana@northwind-traders.example", "Dana", "to"),
        Participant("lee@northwind-traders.example", None, "cc"),
    )
    assert record.size == 4321 and record.item_class == "IPM.Note"
    assert record.snippet is None
    assert not hasattr(record, "body")


def test_snippet_is_short_plain_text_when_configured() -> None:
    html = "<html><style>p{}</style><p>Hello&nbsp;Dana,</p>\n<p>  our   quote</p></html>"
    item = make_message(body=HTMLBody(html))
    assert message_record(item, "inbox", snippet_chars=17).snippet == "Hello Dana, our q"
    assert message_record(make_message(), "inbox", snippet_chars=5).snippet == "Hello"


def test_sender_falls_back_to_sender_field_then_to_the_owner_in_sent_items() -> None:
    item = make_message(author=None, sender=Mailbox(email_address="dana@northwind-traders.example"))
    assert message_record(item, "inbox").participants[0] == Participant("dana@northwind-traders.example", None, "from")
    orphan = make_message(author=None, to_recipients=[Mailbox(email_address="jane@acme.example")], cc_recipients=[])
    record = message_record(orphan, "sentitems", owner="Dana@Northwind-Traders.example")
    assert record.participants[0] == Participant("dana@northwind-traders.example", None, "from")


def test_exchange_legacy_dn_participant_is_dropped() -> None:
    item = make_message(cc_recipients=[Mailbox(name="Old", email_address="/O=NORTHWIND/OU=X/CN=RECIPIENTS/CN=OLD")])
    assert [p.role for p in message_record(item, "inbox").participants] == ["from", "to"]


def test_duplicate_participants_are_kept_once_per_role() -> None:
    dana = Mailbox(email_address="dana@northwind-traders.example")
    item = make_message(to_recipients=[dana, dana], cc_recipients=[dana])
    assert [p.role for p in message_record(item, "inbox").participants] == ["from", "to", "cc"]


def test_message_with_five_megabyte_subject_is_a_bad_item() -> None:
    with pytest.raises(BadItem) as caught:
        message_record(make_message(subject="A" * 5_000_000), "inbox")
    assert caught.value.item_id == "M1"
    assert caught.value.reason == "subject too long: 5000000 chars"


def test_message_without_any_address_is_a_bad_item() -> None:
    item = make_message(author=None, to_recipients=[Mailbox(name="nobody")], cc_recipients=[])
    with pytest.raises(BadItem, match="no address"):
        message_record(item, "inbox")


def test_message_without_any_date_is_a_bad_item() -> None:
    with pytest.raises(BadItem, match="no date"):
        message_record(make_message(datetime_sent=None, datetime_received=None, datetime_created=None), "inbox")


def test_message_with_neither_sent_nor_received_time_is_dated_by_its_creation() -> None:
    created = EWSDateTime(2026, 5, 4, 10, tzinfo=EWS_UTC)
    record = message_record(make_message(datetime_sent=None, datetime_received=None, datetime_created=created), "inbox")
    assert record.sent_at is None
    assert record.received_at == datetime(2026, 5, 4, 10, tzinfo=UTC)


@pytest.mark.parametrize("year", [1601, 4501])
def test_exchange_null_dates_are_bad_items(year: int) -> None:
    with pytest.raises(BadItem, match="out of range"):
        message_record(make_message(datetime_sent=EWSDateTime(year, 1, 1, tzinfo=EWS_UTC)), "inbox")


def test_naive_date_is_a_bad_item() -> None:
    with pytest.raises(BadItem, match="no time zone"):
        message_record(make_message(datetime_sent=datetime(2026, 5, 4, 10)), "inbox")


@pytest.mark.parametrize("item_class", ["REPORT.IPM.Note.NDR", "IPM.Schedule.Meeting.Request", "IPM.Outlook.Recall"])
def test_receipts_reports_and_meeting_messages_are_bad_items(item_class: str) -> None:
    with pytest.raises(BadItem, match="unsupported item class"):
        message_record(make_message(item_class=item_class), "inbox")


def test_signed_mail_is_still_mail() -> None:
    assert message_record(make_message(item_class="IPM.Note.SMIME"), "inbox").item_class == "IPM.Note.SMIME"


def test_meeting_request_in_the_inbox_is_a_bad_item() -> None:
    with pytest.raises(BadItem) as caught:
        message_record(MeetingRequest(id="R1", subject="Invitation"), "inbox")
    assert caught.value.item_id == "R1"
    assert "MeetingRequest" in caught.value.reason


def test_item_without_id_is_a_bad_item() -> None:
    with pytest.raises(BadItem, match="no item id"):
        message_record(make_message(id=None), "inbox")


def test_unknown_sensitivity_is_read_as_the_strictest() -> None:
    item = make_message()
    item.sensitivity = "TopSecret"
    assert message_record(item, "inbox").sensitivity == "confidential"


@settings(max_examples=40, deadline=None)
@given(
    subject=st.one_of(st.none(), st.text(max_size=200)),
    address=st.text(max_size=60),
    name=st.one_of(st.none(), st.text(max_size=40)),
)
def test_message_record_only_ever_raises_bad_item(subject: str | None, address: str, name: str | None) -> None:
    item = make_message(subject=subject, author=Mailbox(name=name, email_address=address), to_recipients=[])
    item.cc_recipients = []
    try:
        record = message_record(item, "inbox")
    except BadItem:
        return
    assert all(p.address == p.address.lower() and "@" in p.address for p in record.participants)


# --- meetings ------------------------------------------------------------------------------------


def make_meeting(**overrides: Any) -> CalendarItem:
    fields: dict[str, Any] = {
        "id": "E1",
        "changekey": "ECK",
        "uid": "040000008200E00074C5B7101A82E008",
        "subject": "Quarterly review",
        "location": "ACME HQ",
        "start": EWSDateTime(2026, 3, 23, 9, 0, tzinfo=EWS_BERLIN),
        "end": EWSDateTime(2026, 3, 23, 10, 0, tzinfo=EWS_BERLIN),
        "_start_timezone": EWS_BERLIN,
        "organizer": Mailbox(name="Dana", email_address="dana@northwind-traders.example"),
        "required_attendees": [
            Attendee(mailbox=Mailbox(name="Jane", email_address="jane@acme.example"), response_type="Accept"),
        ],
        "optional_attendees": [
            Attendee(mailbox=Mailbox(email_address="bob@acme.example"), response_type="Tentative"),
        ],
        "resources": [Attendee(mailbox=Mailbox(email_address="room-1@northwind-traders.example"))],
        "sensitivity": "Normal",
        "type": "Single",
    }
    fields.update(overrides)
    return CalendarItem(**fields)


def test_meeting_becomes_a_record_in_utc_with_its_iana_zone() -> None:
    record = meeting_record(make_meeting())
    assert (record.item_id, record.change_key, record.uid) == ("E1", "ECK", "040000008200E00074C5B7101A82E008")
    assert record.start == utc(2026, 3, 23, 8) and record.end == utc(2026, 3, 23, 9)
    assert record.time_zone == "Europe/Berlin"
    assert record.occurrence_start is None and record.calendar_item_type == "single"
    assert not record.is_all_day and record.start_date is None
    assert record.participants == (
        Participant("dana@northwind-traders.example", "Dana", "organizer", "organizer"),
        Participant("jane@acme.example", "Jane", "required", "accepted"),
        Participant("bob@acme.example", None, "optional", "tentative"),
    )  # the meeting room (a resource) is not a participant
    assert (record.subject, record.location) == ("Quarterly review", "ACME HQ")


def test_meeting_zone_falls_back_to_the_start_time_zone() -> None:
    item = make_meeting(_start_timezone=None)
    assert meeting_record(item).time_zone == "Europe/Berlin"


def test_windows_time_zone_ids_map_to_iana() -> None:
    assert windows_to_iana("W. Europe Standard Time") == "Europe/Berlin"
    assert windows_to_iana("Eastern Standard Time") == "America/New_York"
    assert windows_to_iana("GMT Standard Time") == "Europe/London"
    assert windows_to_iana("UTC") == "UTC"
    assert windows_to_iana("Europe/Paris") == "Europe/Paris"
    assert windows_to_iana("Etc/UTC") == "UTC"
    assert windows_to_iana("Mars Standard Time") is None
    assert windows_to_iana(None) is None


def test_all_day_event_is_dates_with_local_midnight_instants() -> None:
    # exchangelib gives an all-day end as the last day (inclusive); records use an exclusive end.
    item = make_meeting(is_all_day=True, start=EWSDate(2026, 5, 4), end=EWSDate(2026, 5, 5))
    record = meeting_record(item)
    assert record.is_all_day
    assert (record.start_date, record.end_date) == (date(2026, 5, 4), date(2026, 5, 6))
    assert record.start == utc(2026, 5, 3, 22) and record.end == utc(2026, 5, 5, 22)


def test_all_day_event_given_as_midnight_instants() -> None:
    item = make_meeting(
        is_all_day=True,
        start=EWSDateTime(2026, 5, 3, 22, tzinfo=EWS_UTC),
        end=EWSDateTime(2026, 5, 4, 22, tzinfo=EWS_UTC),
    )
    record = meeting_record(item)
    assert (record.start_date, record.end_date) == (date(2026, 5, 4), date(2026, 5, 5))


def test_meeting_ending_before_it_starts_is_a_bad_item() -> None:
    item = make_meeting(end=EWSDateTime(2026, 3, 23, 8, 0, tzinfo=EWS_BERLIN))
    with pytest.raises(BadItem, match="ends before it starts"):
        meeting_record(item)


def test_meeting_without_anyone_is_a_bad_item() -> None:
    item = make_meeting(organizer=None, required_attendees=[], optional_attendees=[])
    with pytest.raises(BadItem, match="no address"):
        meeting_record(item)


def test_exception_carries_its_original_start() -> None:
    item = make_meeting(
        type="Exception",
        start=EWSDateTime(2026, 3, 24, 14, 0, tzinfo=EWS_BERLIN),
        end=EWSDateTime(2026, 3, 24, 15, 0, tzinfo=EWS_BERLIN),
        original_start=EWSDateTime(2026, 3, 23, 8, 0, tzinfo=EWS_UTC),
    )
    record = meeting_record(item)
    assert record.calendar_item_type == "exception"
    assert record.occurrence_start == utc(2026, 3, 23, 8)
    assert record.start == utc(2026, 3, 24, 13)


def test_cancelled_meeting_is_marked() -> None:
    assert meeting_record(make_meeting(is_cancelled=True)).is_cancelled


def test_message_is_not_a_meeting() -> None:
    with pytest.raises(BadItem, match="unsupported item class"):
        meeting_record(make_message())


# --- recurrence ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recurrence", "expected"),
    [
        (
            Recurrence(
                pattern=DailyPattern(interval=2), boundary=NumberedPattern(start=EWSDate(2026, 1, 5), number=10)
            ),
            RecurrenceSpec(pattern="daily", interval=2, start=date(2026, 1, 5), count=10),
        ),
        (
            Recurrence(
                pattern=WeeklyPattern(interval=1, weekdays=["Monday", "Wednesday"], first_day_of_week="Sunday"),
                boundary=EndDatePattern(start=EWSDate(2026, 1, 5), end=EWSDate(2026, 6, 30)),
            ),
            RecurrenceSpec(
                pattern="weekly",
                start=date(2026, 1, 5),
                days_of_week=(0, 2),
                first_day_of_week=6,
                end=date(2026, 6, 30),
            ),
        ),
        (
            Recurrence(
                pattern=WeeklyPattern(interval=1, weekdays=[1, 5]), boundary=NoEndPattern(start=EWSDate(2026, 1, 5))
            ),
            RecurrenceSpec(pattern="weekly", start=date(2026, 1, 5), days_of_week=(0, 4)),
        ),
        (
            Recurrence(
                pattern=AbsoluteMonthlyPattern(interval=3, day_of_month=31),
                boundary=NoEndPattern(start=EWSDate(2026, 1, 31)),
            ),
            RecurrenceSpec(pattern="absolute_monthly", interval=3, start=date(2026, 1, 31), day_of_month=31),
        ),
        (
            Recurrence(
                pattern=RelativeMonthlyPattern(interval=1, weekday="Friday", week_number="Last"),
                boundary=NoEndPattern(start=EWSDate(2026, 1, 30)),
            ),
            RecurrenceSpec(pattern="relative_monthly", start=date(2026, 1, 30), days_of_week=(4,), week_of_month=5),
        ),
        (
            Recurrence(
                pattern=RelativeMonthlyPattern(interval=1, weekday=9, week_number=1),  # first weekday, as ints
                boundary=NoEndPattern(start=EWSDate(2026, 2, 2)),
            ),
            RecurrenceSpec(
                pattern="relative_monthly", start=date(2026, 2, 2), days_of_week=(0, 1, 2, 3, 4), week_of_month=1
            ),
        ),
        (
            Recurrence(
                pattern=AbsoluteYearlyPattern(day_of_month=14, month="February"),
                boundary=NoEndPattern(start=EWSDate(2026, 2, 14)),
            ),
            RecurrenceSpec(pattern="absolute_yearly", start=date(2026, 2, 14), day_of_month=14, month=2),
        ),
        (
            Recurrence(
                pattern=RelativeYearlyPattern(weekday="Thursday", week_number="Fourth", month=11),
                boundary=NoEndPattern(start=EWSDate(2026, 11, 26)),
            ),
            RecurrenceSpec(
                pattern="relative_yearly", start=date(2026, 11, 26), days_of_week=(3,), week_of_month=4, month=11
            ),
        ),
    ],
)
def test_exchange_recurrence_becomes_a_spec(recurrence: Recurrence, expected: RecurrenceSpec) -> None:
    assert recurrence_spec(recurrence, "E1") == expected


def test_task_regeneration_pattern_is_a_bad_item() -> None:
    recurrence = Recurrence(pattern=DailyRegeneration(interval=1), boundary=NoEndPattern(start=EWSDate(2026, 1, 1)))
    with pytest.raises(BadItem, match="unsupported recurrence pattern"):
        recurrence_spec(recurrence, "T1")


def test_recurrence_ending_before_it_starts_is_a_bad_item() -> None:
    recurrence = Recurrence(
        pattern=DailyPattern(interval=1), boundary=EndDatePattern(start=EWSDate(2026, 2, 1), end=EWSDate(2026, 1, 1))
    )
    with pytest.raises(BadItem, match="ends before it starts"):
        recurrence_spec(recurrence, "E1")


def test_recurring_berlin_master_from_exchange_expands_across_dst() -> None:
    """The whole pure path: exchangelib master -> records -> occurrences, with an exception and a deletion."""
    item = make_meeting(
        type="RecurringMaster",
        recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=["Monday"]), start=EWSDate(2026, 3, 16)),
        start=EWSDateTime(2026, 3, 16, 9, 0, tzinfo=EWS_BERLIN),
        end=EWSDateTime(2026, 3, 16, 10, 0, tzinfo=EWS_BERLIN),
        modified_occurrences=[
            Occurrence(
                id="OCC-2",
                start=EWSDateTime(2026, 3, 24, 13, tzinfo=EWS_UTC),
                end=EWSDateTime(2026, 3, 24, 14, tzinfo=EWS_UTC),
                original_start=EWSDateTime(2026, 3, 23, 8, tzinfo=EWS_UTC),
            )
        ],
        deleted_occurrences=[DeletedOccurrence(start=EWSDateTime(2026, 4, 6, 7, tzinfo=EWS_UTC))],
    )
    master = meeting_record(item)
    assert master.calendar_item_type == "recurring_master"
    spec = recurrence_spec(item.recurrence, master.item_id)
    exceptions = modified_occurrence_records(item, master)
    assert [(e.item_id, e.occurrence_start, e.calendar_item_type) for e in exceptions] == [
        ("OCC-2", utc(2026, 3, 23, 8), "exception")
    ]
    deleted = deleted_occurrence_starts(item)
    assert deleted == [utc(2026, 4, 6, 7)]
    occurrences = expand_occurrences(master, spec, exceptions, deleted, utc(2026, 3, 1), utc(2026, 4, 14))
    assert [o.start for o in occurrences] == [
        utc(2026, 3, 16, 8),  # 09:00 CET
        utc(2026, 3, 24, 13),  # the exception, moved
        utc(2026, 3, 30, 7),  # 09:00 CEST
        utc(2026, 4, 13, 7),  # 6 April deleted
    ]
    assert all(o.start.astimezone(BERLIN).hour == 9 for o in occurrences if o.calendar_item_type == "occurrence")
