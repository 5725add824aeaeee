"""Key-date triggers merged into the follow-up plan: still at most one open follow-up per relationship and owner.

A :class:`Trigger` is a reason to get in touch besides the cadence: a *thank-you* after a large order,
a *win-back* for a lapsed customer (:mod:`mapping.keydates`), an *acknowledge the referral* when a
referred customer first buys (:mod:`mapping.referrals`). Each has a ``key`` that says which event it
is about (``thank-you:<order id>``), so the store records it once handled and never raises it twice.

:func:`plan_with_triggers` runs :func:`mapping.followups.plan_one` and folds the triggers into its
result: into the task it creates, the task it updates, or the open task it leaves alone. A trigger
never adds a second task. The merged task is due on the earliest of the cadence's day and the
triggers' deadlines, its subject starts with what the triggers ask ("Thank you + Win back / Follow
up: ...") and :class:`Merged` tells the store which keys the task now carries and which lines go into
its body. A relationship with no cadence (tier "none", an archived status) still gets one task for
its triggers; it stays open while it carries pending triggers (``carried``) and is then closed by the
ordinary plan. A relationship being handed over gets no trigger task (recommending a competitor and
thanking for an order do not mix); its triggers are returned in ``Merged.skipped``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from mapping.followups import (
    Action,
    Cadence,
    Close,
    Create,
    FollowUpPolicy,
    PlanInput,
    Problem,
    Update,
    local_today,
    next_working_day,
    plan_one,
    reminder_instant,
    subject_for,
)

TriggerKind = Literal["thank_you", "win_back", "referral_ack"]
_LABELS: dict[str, str] = {"thank_you": "Thank you", "win_back": "Win back", "referral_ack": "Acknowledge referral"}


@dataclass(frozen=True, slots=True)
class Trigger:
    """A reason to get in touch with one relationship by ``due`` (its owner's calendar day).

    ``key`` identifies the event (``thank-you:<order id>``, ``win-back:<last order day>``,
    ``referral-ack:<referred id>``); ``line`` is the sentence the task body carries.
    """

    relationship_id: int
    kind: TriggerKind
    key: str
    due: date
    line: str


@dataclass(frozen=True, slots=True)
class Merged:
    """Which triggers a follow-up now carries. ``follow_up_id`` None: the task created in this batch."""

    relationship_id: int
    follow_up_id: int | None
    keys: tuple[str, ...]
    lines: tuple[str, ...]
    skipped: tuple[str, ...] = ()


PlanAction = Action | Merged


def plan_with_triggers(
    inp: PlanInput,
    policy: FollowUpPolicy,
    now: datetime,
    new: Sequence[Trigger] = (),
    carried: Sequence[Trigger] = (),
) -> list[PlanAction]:
    """The cadence's actions for ``inp`` with ``new`` triggers (not yet handled) and ``carried`` ones
    (already on the open task, not yet done) folded in. Never more than one open task results.

    An interaction that completes the open task also completes what it carried.
    """
    if not new and not carried:  # most relationships, most days: the plan as it is
        return list(plan_one(inp, policy, now))
    op = inp.open
    rid, owner = inp.relationship_id, inp.owner_mailbox_id
    acts: list[Action] = list(plan_one(_as_cadence_planned(inp, policy, carried), policy, now))
    # One pass over the plan's few actions: what it does to the open task, what it creates or updates.
    close: Close | None = None
    create: Create | None = None
    update: Update | None = None
    problem = False
    for a in acts:
        if isinstance(a, Close):
            close = a
        elif isinstance(a, Create):
            create = a
        elif isinstance(a, Update):
            update = a
        else:
            problem = True
    last = inp.last_meaningful_at
    if (
        close is not None
        and op is not None
        and op.cadence is None
        and op.kind == "cadence"
        and last is not None
        and op.planned_at < last <= now
    ):
        # A task that carries only triggers is fulfilled by an interaction too (the plan has no cadence
        # to judge it by, so it would only cancel it).
        done = Close(
            op.id, rid, "completed", "interaction", f"Done: {inp.last_meaningful_note or 'a two-way interaction'}."
        )
        acts = [done if a is close else a for a in acts]
        close = done
    completed = close is not None and close.status == "completed"
    live = _unique([*new, *(() if completed else carried)])
    if not live:
        return list(acts)
    if owner is None:
        if not problem:
            why = inp.owner_problem or "no owner"
            acts.append(Problem(rid, f"{len(live)} key-date follow-up(s) wait for an owner: {why}"))
        return list(acts)
    today = local_today(now, inp.time_zone)
    deadline = min(t.due for t in live)
    keys = tuple(t.key for t in live)
    lines = tuple(t.line for t in live)
    labels = " + ".join(dict.fromkeys(_LABELS[t.kind] for t in live))

    def merged_due(base: date | None) -> date:
        day = deadline if base is None else min(base, deadline)
        return next_working_day(max(day, today), policy.working_days)

    def subject(base: str) -> str:
        return f"{labels} / {base}"[:255]

    out: list[PlanAction]
    if create is not None:
        c = create
        if c.kind == "handover":
            return [*acts, Merged(rid, None, (), (), keys)]
        due = merged_due(c.due_date)
        nc = Create(
            rid,
            c.owner_mailbox_id,
            c.kind,
            c.cadence,
            due,
            reminder_instant(due, _time(policy, c.importance), inp.time_zone),
            c.importance,
            c.method,
            subject(c.subject),
        )
        out = [nc if a is c else a for a in acts]
        out.append(Merged(rid, None, keys, lines))
        return out
    if update is not None:
        u = update
        due = merged_due(u.due_date)
        nu = Update(
            u.follow_up_id,
            rid,
            u.cadence,
            due,
            reminder_instant(due, _time(policy, u.importance), inp.time_zone),
            u.importance,
            u.method,
            subject(u.subject),
            u.reason,
        )
        out = [nu if a is u else a for a in acts]
        out.append(Merged(rid, u.follow_up_id, keys, lines))
        return out
    importance = policy.importance(inp.potential)
    method = policy.method(inp.potential)
    at = _time(policy, importance)
    cancelled = op is not None and close is not None and close.follow_up_id == op.id
    if completed:
        op = None  # the new triggers get a task of their own
    if op is not None and op.kind == "handover" and not cancelled:
        return [*acts, Merged(rid, op.id, (), (), keys)]
    stays = op is not None and op.kind == "cadence" and op.owner_mailbox_id == owner
    if op is not None and stays and (not cancelled or op.cadence is None):
        # The open task stays. A task that carries only triggers (no cadence) the plan would cancel for
        # having no cadence: it stays while it carries them. A cadence task the plan cancels is closed
        # and the triggers get a new task (planned now, so earlier interactions do not fulfil it).
        rest: list[PlanAction] = [a for a in acts if a is not close]
        cadence = op.cadence
        due = merged_due(op.due_date)
        if not new and (cadence, due, method, importance) == (op.cadence, op.due_date, op.method, op.importance):
            return rest  # already carries them as planned
        base = subject_for(inp.name, "cadence", cadence or "key date", method)
        upd = Update(
            op.id,
            rid,
            cadence,
            due,
            reminder_instant(due, at, inp.time_zone),
            importance,
            method,
            subject(base),
            "key_date",
        )
        return [*rest, upd, Merged(rid, op.id, keys, lines)]
    due = merged_due(None)
    c = Create(
        rid,
        owner,
        "cadence",
        None,
        due,
        reminder_instant(due, at, inp.time_zone),
        importance,
        method,
        subject(subject_for(inp.name, "cadence", "key date", method)),
    )
    return [*acts, c, Merged(rid, None, keys, lines)]


def plan_all_with_triggers(
    inputs: Iterable[PlanInput],
    policy: FollowUpPolicy,
    now: datetime,
    new: dict[int, list[Trigger]],
    carried: dict[int, list[Trigger]],
) -> list[PlanAction]:
    """:func:`plan_with_triggers` for every relationship; triggers keyed by relationship id."""
    out: list[PlanAction] = []
    for inp in inputs:
        rid = inp.relationship_id
        out.extend(plan_with_triggers(inp, policy, now, new.get(rid, ()), carried.get(rid, ())))
    return out


def _as_cadence_planned(inp: PlanInput, policy: FollowUpPolicy, carried: Sequence[Trigger]) -> PlanInput:
    """``inp`` with its open task due no earlier than a cadence after the latest interaction.

    Triggers pull a task's due day earlier than the cadence's; the plan would take that for a task
    planned without a later interaction (a lagging mailbox) and complete it at once. Only an
    interaction from before the task was planned matters here (a later one fulfils it anyway).
    """
    op, last = inp.open, inp.last_meaningful_at
    if not carried or op is None or last is None or last > op.planned_at or op.kind != "cadence":
        return inp
    wanted = policy.tier_plan(inp.tier)
    if not isinstance(wanted, Cadence) or op.cadence != wanted.name:
        return inp
    after = wanted.after(last.astimezone(ZoneInfo(inp.time_zone)).date())
    if after <= op.due_date:
        return inp
    return replace(inp, open=replace(op, due_date=after))


def _time(policy: FollowUpPolicy, importance: str) -> time:
    return policy.reminder_time_high if importance == "High" else policy.reminder_time


def _unique(triggers: Iterable[Trigger]) -> list[Trigger]:
    seen: dict[str, Trigger] = {}
    for t in triggers:
        seen.setdefault(t.key, t)
    return list(seen.values())
