"""Graph JSON -> records: contacts, messages and calendar instances, purely (no requests here).

This mirrors :mod:`connector.ews.translate` (the EWS translation) rule for rule, through its own helpers,
so a mailbox synced over Graph gives the store what the same mailbox gives over EWS: the same text
limits, date range, e-mail and phone hygiene, sensitivity (unknown values read as the strictest),
participant roles and all-day dates. Everything that cannot become a record raises
:class:`connector.translate_rules.BadItem`, and only that.

Where Graph differs from EWS:

- A contact's sensitivity and user-defined fields, and a message's size and item class, are
  extended properties (``singleValueExtendedProperties``): PR_SENSITIVITY ``Integer 0x0036`` as a
  decimal string, PR_MESSAGE_SIZE ``Integer 0x0E08``, PR_MESSAGE_CLASS ``String 0x001A``, and
  Outlook's custom fields ``String {00020329-0000-0000-C000-000000000046} Name <name>``.
- Graph knows only business (2), home (2) and mobile phones and one address per kind; they get the
  EWS labels they have there (``BusinessPhone``, ``BusinessPhone2``, ..., ``Business``), so phone
  kinds come out the same.
- The calendar comes as *instances* (singles, occurrences, exceptions), never series masters. Each
  becomes a one-occurrence :class:`mapping.changes.MeetingSeries` keyed like the EWS expansion: the
  series' iCalUId (read from the master, which the caller looks up) and the original start.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.translate_rules import (
    ADDRESS_KINDS,
    MAX_DATE,
    MAX_TEXT_CHARS,
    MAX_USER_FIELD_CHARS,
    MIN_DATE,
    BadItem,
    accepted_message_class,
    all_day_dates,
    contact_display_name,
    dedupe_participants,
    local_midnight_utc,
    participant_of,
    sensitivity_of,
    text_field,
    utc_datetime,
    windows_to_iana,
)
from mapping.changes import MeetingSeries
from mapping.hygiene import normalise_email, normalise_phone
from mapping.records import (
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

#: Extended property ids, as relsync asks for them (Graph answers with its own spelling, e.g.
#: ``Integer 0x36``; :func:`extended_properties` reads both).
SENSITIVITY_PROPERTY = "Integer 0x0036"
MESSAGE_SIZE_PROPERTY = "Integer 0x0E08"
MESSAGE_CLASS_PROPERTY = "String 0x001A"
PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"

#: PR_SENSITIVITY values.
_MAPI_SENSITIVITIES: dict[int, Sensitivity] = {0: "normal", 1: "personal", 2: "private", 3: "confidential"}
_RESPONSES: dict[str, Response] = {
    "none": "unknown",
    "organizer": "organizer",
    "tentativelyAccepted": "tentative",
    "accepted": "accepted",
    "declined": "declined",
    "notResponded": "no_response",
}
_ITEM_TYPES: dict[str, CalendarItemType] = {
    "singleInstance": "single",
    "occurrence": "occurrence",
    "exception": "exception",
    "seriesMaster": "recurring_master",
}
_ATTENDEE_ROLES: dict[str, Role] = {"required": "required", "optional": "optional"}  # resources: rooms
_PLAIN_MESSAGE = "#microsoft.graph.message"


#: What ``isinstance`` is asked for JSON objects: ``dict`` first, so the objects Graph's JSON gives pass
#: at once; ``Mapping`` alone goes through the ABC machinery, which cost more than half a CPU second per
#: 20,000 messages (benchmarks/graph_sync_throughput.py). Any other mapping is still accepted.
_MAPPINGS = (dict, Mapping)


def user_field_property(name: str) -> str:
    """The extended property id of an Outlook user-defined contact field ("Source")."""
    return f"String {PUBLIC_STRINGS} Name {name}"


# --- small readers -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _canonical_property_id(property_id: str) -> str:
    """``Integer 0x36`` and ``integer 0x0036`` are the same property: one spelling for lookups.

    Cached: a mailbox's items name the same few properties, and this ran three times per message."""
    kind, _, rest = property_id.strip().partition(" ")
    if rest.lower().startswith("0x"):
        try:
            return f"{kind.lower()} 0x{int(rest, 16):04x}"
        except ValueError:
            pass
    return f"{kind.lower()} {rest.lower()}"


def extended_properties(item: Mapping[str, Any]) -> dict[str, str]:
    """An item's ``singleValueExtendedProperties`` by canonical id (see :func:`property_value`)."""
    result: dict[str, str] = {}
    for prop in item.get("singleValueExtendedProperties") or ():
        if isinstance(prop, _MAPPINGS):
            property_id, value = prop.get("id"), prop.get("value")
            if isinstance(property_id, str) and value is not None:
                result[_canonical_property_id(property_id)] = value if type(value) is str else str(value)
    return result


def property_value(properties: Mapping[str, str], property_id: str) -> str | None:
    return properties.get(_canonical_property_id(property_id))


def _item_id(item: Mapping[str, Any]) -> str:
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise BadItem(None, "no item id")
    return item_id


def _str(item_id: str, field: str, value: Any, limit: int = MAX_TEXT_CHARS) -> str | None:
    if value is None or isinstance(value, str):
        return text_field(item_id, field, value, limit)
    raise BadItem(item_id, f"{field} is not text: {type(value).__name__}")


def _list(item_id: str, field: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadItem(item_id, f"{field} is not a list: {type(value).__name__}")
    return value


def _categories(item_id: str, item: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(c for c in _list(item_id, "categories", item.get("categories")) if isinstance(c, str) and c)


def _mapi_sensitivity(value: str | None) -> Sensitivity:
    # As normalize does for EWS: missing is normal, an unknown value the strictest.
    if value is None:
        return "normal"
    try:
        return _MAPI_SENSITIVITIES.get(int(value.strip()), "confidential")
    except ValueError:
        return "confidential"


#: What Graph writes for a message's times: whole seconds in UTC, read without the general path below.
_PLAIN_UTC_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def parse_instant(item_id: str, field: str, value: Any) -> datetime | None:
    """A Graph ``DateTimeOffset`` ("2026-11-23T09:00:00Z") as an aware UTC datetime, range-checked."""
    if type(value) is str and _PLAIN_UTC_INSTANT.fullmatch(value):
        # The common case, read as the general reader reads it (fromisoformat takes the Z as UTC);
        # an impossible or out-of-range one goes on to the general reader, which says what is wrong.
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if MIN_DATE <= instant < MAX_DATE:
                return instant
    return read_instant(item_id, field, value)


def read_instant(item_id: str, field: str, value: Any) -> datetime | None:
    """:func:`parse_instant` for any ``DateTimeOffset`` text (offsets, fractions, blanks), range-checked."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadItem(item_id, f"{field} is not a date-time: {value!r}"[:200])
    parsed = _fromiso(item_id, field, value)
    if parsed.tzinfo is None:
        raise BadItem(item_id, f"{field} has no time zone")
    return utc_datetime(item_id, field, parsed)


def _fromiso(item_id: str, field: str, text: str) -> datetime:
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    # Graph writes seven fractional digits ("09:00:00.0000000"); Python reads at most six.
    head, dot, tail = raw.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))
        tail = tail[: min(digits, 6)] + tail[digits:]
        raw = f"{head}.{tail}" if tail[:1].isdigit() else head + tail
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise BadItem(item_id, f"{field} is not a date-time: {text[:40]!r}") from None


def _zone(name: str | None) -> ZoneInfo | None:
    iana = windows_to_iana(name)
    return ZoneInfo(iana) if iana else None


def _local_datetime(item_id: str, field: str, value: Any) -> tuple[datetime, date]:
    """A Graph ``dateTimeTimeZone`` ({"dateTime", "timeZone"}) as (UTC instant, its local date)."""
    if not isinstance(value, _MAPPINGS) or not isinstance(value.get("dateTime"), str):
        raise BadItem(item_id, f"no {field}")
    wall = _fromiso(item_id, field, value["dateTime"])
    if wall.tzinfo is None:
        # Graph answers in UTC unless a Prefer: outlook.timezone asked otherwise; an unknown zone
        # is read as UTC, as normalize does with unknown Windows ids.
        wall = wall.replace(tzinfo=_zone(value.get("timeZone")) or UTC)
    instant = utc_datetime(item_id, field, wall)
    assert instant is not None
    return instant, wall.date()


class _Mailbox:
    """An ``emailAddress`` object in the shape normalize's participant reader expects."""

    __slots__ = ("email_address", "name")

    def __init__(self, address: str | None, name: str | None) -> None:
        self.email_address = address
        self.name = name


#: Longer names or addresses are read without the cache (participant_of cuts names at 255 characters).
_CACHED_TEXT_CHARS = 320


@functools.lru_cache(maxsize=16384)
def _participant(address: str | None, name: str | None, role: Role, response: Response | None) -> Participant | None:
    return participant_of(_Mailbox(address, name), role, response)


def clear_caches() -> None:
    """Forget the cached property ids and participants (a benchmark's passes each start cold)."""
    _canonical_property_id.cache_clear()
    _participant.cache_clear()


def _recipient(value: Any, role: Role, response: Response | None = None) -> Participant | None:
    """A ``recipient`` / ``attendee`` ({"emailAddress": {...}}) as a participant, if its address is valid.

    Cached by (address, name, role, response): the same people recur on every page of a mailbox, and
    reading them was the largest part of translating a message (records are immutable, so shared)."""
    if not isinstance(value, _MAPPINGS):
        return None
    data = value.get("emailAddress")
    if not isinstance(data, _MAPPINGS):
        return None
    address = data.get("address")
    name = data.get("name")
    address = address if isinstance(address, str) else None
    name = name if isinstance(name, str) else None
    if (address is not None and len(address) > _CACHED_TEXT_CHARS) or (
        name is not None and len(name) > _CACHED_TEXT_CHARS
    ):
        return participant_of(_Mailbox(address, name), role, response)
    return _participant(address, name, role, response)


# --- contacts ------------------------------------------------------------------------------------

_PHONE_LISTS = (("businessPhones", ("BusinessPhone", "BusinessPhone2")), ("homePhones", ("HomePhone", "HomePhone2")))
_ADDRESSES = (("businessAddress", "Business"), ("homeAddress", "Home"), ("otherAddress", "Other"))
_ADDRESS_PARTS = (
    ("street", "street"),
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "postalCode"),
    ("country", "countryOrRegion"),
)


def _phone_entries(item_id: str, item: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(EWS label, number) of a contact's phones, business first, as EWS lists them."""
    entries: list[tuple[str, str]] = []
    for key, labels in _PHONE_LISTS:
        numbers = [n for n in _list(item_id, key, item.get(key)) if isinstance(n, str)]
        for n, number in enumerate(numbers):
            entries.append((labels[n] if n < len(labels) else labels[-1], number))
    mobile = item.get("mobilePhone")
    if isinstance(mobile, str):
        entries.append(("MobilePhone", mobile))
    return entries


def contact_record(
    item: Mapping[str, Any], default_region: str | None = None, user_fields: Iterable[str] = ()
) -> ContactRecord:
    """Translate a Graph ``contact`` (with its extended properties) like ``normalize.contact_record``.

    ``user_fields`` are the Outlook custom field names configured (``sync.user_fields``), read from
    the extended properties the sync asked for.
    """
    if not isinstance(item, _MAPPINGS):
        raise BadItem(None, f"not a contact: {type(item).__name__}")
    item_id = _item_id(item)
    properties = extended_properties(item)

    emails: list[EmailRecord] = []
    for n, entry in enumerate(_list(item_id, "emailAddresses", item.get("emailAddresses"))):
        address = entry.get("address") if isinstance(entry, _MAPPINGS) else None
        record = normalise_email(address if isinstance(address, str) else None, label=f"EmailAddress{n + 1}")
        if record is not None and record.address not in {e.address for e in emails}:
            emails.append(record)
    phones: list[PhoneRecord] = []
    for label, raw in _phone_entries(item_id, item):
        if raw.strip():
            phone = normalise_phone(raw, default_region, label=label)
            if all((p.e164 or p.raw) != (phone.e164 or phone.raw) for p in phones):
                phones.append(phone)
    postal: list[PostalRecord] = []
    for key, label in _ADDRESSES:
        entry = item.get(key)
        if not isinstance(entry, _MAPPINGS):
            continue
        parts = {part: _str(item_id, f"address {part}", entry.get(graph_key)) for part, graph_key in _ADDRESS_PARTS}
        if any(parts.values()):
            postal.append(PostalRecord(kind=ADDRESS_KINDS.get(label, "other"), label=label, **parts))

    given = _str(item_id, "given name", item.get("givenName"))
    surname = _str(item_id, "surname", item.get("surname"))
    company = _str(item_id, "company name", item.get("companyName"))
    display = contact_display_name(
        item_id, _str(item_id, "display name", item.get("displayName")), given, surname, company, emails, phones
    )

    fields: dict[str, str] = {}
    for name in user_fields:
        text = _str(item_id, name, property_value(properties, user_field_property(name)), MAX_USER_FIELD_CHARS)
        if text:
            fields[name] = text
    change_key = item.get("changeKey")
    return ContactRecord(
        item_id=item_id,
        change_key=change_key if isinstance(change_key, str) else None,
        display_name=display,
        given_name=given,
        middle_name=_str(item_id, "middle name", item.get("middleName")),
        surname=surname,
        nickname=_str(item_id, "nickname", item.get("nickName")),
        company_name=company,
        job_title=_str(item_id, "job title", item.get("jobTitle")),
        department=_str(item_id, "department", item.get("department")),
        website=_str(item_id, "website", item.get("businessHomePage")),
        emails=tuple(emails),
        phones=tuple(phones),
        postal_addresses=tuple(postal),
        categories=_categories(item_id, item),
        sensitivity=_mapi_sensitivity(property_value(properties, SENSITIVITY_PROPERTY)),
        user_fields=fields,
    )


# --- messages ------------------------------------------------------------------------------------


#: A message's properties by their canonical ids (:func:`property_value` without its lookup each time).
_MESSAGE_CLASS_KEY = _canonical_property_id(MESSAGE_CLASS_PROPERTY)
_MESSAGE_SIZE_KEY = _canonical_property_id(MESSAGE_SIZE_PROPERTY)
_SENSITIVITY_KEY = _canonical_property_id(SENSITIVITY_PROPERTY)
_RECIPIENT_LISTS: tuple[tuple[str, Role], ...] = (
    ("toRecipients", "to"),
    ("ccRecipients", "cc"),
    ("bccRecipients", "bcc"),
)


def _snippet(item: Mapping[str, Any], chars: int) -> str | None:
    if chars <= 0:
        return None
    preview = item.get("bodyPreview")
    if not isinstance(preview, str):
        return None
    snippet = " ".join(preview[: chars * 20 + 4096].split())[:chars].strip()
    return snippet or None


def message_record(
    item: Mapping[str, Any], folder: str, *, owner: str | None = None, snippet_chars: int = 0
) -> MessageRecord:
    """Translate a Graph ``message`` found in ``folder`` ("inbox" or "sentitems") like
    ``normalize.message_record``: meeting requests (``eventMessage``) and non-``IPM.Note`` classes
    (read receipts, NDRs) are :class:`BadItem`; the sender is ``from``, else ``sender``, else (in Sent
    Items) ``owner``. The snippet comes from ``bodyPreview`` when asked for (Graph's first 255
    characters of the text body)."""
    if not isinstance(item, _MAPPINGS):
        raise BadItem(None, f"unsupported item class: {type(item).__name__}")
    item_id = _item_id(item)
    odata_type = item.get("@odata.type")
    if odata_type is not None and odata_type != _PLAIN_MESSAGE:
        raise BadItem(item_id, f"not an e-mail: {str(odata_type).rpartition('.')[2]}")
    get = item.get
    properties = extended_properties(item)
    item_class = properties.get(_MESSAGE_CLASS_KEY)
    if not accepted_message_class(item_class):
        raise BadItem(item_id, f"unsupported item class: {item_class}")
    sent_at = parse_instant(item_id, "sent time", get("sentDateTime"))
    received_at = parse_instant(item_id, "received time", get("receivedDateTime"))
    if sent_at is None and received_at is None:
        raise BadItem(item_id, "no date: neither sent nor received time")

    sender = _recipient(get("from"), "from") or _recipient(get("sender"), "from")
    if sender is None and owner and folder == "sentitems":
        sender = _recipient({"emailAddress": {"address": owner}}, "from")
    everyone = [sender]
    for key, role in _RECIPIENT_LISTS:  # in this order: a malformed list is reported as before
        everyone.extend([_recipient(r, role) for r in _list(item_id, key, get(key))])
    participants = dedupe_participants(everyone)
    if not participants:
        raise BadItem(item_id, "no address: no participant with a valid e-mail address")

    size_text = properties.get(_MESSAGE_SIZE_KEY)
    size = int(size_text) if size_text is not None and size_text.strip().isdigit() else None
    conversation = get("conversationId")
    change_key = get("changeKey")
    return MessageRecord(
        item_id=item_id,
        change_key=change_key if isinstance(change_key, str) else None,
        folder=folder,
        internet_message_id=_str(item_id, "Internet-Message-ID", get("internetMessageId")),
        conversation_id=conversation if isinstance(conversation, str) and conversation else None,
        subject=_str(item_id, "subject", get("subject")),
        sent_at=sent_at,
        received_at=received_at,
        participants=participants,
        size=size,
        sensitivity=_mapi_sensitivity(properties.get(_SENSITIVITY_KEY)),
        item_class=item_class,
        snippet=_snippet(item, snippet_chars),
    )


# --- meetings ------------------------------------------------------------------------------------


def meeting_zone(item: Mapping[str, Any]) -> str:
    """The IANA zone of an event: its ``originalStartTimeZone`` (a Windows id, as EWS's StartTimeZone),
    else its start's zone, else UTC."""
    for candidate in (item.get("originalStartTimeZone"), (item.get("start") or {}).get("timeZone")):
        name = windows_to_iana(candidate) if isinstance(candidate, str) else None
        if name:
            return name
    return "UTC"


def series_master_id(item: Mapping[str, Any]) -> str | None:
    """The master's id of an occurrence or exception (whose series' iCalUId must be looked up)."""
    if item.get("type") in ("occurrence", "exception"):
        master = item.get("seriesMasterId")
        return master if isinstance(master, str) and master else None
    return None


def meeting_record(item: Mapping[str, Any], series_uid: str | None = None) -> MeetingRecord:
    """Translate a Graph ``event`` instance like ``normalize.meeting_record``.

    ``series_uid`` is the iCalUId of the series master for an occurrence or exception (Graph gives
    each instance an iCalUId of its own; EWS keys occurrences by the series' UID and the original
    start, and so must this). An occurrence or exception without it is a :class:`BadItem`.
    """
    if not isinstance(item, _MAPPINGS):
        raise BadItem(None, f"unsupported item class: {type(item).__name__}")
    item_id = _item_id(item)
    zone_name = meeting_zone(item)
    zone = ZoneInfo(zone_name)
    raw_type = item.get("type")
    item_type = _ITEM_TYPES.get(raw_type, "single") if isinstance(raw_type, str) else "single"

    start_date: date | None = None
    end_date: date | None = None
    start, first_day = _local_datetime(item_id, "start", item.get("start"))
    if item.get("end") is not None:
        end, after_day = _local_datetime(item_id, "end", item.get("end"))
    else:
        end, after_day = start, first_day + timedelta(days=1)
    if item.get("isAllDay") is True:
        # Graph's all-day start/end are midnights of the dates; the end date is exclusive. The
        # normalize helper takes the inclusive last day, as exchangelib gives it.
        start_date, end_date = all_day_dates(item_id, first_day, after_day - timedelta(days=1), zone)
        start = local_midnight_utc(start_date, zone)
        end = local_midnight_utc(end_date, zone)
    elif end < start:
        raise BadItem(item_id, "ends before it starts")

    occurrence_start: datetime | None = None
    uid = _str(item_id, "UID", item.get("iCalUId"))
    if item_type in ("occurrence", "exception"):
        if not series_uid:
            raise BadItem(item_id, "the series of this occurrence is unknown")
        uid = _str(item_id, "UID", series_uid)
        occurrence_start = parse_instant(item_id, "original start", item.get("originalStart")) or start

    organizer = _recipient(item.get("organizer"), "organizer", "organizer")
    attendees = [a for a in _list(item_id, "attendees", item.get("attendees")) if isinstance(a, _MAPPINGS)]
    by_role: dict[Role, list[Participant | None]] = {"required": [], "optional": []}
    for attendee in attendees:
        role = _ATTENDEE_ROLES.get(str(attendee.get("type") or "required"))
        if role is None:
            continue
        status = attendee.get("status")
        answer = status.get("response") if isinstance(status, _MAPPINGS) else None
        response = _RESPONSES.get(answer, "unknown") if isinstance(answer, str) else "unknown"
        by_role[role].append(_recipient(attendee, role, response))
    participants = dedupe_participants([organizer, *by_role["required"], *by_role["optional"]])
    if not participants:
        raise BadItem(item_id, "no address: no organiser or attendee with a valid e-mail address")

    location = item.get("location")
    change_key = item.get("changeKey")
    return MeetingRecord(
        item_id=item_id,
        change_key=change_key if isinstance(change_key, str) else None,
        uid=uid,
        occurrence_start=occurrence_start,
        start=start,
        end=end,
        is_all_day=start_date is not None,
        time_zone=zone_name,
        subject=_str(item_id, "subject", item.get("subject")),
        location=_str(item_id, "location", location.get("displayName") if isinstance(location, _MAPPINGS) else None),
        participants=participants,
        is_cancelled=item.get("isCancelled") is True,
        sensitivity=sensitivity_of(item.get("sensitivity")),
        calendar_item_type=item_type,
        start_date=start_date,
        end_date=end_date,
    )


def meeting_series(item: Mapping[str, Any], series_uid: str | None = None) -> MeetingSeries:
    """A calendar instance as the store takes it: one occurrence, itself (see :func:`meeting_record`)."""
    record = meeting_record(item, series_uid)
    return MeetingSeries(item=record, occurrences=(record,))


def removed(item: Mapping[str, Any]) -> bool:
    """A delta entry saying the item is gone from the folder (deleted, moved out, left the window)."""
    return "@removed" in item
