"""Recurring series of the generated calendars: occurrence starts and the DST changes of the window.

The days of a series come from ``connector.fake.recurrence.occurrence_dates``, the same expansion the
fake servers serve, so a generated series and what the fake Exchange and Graph expand agree.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from connector.fake.company.rand import zone_info
from connector.fake.company.records import HISTORY_DAYS
from connector.fake.model import Recurrence
from connector.fake.recurrence import occurrence_dates


def occurrence_starts(recurrence: Recurrence, first_start: datetime, limit: int = 500) -> list[datetime]:
    """The original start instants of a series, in the first start's time zone.

    ``first_start`` is the master's ``Start`` (aware, in the event's zone); occurrences keep its wall
    clock time, so their UTC instant moves across a DST change, as Exchange does. At most ``limit``
    occurrences are returned for a series without end.
    """
    tz = first_start.tzinfo
    wall = first_start.replace(tzinfo=None).time()
    return [datetime.combine(d, wall, tzinfo=tz) for d in occurrence_dates(recurrence, limit)]


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
