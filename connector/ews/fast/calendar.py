"""Calendar items: a ``t:CalendarItem`` element -> :class:`mapping.records.MeetingRecord` (and, for a
recurring master, the parts of its series), as exchangelib's parse (``CalendarItem.from_xml``) and
:mod:`connector.ews.translate` (``meeting_record``, ``recurrence_spec``, ``modified_occurrence_records``,
``deleted_occurrence_starts``) give them: single meetings, all-day events (their dates in their own time
zones, as exchangelib converts them), occurrences and exceptions (``GetItem`` of a master's modified
occurrences), recurring masters with their pattern, modified and deleted occurrences.

A master's series is finished by the reader (:func:`connector.ews.reader.finish_series`) once the
page's exception items are fetched: :class:`PendingSeries` carries what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from exchangelib.errors import UnknownTimeZone
from exchangelib.ewsdatetime import EWSTimeZone

from connector.ews.fast.common import (
    ITEM_ID,
    Children,
    MailboxView,
    T,
    Unreadable,
    categories_of,
    datetime_of,
    flag,
    id_of,
    mailbox,
    text,
    utc_text,
)
from connector.ews.fast.recurrence import recurrence_of
from connector.ews.translate.meetings import ITEM_TYPES, RESPONSES
from connector.ews.translate.zones import zone_name
from connector.translate_rules import (
    BadItem,
    all_day_dates,
    dedupe_participants,
    local_midnight_utc,
    participant_of,
    sensitivity_of,
    text_field,
    timed_span,
    utc_datetime,
)
from mapping.changes import MeetingSeries
from mapping.records import CalendarItemType, MeetingRecord, Participant, Role
from mapping.recurrence import RecurrenceSpec

#: Elements exchangelib reads into fields meeting_record looks at that this reader does not read.
_NOT_READ = (T + "MeetingTimeZone", T + "RecurrenceId")
_ONE_DAY = timedelta(days=1)


class _Zone:
    """A Windows zone id as exchangelib reads it: its ``EWSTimeZone`` (for all-day dates, as a plain
    ``ZoneInfo`` of the same key) and the IANA name :func:`connector.ews.translate.zones.zone_name` makes of it."""

    __slots__ = ("name", "tz")

    def __init__(self, tz_id: str | None) -> None:
        self.tz: ZoneInfo | None = None  # no zone, or one exchangelib does not know (it reads that as none)
        self.name: str | None = None
        if tz_id is None:
            return
        try:
            found = EWSTimeZone.from_ms_id(tz_id)
        except UnknownTimeZone:
            return
        self.tz = ZoneInfo(found.key)
        self.name = zone_name(found)


_ZONES: dict[str, _Zone] = {}
_NO_ZONE = _Zone(None)


def _zone(item: Any, tag: str) -> _Zone:
    found = item.find(tag)
    if found is None:
        return _NO_ZONE
    tz_id = found.get("Id") or found.get("Name")
    if not tz_id:
        raise Unreadable(tag)
    zone = _ZONES.get(tz_id)
    if zone is None:
        zone = _ZONES[tz_id] = _Zone(tz_id)
    return zone


def _attendees(item: Any, tag: str, role: Role) -> list[Participant | None]:
    found = item.find(tag)
    result: list[Participant | None] = []
    for attendee in () if found is None else found.findall(T + "Attendee"):
        box = attendee.find(T + "Mailbox")
        response = RESPONSES.get(text(attendee, T + "ResponseType") or "Unknown", "unknown")
        result.append(None if box is None else participant_of(MailboxView(box), role, response))
    return result


def meeting_of(elem: Any) -> MeetingRecord:
    """As :func:`connector.ews.translate.meetings.meeting_record` reads exchangelib's ``CalendarItem``."""
    item = Children(elem)
    item_id, change_key = id_of(item)
    for tag in _NOT_READ:
        if item.find(tag) is not None:
            raise Unreadable(tag)
    start_zone = _zone(item, T + "StartTimeZone")
    zone_label = start_zone.name or "UTC"  # else the start's own zone: every start read here is UTC ("...Z")
    kind = text(item, T + "CalendarItemType")
    default_type: CalendarItemType = "recurring_master" if item.find(T + "Recurrence") is not None else "single"
    item_type = ITEM_TYPES.get(kind, default_type) if kind is not None else default_type

    raw_start = datetime_of(item, T + "Start")
    raw_end = datetime_of(item, T + "End")
    start_value: datetime | date | None = raw_start
    all_day = flag(item, T + "IsAllDayEvent")
    start_date: date | None = None
    end_date: date | None = None
    if all_day:
        # exchangelib's CalendarItem.from_xml: the dates of the start and of the end less a day, each in
        # its own zone (no zone: this machine's, which this reader leaves to exchangelib).
        end_day: date | None = None
        if raw_start is not None:
            if start_zone.tz is None:
                raise Unreadable("StartTimeZone")
            start_value = raw_start.astimezone(start_zone.tz).date()
        if raw_end is not None:
            end_zone = _zone(item, T + "EndTimeZone")
            if end_zone.tz is None:
                raise Unreadable("EndTimeZone")
            end_day = (raw_end - _ONE_DAY).astimezone(end_zone.tz).date()
        zone = ZoneInfo(zone_label)
        start_date, end_date = all_day_dates(item_id, start_value, end_day, zone)
        start = local_midnight_utc(start_date, zone)
        end = local_midnight_utc(end_date, zone)
    else:
        start, end = timed_span(item_id, start_value, raw_end)

    occurrence_start: datetime | None = None
    if item_type in ("occurrence", "exception"):
        original = datetime_of(item, T + "OriginalStart") or start_value
        occurrence_start = (
            utc_datetime(item_id, "original start", original) if isinstance(original, datetime) else start
        )

    participants = dedupe_participants(
        [
            participant_of(mailbox(item, T + "Organizer"), "organizer", "organizer"),
            *_attendees(item, T + "RequiredAttendees", "required"),
            *_attendees(item, T + "OptionalAttendees", "optional"),
        ]
    )
    if not participants:
        raise BadItem(item_id, "no address: no organiser or attendee with a valid e-mail address")
    return MeetingRecord(
        item_id=item_id,
        change_key=change_key,
        uid=text_field(item_id, "UID", text(item, T + "UID")),
        occurrence_start=occurrence_start,
        start=start,
        end=end,
        is_all_day=all_day,
        time_zone=zone_label,
        subject=text_field(item_id, "subject", text(item, T + "Subject")),
        location=text_field(item_id, "location", text(item, T + "Location")),
        participants=participants,
        is_cancelled=flag(item, T + "IsCancelled"),
        sensitivity=sensitivity_of(text(item, T + "Sensitivity")),
        calendar_item_type=item_type,
        start_date=start_date,
        end_date=end_date,
    )


# --- recurring series ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExceptionRef:
    """A master's modified occurrence as it lists it: what GetItem asks for (its new start decides
    whether it is fetched at all, see ``EwsReader._fetch_exceptions``)."""

    item_id: str
    change_key: str | None
    start: datetime | None


@dataclass(frozen=True, slots=True)
class PendingSeries:
    """A recurring master read from its element, waiting for its exception items (``GetItem``)."""

    record: MeetingRecord
    recurrence: RecurrenceSpec
    modified: tuple[MeetingRecord, ...]
    deleted: tuple[datetime, ...]
    exceptions: tuple[ExceptionRef, ...]
    categories: tuple[str, ...]


def _occurrence_time(elem: Any, tag: str) -> datetime | None:
    value = text(elem, tag)
    return None if value is None else utc_text(value, tag)


def _modified(item: Any, master: MeetingRecord) -> tuple[list[MeetingRecord], list[ExceptionRef]]:
    """As :func:`connector.ews.translate.recurrence.modified_occurrence_records` (and the ids the reader
    fetches): exception records from the master's ``ModifiedOccurrences`` alone."""
    found = item.find(T + "ModifiedOccurrences")
    records: list[MeetingRecord] = []
    refs: list[ExceptionRef] = []
    for occurrence in () if found is None else found.findall(T + "Occurrence"):
        id_elem = occurrence.find(ITEM_ID)
        if id_elem is None:
            raise Unreadable("Occurrence")
        occurrence_id, occurrence_key = id_elem.get("Id") or None, id_elem.get("ChangeKey") or None
        raw_original = _occurrence_time(occurrence, T + "OriginalStart")
        raw_start = _occurrence_time(occurrence, T + "Start")
        raw_end = _occurrence_time(occurrence, T + "End")
        if occurrence_id:
            refs.append(ExceptionRef(occurrence_id, occurrence_key, raw_start))
        original = utc_datetime(master.item_id, "original start", raw_original)
        start = utc_datetime(master.item_id, "occurrence start", raw_start)
        end = utc_datetime(master.item_id, "occurrence end", raw_end)
        if original is None or start is None:
            continue
        end = end if end is not None and end >= start else start + (master.end - master.start)
        zone = ZoneInfo(master.time_zone)
        records.append(
            replace(
                master,
                item_id=occurrence_id or master.item_id,
                change_key=occurrence_key,
                occurrence_start=original,
                start=start,
                end=end,
                calendar_item_type="exception",
                start_date=start.astimezone(zone).date() if master.is_all_day else None,
                end_date=end.astimezone(zone).date() if master.is_all_day else None,
            )
        )
    return records, refs


def _deleted(item: Any, item_id: str) -> list[datetime]:
    """As :func:`connector.ews.translate.recurrence.deleted_occurrence_starts`."""
    found = item.find(T + "DeletedOccurrences")
    result: list[datetime] = []
    for occurrence in () if found is None else found.findall(T + "DeletedOccurrence"):
        start = utc_datetime(item_id, "deleted occurrence", _occurrence_time(occurrence, T + "Start"))
        if start is not None:
            result.append(start)
    return result


def calendar_item(item: Any) -> tuple[MeetingSeries | PendingSeries, tuple[str, ...]]:
    """A calendar item of a ``SyncFolderItems`` page: a single meeting (or any item that is not a
    recurring master with a recurrence) as its series of one, a master as a :class:`PendingSeries`."""
    record = meeting_of(item)
    recurrence = item.find(T + "Recurrence")
    categories = categories_of(item)
    if record.calendar_item_type != "recurring_master" or recurrence is None:
        if item.find(T + "ModifiedOccurrences") is not None:
            raise Unreadable("ModifiedOccurrences")  # exchangelib's path fetches their items: leave it to it
        return MeetingSeries(item=record, occurrences=(record,)), categories
    # The order of the reader's _series, so the first bad value gives the same skip reason.
    modified, refs = _modified(item, record)
    spec = recurrence_of(recurrence, record.item_id)
    deleted = _deleted(item, record.item_id)
    return PendingSeries(record, spec, tuple(modified), tuple(deleted), tuple(refs), categories), categories


def exception_of(elem: Any) -> MeetingRecord:
    """An exception item of a ``GetItem`` response (see ``EwsReader._exception_items``)."""
    if elem.tag != T + "CalendarItem":
        raise Unreadable(elem.tag)
    return meeting_of(elem)
