"""Exceptions of recurring series are fetched once per page, and only those that can be stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.fake.model import ItemSpec, Recurrence
from tests.e2e.syncenv import ALICE, ERIN, T0, EnvFactory, HandCompany, meeting


def weekly(uid: int, subject: str, start: datetime, count: int, *exceptions: ItemSpec) -> ItemSpec:
    spec = meeting(
        uid,
        subject,
        start,
        ALICE,
        [ERIN],
        Recurrence=Recurrence("Weekly", 1, start.date(), days_of_week=(start.strftime("%A"),), occurrences=count),
    )
    spec.exceptions = exceptions
    return spec


def moved(subject: str, original: datetime, to: datetime) -> ItemSpec:
    return ItemSpec(
        "CalendarItem",
        {"Subject": subject, "Start": to, "End": to + timedelta(hours=1), "CalendarItemType": "Exception"},
        original_start=original,
    )


def get_items(env: object) -> int:
    return int(env.ex.stats.to_json()["operations"].get("GetItem", 0))  # type: ignore[attr-defined]


def test_the_exceptions_of_every_series_on_a_page_come_in_one_request(make_env: EnvFactory) -> None:
    series = [
        weekly(
            10 + n,
            f"Series {n}",
            T0 + timedelta(hours=n),
            4,
            moved(f"Series {n} (moved)", T0 + timedelta(hours=n, weeks=1), T0 + timedelta(hours=n + 2, weeks=1)),
        )
        for n in range(3)
    ]
    env = make_env(HandCompany(items={(ALICE.email, "calendar"): series}))
    env.ex.stats.reset()
    report = env.sync(folders=["calendar"])
    assert report.ok, report.error
    assert get_items(env) == 1
    subjects = {r[0] for r in env.rows("SELECT subject FROM interactions")}
    assert subjects == {f"Series {n}" for n in range(3)} | {f"Series {n} (moved)" for n in range(3)}
    assert env.count("interactions") == 3 * 4


def test_an_exception_moved_far_outside_the_window_is_not_fetched_and_not_stored(make_env: EnvFactory) -> None:
    far = datetime.now(UTC) + timedelta(days=3 * 365)
    series = weekly(20, "Kick-off series", T0, 4, moved("Moved to a later year", T0 + timedelta(weeks=1), far))
    env = make_env(HandCompany(items={(ALICE.email, "calendar"): [series]}))
    env.ex.stats.reset()
    report = env.sync(folders=["calendar"])
    assert report.ok, report.error
    assert get_items(env) == 0
    starts = [r[0] for r in env.rows("SELECT occurrence_start FROM interactions ORDER BY occurrence_start")]
    assert len(starts) == 3  # weeks 0, 2 and 3: week 1 moved out of the window
    assert {r[0] for r in env.rows("SELECT subject FROM interactions")} == {"Kick-off series"}


def test_more_exceptions_than_one_request_holds_are_fetched_in_requests_of_100_and_all_kept(
    make_env: EnvFactory,
) -> None:
    # Three daily series of 40 with 35 moved occurrences each: 105 exceptions on one page, fetched
    # two requests at a time while singles between the series are translated.
    series = []
    for n in range(3):
        start = T0 + timedelta(hours=n)
        spec = meeting(
            40 + n,
            f"Daily {n}",
            start,
            ALICE,
            [ERIN],
            Recurrence=Recurrence("Daily", 1, start.date(), occurrences=40),
        )
        spec.exceptions = tuple(
            moved(f"Daily {n} moved {d}", start + timedelta(days=d), start + timedelta(days=d, minutes=30))
            for d in range(35)
        )
        series.append(spec)
    singles = [meeting(60 + n, f"Single {n}", T0 + timedelta(days=n, hours=5), ALICE, [ERIN]) for n in range(3)]
    items = [singles[0], series[0], singles[1], series[1], singles[2], series[2]]
    env = make_env(HandCompany(items={(ALICE.email, "calendar"): items}))
    env.ex.stats.reset()
    report = env.sync(folders=["calendar"])
    assert report.ok, report.error
    assert get_items(env) == 2
    subjects = {r[0] for r in env.rows("SELECT subject FROM interactions")}
    moved_subjects = {f"Daily {n} moved {d}" for n in range(3) for d in range(35)}
    assert moved_subjects | {f"Single {n}" for n in range(3)} | {f"Daily {n}" for n in range(3)} == subjects
    assert env.count("interactions") == 3 * 40 + 3
