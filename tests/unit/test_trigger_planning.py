"""Key-date triggers merge into the follow-up plan rather than adding a second task (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from mapping.classify_config import ClassificationConfig
from mapping.followups import Close, Create, FollowUpPolicy, OpenFollowUp, PlanInput, Problem, Update, parse_cadence
from mapping.trigger_planning import Merged, Trigger, plan_with_triggers

POLICY = FollowUpPolicy(
    cadences={"Average": parse_cadence("monthly"), "Eliminate": "handover", "Dormant": None},
    methods={pc.name: pc.methods for pc in ClassificationConfig().potential_classes},
)
NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # a Tuesday
THANKS = Trigger(1, "thank_you", "thank-you:SO-1", date(2026, 11, 26), "Thank them for order SO-1.")
WIN_BACK = Trigger(1, "win_back", "win-back:2026-05-01", date(2026, 11, 24), "Win them back.")


def inp(**kw: object) -> PlanInput:
    base = {
        "relationship_id": 1,
        "name": "Acme",
        "tier": "Average",
        "potential": "Average",
        "status": "active",
        "owner_mailbox_id": 4,
        "time_zone": "Europe/Berlin",
        "last_meaningful_at": NOW - timedelta(days=5),
        "type": "customer",
    }
    return PlanInput(**{**base, **kw})  # type: ignore[arg-type]


def open_task(**kw: object) -> OpenFollowUp:
    base = {
        "id": 9,
        "owner_mailbox_id": 4,
        "kind": "cadence",
        "cadence": "monthly",
        "due_date": date(2026, 12, 21),
        "method": "telephone, e-mail",
        "importance": "Normal",
        "planned_at": NOW - timedelta(days=3),
    }
    return OpenFollowUp(**{**base, **kw})  # type: ignore[arg-type]


def test_a_thank_you_is_merged_into_the_open_follow_up_not_a_second_task() -> None:
    actions = plan_with_triggers(inp(open=open_task()), POLICY, NOW, [THANKS])
    assert not [a for a in actions if isinstance(a, Create)]
    [upd] = [a for a in actions if isinstance(a, Update)]
    assert upd.follow_up_id == 9 and upd.due_date == date(2026, 11, 26)
    assert upd.subject.startswith("Thank you / Follow up: Acme")
    assert actions[-1] == Merged(1, 9, ("thank-you:SO-1",), ("Thank them for order SO-1.",))


def test_a_new_follow_up_carries_every_trigger_and_is_due_by_the_earliest_deadline() -> None:
    actions = plan_with_triggers(inp(), POLICY, NOW, [THANKS, WIN_BACK])
    [c] = [a for a in actions if isinstance(a, Create)]
    assert c.due_date == date(2026, 11, 24) and c.subject.startswith("Thank you + Win back / ")
    assert isinstance(actions[-1], Merged) and actions[-1].keys == ("thank-you:SO-1", "win-back:2026-05-01")


def test_without_a_cadence_the_triggers_get_one_task_that_stays_while_it_carries_them() -> None:
    actions = plan_with_triggers(inp(tier="Dormant"), POLICY, NOW, [WIN_BACK])
    [c] = [a for a in actions if isinstance(a, Create)]
    assert c.cadence is None
    held = open_task(cadence=None, due_date=c.due_date, method=c.method, planned_at=NOW)
    assert plan_with_triggers(inp(tier="Dormant", open=held), POLICY, NOW, (), [WIN_BACK]) == []
    # Once done (nothing carried any more), the ordinary plan cancels it.
    [close] = plan_with_triggers(inp(tier="Dormant", open=held), POLICY, NOW, (), ())
    assert isinstance(close, Close) and close.reason == "plan_changed"


def test_an_interaction_completes_the_task_and_what_it_carried() -> None:
    task = open_task(due_date=date(2026, 11, 25))
    actions = plan_with_triggers(inp(open=task, last_meaningful_at=NOW - timedelta(hours=2)), POLICY, NOW, (), [THANKS])
    assert any(isinstance(a, Close) and a.status == "completed" for a in actions)
    assert not [a for a in actions if isinstance(a, Merged)]


def test_a_handover_gets_no_trigger_task_and_says_which_were_skipped() -> None:
    actions = plan_with_triggers(inp(tier="Eliminate"), POLICY, NOW, [THANKS])
    assert [a.kind for a in actions if isinstance(a, Create)] == ["handover"]
    assert actions[-1] == Merged(1, None, (), (), ("thank-you:SO-1",))


def test_triggers_without_an_owner_are_a_problem_not_a_task() -> None:
    actions = plan_with_triggers(inp(owner_mailbox_id=None, tier="Dormant"), POLICY, NOW, [THANKS])
    assert [type(a) for a in actions] == [Problem]
    assert "wait for an owner" in actions[0].message  # type: ignore[union-attr]
