"""Exchange item -> record: translating exchangelib objects into :mod:`mapping.records`, purely.

No requests are sent here: these functions read attributes of items the EWS adapter already fetched.
An item we cannot translate raises :class:`BadItem` (never anything else), so the sync engine can skip
it, count it and log its id and reason while the rest of the mailbox syncs.

Decisions, so the engine and the reports can rely on them:

- **Absurd text is rejected, not truncated.** A subject, name or location longer than
  :data:`MAX_TEXT_CHARS` (4,096; Outlook caps subjects at 255) is a broken or hostile item; a
  truncated copy would look trustworthy in reports. ``BadItem("subject too long: 5242880 chars")``.
- **Dates**: a naive datetime, a date outside 1900-2200 (Exchange's "null" dates 1601-01-01 and
  4501-01-01 included), a message with neither sent nor received time, or a meeting ending before it
  starts -> ``BadItem``.
- **Item classes**: contacts must be ``Contact`` (a ``DistributionList`` is rejected), messages must be
  ``Message`` with an ``IPM.Note*`` class (meeting requests/responses, read receipts and NDRs
  (``REPORT.*``) are rejected: meetings come from the calendar, receipts are not conversations),
  meetings must be ``CalendarItem``.
- **Addresses**: participants whose address is not a valid SMTP address (an ``EX`` legacyDN, junk)
  are dropped; a message or meeting left without any participant is a ``BadItem("no address")``.
  A contact keeps invalid e-mails flagged ``is_valid=False`` (what the user typed is data to fix).
- **Time zones**: a meeting's zone is its ``StartTimeZone`` mapped from the Windows id to IANA via
  exchangelib's CLDR table; unknown ids fall back to UTC rather than failing the item.
"""

from __future__ import annotations

import contextlib
import html
import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchangelib import CalendarItem, Contact, Message
from exchangelib.extended_properties import ExtendedProperty
from exchangelib.fields import ExtendedPropertyField, InvalidField
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    AbsoluteYearlyPattern,
    DailyPattern,
    EndDatePattern,
    NoEndPattern,
    NumberedPattern,
    Recurrence,
    RelativeMonthlyPattern,
    RelativeYearlyPattern,
    WeeklyPattern,
)
from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

from mapping.hygiene import normalise_email, normalise_phone
from mapping.records import (
    AddressKind,
    CalendarItemType,
    ContactRecord,
    EmailRecord,
    MeetingRecord,
    MessageRecord,
    Participant,
    PhoneRecord,
    PostalRecord,
    Response,
    Role,
    Sensitivity,
)
from mapping.recurrence import RecurrenceSpec

#: Longest subject, name or location we accept (see the module docstring).
MAX_TEXT_CHARS = 4096
_MIN_DATE = datetime(1900, 1, 1, tzinfo=UTC)
_MAX_DATE = datetime(2200, 1, 1, tzinfo=UTC)


class BadItem(Exception):
    """An Exchange item that cannot become a record; the engine skips, counts and logs it."""

    def __init__(self, item_id: str | None, reason: str) -> None:
        super().__init__(f"{reason} (item {item_id or 'without id'})")
        self.item_id = item_id
        self.reason = reason


# --- small readers -------------------------------------------------------------------------------


def _item_id(item: Any) -> str:
    item_id = getattr(item, "id", None)
    if not item_id:
        raise BadItem(None, "no item id")
    return str(item_id)


def _text(item_id: str, field: str, value: Any) -> str | None:
    """A stripped text field, ``None`` when empty; absurdly long text rejects the item."""
    if value is None:
        return None
    text = str(value)
    if len(text) > MAX_TEXT_CHARS:
        raise BadItem(item_id, f"{field} too long: {len(text)} chars")
    return text.strip() or None


_SENSITIVITIES: dict[str, Sensitivity] = {
    "normal": "normal",
    "personal": "personal",
    "private": "private",
    "confidential": "confidential",
}


def _sensitivity(value: Any) -> Sensitivity:
    # Unknown values are read as the strictest, so a new Exchange value never leaks a private item.
    if value is None:
        return "normal"
    return _SENSITIVITIES.get(str(value).lower(), "confidential")


def _utc(item_id: str, field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise BadItem(item_id, f"{field} is not a date-time: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise BadItem(item_id, f"{field} has no time zone")
    # Rebuild as a plain datetime first: EWSDateTime.astimezone() only accepts EWSTimeZone, and records
    # must not carry exchangelib types anyway.
    plain = datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=value.tzinfo,
        fold=value.fold,
    )
    try:
        result = plain.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise BadItem(item_id, f"{field} out of range: {exc}") from None
    if not _MIN_DATE <= result < _MAX_DATE:
        raise BadItem(item_id, f"{field} out of range: {result.isoformat()}")
    return result


def _participant(mailbox: Any, role: Role, response: Response | None = None) -> Participant | None:
    if mailbox is None:
        return None
    address = getattr(mailbox, "email_address", None)
    record = normalise_email(address) if isinstance(address, str) else None
    if record is None or not record.is_valid:
        return None
    name = getattr(mailbox, "name", None)
    name = str(name).strip()[:255] or None if name else None
    return Participant(address=record.address, name=name, role=role, response=response)


def _dedupe(participants: Iterable[Participant | None]) -> tuple[Participant, ...]:
    seen: set[tuple[str, str]] = set()
    result: list[Participant] = []
    for p in participants:
        if p is None or (p.address, p.role) in seen:
            continue
        seen.add((p.address, p.role))
        result.append(p)
    return tuple(result)


# --- time zones ----------------------------------------------------------------------------------


def windows_to_iana(zone_id: str | None) -> str | None:
    """IANA name for a Windows time zone id ("W. Europe Standard Time" -> "Europe/Berlin").

    An id that already is a valid IANA name is returned as is; unknown ids give ``None``.
    """
    if not zone_id:
        return None
    iana = MS_TIMEZONE_TO_IANA_MAP.get(zone_id)
    if iana:
        return "UTC" if iana in ("Etc/UTC", "Etc/GMT") else iana
    try:
        ZoneInfo(zone_id)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return "UTC" if zone_id in ("Etc/UTC", "Etc/GMT", "Etc/Zulu", "UCT", "Zulu") else zone_id


def _zone_name(tz: Any) -> str | None:
    if tz is None:
        return None
    key = getattr(tz, "key", None)  # EWSTimeZone and zoneinfo.ZoneInfo both carry the IANA key
    if isinstance(key, str) and key:
        return windows_to_iana(key)
    ms_id = getattr(tz, "ms_id", None)
    if isinstance(ms_id, str):
        return windows_to_iana(ms_id)
    return None


def _meeting_zone(item: Any) -> str:
    for candidate in (getattr(item, "_start_timezone", None), getattr(item, "_meeting_timezone", None)):
        name = _zone_name(candidate)
        if name:
            return name
    start = getattr(item, "start", None)
    if isinstance(start, datetime):
        name = _zone_name(start.tzinfo)
        if name:
            return name
    return "UTC"


# --- contacts ------------------------------------------------------------------------------------

_USER_FIELDS: dict[str, str] = {}  # property name ("Referred By") -> Contact attribute name
_USER_FIELDS_LOCK = threading.Lock()


def _attr_name(name: str) -> str:
    return "relsync_uf_" + (re.sub(r"\W+", "_", name.strip().lower()).strip("_") or "x")


def register_user_fields(names: list[str]) -> dict[str, str]:
    """Register PS_PUBLIC_STRINGS String properties on ``Contact`` so sync fetches and we read them.

    Outlook's custom contact fields ("Source", "Referred By", "Industry") are named properties in the
    PS_PUBLIC_STRINGS set. Registration in exchangelib is process-global and raises when repeated, so
    this is idempotent: names already registered (by this function) are skipped. Returns the mapping
    property name -> Contact attribute name for all names registered so far. Call it once at start-up,
    before the first sync, with the names from the config.
    """
    with _USER_FIELDS_LOCK:
        for name in names:
            if not name.strip() or name in _USER_FIELDS:
                continue
            attr = _attr_name(name)
            try:
                existing = Contact.get_field_by_fieldname(attr)
            except InvalidField:
                prop = type(
                    f"UserField_{attr}",
                    (ExtendedProperty,),
                    {
                        "distinguished_property_set_id": "PublicStrings",
                        "property_name": name,
                        "property_type": "String",
                    },
                )
                Contact.register(attr, prop)
            else:
                # Registered earlier in this process (e.g. a test, or another name slugging the same).
                same = (
                    isinstance(existing, ExtendedPropertyField)
                    and existing.value_cls.distinguished_property_set_id == "PublicStrings"
                    and existing.value_cls.property_name == name
                )
                if not same:
                    raise ValueError(f"user field {name!r}: Contact attribute {attr!r} is already taken")
            _USER_FIELDS[name] = attr
        return dict(_USER_FIELDS)


def reset_user_fields() -> None:
    """Deregister every user field :func:`register_user_fields` registered (tests, config reload).

    Registered properties are requested on every contact sync in this process, so a test that
    registers them cleans up after itself rather than changing what later tests send.
    """
    with _USER_FIELDS_LOCK:
        for attr in _USER_FIELDS.values():
            with contextlib.suppress(ValueError):  # already gone
                Contact.deregister(attr)
        _USER_FIELDS.clear()


def _user_fields(item: Any, item_id: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, attr in _USER_FIELDS.items():
        value = getattr(item, attr, None)
        if isinstance(value, ExtendedProperty):
            value = getattr(value, "value", None)
        text = _text(item_id, name, value) if value is not None else None
        if text:
            result[name] = text
    return result


_ADDRESS_KINDS: dict[str, AddressKind] = {"Business": "work", "Home": "home", "Other": "other"}


def contact_record(item: Any, default_region: str | None = None) -> ContactRecord:
    """Translate an exchangelib ``Contact`` (with every e-mail, phone, address and user field).

    ``default_region`` (config, e.g. "DE") parses phone numbers typed without a country code.
    The display name falls back to given + surname, then the company, then the first e-mail; a contact
    with none of them and no phone is a :class:`BadItem`.
    """
    if not isinstance(item, Contact):
        raise BadItem(getattr(item, "id", None), f"not a contact: {type(item).__name__}")
    item_id = _item_id(item)

    emails: list[EmailRecord] = []
    for entry in item.email_addresses or ():
        record = normalise_email(getattr(entry, "email", None), label=getattr(entry, "label", None))
        if record is not None and record.address not in {e.address for e in emails}:
            emails.append(record)
    phones: list[PhoneRecord] = []
    for entry in item.phone_numbers or ():
        raw = getattr(entry, "phone_number", None)
        if raw and str(raw).strip():
            phone = normalise_phone(str(raw), default_region, label=getattr(entry, "label", None))
            if all((p.e164 or p.raw) != (phone.e164 or phone.raw) for p in phones):
                phones.append(phone)
    postal: list[PostalRecord] = []
    for entry in item.physical_addresses or ():
        parts = {
            key: _text(item_id, f"address {key}", getattr(entry, attr, None))
            for key, attr in (
                ("street", "street"),
                ("city", "city"),
                ("state", "state"),
                ("postal_code", "zipcode"),
                ("country", "country"),
            )
        }
        if any(parts.values()):
            label = getattr(entry, "label", None)
            postal.append(PostalRecord(kind=_ADDRESS_KINDS.get(label or "", "other"), label=label, **parts))

    given = _text(item_id, "given name", item.given_name)
    surname = _text(item_id, "surname", item.surname)
    company = _text(item_id, "company name", item.company_name)
    display = (
        _text(item_id, "display name", item.display_name)
        or " ".join(p for p in (given, surname) if p)
        or company
        or next((e.address for e in emails if e.is_valid), None)
    )
    if not display:
        if not phones:
            raise BadItem(item_id, "no address: contact without name, e-mail or phone")
        display = phones[0].e164 or phones[0].raw

    return ContactRecord(
        item_id=item_id,
        change_key=item.changekey,
        display_name=display,
        given_name=given,
        middle_name=_text(item_id, "middle name", item.middle_name),
        surname=surname,
        nickname=_text(item_id, "nickname", item.nickname),
        company_name=company,
        job_title=_text(item_id, "job title", item.job_title),
        department=_text(item_id, "department", item.department),
        website=_text(item_id, "website", item.business_homepage),
        emails=tuple(emails),
        phones=tuple(phones),
        postal_addresses=tuple(postal),
        categories=tuple(c for c in (item.categories or ()) if c),
        sensitivity=_sensitivity(item.sensitivity),
        user_fields=_user_fields(item, item_id),
    )


# --- messages ------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_STYLE = re.compile(r"<(style|script)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


def _snippet(item: Any, chars: int) -> str | None:
    if chars <= 0:
        return None
    text = getattr(item, "text_body", None) or getattr(item, "body", None)
    if not text:
        return None
    # Only the first part is ever needed; cap before regexes so a 50 MB body costs nothing.
    raw = str(text)[: chars * 20 + 4096]
    if "<" in raw and type(text).__name__ == "HTMLBody":
        raw = html.unescape(_TAG.sub(" ", _STYLE.sub(" ", raw)))
    snippet = _SPACE.sub(" ", raw).strip()[:chars].strip()
    return snippet or None


def _accepted_message_class(item_class: str | None) -> bool:
    # None: the field was not fetched; the element type (Message) already says it is mail.
    return item_class is None or item_class.lower() == "ipm.note" or item_class.lower().startswith("ipm.note.")


def message_record(item: Any, folder: str, *, owner: str | None = None, snippet_chars: int = 0) -> MessageRecord:
    """Translate an exchangelib ``Message`` found in ``folder`` ("inbox" or "sentitems").

    An item with neither sent nor received time (saved, never sent) is dated by its creation time.
    The sender is ``From`` (``author``), else ``Sender``; in Sent Items a message without either is
    attributed to ``owner`` (the mailbox's address) when given. The body is never kept: at most its
    first ``snippet_chars`` characters, whitespace collapsed and HTML stripped.
    """
    if not isinstance(item, Message):
        raise BadItem(getattr(item, "id", None), f"unsupported item class: {type(item).__name__}")
    item_id = _item_id(item)
    if not _accepted_message_class(item.item_class):
        raise BadItem(item_id, f"unsupported item class: {item.item_class}")
    sent_at = _utc(item_id, "sent time", item.datetime_sent)
    received_at = _utc(item_id, "received time", item.datetime_received)
    if sent_at is None and received_at is None:
        # a message saved (not sent, not delivered) has only its store times: date it by its creation
        received_at = _utc(item_id, "creation time", getattr(item, "datetime_created", None))
    if sent_at is None and received_at is None:
        raise BadItem(item_id, "no date: neither sent, received nor creation time")

    sender = _participant(item.author, "from") or _participant(item.sender, "from")
    if sender is None and owner and folder == "sentitems":
        sender = _participant(_OwnerMailbox(owner), "from")
    participants = _dedupe(
        [
            sender,
            *(_participant(m, "to") for m in item.to_recipients or ()),
            *(_participant(m, "cc") for m in item.cc_recipients or ()),
            *(_participant(m, "bcc") for m in item.bcc_recipients or ()),
        ]
    )
    if not participants:
        raise BadItem(item_id, "no address: no participant with a valid e-mail address")

    message_id = _text(item_id, "Internet-Message-ID", item.message_id)
    conversation = getattr(item.conversation_id, "id", None) if item.conversation_id is not None else None
    size = item.size if isinstance(item.size, int) and item.size >= 0 else None
    return MessageRecord(
        item_id=item_id,
        change_key=item.changekey,
        folder=folder,
        internet_message_id=message_id,
        conversation_id=str(conversation) if conversation else None,
        subject=_text(item_id, "subject", item.subject),
        sent_at=sent_at,
        received_at=received_at,
        participants=participants,
        size=size,
        sensitivity=_sensitivity(item.sensitivity),
        item_class=item.item_class,
        snippet=_snippet(item, snippet_chars),
    )


class _OwnerMailbox:
    """Stands in for an exchangelib Mailbox when only the owner's address is known."""

    __slots__ = ("email_address", "name")

    def __init__(self, address: str) -> None:
        self.email_address = address
        self.name: str | None = None


# --- meetings ------------------------------------------------------------------------------------

_RESPONSES: dict[str, Response] = {
    "Unknown": "unknown",
    "Organizer": "organizer",
    "Tentative": "tentative",
    "Accept": "accepted",
    "Decline": "declined",
    "NoResponseReceived": "no_response",
}
_ITEM_TYPES: dict[str, CalendarItemType] = {
    "Single": "single",
    "Occurrence": "occurrence",
    "Exception": "exception",
    "RecurringMaster": "recurring_master",
}


def _attendees(attendees: Any, role: Role) -> list[Participant | None]:
    result: list[Participant | None] = []
    for attendee in attendees or ():
        response = _RESPONSES.get(str(getattr(attendee, "response_type", None) or "Unknown"), "unknown")
        result.append(_participant(getattr(attendee, "mailbox", None), role, response))
    return result


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _all_day_dates(item_id: str, start: Any, end: Any, zone: ZoneInfo) -> tuple[date, date]:
    """(first day, day after the last day) of an all-day event."""
    if isinstance(start, datetime):
        start_utc = _utc(item_id, "start", start)
        assert start_utc is not None
        first = start_utc.astimezone(zone).date()
    elif isinstance(start, date):
        first = start
    else:
        raise BadItem(item_id, "no start")
    if isinstance(end, datetime):
        end_utc = _utc(item_id, "end", end)
        assert end_utc is not None
        local_end = end_utc.astimezone(zone)
        # A midnight end is exclusive already; anything later means "through that day".
        after = local_end.date() if local_end.time() == time() else local_end.date() + timedelta(days=1)
    elif isinstance(end, date):
        after = end + timedelta(days=1)  # exchangelib gives all-day ends as the (inclusive) last day
    else:
        after = first + timedelta(days=1)
    if not date(1900, 1, 2) <= first < date(2199, 12, 31):
        raise BadItem(item_id, f"start out of range: {first.isoformat()}")
    if after <= first:
        raise BadItem(item_id, "ends before it starts")
    return first, after


def meeting_record(item: Any) -> MeetingRecord:
    """Translate an exchangelib ``CalendarItem``: a single meeting, a recurring master, an occurrence or
    an exception. Organiser, required and optional attendees become participants (resources - rooms,
    projectors - do not). For occurrences and exceptions ``occurrence_start`` is the original start.
    """
    if not isinstance(item, CalendarItem):
        raise BadItem(getattr(item, "id", None), f"unsupported item class: {type(item).__name__}")
    item_id = _item_id(item)
    zone_name = _meeting_zone(item)
    zone = ZoneInfo(zone_name)
    item_type = _ITEM_TYPES.get(str(item.type), "recurring_master" if item.recurrence else "single")

    start_value, end_value = item.start, item.end
    all_day = bool(item.is_all_day) or (isinstance(start_value, date) and not isinstance(start_value, datetime))
    start_date: date | None = None
    end_date: date | None = None
    if all_day:
        start_date, end_date = _all_day_dates(item_id, start_value, end_value, zone)
        start = _local_midnight_utc(start_date, zone)
        end = _local_midnight_utc(end_date, zone)
    else:
        parsed_start = _utc(item_id, "start", start_value)
        if parsed_start is None:
            raise BadItem(item_id, "no start")
        start = parsed_start
        end = _utc(item_id, "end", end_value) or start
        if end < start:
            raise BadItem(item_id, "ends before it starts")

    occurrence_start: datetime | None = None
    if item_type in ("occurrence", "exception"):
        original = item.original_start or item.recurrence_id or start_value
        occurrence_start = _utc(item_id, "original start", original) if isinstance(original, datetime) else start

    organizer = _participant(item.organizer, "organizer", "organizer")
    participants = _dedupe(
        [
            organizer,
            *_attendees(item.required_attendees, "required"),
            *_attendees(item.optional_attendees, "optional"),
        ]
    )
    if not participants:
        raise BadItem(item_id, "no address: no organiser or attendee with a valid e-mail address")

    return MeetingRecord(
        item_id=item_id,
        change_key=item.changekey,
        uid=_text(item_id, "UID", item.uid),
        occurrence_start=occurrence_start,
        start=start,
        end=end,
        is_all_day=all_day,
        time_zone=zone_name,
        subject=_text(item_id, "subject", item.subject),
        location=_text(item_id, "location", item.location),
        participants=participants,
        is_cancelled=bool(item.is_cancelled),
        sensitivity=_sensitivity(item.sensitivity),
        calendar_item_type=item_type,
        start_date=start_date,
        end_date=end_date,
    )


# --- recurrence ----------------------------------------------------------------------------------

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEK_NUMBERS = ("First", "Second", "Third", "Fourth", "Last")


def _enum_index(value: Any, names: tuple[str, ...]) -> int | None:
    """exchangelib enum fields hold a 1-based int once cleaned/parsed, or the name as given."""
    if isinstance(value, int) and 1 <= value <= len(names):
        return value
    if isinstance(value, str) and value in names:
        return names.index(value) + 1
    return None


def _weekdays(value: Any) -> tuple[int, ...]:
    """Python weekdays from an EWS DaysOfWeek: names/indexes, plus Day/Weekday/WeekendDay."""
    values = value if isinstance(value, list | tuple) else [value]
    days: set[int] = set()
    for v in values:
        if v in (8, "Day"):
            days.update(range(7))
        elif v in (9, "Weekday"):
            days.update(range(5))
        elif v in (10, "WeekendDay"):
            days.update((5, 6))
        else:
            index = _enum_index(v, _WEEKDAY_NAMES)
            if index is not None:
                days.add(index - 1)
    return tuple(sorted(days))


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    return None


def recurrence_spec(recurrence: Any, item_id: str | None = None) -> RecurrenceSpec:
    """Translate an exchangelib ``Recurrence`` (pattern + boundary) into a :class:`RecurrenceSpec`.

    Task regeneration patterns and unknown patterns are a :class:`BadItem`.
    """
    if not isinstance(recurrence, Recurrence):
        raise BadItem(item_id, f"not a recurrence: {type(recurrence).__name__}")
    pattern, boundary = recurrence.pattern, recurrence.boundary
    start = _as_date(getattr(boundary, "start", None))
    if start is None:
        raise BadItem(item_id, "recurrence without start date")
    end = _as_date(boundary.end) if isinstance(boundary, EndDatePattern) else None
    count = boundary.number if isinstance(boundary, NumberedPattern) else None
    if not isinstance(boundary, EndDatePattern | NumberedPattern | NoEndPattern):
        raise BadItem(item_id, f"unsupported recurrence boundary: {type(boundary).__name__}")
    if isinstance(boundary, NumberedPattern) and (not isinstance(count, int) or count < 1):
        raise BadItem(item_id, f"recurrence with invalid count: {count!r}")
    if end is not None and end < start:
        raise BadItem(item_id, "recurrence ends before it starts")
    interval = int(getattr(pattern, "interval", 1) or 1)
    common: dict[str, Any] = {"start": start, "end": end, "count": count, "interval": max(1, interval)}
    if isinstance(pattern, DailyPattern):
        return RecurrenceSpec(pattern="daily", **common)
    if isinstance(pattern, WeeklyPattern):
        first = _enum_index(pattern.first_day_of_week, _WEEKDAY_NAMES) or 1
        return RecurrenceSpec(
            pattern="weekly", days_of_week=_weekdays(pattern.weekdays), first_day_of_week=first - 1, **common
        )
    if isinstance(pattern, AbsoluteMonthlyPattern):
        return RecurrenceSpec(pattern="absolute_monthly", day_of_month=pattern.day_of_month, **common)
    if isinstance(pattern, RelativeMonthlyPattern):
        return RecurrenceSpec(
            pattern="relative_monthly",
            days_of_week=_weekdays(pattern.weekday),
            week_of_month=_enum_index(pattern.week_number, _WEEK_NUMBERS),
            **common,
        )
    if isinstance(pattern, AbsoluteYearlyPattern):
        return RecurrenceSpec(
            pattern="absolute_yearly",
            day_of_month=pattern.day_of_month,
            month=_enum_index(pattern.month, _MONTH_NAMES),
            **common,
        )
    if isinstance(pattern, RelativeYearlyPattern):
        return RecurrenceSpec(
            pattern="relative_yearly",
            days_of_week=_weekdays(pattern.weekday),
            week_of_month=_enum_index(pattern.week_number, _WEEK_NUMBERS),
            month=_enum_index(pattern.month, _MONTH_NAMES),
            **common,
        )
    raise BadItem(item_id, f"unsupported recurrence pattern: {type(pattern).__name__}")


def deleted_occurrence_starts(item: Any) -> list[datetime]:
    """Original starts (UTC) of a master's deleted occurrences, for :func:`mapping.recurrence.expand_occurrences`."""
    item_id = _item_id(item)
    result: list[datetime] = []
    for occurrence in getattr(item, "deleted_occurrences", None) or ():
        start = _utc(item_id, "deleted occurrence", getattr(occurrence, "start", None))
        if start is not None:
            result.append(start)
    return result


def modified_occurrence_records(item: Any, master: MeetingRecord) -> list[MeetingRecord]:
    """Exceptions known from a master's ``ModifiedOccurrences`` alone (their new start/end times).

    A master lists each modified occurrence with its id, new start/end and original start; this
    builds exception records from that and the master's other fields, without another request. When
    the engine fetches the exception items themselves (to see a changed subject or attendees),
    :func:`meeting_record` on those gives the complete records instead.
    """
    item_id = _item_id(item)
    result: list[MeetingRecord] = []
    for occurrence in getattr(item, "modified_occurrences", None) or ():
        original = _utc(item_id, "original start", getattr(occurrence, "original_start", None))
        start = _utc(item_id, "occurrence start", getattr(occurrence, "start", None))
        end = _utc(item_id, "occurrence end", getattr(occurrence, "end", None))
        if original is None or start is None:
            continue
        end = end if end is not None and end >= start else start + (master.end - master.start)
        zone = ZoneInfo(master.time_zone)
        # Everything else (subject, attendees, ...) is the master's: a copy with the moved times.
        result.append(
            replace(
                master,
                item_id=str(getattr(occurrence, "id", None) or master.item_id),
                change_key=getattr(occurrence, "changekey", None),
                occurrence_start=original,
                start=start,
                end=end,
                calendar_item_type="exception",
                start_date=start.astimezone(zone).date() if master.is_all_day else None,
                end_date=end.astimezone(zone).date() if master.is_all_day else None,
            )
        )
    return result


# --- shared with the Graph translation -----------------------------------------------------------
# connector.graph.translate mirrors this module for Graph JSON and must apply exactly the same rules
# (text limits, date range, sensitivity, participant hygiene, all-day dates), so it uses these.
text_field = _text
sensitivity_of = _sensitivity
utc_datetime = _utc
participant_of = _participant
dedupe_participants = _dedupe
all_day_dates = _all_day_dates
local_midnight_utc = _local_midnight_utc
accepted_message_class = _accepted_message_class
ADDRESS_KINDS = _ADDRESS_KINDS
