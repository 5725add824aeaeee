"""The pure follow-up planner: due dates per tier, closing the loop, moves, DST, cadences and ownership."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mapping.classify_config import ClassificationConfig
from mapping.followups import (
    HANDOVER,
    Cadence,
    Close,
    Create,
    FollowUpPolicy,
    OpenFollowUp,
    OwnerInput,
    PlanInput,
    Problem,
    Update,
    decide_owner,
    due_date,
    parse_cadence,
    plan,
    plan_one,
    reminder_instant,
    subject_for,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
EVERY_DAY = frozenset(range(7))
WEEKLY, MONTHLY, QUARTERLY = Cadence("weekly", days=7), Cadence("monthly", months=1), Cadence("quarterly", months=3)
POLICY = FollowUpPolicy(
    cadences={"Superior": WEEKLY, "Average": MONTHLY, "Marginal": QUARTERLY, "Eliminate": "handover"},
    methods={pc.name: pc.methods for pc in ClassificationConfig().potential_classes},
)
# Tuesday 3 November 2026, mid-morning in Berlin.
NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def at(day: str, hour: int = 11, tz: str = BERLIN) -> datetime:
    """A wall-clock instant in ``tz``, the way interactions arrive (aware datetimes)."""
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=ZoneInfo(tz))


def rel(**changes: object) -> PlanInput:
    """An active Superior customer of Average potential owned by mailbox 1 in Berlin."""
    base = PlanInput(
        relationship_id=7,
        name="Jane Doe, Acme",
        tier="Superior",
        potential="Average",
        status="active",
        owner_mailbox_id=1,
        time_zone=BERLIN,
        last_meaningful_at=at("2026-11-02"),
        last_meaningful_note="meeting on 2026-11-02 with Alice Smith",
        type="customer",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def open_task(**changes: object) -> OpenFollowUp:
    """The open weekly follow-up planned on Monday 2 November, due Monday 9 November."""
    base = OpenFollowUp(
        id=41,
        owner_mailbox_id=1,
        kind="cadence",
        cadence="weekly",
        due_date=date(2026, 11, 9),
        method="telephone, e-mail",
        importance="Normal",
        planned_at=at("2026-11-02", 15),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def only_create(actions: object) -> Create:
    assert isinstance(actions, list | tuple) and len(actions) == 1, actions
    (action,) = actions
    assert isinstance(action, Create), action
    return action


# --- due dates per tier ----------------------------------------------------------------------------


def test_superior_is_due_a_week_after_the_last_interaction() -> None:
    task = only_create(plan_one(rel(), POLICY, NOW))
    assert task.due_date == date(2026, 11, 9)
    assert (task.kind, task.cadence, task.owner_mailbox_id, task.relationship_id) == ("cadence", "weekly", 1, 7)


def test_average_is_due_a_month_after_the_last_interaction() -> None:
    task = only_create(plan_one(rel(tier="Average", last_meaningful_at=at("2026-10-20")), POLICY, NOW))
    assert (task.due_date, task.cadence) == (date(2026, 11, 20), "monthly")


def test_marginal_is_due_a_quarter_after_the_last_interaction() -> None:
    task = only_create(plan_one(rel(tier="Marginal", last_meaningful_at=at("2026-11-16")), POLICY, NOW))
    assert (task.due_date, task.cadence) == (date(2027, 2, 16), "quarterly")


@pytest.mark.parametrize(
    ("last", "due"),
    [
        ("2025-01-31", date(2025, 2, 28)),
        ("2028-01-31", date(2028, 2, 29)),
        ("2027-01-29", date(2027, 2, 28)),
        ("2027-03-31", date(2027, 4, 30)),
        ("2027-08-31", date(2027, 9, 30)),
        ("2027-12-31", date(2028, 1, 31)),
    ],
)
def test_monthly_from_a_month_end_lands_on_the_last_day_of_the_shorter_month(last: str, due: date) -> None:
    now = at(last, 18)
    assert due_date(at(last), MONTHLY, BERLIN, now, EVERY_DAY) == due


def test_monthly_from_january_31st_is_february_28th_or_29th_in_the_plan() -> None:
    for last, due in (("2025-01-31", date(2025, 2, 28)), ("2028-01-31", date(2028, 2, 29))):
        task = only_create(plan_one(rel(tier="Average", last_meaningful_at=at(last)), POLICY, at(last, 18)))
        assert task.due_date == due  # both are weekdays: no working-day shift hides the month end


def test_quarterly_ending_on_a_sunday_moves_to_monday() -> None:
    # 30 Nov 2026 + 3 months = Sunday 28 Feb 2027 -> Monday 1 March
    task = only_create(plan_one(rel(tier="Marginal", last_meaningful_at=at("2026-11-30")), POLICY, NOW))
    assert task.due_date == date(2027, 3, 1)


def test_overdue_becomes_due_today() -> None:
    task = only_create(plan_one(rel(tier="Average", last_meaningful_at=at("2026-08-14")), POLICY, NOW))
    assert task.due_date == date(2026, 11, 3)


def test_overdue_on_a_saturday_becomes_due_on_monday() -> None:
    saturday = at("2026-11-07", 10)
    task = only_create(plan_one(rel(last_meaningful_at=at("2026-09-01")), POLICY, saturday))
    assert task.due_date == date(2026, 11, 9)


def test_a_due_date_on_a_weekend_moves_to_the_next_working_day() -> None:
    task = only_create(plan_one(rel(last_meaningful_at=at("2026-10-31")), POLICY, NOW))  # Sat + 7 = Sat
    assert task.due_date == date(2026, 11, 9)


def test_configured_working_days_decide_what_the_next_working_day_is() -> None:
    sunday_to_thursday = dataclasses.replace(POLICY, working_days=frozenset({6, 0, 1, 2, 3}))
    # Fri 30 Oct + 7 = Friday 6 Nov, not a working day there -> Sunday 8 Nov
    task = only_create(plan_one(rel(last_meaningful_at=at("2026-10-30")), sunday_to_thursday, NOW))
    assert task.due_date == date(2026, 11, 8)


def test_no_interaction_ever_makes_the_follow_up_due_today() -> None:
    task = only_create(plan_one(rel(last_meaningful_at=None, last_meaningful_note=None), POLICY, NOW))
    assert task.due_date == date(2026, 11, 3)


def test_today_and_the_interaction_date_are_the_owners_local_dates() -> None:
    late_evening_utc = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)  # already Wednesday 4 Nov in Tokyo
    task = only_create(plan_one(rel(time_zone="Asia/Tokyo", last_meaningful_at=None), POLICY, late_evening_utc))
    assert task.due_date == date(2026, 11, 4)
    monday_night_utc = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # Tuesday 3 Nov in Tokyo
    task = only_create(plan_one(rel(time_zone="Asia/Tokyo", last_meaningful_at=monday_night_utc), POLICY, NOW))
    assert task.due_date == date(2026, 11, 10)


def test_a_dismissed_period_is_not_planned_again() -> None:
    # staff deleted the task due 9 Nov: the next one comes a week after that, not again on the 9th
    later = at("2026-11-09", 12)
    task = only_create(plan_one(rel(dismissed_due=date(2026, 11, 9)), POLICY, later))
    assert task.due_date == date(2026, 11, 16)


def test_an_interaction_after_a_dismissed_period_still_sets_the_due_date() -> None:
    later = rel(last_meaningful_at=at("2026-11-12"), dismissed_due=date(2026, 11, 9))
    task = only_create(plan_one(later, POLICY, at("2026-11-12", 16)))
    assert task.due_date == date(2026, 11, 19)


# --- eliminate: one handover task --------------------------------------------------------------------


def test_eliminate_gets_one_handover_task_due_today() -> None:
    task = only_create(plan_one(rel(tier="Eliminate"), POLICY, NOW))
    assert (task.kind, task.cadence, task.due_date) == ("handover", None, date(2026, 11, 3))
    assert task.subject == "Hand over: Jane Doe, Acme (recommend a competitor)"


def test_eliminate_after_the_handover_gets_nothing_more() -> None:
    assert plan_one(rel(tier="Eliminate", handover_done=True), POLICY, NOW) == []
    assert plan_one(rel(tier="Eliminate", handover_done=True, last_meaningful_at=NOW), POLICY, NOW) == []


@pytest.mark.parametrize("kind", ["lead", "prospect", None])
def test_eliminate_is_handed_over_only_for_customers(kind: str | None) -> None:
    assert plan_one(rel(tier="Eliminate", type=kind), POLICY, NOW) == []
    (close,) = plan_one(rel(tier="Eliminate", type=kind, open=open_task()), POLICY, NOW)
    assert isinstance(close, Close) and (close.follow_up_id, close.reason) == (41, "plan_changed")
    partners = dataclasses.replace(POLICY, handover_types=frozenset({"customer", "sales partner"}))
    assert only_create(plan_one(rel(tier="Eliminate", type="sales partner"), partners, NOW)).kind == "handover"


def test_an_open_handover_task_is_not_completed_by_an_interaction() -> None:
    handover = open_task(kind="handover", cadence=None, due_date=date(2026, 11, 3))
    assert plan_one(rel(tier="Eliminate", open=handover, last_meaningful_at=at("2026-11-03", 10)), POLICY, NOW) == []


def test_a_tier_dropping_to_eliminate_replaces_the_cadence_task_with_the_handover() -> None:
    actions = plan_one(rel(tier="Eliminate", open=open_task()), POLICY, NOW)
    assert len(actions) == 2
    close, create = actions
    assert isinstance(close, Close) and (close.follow_up_id, close.status, close.reason) == (
        41,
        "cancelled",
        "plan_changed",
    )
    assert isinstance(create, Create) and create.kind == "handover"


# --- closing the loop ------------------------------------------------------------------------------


def test_an_interaction_after_planning_completes_the_task_and_plans_the_next() -> None:
    rerun = at("2026-11-05", 16)
    called = rel(
        open=open_task(), last_meaningful_at=at("2026-11-05"), last_meaningful_note="call on 2026-11-05 by Bob"
    )
    actions = plan_one(called, POLICY, rerun)
    assert len(actions) == 2
    close, create = actions
    assert close == Close(41, 7, "completed", "interaction", "Done: call on 2026-11-05 by Bob.")
    assert isinstance(create, Create) and create.due_date == date(2026, 11, 12)


def test_with_reschedule_an_interaction_moves_the_due_date_of_the_same_task() -> None:
    policy = dataclasses.replace(POLICY, on_interaction="reschedule")
    rerun = at("2026-11-05", 16)
    (update,) = plan_one(rel(open=open_task(), last_meaningful_at=at("2026-11-05")), policy, rerun)
    assert isinstance(update, Update)
    assert (update.follow_up_id, update.due_date, update.reason) == (41, date(2026, 11, 12), "interaction")
    # the store applied it: the next run has nothing to do
    moved = open_task(due_date=update.due_date)
    assert plan_one(rel(open=moved, last_meaningful_at=at("2026-11-05")), policy, rerun) == []


def test_with_reschedule_a_later_change_of_potential_still_reaches_the_rescheduled_task() -> None:
    policy = dataclasses.replace(POLICY, on_interaction="reschedule")
    rescheduled = open_task(due_date=date(2026, 11, 12))  # after the interaction on 5 November
    later = at("2026-11-06", 12)
    (update,) = plan_one(rel(potential="High", open=rescheduled, last_meaningful_at=at("2026-11-05")), policy, later)
    assert isinstance(update, Update)
    assert (update.due_date, update.importance, update.reason) == (date(2026, 11, 12), "High", "potential_changed")


def test_an_interaction_before_the_task_was_planned_changes_nothing() -> None:
    assert plan_one(rel(open=open_task()), POLICY, NOW) == []


def test_a_planned_future_meeting_completes_the_task_only_once_it_has_happened() -> None:
    meeting = at("2026-11-06", 10)
    task = open_task()
    assert plan_one(rel(open=task, last_meaningful_at=meeting), POLICY, NOW) == []
    actions = plan_one(rel(open=task, last_meaningful_at=meeting), POLICY, at("2026-11-06", 12))
    assert [type(a) for a in actions] == [Close, Create]


def test_rerunning_the_plan_on_its_own_result_changes_nothing() -> None:
    task = only_create(plan_one(rel(), POLICY, NOW))
    stored = OpenFollowUp(
        id=1,
        owner_mailbox_id=task.owner_mailbox_id,
        kind=task.kind,
        cadence=task.cadence,
        due_date=task.due_date,
        method=task.method,
        importance=task.importance,
        planned_at=NOW,
    )
    assert plan_one(rel(open=stored), POLICY, NOW + timedelta(hours=1)) == []


# --- changes of owner, tier and potential ----------------------------------------------------------


def test_an_owner_change_moves_the_task_with_the_same_due_date() -> None:
    actions = plan_one(rel(owner_mailbox_id=2, time_zone=NEW_YORK, open=open_task()), POLICY, NOW)
    assert len(actions) == 2
    close, create = actions
    assert close == Close(41, 7, "cancelled", "owner_changed", "The relationship has a new owner.")
    assert isinstance(create, Create)
    assert (create.owner_mailbox_id, create.due_date) == (2, date(2026, 11, 9))
    assert create.reminder_at == datetime(2026, 11, 9, 14, 0, tzinfo=UTC)  # 09:00 in New York


def test_an_overdue_task_moves_to_the_new_owner_due_today() -> None:
    overdue = open_task(due_date=date(2026, 10, 26), planned_at=at("2026-10-19", 15))
    create = plan_one(rel(owner_mailbox_id=2, open=overdue, last_meaningful_at=at("2026-10-19")), POLICY, NOW)[1]
    assert isinstance(create, Create) and create.due_date == date(2026, 11, 3)


def test_an_overdue_task_moved_on_a_weekend_is_due_on_the_next_working_day() -> None:
    overdue = open_task(due_date=date(2026, 10, 26), planned_at=at("2026-10-19", 15))
    moved = rel(owner_mailbox_id=2, open=overdue, last_meaningful_at=at("2026-10-19"))
    create = plan_one(moved, POLICY, at("2026-11-07", 10))[1]
    assert isinstance(create, Create) and create.due_date == date(2026, 11, 9)


def test_an_owner_change_after_an_interaction_plans_from_the_interaction() -> None:
    # the new owner took over by talking to them: the interaction fulfils the old task
    taken_over = rel(owner_mailbox_id=2, open=open_task(), last_meaningful_at=at("2026-11-05"))
    actions = plan_one(taken_over, POLICY, at("2026-11-05", 16))
    assert len(actions) == 2
    close, create = actions
    assert isinstance(close, Close) and close.follow_up_id == 41
    assert isinstance(create, Create) and (create.owner_mailbox_id, create.due_date) == (2, date(2026, 11, 12))


def test_a_tier_change_updates_cadence_and_due_date() -> None:
    monthly = open_task(cadence="monthly", due_date=date(2026, 12, 2))
    (update,) = plan_one(rel(open=monthly), POLICY, NOW)
    assert isinstance(update, Update)
    assert (update.follow_up_id, update.cadence, update.due_date, update.reason) == (
        41,
        "weekly",
        date(2026, 11, 9),
        "cadence_changed",
    )
    assert update.subject == "Follow up: Jane Doe, Acme (weekly: telephone, e-mail)"


def test_a_potential_change_updates_method_and_importance_keeping_the_due_date() -> None:
    (update,) = plan_one(rel(potential="High", open=open_task()), POLICY, NOW)
    assert isinstance(update, Update)
    assert (update.due_date, update.importance, update.method, update.reason) == (
        date(2026, 11, 9),
        "High",
        "face to face, telephone, e-mail",
        "potential_changed",
    )
    assert update.reminder_at == datetime(2026, 11, 9, 7, 0, tzinfo=UTC)  # 08:00 Berlin, the earlier reminder


def test_high_potential_comes_first_with_importance_high_and_an_earlier_reminder() -> None:
    high = only_create(plan_one(rel(potential="High"), POLICY, NOW))
    average = only_create(plan_one(rel(potential="Average"), POLICY, NOW))
    low = only_create(plan_one(rel(potential="Low"), POLICY, NOW))
    assert (high.importance, average.importance, low.importance) == ("High", "Normal", "Normal")
    assert high.reminder_at == datetime(2026, 11, 9, 7, 0, tzinfo=UTC)  # 08:00 Berlin (CET)
    assert average.reminder_at == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # 09:00 Berlin
    assert (high.method, average.method, low.method) == (
        "face to face, telephone, e-mail",
        "telephone, e-mail",
        "e-mail",
    )


def test_the_subject_names_relationship_cadence_and_method() -> None:
    task = only_create(plan_one(rel(tier="Average", last_meaningful_at=at("2026-10-20")), POLICY, NOW))
    assert task.subject == "Follow up: Jane Doe, Acme (monthly: telephone, e-mail)"
    assert subject_for("x" * 300, "cadence", "weekly", "e-mail").startswith("Follow up: xxx")
    assert len(subject_for("x" * 300, "cadence", "weekly", "e-mail")) == 255


# --- nothing to plan --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": "archive"}, "plan_changed"),
        ({"status": None}, "plan_changed"),
        ({"tier": "Gold"}, "plan_changed"),
        ({"tier": None}, "plan_changed"),
    ],
)
def test_archive_or_unknown_tier_cancels_the_open_task_and_creates_none(
    changes: dict[str, object], reason: str
) -> None:
    (close,) = plan_one(rel(open=open_task(), **changes), POLICY, NOW)
    assert isinstance(close, Close)
    assert (close.follow_up_id, close.status, close.reason) == (41, "cancelled", reason)
    assert plan_one(rel(**changes), POLICY, NOW) == []


def test_a_none_cadence_cancels_the_open_task_and_creates_none() -> None:
    policy = dataclasses.replace(POLICY, cadences={**POLICY.cadences, "Superior": parse_cadence("none")})
    (close,) = plan_one(rel(open=open_task()), policy, NOW)
    assert isinstance(close, Close) and (close.status, close.reason) == ("cancelled", "plan_changed")
    assert plan_one(rel(), policy, NOW) == []


def test_a_relationship_without_owner_is_a_problem_not_silently_skipped() -> None:
    (problem,) = plan_one(rel(owner_mailbox_id=None, owner_problem="owner bob@example.com has no mailbox"), POLICY, NOW)
    assert problem == Problem(7, "owner bob@example.com has no mailbox")
    close, problem = plan_one(rel(owner_mailbox_id=None, open=open_task()), POLICY, NOW)
    assert isinstance(close, Close) and (close.status, close.reason) == ("cancelled", "owner_changed")
    assert problem == Problem(7, "no owner")


def test_an_archived_relationship_without_owner_is_no_problem() -> None:
    assert plan_one(rel(owner_mailbox_id=None, status="archive"), POLICY, NOW) == []


def test_plan_covers_every_relationship_in_order() -> None:
    actions = plan(
        [rel(relationship_id=1), rel(relationship_id=2, status="archive"), rel(relationship_id=3)], POLICY, NOW
    )
    assert [a.relationship_id for a in actions] == [1, 3]


# --- daylight saving time --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "utc_hour"),
    [
        (BERLIN, date(2026, 3, 27), 8),  # CET, the Friday before the change on 29 March
        (BERLIN, date(2026, 3, 30), 7),  # CEST
        (BERLIN, date(2026, 10, 23), 7),  # CEST, before 25 October
        (BERLIN, date(2026, 10, 26), 8),  # CET
        (NEW_YORK, date(2026, 3, 6), 14),  # EST, before 8 March
        (NEW_YORK, date(2026, 3, 9), 13),  # EDT
        (NEW_YORK, date(2026, 10, 30), 13),  # EDT, before 1 November
        (NEW_YORK, date(2026, 11, 2), 14),  # EST
    ],
)
def test_the_reminder_is_nine_oclock_local_on_either_side_of_a_dst_change(tz: str, day: date, utc_hour: int) -> None:
    instant = reminder_instant(day, time(9, 0), tz)
    assert instant == datetime.combine(day, time(utc_hour), tzinfo=UTC)
    assert instant.astimezone(ZoneInfo(tz)).time() == time(9, 0)


@pytest.mark.parametrize(
    ("tz", "last", "due", "utc_hour"),
    [
        (BERLIN, "2026-03-24", date(2026, 3, 31), 7),
        (BERLIN, "2026-10-20", date(2026, 10, 27), 8),
        (NEW_YORK, "2026-03-03", date(2026, 3, 10), 13),
        (NEW_YORK, "2026-10-27", date(2026, 11, 3), 14),
    ],
)
def test_a_weekly_task_across_a_dst_change_keeps_its_day_and_local_reminder(
    tz: str, last: str, due: date, utc_hour: int
) -> None:
    task = only_create(plan_one(rel(time_zone=tz, last_meaningful_at=at(last, 17, tz)), POLICY, at(last, 18, tz)))
    assert task.due_date == due
    assert task.reminder_at == datetime.combine(due, time(utc_hour), tzinfo=UTC)
    assert task.reminder_at.astimezone(ZoneInfo(tz)).time() == time(9, 0)


# --- cadences ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months", "days"),
    [
        ("weekly", 0, 7),
        ("  Monthly ", 1, 0),
        ("QUARTERLY", 3, 0),
        ("fortnightly", 0, 14),
        ("half-yearly", 6, 0),
        ("yearly", 12, 0),
        ("every 10 days", 0, 10),
        ("every 1 day", 0, 1),
        ("Every  3   Weeks", 0, 21),
        ("every 2 months", 2, 0),
        ("every 999 days", 0, 999),
    ],
)
def test_parse_cadence_accepts_the_documented_forms(text: str, months: int, days: int) -> None:
    cadence = parse_cadence(text)
    assert isinstance(cadence, Cadence)
    assert (cadence.months, cadence.days) == (months, days)


def test_parse_cadence_knows_handover_and_none() -> None:
    assert parse_cadence("handover") == HANDOVER
    assert parse_cadence(" Handover ") == HANDOVER
    assert parse_cadence("none") is None
    assert parse_cadence("NONE") is None


@pytest.mark.parametrize(
    "text",
    ["", "   ", "daily", "every 0 days", "every -1 days", "every 2 years", "every two weeks", "every 1000 days",
     "monthly please", "every 3", "7 days"],
)  # fmt: skip
def test_parse_cadence_rejects_other_forms_with_a_message_listing_the_valid_ones(text: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_cadence(text)
    message = str(err.value)
    assert repr(text) in message
    assert "weekly" in message and "every N days|weeks|months" in message and '"none"' in message


# --- ownership --------------------------------------------------------------------------------------


def owner_input(**changes: object) -> OwnerInput:
    base = OwnerInput(
        relationship_id=7,
        explicit=None,
        explicit_mailbox=None,
        incumbent=None,
        counts={},
        active=frozenset({1, 2, 3}),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_an_explicit_owner_wins_over_more_interactions() -> None:
    decision = decide_owner(
        owner_input(explicit="carol@example.com", explicit_mailbox=3, incumbent=1, counts={1: 40, 3: 0}), 3
    )
    assert (decision.mailbox_id, decision.source, decision.changed, decision.problem) == (3, "explicit", True, None)
    assert decision.evidence == {"owner": "carol@example.com"}


def test_an_explicit_owner_that_already_owns_it_is_no_change() -> None:
    decision = decide_owner(owner_input(explicit="carol@example.com", explicit_mailbox=3, incumbent=3), 3)
    assert (decision.mailbox_id, decision.changed) == (3, False)


@pytest.mark.parametrize("mailbox", [None, 9])
def test_an_explicit_owner_without_a_mailbox_is_a_problem(mailbox: int | None) -> None:
    decision = decide_owner(
        owner_input(explicit="bob@example.com", explicit_mailbox=mailbox, incumbent=1, counts={1: 5}), 3
    )
    assert (decision.mailbox_id, decision.source, decision.changed) == (None, "none", True)
    assert decision.problem is not None and "bob@example.com" in decision.problem


def test_most_two_way_interactions_wins() -> None:
    decision = decide_owner(owner_input(counts={1: 2, 2: 9, 3: 4}), 3)
    assert (decision.mailbox_id, decision.source, decision.changed) == (2, "interactions", True)
    assert decision.evidence == {"two_way_interactions": {"1": 2, "2": 9, "3": 4}}


def test_a_tie_goes_to_the_lowest_mailbox_id_every_time() -> None:
    assert decide_owner(owner_input(counts={3: 5, 2: 5}), 3).mailbox_id == 2


def test_interactions_of_inactive_mailboxes_do_not_count() -> None:
    decision = decide_owner(owner_input(counts={1: 2, 8: 50}), 3)
    assert decision.mailbox_id == 1
    assert decision.evidence == {"two_way_interactions": {"1": 2}}


def test_a_challenger_needs_the_switch_margin_to_take_over() -> None:
    assert decide_owner(owner_input(incumbent=1, counts={1: 5, 2: 7}), 3).mailbox_id == 1
    decision = decide_owner(owner_input(incumbent=1, counts={1: 5, 2: 8}), 3)
    assert (decision.mailbox_id, decision.changed) == (2, True)


def test_one_email_at_a_time_does_not_flap_ownership() -> None:
    counts, owner, changes = {1: 10, 2: 10}, 1, 0
    for turn in range(40):  # the two staff members take turns writing one more e-mail
        counts[1 + turn % 2] += 1
        decision = decide_owner(owner_input(incumbent=owner, counts=dict(counts)), 3)
        changes += decision.changed
        owner = decision.mailbox_id or owner
    assert (owner, changes) == (1, 0)


def test_an_incumbent_without_interactions_in_the_window_stays() -> None:
    decision = decide_owner(owner_input(incumbent=2), 3)
    assert (decision.mailbox_id, decision.changed, decision.problem) == (2, False, None)


def test_a_gone_incumbent_is_replaced_by_the_most_active_staff_member() -> None:
    decision = decide_owner(owner_input(incumbent=5, counts={5: 30, 3: 1}), 3)
    assert (decision.mailbox_id, decision.changed) == (3, True)


def test_a_gone_incumbent_without_replacement_is_a_problem() -> None:
    decision = decide_owner(owner_input(incumbent=5, counts={5: 30}), 3)
    assert (decision.mailbox_id, decision.source, decision.changed) == (None, "none", True)
    assert decision.problem is not None and "gone" in decision.problem


def test_no_owner_and_no_interactions_is_a_problem() -> None:
    decision = decide_owner(owner_input(), 3)
    assert (decision.mailbox_id, decision.changed) == (None, False)
    assert decision.problem is not None and "no owner" in decision.problem


def test_an_interaction_a_lagging_mailbox_syncs_late_still_fulfils_the_task() -> None:
    # Planned on 2 November from a meeting on 26 October (due 2 November); a mailbox synced late shows
    # a two-way e-mail of 30 October: the task was planned without it.
    planned = open_task(due_date=date(2026, 11, 2), planned_at=at("2026-11-02", 15))
    actions = plan_one(rel(open=planned, last_meaningful_at=at("2026-10-30")), POLICY, NOW)
    assert [type(a) for a in actions] == [Close, Create]
    assert isinstance(actions[1], Create) and actions[1].due_date == date(2026, 11, 6)
