"""Recurring meetings (exceptions, deleted occurrences) and a weekly meeting across a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.fake.model import ItemSpec, Recurrence
from tests.e2e.syncenv import ALICE, DANA, ERIN, EnvFactory, HandCompany, meeting

BERLIN = ZoneInfo("Europe/Berlin")
WIDE: dict[str, Any] = {"calendar_days_back": 3650, "calendar_days_ahead": 3650}


def as_utc(value: object) -> datetime:
    assert isinstance(value, datetime | str)
    v = datetime.fromisoformat(value) if isinstance(value, str) else value
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def series(uid: int, start: datetime, count: int, **kw: object) -> ItemSpec:
    spec = meeting(
        uid,
        "Weekly customer sync",
        start,
        ALICE,
        [ERIN],
        StartTimeZone="W. Europe Standard Time",
        EndTimeZone="W. Europe Standard Time",
        Recurrence=Recurrence("Weekly", 1, start.date(), days_of_week=(start.strftime("%A"),), occurrences=count),
    )
    for k, v in kw.items():
        setattr(spec, k, v)
    return spec


def test_recurring_meeting_with_an_exception_and_a_deleted_occurrence(make_env: EnvFactory, db_url: str) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    moved = ItemSpec(
        "CalendarItem",
        {
            "Subject": "Weekly customer sync (moved)",
            "Start": start + timedelta(weeks=1, hours=2),
            "End": start + timedelta(weeks=1, hours=3),
            "CalendarItemType": "Exception",
        },
        original_start=start + timedelta(weeks=1),
    )
    master = series(1, start, 5, exceptions=(moved,), deleted_occurrences=(start + timedelta(weeks=2),))
    env = make_env(HandCompany(items={(ALICE.email, "calendar"): [master]}), url=db_url)
    report = env.sync(folders=["calendar"], **WIDE)
    assert report.ok, report.error
    rows = env.rows(
        "SELECT occurrence_start, occurred_at, subject, is_cancelled FROM interactions "
        "WHERE ical_uid = 'uid-1' ORDER BY occurrence_start"
    )
    live = [r for r in rows if not r[3]]
    originals = [as_utc(r[0]) for r in live]
    expected = [(start + timedelta(weeks=w)).astimezone(UTC) for w in (0, 1, 3, 4)]
    assert originals == expected
    exception = live[1]
    assert exception[2] == "Weekly customer sync (moved)"  # fetched from the exception itself
    assert as_utc(exception[1]) == (start + timedelta(weeks=1, hours=2)).astimezone(UTC)
    assert all(r[2] == "Weekly customer sync" for i, r in enumerate(live) if i != 1)
    assert all(as_utc(r[1]) == as_utc(r[0]) for i, r in enumerate(live) if i != 1)
    assert (start + timedelta(weeks=2)).astimezone(UTC) not in {as_utc(r[0]) for r in live}
    # each occurrence has the organiser and the customer as participants, and alice as viewer
    assert env.count("interaction_viewers") == len(rows)
    assert env.count("interaction_participants", "address = :a", a=ERIN.email) == len(rows)
    # a second sync changes nothing
    assert env.sync(folders=["calendar"], **WIDE).folders[0].result.items == 0
    assert env.count("interactions") == len(rows)


def test_weekly_meeting_across_the_dst_change_keeps_its_local_time(make_env: EnvFactory) -> None:
    # Europe/Berlin leaves summer time on Sunday 2026-10-25: 09:00 local is 07:00 UTC before, 08:00 after
    start = datetime(2026, 10, 12, 9, 0, tzinfo=BERLIN)
    env = make_env(HandCompany(items={(ALICE.email, "calendar"): [series(2, start, 4)]}))
    assert env.sync(folders=["calendar"], **WIDE).ok
    starts = [
        as_utc(r[0])
        for r in env.rows("SELECT occurred_at FROM interactions WHERE ical_uid = 'uid-2' ORDER BY occurred_at")
    ]
    assert starts == [
        datetime(2026, 10, 12, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 19, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
    ]
    assert {s.astimezone(BERLIN).hour for s in starts} == {9}


def test_a_single_meeting_edited_and_an_all_day_event(make_env: EnvFactory) -> None:
    day = date(2026, 3, 12)
    all_day = meeting(
        3,
        "Trade fair with Dana",
        datetime(2026, 3, 12, 0, 0, tzinfo=BERLIN),
        ALICE,
        [DANA],
        End=datetime(2026, 3, 13, 0, 0, tzinfo=BERLIN),
        IsAllDayEvent=True,
        StartTimeZone="W. Europe Standard Time",
        EndTimeZone="W. Europe Standard Time",
    )
    env = make_env(HandCompany(items={(ALICE.email, "calendar"): [all_day]}))
    assert env.sync(folders=["calendar"], **WIDE).ok
    row = env.rows("SELECT occurred_at, ends_at, is_all_day FROM interactions WHERE ical_uid = 'uid-3'")[0]
    assert row[2]
    assert as_utc(row[0]) == datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)


def test_a_series_deleted_while_the_sync_state_was_lost_drops_the_viewer_of_every_occurrence(
    make_env: EnvFactory,
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    keep = meeting(4, "Other meeting", start, ALICE, [DANA])
    env = make_env(HandCompany(items={(ALICE.email, "calendar"): [series(1, start, 4), keep]}))
    assert env.sync(folders=["calendar"], **WIDE).ok
    assert env.count("interaction_viewers") == 5
    mb = env.mb()
    mb.delete(next(i for i, s in mb.items("calendar") if s.fields["UID"] == "uid-1"))
    mb.invalidate_sync_states("calendar")
    report = env.sync(folders=["calendar"], **WIDE)
    assert report.ok and report.folders[0].full_sync and report.folders[0].unlinked == 1
    # the occurrences stay as corporate memory, but alice no longer holds any of them
    assert env.count("interactions") == 5
    assert env.count("interaction_viewers") == 1


def test_a_series_made_private_later_leaves_no_occurrence_behind(make_env: EnvFactory) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    env = make_env(
        HandCompany(
            items={
                (ALICE.email, "calendar"): [
                    series(1, start, 4, fields={**series(1, start, 4).fields, "Subject": "Therapy sessions"})
                ]
            }
        )
    )
    assert env.sync(folders=["calendar"], **WIDE).ok
    assert env.count("interactions") == 4
    mb = env.mb()
    mb.update(next(i for i, _ in mb.items("calendar")), Sensitivity="Private")
    report = env.sync(folders=["calendar"], **WIDE)
    assert report.ok and dict(report.folders[0].result.skipped) == {"private": 1}
    assert env.count("interactions") == 0 and env.count("interaction_participants") == 0
    assert "Therapy" not in env.dump_text()
