"""A ``t:Recurrence`` element -> :class:`mapping.recurrence.RecurrenceSpec`, as exchangelib's parse
(``exchangelib.recurrence.Recurrence.from_xml``) and :func:`connector.ews.translate.recurrence.recurrence_spec`
give it, with the same :class:`BadItem` reasons.

A pattern or boundary this reader does not know, two of either, or a date in a form it does not read
exactly as exchangelib does is :class:`Unreadable` (the item goes to exchangelib). Patterns and ranges:
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurrence-recurrencetype
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from connector.ews.fast.common import T, Unreadable, text
from connector.translate_rules import BadItem
from mapping.recurrence import RecurrenceSpec

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS = (*_WEEKDAY_NAMES, "Day", "Weekday", "WeekendDay")
_WEEK_NUMBERS = ("First", "Second", "Third", "Fourth", "Last")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_PATTERNS = {
    T + tag: name
    for tag, name in (
        ("DailyRecurrence", "daily"),
        ("WeeklyRecurrence", "weekly"),
        ("AbsoluteMonthlyRecurrence", "absolute_monthly"),
        ("RelativeMonthlyRecurrence", "relative_monthly"),
        ("AbsoluteYearlyRecurrence", "absolute_yearly"),
        ("RelativeYearlyRecurrence", "relative_yearly"),
    )
}
_BOUNDARIES = {T + "NoEndRecurrence": "none", T + "EndDateRecurrence": "end", T + "NumberedRecurrence": "count"}
#: Patterns with an ``Interval`` (exchangelib's yearly patterns have none: theirs reads as 1).
_WITH_INTERVAL = frozenset({"daily", "weekly", "absolute_monthly", "relative_monthly"})


def _integer(elem: Any, tag: str) -> int | None:
    """exchangelib's ``IntegerField``: ``int()`` of the text, ``None`` when absent or not a number."""
    value = text(elem, tag)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _enum(elem: Any, tag: str, names: tuple[str, ...], default: int | None = None) -> int | None:
    """exchangelib's ``EnumField``: the 1-based index of the name, ``None`` for a name it does not know."""
    value = text(elem, tag)
    if value is None:
        return default
    return names.index(value) + 1 if value in names else None


def _weekday_list(elem: Any) -> list[int] | None:
    """exchangelib's ``WeekdaysField`` (a list): ``None`` when any name is unknown."""
    value = text(elem, T + "DaysOfWeek")
    if value is None:
        return None
    parts = value.split(" ")
    return [_WEEKDAY_NAMES.index(p) + 1 for p in parts] if all(p in _WEEKDAY_NAMES for p in parts) else None


def _weekdays(value: int | list[int] | None) -> tuple[int, ...]:
    """As ``recurrence._weekdays`` reads the indexes exchangelib gives."""
    days: set[int] = set()
    for v in value if isinstance(value, list) else [value]:
        if v == 8:
            days.update(range(7))
        elif v == 9:
            days.update(range(5))
        elif v == 10:
            days.update((5, 6))
        elif v is not None and 1 <= v <= 7:
            days.add(v - 1)
    return tuple(sorted(days))


def _in_range(value: int | None, names: tuple[str, ...]) -> int | None:
    return value if value is not None and 1 <= value <= len(names) else None


def _date(elem: Any, tag: str) -> date | None:
    """A ``StartDate``/``EndDate`` as exchangelib's ``DateOrDateTimeField`` reads it, as a plain date."""
    value = text(elem, tag)
    if value is None:
        return None
    if len(value) < 10 or value[4] != "-" or value[7] != "-" or not value[:4].isdigit():
        raise Unreadable(tag)
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise Unreadable(tag) from None
    rest = value[10:]
    if rest == "Z":  # exchangelib: EWSDate.from_string, the date as written
        return day
    if len(rest) == 6 and rest[0] in "+-" and rest[3] == ":" and rest[1:3].isdigit() and rest[4:].isdigit():
        if int(rest[1:3]) > 23 or int(rest[4:]) > 59:
            raise Unreadable(tag)
        return day  # EWSDate.from_string drops the offset
    if rest == "":
        # exchangelib reads a bare date as a date-time (EWSDateTime.from_string): midnight in this
        # machine's local zone, then UTC; recurrence_spec takes its date. The same, here.
        return datetime.fromisoformat(value).astimezone(UTC).date()
    raise Unreadable(tag)


def recurrence_of(elem: Any, item_id: str) -> RecurrenceSpec:
    """The spec of a master's ``t:Recurrence`` element (a :class:`BadItem` as recurrence_spec raises it)."""
    patterns = [(child, _PATTERNS[child.tag]) for child in elem if child.tag in _PATTERNS]
    boundaries = [(child, _BOUNDARIES[child.tag]) for child in elem if child.tag in _BOUNDARIES]
    if len(patterns) != 1 or len(boundaries) != 1:
        raise Unreadable("Recurrence")
    (pattern, kind), (boundary, range_kind) = patterns[0], boundaries[0]
    start = _date(boundary, T + "StartDate")
    end = _date(boundary, T + "EndDate") if range_kind == "end" else None
    count = _integer(boundary, T + "NumberOfOccurrences") if range_kind == "count" else None
    if start is None:
        raise BadItem(item_id, "recurrence without start date")
    if range_kind == "count" and (count is None or count < 1):
        raise BadItem(item_id, f"recurrence with invalid count: {count!r}")
    if end is not None and end < start:
        raise BadItem(item_id, "recurrence ends before it starts")
    interval = (_integer(pattern, T + "Interval") or 1) if kind in _WITH_INTERVAL else 1
    common: dict[str, Any] = {"start": start, "end": end, "count": count, "interval": max(1, interval)}
    if kind == "daily":
        return RecurrenceSpec(pattern="daily", **common)
    if kind == "weekly":
        first = _in_range(_enum(pattern, T + "FirstDayOfWeek", _WEEKDAY_NAMES, default=1), _WEEKDAY_NAMES) or 1
        return RecurrenceSpec(
            pattern="weekly", days_of_week=_weekdays(_weekday_list(pattern)), first_day_of_week=first - 1, **common
        )
    day_of_month = _integer(pattern, T + "DayOfMonth")
    if kind == "absolute_monthly":
        return RecurrenceSpec(pattern="absolute_monthly", day_of_month=day_of_month, **common)
    weekday = _enum(pattern, T + "DaysOfWeek", _WEEKDAYS)
    week = _in_range(_enum(pattern, T + "DayOfWeekIndex", _WEEK_NUMBERS), _WEEK_NUMBERS)
    month = _in_range(_enum(pattern, T + "Month", _MONTHS), _MONTHS)
    if kind == "relative_monthly":
        return RecurrenceSpec(pattern="relative_monthly", days_of_week=_weekdays(weekday), week_of_month=week, **common)
    if kind == "absolute_yearly":
        return RecurrenceSpec(pattern="absolute_yearly", day_of_month=day_of_month, month=month, **common)
    return RecurrenceSpec(
        pattern="relative_yearly", days_of_week=_weekdays(weekday), week_of_month=week, month=month, **common
    )
