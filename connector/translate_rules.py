"""The translation rules every backend applies (EWS here, Graph in ``connector.graph.translate``).

Text limits, the date range, sensitivity, participant hygiene, all-day dates and the accepted message
classes: the Graph translation mirrors the EWS one rule for rule through these, so they live here once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz as WINDOWS_TO_IANA

from mapping.hygiene import normalise_email
from mapping.records import (
    AddressKind,
    EmailRecord,
    Participant,
    PhoneRecord,
    Response,
    Role,
    Sensitivity,
)

MAX_TEXT_CHARS = 4096
#: An Outlook user-defined field (a staff note such as "What matters") may be long: the store keeps it
#: and the business case cuts and reports it (mapping.what_matters), so the contact is not lost.
MAX_USER_FIELD_CHARS = 65536
MIN_DATE = datetime(1900, 1, 1, tzinfo=UTC)
MAX_DATE = datetime(2200, 1, 1, tzinfo=UTC)


class BadItem(Exception):
    """An Exchange item that cannot become a record; the engine skips, counts and logs it."""

    def __init__(self, item_id: str | None, reason: str) -> None:
        super().__init__(f"{reason} (item {item_id or 'without id'})")
        self.item_id = item_id
        self.reason = reason


# --- small readers -------------------------------------------------------------------------------


def item_id_of(item: Any) -> str:
    """The item's id; an item without one is a ``BadItem``."""
    item_id = getattr(item, "id", None)
    if not item_id:
        raise BadItem(None, "no item id")
    return str(item_id)


def text_field(item_id: str, field: str, value: Any, limit: int = MAX_TEXT_CHARS) -> str | None:
    """A stripped text field, ``None`` when empty; absurdly long text (over ``limit``) rejects the item."""
    if value is None:
        return None
    text = str(value)
    if len(text) > limit:
        raise BadItem(item_id, f"{field} too long: {len(text)} chars")
    return text.strip() or None


def timed_span(item_id: str, start: Any, end: Any) -> tuple[datetime, datetime]:
    """A timed (not all-day) meeting's start and end in UTC: a start is required, a missing end is the
    start, an end before the start refuses the item."""
    first = utc_datetime(item_id, "start", start)
    if first is None:
        raise BadItem(item_id, "no start")
    last = utc_datetime(item_id, "end", end) or first
    if last < first:
        raise BadItem(item_id, "ends before it starts")
    return first, last


def contact_display_name(
    item_id: str,
    display: str | None,
    given: str | None,
    surname: str | None,
    company: str | None,
    emails: Iterable[EmailRecord],
    phones: Sequence[PhoneRecord],
) -> str:
    """What a contact is called: Outlook's display name, else the name from its parts, the company,
    its first valid e-mail address or its first phone number; a contact with none of them is refused."""
    name = (
        display
        or " ".join(p for p in (given, surname) if p)
        or company
        or next((e.address for e in emails if e.is_valid), None)
    )
    if name:
        return name
    if not phones:
        raise BadItem(item_id, "no address: contact without name, e-mail or phone")
    return phones[0].e164 or phones[0].raw


_SENSITIVITIES: dict[str, Sensitivity] = {
    "normal": "normal",
    "personal": "personal",
    "private": "private",
    "confidential": "confidential",
}


def sensitivity_of(value: Any) -> Sensitivity:
    """The record's sensitivity; unknown values are read as the strictest."""
    # Unknown values are read as the strictest, so a new Exchange value never leaks a private item.
    if value is None:
        return "normal"
    return _SENSITIVITIES.get(str(value).lower(), "confidential")


def utc_datetime(item_id: str, field: str, value: Any) -> datetime | None:
    """An aware date-time as UTC (None stays None); naive, absurd or out-of-range values are a ``BadItem``."""
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
    if not MIN_DATE <= result < MAX_DATE:
        raise BadItem(item_id, f"{field} out of range: {result.isoformat()}")
    return result


def participant_of(mailbox: Any, role: Role, response: Response | None = None) -> Participant | None:
    """A participant from a mailbox with a valid SMTP address, else None."""
    if mailbox is None:
        return None
    address = getattr(mailbox, "email_address", None)
    record = normalise_email(address) if isinstance(address, str) else None
    if record is None or not record.is_valid:
        return None
    name = getattr(mailbox, "name", None)
    name = str(name).strip()[:255] or None if name else None
    return Participant(address=record.address, name=name, role=role, response=response)


def dedupe_participants(participants: Iterable[Participant | None]) -> tuple[Participant, ...]:
    """The participants without Nones and without repeats of the same address in the same role."""
    seen: set[tuple[str, str]] = set()
    result: list[Participant] = []
    for p in participants:
        if p is None or (p.address, p.role) in seen:
            continue
        seen.add((p.address, p.role))
        result.append(p)
    return tuple(result)


ADDRESS_KINDS: dict[str, AddressKind] = {"Business": "work", "Home": "home", "Other": "other"}


def accepted_message_class(item_class: str | None) -> bool:
    """Whether an item class is mail relsync keeps (``IPM.Note`` and its subclasses)."""
    # None: the field was not fetched; the element type (Message) already says it is mail.
    return item_class is None or item_class.lower() == "ipm.note" or item_class.lower().startswith("ipm.note.")


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of ``day`` in ``zone``, as UTC."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def all_day_dates(item_id: str, start: Any, end: Any, zone: ZoneInfo) -> tuple[date, date]:
    """(first day, day after the last day) of an all-day event."""
    if isinstance(start, datetime):
        start_utc = utc_datetime(item_id, "start", start)
        assert start_utc is not None
        first = start_utc.astimezone(zone).date()
    elif isinstance(start, date):
        first = start
    else:
        raise BadItem(item_id, "no start")
    if isinstance(end, datetime):
        end_utc = utc_datetime(item_id, "end", end)
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


# --- time zones ----------------------------------------------------------------------------------
#: Ids Exchange writes that CLDR's windowsZones table (tzlocal's copy) does not list.
_EXCHANGE_ZONE_IDS = {"tzone://Microsoft/Utc": "UTC"}


def windows_to_iana(zone_id: str | None) -> str | None:
    """IANA name for a Windows time zone id ("W. Europe Standard Time" -> "Europe/Berlin"), from
    CLDR's windowsZones table as tzlocal ships it (a table both backends share, so Graph's translation
    never needs exchangelib's copy of it).

    An id that already is a valid IANA name is returned as is; unknown ids give ``None``.
    """
    if not zone_id:
        return None
    iana = _EXCHANGE_ZONE_IDS.get(zone_id) or WINDOWS_TO_IANA.get(zone_id)
    if iana:
        return "UTC" if iana in ("Etc/UTC", "Etc/GMT") else iana
    try:
        ZoneInfo(zone_id)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return "UTC" if zone_id in ("Etc/UTC", "Etc/GMT", "Etc/Zulu", "UCT", "Zulu") else zone_id
