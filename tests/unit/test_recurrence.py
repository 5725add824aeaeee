"""Expanding recurring meetings: local wall time across DST, exceptions, deletions, all-day, patterns."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.records import MeetingRecord, Participant
from mapping.recurrence import RecurrenceSpec, expand_occurrences

BERLIN = ZoneInfo("Europe/Berlin")


def master(start: datetime, end: datetime, zone: str = "Europe/Berlin", **overrides: Any) -> MeetingRecord:
    fields: dict[str, Any] = {
        "item_id": "M",
        "change_key": "ck",
        "uid": "UID",
        "occurrence_start": None,
        "start": start.astimezone(UTC),
        "end": end.astimezone(UTC),
        "is_all_day": False,
        "time_zone": zone,
        "subject": "Weekly",
        "location": None,
        "participants": (Participant("jane@acme.example", None, "organizer", "organizer"),),
        "calendar_item_type": "recurring_master",
    }
    fields.update(overrides)
    return MeetingRecord(**fields)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


WEEKLY_MONDAY = RecurrenceSpec(pattern="weekly", interval=1, start=date(2026, 3, 16), days_of_week=(0,))
MONDAY_0900 = master(berlin(2026, 3, 16, 9), berlin(2026, 3, 16, 10))


def test_weekly_berlin_meeting_keeps_local_time_across_dst() -> None:
    # DST starts in Berlin on Sunday 29 March 2026: 09:00 CET = 08:00Z, then 09:00 CEST = 07:00Z.
    occ = expand_occurrences(MONDAY_0900, WEEKLY_MONDAY, [], [], utc(2026, 3, 1), utc(2026, 4, 13))
    assert [o.start for o in occ] == [utc(2026, 3, 16, 8), utc(2026, 3, 23, 8), utc(2026, 3, 30, 7), utc(2026, 4, 6, 7)]
    assert all(o.start.astimezone(BERLIN).time() == time(9) for o in occ)
    assert all(o.end - o.start == timedelta(hours=1) for o in occ)
    assert all(o.occurrence_start == o.start and o.calendar_item_type == "occurrence" for o in occ)


def test_weekly_berlin_meeting_keeps_local_time_when_dst_ends() -> None:
    spec = dataclasses.replace(WEEKLY_MONDAY, start=date(2026, 10, 19))
    m = master(berlin(2026, 10, 19, 9), berlin(2026, 10, 19, 10))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 10, 1), utc(2026, 11, 3))
    assert [o.start for o in occ] == [utc(2026, 10, 19, 7), utc(2026, 10, 26, 8), utc(2026, 11, 2, 8)]


def test_meeting_across_the_night_of_the_change_keeps_its_wall_clock_length() -> None:
    # 01:00-04:00 local on the night clocks go forward lasts 2 real hours, as in Outlook.
    spec = RecurrenceSpec(pattern="daily", start=date(2026, 3, 28))
    m = master(berlin(2026, 3, 28, 1), berlin(2026, 3, 28, 4))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 3, 27), utc(2026, 3, 30))
    assert [(o.end - o.start) for o in occ] == [timedelta(hours=3), timedelta(hours=2), timedelta(hours=3)]


def test_exception_replaces_its_original_occurrence() -> None:
    moved = dataclasses.replace(
        MONDAY_0900,
        occurrence_start=utc(2026, 3, 23, 8),
        start=utc(2026, 3, 24, 13),
        end=utc(2026, 3, 24, 14),
        subject="Moved to Tuesday",
        calendar_item_type="exception",
    )
    occ = expand_occurrences(MONDAY_0900, WEEKLY_MONDAY, [moved], [], utc(2026, 3, 16), utc(2026, 3, 31))
    assert [(o.start, o.subject) for o in occ] == [
        (utc(2026, 3, 16, 8), "Weekly"),
        (utc(2026, 3, 24, 13), "Moved to Tuesday"),
        (utc(2026, 3, 30, 7), "Weekly"),
    ]


def test_exception_moved_into_the_window_is_included_and_its_original_slot_is_not() -> None:
    moved = dataclasses.replace(
        MONDAY_0900,
        occurrence_start=utc(2026, 4, 6, 7),
        start=utc(2026, 4, 2, 7),
        end=utc(2026, 4, 2, 8),
        calendar_item_type="exception",
    )
    occ = expand_occurrences(MONDAY_0900, WEEKLY_MONDAY, [moved], [], utc(2026, 3, 31), utc(2026, 4, 5))
    assert [o.start for o in occ] == [utc(2026, 4, 2, 7)]
    later = expand_occurrences(MONDAY_0900, WEEKLY_MONDAY, [moved], [], utc(2026, 4, 5), utc(2026, 4, 8))
    assert later == []


def test_deleted_occurrence_is_dropped() -> None:
    occ = expand_occurrences(MONDAY_0900, WEEKLY_MONDAY, [], [utc(2026, 3, 23, 8)], utc(2026, 3, 16), utc(2026, 3, 31))
    assert [o.start for o in occ] == [utc(2026, 3, 16, 8), utc(2026, 3, 30, 7)]


def test_cancelled_exception_stays_marked_cancelled() -> None:
    cancelled = dataclasses.replace(
        MONDAY_0900, occurrence_start=utc(2026, 3, 23, 8), start=utc(2026, 3, 23, 8), is_cancelled=True
    )
    occ = expand_occurrences(MONDAY_0900, WEEKLY_MONDAY, [cancelled], [], utc(2026, 3, 23), utc(2026, 3, 24))
    assert [o.is_cancelled for o in occ] == [True]


def test_count_bounded_series_stops_after_its_count() -> None:
    spec = dataclasses.replace(WEEKLY_MONDAY, count=3)
    occ = expand_occurrences(MONDAY_0900, spec, [], [], utc(2026, 1, 1), utc(2027, 1, 1))
    assert len(occ) == 3


def test_end_date_is_inclusive() -> None:
    spec = dataclasses.replace(WEEKLY_MONDAY, end=date(2026, 3, 30))
    occ = expand_occurrences(MONDAY_0900, spec, [], [], utc(2026, 1, 1), utc(2027, 1, 1))
    assert [o.start.date() for o in occ] == [date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)]


def test_window_far_after_the_start_of_an_endless_series() -> None:
    spec = RecurrenceSpec(pattern="daily", start=date(2000, 1, 1))
    m = master(berlin(2000, 1, 1, 9), berlin(2000, 1, 1, 10))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 7, 1), utc(2026, 7, 8))
    assert [o.start for o in occ] == [utc(2026, 7, d, 7) for d in range(1, 8)]


def test_empty_or_reversed_window_gives_nothing() -> None:
    assert expand_occurrences(MONDAY_0900, WEEKLY_MONDAY, [], [], utc(2026, 4, 1), utc(2026, 4, 1)) == []
    assert expand_occurrences(MONDAY_0900, WEEKLY_MONDAY, [], [], utc(2026, 5, 1), utc(2026, 4, 1)) == []


def test_all_day_series_expands_by_date_at_local_midnight() -> None:
    m = master(
        berlin(2026, 3, 27),
        berlin(2026, 3, 28),
        is_all_day=True,
        start_date=date(2026, 3, 27),
        end_date=date(2026, 3, 28),
    )
    spec = RecurrenceSpec(pattern="weekly", start=date(2026, 3, 27), days_of_week=(4,))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 3, 20), utc(2026, 4, 5))
    assert [(o.start_date, o.end_date) for o in occ] == [
        (date(2026, 3, 27), date(2026, 3, 28)),
        (date(2026, 4, 3), date(2026, 4, 4)),
    ]
    assert [o.start for o in occ] == [utc(2026, 3, 26, 23), utc(2026, 4, 2, 22)]


def test_monthly_day_31_falls_on_the_last_day_of_short_months() -> None:
    spec = RecurrenceSpec(pattern="absolute_monthly", start=date(2026, 1, 31), day_of_month=31)
    m = master(berlin(2026, 1, 31, 9), berlin(2026, 1, 31, 10))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 1, 1), utc(2026, 5, 1))
    assert [o.start.astimezone(BERLIN).date() for o in occ] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_relative_monthly_last_friday() -> None:
    spec = RecurrenceSpec(pattern="relative_monthly", start=date(2026, 1, 30), days_of_week=(4,), week_of_month=5)
    m = master(berlin(2026, 1, 30, 15), berlin(2026, 1, 30, 16))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 1, 1), utc(2026, 4, 1))
    assert [o.start.astimezone(BERLIN).date() for o in occ] == [date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27)]


def test_relative_monthly_first_weekday() -> None:
    spec = RecurrenceSpec(
        pattern="relative_monthly", start=date(2026, 2, 2), days_of_week=(0, 1, 2, 3, 4), week_of_month=1
    )
    m = master(berlin(2026, 2, 2, 9), berlin(2026, 2, 2, 10))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 2, 1), utc(2026, 4, 1))
    assert [o.start.astimezone(BERLIN).date() for o in occ] == [date(2026, 2, 2), date(2026, 3, 2)]


def test_every_weekday_skips_weekends() -> None:
    spec = RecurrenceSpec(pattern="weekly", start=date(2026, 6, 1), days_of_week=(0, 1, 2, 3, 4))
    m = master(berlin(2026, 6, 1, 8), berlin(2026, 6, 1, 9))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 6, 1), utc(2026, 6, 15))
    assert len(occ) == 10
    assert all(o.start.astimezone(BERLIN).weekday() < 5 for o in occ)


def test_every_other_week_with_interval() -> None:
    spec = dataclasses.replace(WEEKLY_MONDAY, interval=2)
    occ = expand_occurrences(MONDAY_0900, spec, [], [], utc(2026, 3, 1), utc(2026, 4, 30))
    assert [o.start.date() for o in occ] == [date(2026, 3, 16), date(2026, 3, 30), date(2026, 4, 13), date(2026, 4, 27)]


def test_yearly_patterns() -> None:
    absolute = RecurrenceSpec(pattern="absolute_yearly", start=date(2026, 2, 28), day_of_month=29, month=2)
    m = master(berlin(2026, 2, 28, 9), berlin(2026, 2, 28, 10))
    occ = expand_occurrences(m, absolute, [], [], utc(2026, 1, 1), utc(2029, 1, 1))
    assert [o.start.astimezone(BERLIN).date() for o in occ] == [date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]
    relative = RecurrenceSpec(
        pattern="relative_yearly", start=date(2026, 11, 26), days_of_week=(3,), week_of_month=4, month=11
    )
    occ = expand_occurrences(m, relative, [], [], utc(2026, 1, 1), utc(2028, 1, 1))
    assert [o.start.astimezone(BERLIN).date() for o in occ] == [date(2026, 11, 26), date(2027, 11, 25)]


def test_new_york_series_is_computed_in_new_york() -> None:
    # US DST starts on 8 March 2026, three weeks before Europe's: the UTC instant moves then.
    ny = ZoneInfo("America/New_York")
    m = master(datetime(2026, 3, 2, 9, tzinfo=ny), datetime(2026, 3, 2, 10, tzinfo=ny), zone="America/New_York")
    spec = RecurrenceSpec(pattern="weekly", start=date(2026, 3, 2), days_of_week=(0,))
    occ = expand_occurrences(m, spec, [], [], utc(2026, 3, 1), utc(2026, 3, 17))
    assert [o.start for o in occ] == [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13), utc(2026, 3, 16, 13)]


def _wall_time_exists(day: date, at: time, tz: ZoneInfo) -> bool:
    wall = datetime.combine(day, at, tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None)


specs = st.builds(
    RecurrenceSpec,
    pattern=st.sampled_from(["daily", "weekly", "absolute_monthly", "relative_monthly"]),
    interval=st.integers(1, 4),
    start=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    days_of_week=st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True).map(lambda d: tuple(sorted(d))),
    day_of_month=st.integers(1, 31),
    week_of_month=st.integers(1, 5),
    count=st.one_of(st.none(), st.integers(1, 60)),
)
zones = st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata"])


@settings(max_examples=60, deadline=None)
@given(
    spec=specs,
    zone=zones,
    hour=st.integers(0, 23),
    minutes=st.integers(15, 600),
    window_start=st.datetimes(datetime(2024, 1, 1), datetime(2028, 1, 1), timezones=st.just(UTC)),
    window_days=st.integers(1, 120),
    deleted_index=st.integers(0, 5),
)
def test_expansion_is_within_window_sorted_unique_and_keeps_local_time(
    spec: RecurrenceSpec,
    zone: str,
    hour: int,
    minutes: int,
    window_start: datetime,
    window_days: int,
    deleted_index: int,
) -> None:
    tz = ZoneInfo(zone)
    local_start = datetime.combine(spec.start, time(hour, 30), tzinfo=tz)
    m = master(local_start, local_start + timedelta(minutes=minutes), zone=zone)
    window_end = window_start + timedelta(days=window_days)
    occ = expand_occurrences(m, spec, [], [], window_start, window_end)
    starts = [o.start for o in occ]
    assert starts == sorted(starts)
    assert len({o.occurrence_start for o in occ}) == len(occ)
    assert all(window_start <= s < window_end for s in starts)
    # Wall-clock time of day is kept, except where it does not exist (the spring-forward gap).
    for s in starts:
        local = s.astimezone(tz)
        assert local.time() == time(hour, 30) or not _wall_time_exists(local.date(), time(hour, 30), tz)
    if occ:
        victim = occ[deleted_index % len(occ)].occurrence_start
        assert victim is not None
        fewer = expand_occurrences(m, spec, [], [victim], window_start, window_end)
        assert [o.occurrence_start for o in fewer] == [o.occurrence_start for o in occ if o.occurrence_start != victim]
