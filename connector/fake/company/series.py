"""Recurring series of the generated calendars: occurrence starts and the DST changes of the window.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final

from connector.fake.company.rand import zone_info
from connector.fake.company.records import HISTORY_DAYS
from connector.fake.model import Recurrence

WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# --------------------------------------------------------------------------------------------------
# Recurrence helpers (public: the fake server expands series with the same code)
# --------------------------------------------------------------------------------------------------


def add_months(d: date, months: int, day: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, day)


def occurrence_starts(recurrence: Recurrence, first_start: datetime, limit: int = 500) -> list[datetime]:
    """The original start instants of a series, in the first start's time zone.

    ``first_start`` is the master's ``Start`` (aware, in the event's zone); occurrences keep its wall
    clock time, so their UTC instant moves across a DST change, as Exchange does. At most ``limit``
    occurrences are returned for a series without end.
    """
    tz = first_start.tzinfo
    wall = first_start.replace(tzinfo=None).time()
    max_n = recurrence.occurrences if recurrence.occurrences is not None else limit
    out: list[datetime] = []

    def emit(d: date) -> bool:
        if d < recurrence.start:
            return True
        if recurrence.end is not None and d > recurrence.end:
            return False
        out.append(datetime.combine(d, wall, tzinfo=tz))
        return len(out) < max_n

    if recurrence.pattern == "Daily":
        d = recurrence.start
        while emit(d):
            d += timedelta(days=recurrence.interval)
    elif recurrence.pattern == "Weekly":
        days = sorted(WEEKDAYS.index(x) for x in recurrence.days_of_week) or [recurrence.start.weekday()]
        week = recurrence.start - timedelta(days=recurrence.start.weekday())
        going = True
        while going:
            for wd in days:
                if not emit(week + timedelta(days=wd)):
                    going = False
                    break
            week += timedelta(weeks=recurrence.interval)
    else:
        dom = recurrence.day_of_month or recurrence.start.day
        k = 0
        while emit(add_months(recurrence.start.replace(day=1), k, dom)):
            k += recurrence.interval
    return out


def dst_transitions(anchor: datetime) -> tuple[tuple[str, date], ...]:
    """DST changes in Berlin and New York within the generated window (oldest first)."""
    found: list[tuple[str, date]] = []
    lo = (anchor - timedelta(days=HISTORY_DAYS - 60)).date()
    hi = (anchor + timedelta(days=45)).date()
    for zone_name in ("Europe/Berlin", "America/New_York"):
        tz = zone_info(zone_name)
        d = lo
        while d <= hi:
            a = datetime.combine(d, time(12), tzinfo=tz).utcoffset()
            b = datetime.combine(d + timedelta(days=1), time(12), tzinfo=tz).utcoffset()
            if a != b:
                found.append((zone_name, d + timedelta(days=1)))
            d += timedelta(days=1)
    found.sort(key=lambda x: (x[1], x[0]))
    return tuple(found)
