"""Expansion of a recurring master into its occurrences (what Exchange computes server-side).

Shared by the fake EWS (GetItem of an occurrence, CalendarView) and the fake Graph (calendarView).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

from connector.fake.model import ItemSpec, Recurrence

#: Series without an end are expanded this far (Exchange itself caps calendar views similarly).
MAX_OCCURRENCES = 1000

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone_for(ms_id: str | None) -> ZoneInfo:
    if not ms_id:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(MS_TIMEZONE_TO_IANA_MAP.get(ms_id, ms_id))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def occurrence_dates(r: Recurrence, limit: int = MAX_OCCURRENCES) -> Iterator[date]:
    """The days a series occurs on, in order: its ``occurrences`` if it has a count, else at most ``limit``.

    Shared by the fake servers (below) and the company generator (``company.series``), so a generated
    series and the fake's expansion of it are the same days.
    """
    n = 0
    limit = r.occurrences if r.occurrences is not None else limit
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
        wanted = sorted(WEEKDAYS.index(x) for x in (r.days_of_week or (WEEKDAYS[r.start.weekday()],)))
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
    return [datetime.combine(d, local_time, tz).astimezone(UTC) for d in occurrence_dates(rec)]


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a series: its position, original start, and whether it was deleted or changed."""

    instance: int  # 1-based InstanceIndex
    original_start: datetime
    deleted: bool
    exception: ItemSpec | None


def occurrences(master: ItemSpec) -> list[Occurrence]:
    """Every occurrence of a recurring master, deleted ones included, in InstanceIndex order."""
    deleted = {d.astimezone(UTC) for d in master.deleted_occurrences}
    exceptions = {e.original_start.astimezone(UTC): e for e in master.exceptions if e.original_start}
    return [Occurrence(n, s, s in deleted, exceptions.get(s)) for n, s in enumerate(occurrence_starts(master), 1)]


def item_duration(spec: ItemSpec) -> timedelta:
    """End minus Start (an hour when either is missing, as Outlook's default meeting)."""
    start, end = spec.fields.get("Start"), spec.fields.get("End")
    return (end - start) if start is not None and end is not None else timedelta(hours=1)


def occurrence_values(master: ItemSpec, occ: Occurrence) -> dict[str, Any]:
    """The field values of one occurrence: the master's, moved to its start, or its exception's."""
    values = {k: v for k, v in master.fields.items() if k != "Recurrence"}
    if occ.exception is not None:
        values.update(occ.exception.fields)
        values["CalendarItemType"] = "Exception"
    else:
        values["Start"] = occ.original_start
        values["End"] = occ.original_start + item_duration(master)
        values["CalendarItemType"] = "Occurrence"
    values["OriginalStart"] = occ.original_start
    values["IsRecurring"] = True
    return values
