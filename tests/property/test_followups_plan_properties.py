"""Properties of the follow-up planner over random relationships and over simulated months of work."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.classify_config import ClassificationConfig
from mapping.followups import (
    Action,
    Cadence,
    Close,
    Create,
    FollowUpPolicy,
    OpenFollowUp,
    PlanInput,
    Problem,
    Update,
    local_today,
    parse_cadence,
    plan,
    plan_one,
)

CADENCES: dict[str, Cadence | Literal["handover"] | None] = {
    "Superior": parse_cadence("weekly"),
    "Average": parse_cadence("monthly"),
    "Marginal": parse_cadence("quarterly"),
    "Eliminate": "handover",
}
CADENCE_TIERS = ("Superior", "Average", "Marginal")
KINDS: tuple[Literal["cadence", "handover"], ...] = ("cadence", "cadence", "handover")
METHODS = {pc.name: pc.methods for pc in ClassificationConfig().potential_classes}
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Pacific/Auckland", "Pacific/Kiritimati", "UTC")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

policies = st.builds(
    FollowUpPolicy,
    cadences=st.just(CADENCES),
    methods=st.just(METHODS),
    working_days=st.sampled_from([frozenset(range(5)), frozenset({6, 0, 1, 2, 3}), frozenset(range(7))]),
    on_interaction=st.sampled_from(["complete", "reschedule"]),
)
instants = st.datetimes(
    min_value=datetime(2025, 6, 1), max_value=datetime(2026, 11, 22, 11, 59), timezones=st.just(UTC)
)
days = st.dates(min_value=date(2026, 6, 1), max_value=date(2027, 3, 1))


@st.composite
def open_follow_ups(draw: st.DrawFn) -> OpenFollowUp:
    kind = draw(st.sampled_from(KINDS))
    return OpenFollowUp(
        id=draw(st.integers(1, 10**6)),
        owner_mailbox_id=draw(st.integers(1, 3)),
        kind=kind,
        cadence=draw(st.sampled_from(["weekly", "monthly", "quarterly", "every 2 weeks"]))
        if kind == "cadence"
        else None,
        due_date=draw(days),
        method=draw(st.sampled_from([", ".join(m) for m in METHODS.values()])),
        importance=draw(st.sampled_from(["Normal", "High"])),
        planned_at=draw(instants),
    )


@st.composite
def plan_inputs(draw: st.DrawFn) -> PlanInput:
    return PlanInput(
        relationship_id=draw(st.integers(1, 10**6)),
        name="Jane Doe, Acme",
        tier=draw(st.sampled_from([*CADENCES, "Gold", None])),
        potential=draw(st.sampled_from(["Low", "Average", "High", None])),
        status=draw(st.sampled_from(["active", "active", "inactive", "archive", None])),
        owner_mailbox_id=draw(st.sampled_from([1, 2, 3, None])),
        time_zone=draw(st.sampled_from(ZONES)),
        last_meaningful_at=draw(st.none() | instants),
        open=draw(st.none() | open_follow_ups()),
        dismissed_due=draw(st.none() | days),
        handover_done=draw(st.booleans()),
        owner_problem=draw(st.none() | st.just("owner gone")),
        type=draw(st.sampled_from(["customer", "customer", "lead", "sales partner", None])),
    )


def apply(open_ids: set[int], actions: list[Action], next_id: int) -> set[int]:
    """The store's side: closes remove, creates add; an action on a task that is not open is a bug."""
    result = set(open_ids)
    for action in actions:
        if isinstance(action, Close):
            assert action.follow_up_id in result, action
            result.remove(action.follow_up_id)
        elif isinstance(action, Update):
            assert action.follow_up_id in result, action
        elif isinstance(action, Create):
            result.add(next_id)
            next_id += 1
    return result


@settings(max_examples=400, deadline=None)
@given(
    inp=plan_inputs(),
    policy=policies,
    now=st.datetimes(min_value=datetime(2026, 11, 22), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)),
)
def test_one_plan_step_keeps_one_open_follow_up_at_most(inp: PlanInput, policy: FollowUpPolicy, now: datetime) -> None:
    actions = list(plan_one(inp, policy, now))
    open_before = {inp.open.id} if inp.open else set()
    assert len(apply(open_before, actions, next_id=0)) <= 1
    today = local_today(now, inp.time_zone)
    for action in actions:
        assert action.relationship_id == inp.relationship_id
        if isinstance(action, Close | Update):
            assert inp.open is not None and action.follow_up_id == inp.open.id
        if isinstance(action, Create):
            assert action.due_date >= today, (action, today)
            assert action.due_date.weekday() in policy.working_days
            assert action.owner_mailbox_id == inp.owner_mailbox_id
        if isinstance(action, Update) and action.reason != "potential_changed":
            # a new due date is planned like a new task; a change of potential keeps the one staff know
            assert action.due_date >= today and action.due_date.weekday() in policy.working_days, (action, today)
        if isinstance(action, Problem):
            assert inp.owner_mailbox_id is None
    assert sum(isinstance(a, Create) for a in actions) <= 1

    # The store applies the actions; the open task then matches the plan and a rerun changes nothing.
    after = dataclasses.replace(inp, open=applied(inp.open, actions, now))
    if after.open is not None:
        assert after.open.owner_mailbox_id == inp.owner_mailbox_id
        assert (after.open.method, after.open.importance) == (
            policy.method(inp.potential),
            policy.importance(inp.potential),
        )
        wanted = policy.tier_plan(inp.tier)
        assert after.open.cadence == (wanted.name if isinstance(wanted, Cadence) else None)
    assert [a for a in plan_one(after, policy, now) if not isinstance(a, Problem)] == []


def applied(op: OpenFollowUp | None, actions: list[Action], now: datetime) -> OpenFollowUp | None:
    """The open follow-up after the store applied ``actions`` (a created one is planned ``now``)."""
    for action in actions:
        if isinstance(action, Close):
            op = None
        elif isinstance(action, Update):
            assert op is not None
            op = dataclasses.replace(
                op,
                cadence=action.cadence,
                due_date=action.due_date,
                method=action.method,
                importance=action.importance,
            )
        elif isinstance(action, Create):
            op = OpenFollowUp(
                -1,
                action.owner_mailbox_id,
                action.kind,
                action.cadence,
                action.due_date,
                action.method,
                action.importance,
                now,
            )
    return op


@settings(max_examples=50, deadline=None)
@given(inputs=st.lists(plan_inputs(), max_size=20), policy=policies)
def test_plan_is_the_concatenation_of_each_relationship_plan(inputs: list[PlanInput], policy: FollowUpPolicy) -> None:
    assert plan(inputs, policy, NOW) == [a for inp in inputs for a in plan_one(inp, policy, NOW)]


# --- many days of plan -> apply -> staff and customers --------------------------------------------

OWNER_ZONES = {1: "Europe/Berlin", 2: "America/New_York"}


@dataclasses.dataclass
class Day:
    """What happens on one simulated day before the planner runs."""

    interaction: bool
    staff_completes: bool
    staff_deletes: bool
    owner_switch: bool


day_events = st.builds(
    Day,
    interaction=st.integers(0, 9).map(lambda n: n == 0),
    staff_completes=st.integers(0, 14).map(lambda n: n == 0),
    staff_deletes=st.integers(0, 19).map(lambda n: n == 0),
    owner_switch=st.integers(0, 29).map(lambda n: n == 0),
)


@settings(max_examples=120, deadline=None)
@given(
    tier=st.sampled_from([*CADENCE_TIERS, "Eliminate"]),
    potential=st.sampled_from(["Low", "Average", "High"]),
    policy=policies,
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    first_contact=st.none() | st.integers(0, 120),
    events=st.lists(day_events, min_size=30, max_size=200),
)
def test_simulated_months_never_hold_two_open_tasks_nor_come_sooner_than_the_cadence(
    tier: str,
    potential: str,
    policy: FollowUpPolicy,
    start: date,
    first_contact: int | None,
    events: list[Day],
) -> None:
    wanted = CADENCES[tier]
    owner = 1
    # Interactions at 12:00 UTC and runs at 15:00 UTC fall on the same calendar day in Berlin and New York.
    last: datetime | None = None
    if first_contact is not None:
        last = datetime.combine(start - timedelta(days=first_contact), time(12), tzinfo=UTC)
    open_task: OpenFollowUp | None = None
    dismissed: date | None = None
    handover_done = False
    next_id, handovers = 1, 0
    # (due date of the previous period's task, whether an interaction happened since it was created)
    previous: tuple[date, bool] | None = None

    for offset, day in enumerate(events):
        today = start + timedelta(days=offset)
        now = datetime.combine(today, time(15), tzinfo=UTC)
        # the world acts: customers, staff in Outlook, ownership
        if day.interaction:
            last = datetime.combine(today, time(12), tzinfo=UTC)
        if open_task is not None and day.staff_completes:
            # a task completed in Outlook is recorded as an interaction
            last = datetime.combine(today, time(11), tzinfo=UTC)
            handover_done = handover_done or open_task.kind == "handover"
            open_task = None
        elif open_task is not None and day.staff_deletes:
            dismissed = open_task.due_date if open_task.kind == "cadence" else dismissed
            handover_done = handover_done or open_task.kind == "handover"
            open_task = None
        if day.owner_switch:
            owner = 3 - owner
        if (day.interaction or day.staff_completes) and previous is not None:
            previous = (previous[0], True)

        inp = PlanInput(
            relationship_id=1,
            name="Jane Doe, Acme",
            tier=tier,
            potential=potential,
            status="active",
            owner_mailbox_id=owner,
            time_zone=OWNER_ZONES[owner],
            last_meaningful_at=last,
            open=open_task,
            dismissed_due=dismissed,
            handover_done=handover_done,
            type="customer",
        )
        actions = list(plan_one(inp, policy, now))
        open_ids = apply({open_task.id} if open_task else set(), actions, next_id)
        assert len(open_ids) <= 1, actions

        closed = [a for a in actions if isinstance(a, Close)]
        moved = any(c.reason == "owner_changed" for c in closed)
        for action in actions:
            if isinstance(action, Close):
                open_task = None
            elif isinstance(action, Update):
                assert open_task is not None
                open_task = dataclasses.replace(
                    open_task, due_date=action.due_date, cadence=action.cadence, method=action.method
                )
            elif isinstance(action, Create):
                assert action.due_date >= today and action.due_date.weekday() in policy.working_days
                open_task = OpenFollowUp(
                    next_id,
                    action.owner_mailbox_id,
                    action.kind,
                    action.cadence,
                    action.due_date,
                    action.method,
                    action.importance,
                    now,
                )
                next_id += 1
                if action.kind == "handover":
                    handovers += not moved  # a handover task that moves to the new owner is still the one
                    continue
                assert isinstance(wanted, Cadence)
                if last is not None:
                    assert action.due_date >= wanted.after(last.date()), (action, last)
                if dismissed is not None:
                    assert action.due_date >= wanted.after(dismissed), (action, dismissed)
                if not moved and previous is not None and not previous[1]:
                    # a new period with no interaction since the last: at least a cadence later
                    assert action.due_date >= wanted.after(previous[0]), (action, previous)
                previous = (action.due_date, False)
        if open_task is not None and open_task.kind == "cadence":
            assert isinstance(wanted, Cadence)
            assert open_task.owner_mailbox_id == owner
            if last is not None:
                # the open task is never due sooner than a cadence after the latest interaction
                assert open_task.due_date >= wanted.after(last.date()), (open_task, last)
    # Eliminate: exactly one handover task, whatever staff do with it; other tiers: none
    assert handovers == (1 if wanted == "handover" else 0)


@settings(max_examples=500, deadline=None)
@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
    months=st.integers(0, 36),
    days=st.integers(0, 400),
)
def test_a_cadence_lands_on_the_day_relativedelta_gives(day: date, months: int, days: int) -> None:
    """Cadence.after is written out for speed; it must agree with dateutil's month arithmetic
    (months first, clamped to the month's last day, then the days)."""
    from dateutil.relativedelta import relativedelta

    assert Cadence("c", months=months, days=days).after(day) == day + relativedelta(months=months, days=days)
