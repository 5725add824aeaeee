"""Expansion of a recurring master into occurrence start times (what Exchange computes server-side)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

from connector.fake.model import ItemSpec, Recurrence

#: Series without an end are expanded this far (Exchange itself caps calendar views similarly).
MAX_OCCURRENCES = 1000

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone_for(ms_id: str | None) -> ZoneInfo:
    if not ms_id:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(MS_TIMEZONE_TO_IANA_MAP.get(ms_id, ms_id))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _dates(r: Recurrence) -> Iterator[date]:
    n = 0
    limit = r.occurrences if r.occurrences is not None else MAX_OCCURRENCES
    interval = max(1, r.interval)

    def done(d: date) -> bool:
        return n >= limit or (r.end is not None and d > r.end)

    if r.pattern == "Daily":
        d = r.start
        while not done(d):
            yield d
            n += 1
            d += timedelta(days=interval)
    elif r.pattern == "Weekly":
        wanted = sorted(_WEEKDAYS.index(x) for x in (r.days_of_week or (_WEEKDAYS[r.start.weekday()],)))
        week = r.start - timedelta(days=r.start.weekday())
        while True:
            for wd in wanted:
                d = week + timedelta(days=wd)
                if d < r.start:
                    continue
                if done(d):
                    return
                yield d
                n += 1
            week += timedelta(weeks=interval)
    else:
        dom = r.day_of_month or r.start.day
        y, m = r.start.year, r.start.month
        while True:
            d = date(y, m, min(dom, calendar.monthrange(y, m)[1]))
            if d >= r.start:
                if done(d):
                    return
                yield d
                n += 1
            m += interval
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1


def occurrence_starts(master: ItemSpec) -> list[datetime]:
    """The original start (UTC) of every occurrence of the series, including deleted ones.

    The position in this list plus one is the ``InstanceIndex`` of ``t:OccurrenceItemId``.
    """
    rec: Recurrence | None = master.fields.get("Recurrence")
    start: datetime | None = master.fields.get("Start")
    if rec is None or start is None:
        return []
    tz = zone_for(master.fields.get("StartTimeZone"))
    local_time: time = start.astimezone(tz).time().replace(tzinfo=None)
    return [datetime.combine(d, local_time, tz).astimezone(UTC) for d in _dates(rec)]
