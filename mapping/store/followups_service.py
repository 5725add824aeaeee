"""The follow-up job's store services: each call one transaction, so the scheduler opens none.

The job (:mod:`scheduler.followups_job`) reads what staff did in Outlook, plans (owners, then the
plan, as one transaction), then works through the outbox owner by owner, recording each batch of
writes as it lands. The functions behind these methods are in :mod:`mapping.store.followups`,
:mod:`mapping.store.followups_outbox` and :mod:`mapping.store.followups_adopt`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from mapping.business_policy import BusinessPolicy
from mapping.contact_pressure import Pressure, with_pressure
from mapping.followups import (
    Action,
    Close,
    Create,
    FollowUpPolicy,
    PlanInput,
    TaskSummary,
    Update,
    decide_owner,
    local_today,
    plan,
)
from mapping.followups_adopt import FoundTask
from mapping.store import business_triggers as bt
from mapping.store import followups as fs
from mapping.store import followups_adopt as fa
from mapping.store.business import BusinessView, analyse
from mapping.store.business_offers import record_offers
from mapping.trigger_planning import Merged, plan_all_with_triggers

if TYPE_CHECKING:
    from mapping.store.store import Store


@dataclass(frozen=True)
class Planned:
    """What one planning transaction decided."""

    owners_changed: int
    inputs: list[PlanInput]
    engagement: dict[int, fs.Engagement]
    recorded: fs.Recorded
    #: The business case's analysis (None when planning without it).
    business: BusinessView | None = None


def _pressed(a: Action, p: Pressure | None) -> Action:
    """A planned task of an over-contacted relationship moves to a call or a meeting."""
    if p is None:
        return a
    if isinstance(a, Create):
        return with_pressure(a, p)
    if isinstance(a, Update):
        return with_pressure(a, p)
    return a


class FollowUpStore:
    """The follow-up job's reads and writes against one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def live_tasks(self) -> list[fs.LiveTask]:
        """The open follow-ups' tasks in Outlook (see :func:`mapping.store.followups_outbox.live_tasks`)."""
        with self.store.session() as session:
            return fs.live_tasks(session)

    def record_staff_actions(self, actions: Iterable[tuple[int, str, datetime | None]], now: datetime) -> None:
        """(follow-up id, task state, completed at) as read from Outlook: a task staff completed
        (``completed``) or deleted (``gone``) is recorded so; any other state changes nothing."""
        with self.store.session() as session:
            for follow_up_id, state, completed_at in actions:
                if state == "completed":
                    fs.record_staff_completed(session, follow_up_id, completed_at or now, now)
                elif state == "gone":
                    fs.record_dismissed(session, follow_up_id, now)

    def plan(
        self,
        policy: FollowUpPolicy,
        active: frozenset[int],
        zones: Mapping[int, str],
        default_time_zone: str,
        now: datetime,
        business: BusinessPolicy | None = None,
        *,
        value_period_days: int = 365,
        currency: str | None = None,
    ) -> Planned:
        """Owners, then the plan, decided (pure: :func:`mapping.followups.decide_owner`,
        :func:`mapping.followups.plan`) and recorded as one transaction.

        With ``business``, the plan also carries the key-date and referral triggers
        (:func:`mapping.trigger_planning.plan_with_triggers`, still one open follow-up per relationship
        and owner) and moves over-contacted relationships' tasks to another method."""
        with self.store.session() as session:
            engagement = fs.load_engagement(session, now, policy.horizon_days(), policy.owner_window_days)
            owner_inputs = fs.owner_inputs(session, engagement, active)
            decisions = [decide_owner(i, policy.owner_switch_margin) for i in owner_inputs]
            owners_changed = fs.save_owner_decisions(session, decisions, now)
            problems = {d.relationship_id: d.problem for d in decisions if d.problem}
            inputs = fs.plan_inputs(session, engagement, zones, default_time_zone, problems)
            by_id = {i.relationship_id: i for i in inputs}
            if business is None:
                recorded = fs.record_plan(session, plan(inputs, policy, now), by_id, now)
                return Planned(owners_changed, inputs, engagement, recorded)
            days = {i.relationship_id: local_today(now, i.time_zone) for i in inputs}
            view = analyse(
                session,
                business,
                now,
                today=days,
                value_period_days=value_period_days,
                currency=currency,
                followups=policy,
            )
            record_offers(session, view.offers, now)  # what the task bodies offer, for the Outlook card
            bt.settle(session)
            new, carried = bt.split(session, view.triggers)
            actions: list[Action] = []
            merged: list[Merged] = []
            for a in plan_all_with_triggers(inputs, policy, now, new, carried):
                if isinstance(a, Merged):
                    merged.append(a)
                    continue
                actions.append(_pressed(a, view.pressure.get(a.relationship_id)))
            recorded = fs.record_plan(session, actions, by_id, now)
            bt.record(session, merged, [a for a in actions if isinstance(a, Close)], new, carried, now)
        return Planned(owners_changed, inputs, engagement, recorded, view)

    def pending_writes(self) -> list[fs.TaskWrite]:
        """The outbox: every write Exchange still needs."""
        with self.store.session() as session:
            return fs.pending_writes(session)

    def record_written(self, written: Iterable[tuple[int, str | None, bool]], now: datetime) -> None:
        """(follow-up id, the task's new ChangeKey, whether the task is gone) for each write done."""
        with self.store.session() as session:
            for follow_up_id, change_key, gone in written:
                fs.record_written(session, follow_up_id, change_key, now, gone=gone)

    def record_tasks_created(self, created: Sequence[tuple[fs.TaskWrite, str, str | None]], now: datetime) -> None:
        """Tasks created (or found again) in Outlook: (the write, item id, ChangeKey)."""
        with self.store.session() as session:
            fs.record_tasks_created(session, created, now)

    def summaries(
        self, writes: Sequence[fs.TaskWrite], names: Mapping[int, str], engagement: Mapping[int, fs.Engagement]
    ) -> dict[int, TaskSummary]:
        """Follow-up id -> the relationship summary its new task carries."""
        with self.store.session() as session:
            return fs.summaries(session, writes, names, engagement)

    def reasons(self, follow_up_ids: Iterable[int]) -> dict[int, list[str]]:
        """Follow-up id -> the key-date lines it carries (the task body's "Why now")."""
        with self.store.session() as session:
            return bt.reasons(session, follow_up_ids)

    def known_our_ids(self, our_ids: Iterable[str]) -> set[str]:
        """Those of ``our_ids`` some follow-up in the store carries: not orphans."""
        with self.store.session() as session:
            return fa.known_our_ids(session, our_ids)

    def record_tasks_adopted(self, adopted: Sequence[tuple[fs.TaskWrite, FoundTask, bool]], now: datetime) -> None:
        """Tasks already in Outlook adopted by planned creates (see :mod:`mapping.store.followups_adopt`)."""
        with self.store.session() as session:
            fa.record_tasks_adopted(session, adopted, now)
