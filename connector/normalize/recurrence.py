"""Recurring series: exchangelib recurrences -> :class:`mapping.recurrence.RecurrenceSpec`, deleted and
modified occurrences.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

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

from connector.normalize.rules import (
    BadItem,
    item_id_of,
    utc_datetime,
)
from mapping.records import (
    MeetingRecord,
)
from mapping.recurrence import RecurrenceSpec

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
    item_id = item_id_of(item)
    result: list[datetime] = []
    for occurrence in getattr(item, "deleted_occurrences", None) or ():
        start = utc_datetime(item_id, "deleted occurrence", getattr(occurrence, "start", None))
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
    item_id = item_id_of(item)
    result: list[MeetingRecord] = []
    for occurrence in getattr(item, "modified_occurrences", None) or ():
        original = utc_datetime(item_id, "original start", getattr(occurrence, "original_start", None))
        start = utc_datetime(item_id, "occurrence start", getattr(occurrence, "start", None))
        end = utc_datetime(item_id, "occurrence end", getattr(occurrence, "end", None))
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
