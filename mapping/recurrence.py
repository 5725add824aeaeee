"""Expanding recurring meetings into their occurrences within a window.

Occurrences are computed on the *wall clock of the series' own time zone* with ``dateutil.rrule``, then
converted to UTC: a weekly 09:00 Europe/Berlin meeting stays at 09:00 in Berlin across the DST change,
so its UTC instant moves from 08:00Z to 07:00Z. Computing in UTC (or in the server's zone) is the
classic bug this module exists to avoid.

An occurrence is identified by its *original* start (``MeetingRecord.occurrence_start``, UTC), which an
exception keeps even after it was moved; deleted occurrences are given by their original start too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule

from mapping.records import MeetingRecord

Pattern = Literal["daily", "weekly", "absolute_monthly", "relative_monthly", "absolute_yearly", "relative_yearly"]

#: Safety rail: never produce more occurrences than this from one series, whatever the window.
MAX_OCCURRENCES = 5000

_WEEKDAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


@dataclass(frozen=True, slots=True)
class RecurrenceSpec:
    """A recurrence rule as Exchange states it, in plain data.

    - ``days_of_week``: Python weekdays (0 = Monday .. 6 = Sunday). Weekly: the days it occurs on.
      Relative patterns: the candidate days, of which the ``week_of_month``-th is taken, so
      "the last weekday" is ``days_of_week=(0, 1, 2, 3, 4), week_of_month=5``.
    - ``week_of_month``: 1-4, or 5 for "last" (relative patterns).
    - ``day_of_month``: 1-31; in shorter months the last day is used, as Exchange does.
    - ``month``: 1-12 (yearly patterns).
    - ``start``: the local date of the first occurrence; ``end`` (inclusive local date) or ``count``
      or neither (no end).
    """

    pattern: Pattern
    interval: int = 1
    start: date = date(1970, 1, 1)
    days_of_week: tuple[int, ...] = ()
    day_of_month: int | None = None
    week_of_month: int | None = None
    month: int | None = None
    first_day_of_week: int = 0
    end: date | None = None
    count: int | None = None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # The connector maps Windows ids to IANA; anything it could not map was recorded as UTC already.
        return ZoneInfo("UTC")


def _rule(spec: RecurrenceSpec, dtstart: datetime) -> rrule.rrule:
    freq: int
    kwargs: dict[str, object] = {}
    interval = max(1, spec.interval)
    if spec.pattern == "daily":
        freq = rrule.DAILY
    elif spec.pattern == "weekly":
        freq = rrule.WEEKLY
        kwargs["byweekday"] = tuple(_WEEKDAYS[d % 7] for d in spec.days_of_week) or (_WEEKDAYS[dtstart.weekday()],)
        kwargs["wkst"] = _WEEKDAYS[spec.first_day_of_week % 7]
    elif spec.pattern in ("absolute_monthly", "absolute_yearly"):
        freq = rrule.MONTHLY if spec.pattern == "absolute_monthly" else rrule.YEARLY
        day = min(max(spec.day_of_month or dtstart.day, 1), 31)
        if day <= 28:
            kwargs["bymonthday"] = day
        else:
            # "Day 31" means the month's last day in shorter months (Exchange semantics); rrule would
            # skip those months. Take the last existing day among 28..day instead.
            kwargs["bymonthday"] = tuple(range(28, day + 1))
            kwargs["bysetpos"] = -1
        if spec.pattern == "absolute_yearly":
            kwargs["bymonth"] = spec.month or dtstart.month
            interval = 1  # EWS yearly patterns have no interval
    else:  # relative_monthly / relative_yearly
        freq = rrule.MONTHLY if spec.pattern == "relative_monthly" else rrule.YEARLY
        kwargs["byweekday"] = tuple(_WEEKDAYS[d % 7] for d in spec.days_of_week) or (_WEEKDAYS[dtstart.weekday()],)
        week = spec.week_of_month or 1
        kwargs["bysetpos"] = -1 if week >= 5 else week
        if spec.pattern == "relative_yearly":
            kwargs["bymonth"] = spec.month or dtstart.month
            interval = 1
    if spec.count is not None:
        kwargs["count"] = max(0, spec.count)
    elif spec.end is not None:
        kwargs["until"] = datetime.combine(spec.end, time.max)
    return rrule.rrule(freq, dtstart=dtstart, interval=interval, cache=False, **kwargs)


def _to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time (autumn) is its first instant; a non-existent one (spring gap)
    # is read with the pre-transition offset, i.e. pushed forward by the gap, as Exchange does.
    return wall.replace(tzinfo=zone).astimezone(UTC)


def expand_occurrences(
    master: MeetingRecord,
    recurrence: RecurrenceSpec,
    exceptions: list[MeetingRecord],
    deleted: list[datetime],
    window_start: datetime,
    window_end: datetime,
) -> list[MeetingRecord]:
    """The occurrences of a recurring series whose start lies in ``[window_start, window_end)``.

    Each occurrence is the master with its own ``start``/``end``, ``occurrence_start`` (its original
    start, UTC) and ``calendar_item_type="occurrence"``. An exception (matched by its
    ``occurrence_start``) replaces the occurrence it modifies, and is included when its *new* start is
    in the window, even if it was moved in from outside. Occurrences whose original start is in
    ``deleted`` are dropped. All-day series are expanded by date (``start_date``/``end_date``) and
    their instants are local midnights. The result is sorted by start and has no duplicates.
    """
    if window_end <= window_start:
        return []
    zone = _zone(master.time_zone)
    deleted_set = {d.astimezone(UTC) for d in deleted}
    by_original = {e.occurrence_start.astimezone(UTC): e for e in exceptions if e.occurrence_start is not None}

    if master.is_all_day:
        first_day = master.start_date or master.start.astimezone(zone).date()
        last_day = master.end_date or (first_day + timedelta(days=1))
        span_days = max((last_day - first_day).days, 1)
        dtstart = datetime.combine(recurrence.start, time())
    else:
        local_start = master.start.astimezone(zone)
        local_end = master.end.astimezone(zone)
        # Wall-clock duration: a 09:00-10:00 meeting stays 09:00-10:00 local on every occurrence.
        wall_duration = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
        dtstart = datetime.combine(recurrence.start, local_start.time().replace(tzinfo=None))

    # Search on the local wall clock with a day of slack each side (offsets are at most +-14 h), then
    # filter exactly on UTC instants below.
    lo = window_start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    hi = window_end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    rule = _rule(recurrence, dtstart)

    occurrences: dict[datetime, MeetingRecord] = {}
    for n, wall in enumerate(rule.xafter(lo, inc=True) if lo > dtstart else rule):
        if wall > hi or n >= MAX_OCCURRENCES * 4:
            break
        if master.is_all_day:
            start = _to_utc(wall, zone)
            end_wall = wall + timedelta(days=span_days)
            occurrence = dataclasses.replace(
                master,
                occurrence_start=start,
                start=start,
                end=_to_utc(end_wall, zone),
                start_date=wall.date(),
                end_date=end_wall.date(),
                calendar_item_type="occurrence",
            )
        else:
            start = _to_utc(wall, zone)
            occurrence = dataclasses.replace(
                master,
                occurrence_start=start,
                start=start,
                end=_to_utc(wall + wall_duration, zone),
                calendar_item_type="occurrence",
            )
        if start in deleted_set or start in by_original:
            continue
        if window_start <= start < window_end:
            occurrences[start] = occurrence

    result = list(occurrences.values())
    seen = set(occurrences)
    for original, exception in by_original.items():
        if original in deleted_set or original in seen:
            continue
        if window_start <= exception.start < window_end:
            seen.add(original)
            result.append(exception)
    result.sort(key=lambda m: (m.start, m.occurrence_start or m.start))
    return result[:MAX_OCCURRENCES]
