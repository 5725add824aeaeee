"""Meetings: an exchangelib ``CalendarItem`` -> :class:`mapping.records.MeetingRecord`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from exchangelib import CalendarItem

from connector.ews.translate.zones import meeting_zone
from connector.translate_rules import (
    BadItem,
    all_day_dates,
    dedupe_participants,
    item_id_of,
    local_midnight_utc,
    participant_of,
    sensitivity_of,
    text_field,
    timed_span,
    utc_datetime,
)
from mapping.records import (
    CalendarItemType,
    MeetingRecord,
    Participant,
    Response,
    Role,
)

# --- meetings ------------------------------------------------------------------------------------

#: EWS's ResponseType and CalendarItemType values as relsync's records name them (also read by the
#: fast reader, connector.ews.fast.calendar).
RESPONSES: dict[str, Response] = {
    "Unknown": "unknown",
    "Organizer": "organizer",
    "Tentative": "tentative",
    "Accept": "accepted",
    "Decline": "declined",
    "NoResponseReceived": "no_response",
}
ITEM_TYPES: dict[str, CalendarItemType] = {
    "Single": "single",
    "Occurrence": "occurrence",
    "Exception": "exception",
    "RecurringMaster": "recurring_master",
}


def _attendees(attendees: Any, role: Role) -> list[Participant | None]:
    result: list[Participant | None] = []
    for attendee in attendees or ():
        response = RESPONSES.get(str(getattr(attendee, "response_type", None) or "Unknown"), "unknown")
        result.append(participant_of(getattr(attendee, "mailbox", None), role, response))
    return result


def meeting_record(item: Any) -> MeetingRecord:
    """Translate an exchangelib ``CalendarItem``: a single meeting, a recurring master, an occurrence or
    an exception. Organiser, required and optional attendees become participants (resources - rooms,
    projectors - do not). For occurrences and exceptions ``occurrence_start`` is the original start.
    """
    if not isinstance(item, CalendarItem):
        raise BadItem(getattr(item, "id", None), f"unsupported item class: {type(item).__name__}")
    item_id = item_id_of(item)
    zone_name = meeting_zone(item)
    zone = ZoneInfo(zone_name)
    item_type = ITEM_TYPES.get(str(item.type), "recurring_master" if item.recurrence else "single")

    start_value, end_value = item.start, item.end
    all_day = bool(item.is_all_day) or (isinstance(start_value, date) and not isinstance(start_value, datetime))
    start_date: date | None = None
    end_date: date | None = None
    if all_day:
        start_date, end_date = all_day_dates(item_id, start_value, end_value, zone)
        start = local_midnight_utc(start_date, zone)
        end = local_midnight_utc(end_date, zone)
    else:
        start, end = timed_span(item_id, start_value, end_value)

    occurrence_start: datetime | None = None
    if item_type in ("occurrence", "exception"):
        original = item.original_start or item.recurrence_id or start_value
        if isinstance(original, datetime):
            occurrence_start = utc_datetime(item_id, "original start", original)
        else:
            occurrence_start = start

    organizer = participant_of(item.organizer, "organizer", "organizer")
    participants = dedupe_participants(
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
        uid=text_field(item_id, "UID", item.uid),
        occurrence_start=occurrence_start,
        start=start,
        end=end,
        is_all_day=all_day,
        time_zone=zone_name,
        subject=text_field(item_id, "subject", item.subject),
        location=text_field(item_id, "location", item.location),
        participants=participants,
        is_cancelled=bool(item.is_cancelled),
        sensitivity=sensitivity_of(item.sensitivity),
        calendar_item_type=item_type,
        start_date=start_date,
        end_date=end_date,
    )
