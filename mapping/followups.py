"""Follow-up planning: who owns a relationship, and which task it needs next. Pure functions.

The business case's plan: Superior weekly, Average monthly, Marginal quarterly, Eliminate one task to
hand the relationship over ("recommend a competitor") and then nothing. The method of contact follows
the potential class (``PotentialClass.methods``); high potential comes first (importance High, an
earlier reminder).

Dates are the owner's *local* calendar dates: a task is due on a day, wherever its owner works, and
the reminder is a wall-clock time on that day in the owner's time zone, so changes of daylight saving
time move neither (:func:`reminder_instant` converts with ``zoneinfo`` for that very date).

Nothing here reads a database or Exchange: the store gives :class:`PlanInput` records and applies the
:data:`Action` records :func:`plan` returns; the connector creates, updates and closes the tasks.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

HANDOVER = "handover"
Importance = Literal["Low", "Normal", "High"]
OnInteraction = Literal["complete", "reschedule"]


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often: a number of months and days after the last meaningful interaction."""

    name: str
    months: int = 0
    days: int = 0

    def after(self, day: date) -> date:
        """``day`` plus the months (clamped to the month's last day, as ``relativedelta`` does), then the
        days. Written out: planning 100,000 relationships called ``relativedelta`` a third of its time."""
        if self.months:
            index = day.month - 1 + self.months
            year, month = day.year + index // 12, index % 12 + 1
            day = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
        return day + timedelta(days=self.days) if self.days else day

    def approx_days(self) -> int:
        return self.months * 31 + self.days


_NAMED: dict[str, Cadence] = {
    "weekly": Cadence("weekly", days=7),
    "fortnightly": Cadence("fortnightly", days=14),
    "monthly": Cadence("monthly", months=1),
    "quarterly": Cadence("quarterly", months=3),
    "half-yearly": Cadence("half-yearly", months=6),
    "yearly": Cadence("yearly", months=12),
}
_EVERY = re.compile(r"^every\s+(\d{1,3})\s+(day|week|month)s?$")
CADENCE_HELP = (
    'one of weekly, fortnightly, monthly, quarterly, half-yearly, yearly, "every N days|weeks|months", '
    '"handover" (one task to recommend a competitor) or "none"'
)


def parse_cadence(text: str) -> Cadence | Literal["handover"] | None:
    """``"monthly"`` -> Cadence; ``"handover"`` -> HANDOVER; ``"none"`` -> None. ValueError otherwise."""
    key = " ".join(text.strip().casefold().split())
    if key == HANDOVER:
        return "handover"
    if key == "none":
        return None
    if key in _NAMED:
        return _NAMED[key]
    m = _EVERY.match(key)
    if m and int(m.group(1)) > 0:
        n, unit = int(m.group(1)), m.group(2)
        if unit == "month":
            return Cadence(key, months=n)
        return Cadence(key, days=n * (7 if unit == "week" else 1))
    raise ValueError(f"unknown cadence {text!r}: use {CADENCE_HELP}")


@dataclass(frozen=True, slots=True)
class FollowUpPolicy:
    """The follow-up plan of a configuration (``[followups]`` plus the potential classes' methods)."""

    cadences: Mapping[str, Cadence | Literal["handover"] | None]
    methods: Mapping[str, tuple[str, ...]]
    high_potentials: frozenset[str] = frozenset({"High"})
    reminder_time: time = time(9, 0)
    reminder_time_high: time = time(8, 0)
    working_days: frozenset[int] = frozenset(range(5))  # Monday=0 .. Friday=4
    on_interaction: OnInteraction = "complete"
    statuses: frozenset[str] = frozenset({"active", "inactive"})
    # Only these types are handed over to a competitor: a lead that never bought is "Eliminate" by
    # value (0 %), but recommending a competitor to it would be absurd.
    handover_types: frozenset[str] = frozenset({"customer"})
    owner_window_days: int = 180
    owner_switch_margin: int = 3

    def tier_plan(self, tier: str | None) -> Cadence | Literal["handover"] | None:
        return self.cadences.get(tier) if tier is not None else None

    def importance(self, potential: str | None) -> Importance:
        return "High" if potential in self.high_potentials else "Normal"

    def method(self, potential: str | None) -> str:
        return ", ".join(self.methods.get(potential or "", ("e-mail",)))

    def horizon_days(self) -> int:
        """How far back interactions matter: the longest cadence, or the ownership window."""
        longest = max((c.approx_days() for c in self.cadences.values() if isinstance(c, Cadence)), default=0)
        return max(longest, self.owner_window_days) + 1


# --- ownership ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnerInput:
    """What decides a relationship's owner.

    ``explicit``: the address a rule or an "Owner: ..." category set (None: none);
    ``explicit_mailbox``: that address's staff mailbox, if relsync serves one;
    ``incumbent``: the current owner's mailbox; ``counts``: two-way interactions per staff mailbox in
    the ownership window; ``active``: the staff mailboxes that can receive tasks.
    """

    relationship_id: int
    explicit: str | None
    explicit_mailbox: int | None
    incumbent: int | None
    counts: Mapping[int, int]
    active: frozenset[int]


@dataclass(frozen=True, slots=True)
class OwnerDecision:
    relationship_id: int
    mailbox_id: int | None
    source: Literal["explicit", "interactions", "none"]
    changed: bool
    evidence: dict[str, object] = field(default_factory=dict)
    problem: str | None = None


def decide_owner(inp: OwnerInput, margin: int) -> OwnerDecision:
    """The owner: explicit, else the staff member with the most two-way interactions.

    Stable: a challenger replaces a still-active incumbent only with at least ``margin`` more two-way
    interactions in the window, so one e-mail does not flip ownership back and forth.
    """
    rid, inc = inp.relationship_id, inp.incumbent
    if inp.explicit:
        if inp.explicit_mailbox is not None and inp.explicit_mailbox in inp.active:
            return OwnerDecision(
                rid, inp.explicit_mailbox, "explicit", inp.explicit_mailbox != inc, {"owner": inp.explicit}
            )
        return OwnerDecision(
            rid,
            None,
            "none",
            inc is not None,
            {"owner": inp.explicit},
            problem=f"owner {inp.explicit} has no mailbox relsync serves (gone or disabled)",
        )
    counts = {m: n for m, n in inp.counts.items() if m in inp.active and n > 0}
    evidence: dict[str, object] = {"two_way_interactions": {str(m): n for m, n in sorted(counts.items())}}
    incumbent_ok = inc is not None and inc in inp.active
    if not counts:
        if incumbent_ok:
            return OwnerDecision(rid, inc, "interactions", False, evidence)
        problem = (
            "no owner: no staff member has two-way interactions with it"
            if inc is None
            else ("owner's mailbox is gone and no other staff member has two-way interactions with it")
        )
        return OwnerDecision(rid, None, "none", inc is not None, evidence, problem=problem)
    challenger = min(counts, key=lambda m: (-counts[m], m))
    if not incumbent_ok:
        return OwnerDecision(rid, challenger, "interactions", challenger != inc, evidence)
    assert inc is not None
    if challenger != inc and counts[challenger] >= counts.get(inc, 0) + margin:
        return OwnerDecision(rid, challenger, "interactions", True, evidence)
    return OwnerDecision(rid, inc, "interactions", False, evidence)


# --- the plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenFollowUp:
    """The relationship's open follow-up, as stored."""

    id: int
    owner_mailbox_id: int
    kind: Literal["cadence", "handover"]
    cadence: str | None
    due_date: date
    method: str
    importance: str
    planned_at: datetime  # when it was planned: interactions after it fulfil it


@dataclass(frozen=True, slots=True)
class PlanInput:
    """One relationship as the planner sees it."""

    relationship_id: int
    name: str
    tier: str | None
    potential: str | None
    status: str | None
    owner_mailbox_id: int | None
    time_zone: str
    last_meaningful_at: datetime | None
    last_meaningful_note: str | None = None  # "meeting on 2026-11-25 with Alice Smith"
    open: OpenFollowUp | None = None
    # Due date of the latest follow-up staff dismissed (deleted): its period is done with.
    dismissed_due: date | None = None
    handover_done: bool = False
    owner_problem: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Create:
    relationship_id: int
    owner_mailbox_id: int
    kind: Literal["cadence", "handover"]
    cadence: str | None
    due_date: date
    reminder_at: datetime
    importance: Importance
    method: str
    subject: str


@dataclass(frozen=True, slots=True)
class Update:
    follow_up_id: int
    relationship_id: int
    cadence: str | None
    due_date: date
    reminder_at: datetime
    importance: Importance
    method: str
    subject: str
    reason: str


@dataclass(frozen=True, slots=True)
class Close:
    follow_up_id: int
    relationship_id: int
    status: Literal["completed", "cancelled"]
    reason: str  # interaction, owner_changed, plan_changed
    note: str


@dataclass(frozen=True, slots=True)
class Problem:
    relationship_id: int
    message: str


Action = Create | Update | Close | Problem


def next_working_day(day: date, working_days: frozenset[int]) -> date:
    if not working_days:
        return day
    while day.weekday() not in working_days:
        day += timedelta(days=1)
    return day


def local_today(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


def due_date(
    last_meaningful_at: datetime | None,
    cadence: Cadence,
    time_zone: str,
    now: datetime,
    working_days: frozenset[int],
    dismissed_due: date | None = None,
) -> date:
    """Latest meaningful two-way interaction + cadence, in the owner's calendar; overdue is due today.

    A period staff dismissed (deleted its task) is not planned again: the next one comes a cadence
    after the dismissed due date at the earliest.
    """
    today = local_today(now, time_zone)
    if last_meaningful_at is None:
        due = today
    else:
        due = cadence.after(last_meaningful_at.astimezone(ZoneInfo(time_zone)).date())
    if dismissed_due is not None:
        due = max(due, cadence.after(dismissed_due))
    return next_working_day(max(due, today), working_days)


def reminder_instant(day: date, at: time, time_zone: str) -> datetime:
    """``at`` o'clock on ``day`` in ``time_zone``, as a UTC instant (DST-correct for that very day)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def subject_for(name: str, kind: str, cadence: str | None, method: str) -> str:
    """``Follow up: Jane Doe, Acme (monthly: telephone, e-mail)``; handover says so."""
    if kind == HANDOVER:
        return f"Hand over: {name} (recommend a competitor)"[:255]
    return f"Follow up: {name} ({cadence}: {method})"[:255]


def plan(inputs: Iterable[PlanInput], policy: FollowUpPolicy, now: datetime) -> list[Action]:
    """Every action the relationships need now. At most one open follow-up per relationship results."""
    actions: list[Action] = []
    for inp in inputs:
        actions.extend(plan_one(inp, policy, now))
    return actions


def plan_one(inp: PlanInput, policy: FollowUpPolicy, now: datetime) -> Sequence[Action]:
    rid, op = inp.relationship_id, inp.open
    wanted = policy.tier_plan(inp.tier) if inp.status in policy.statuses else None
    if wanted == HANDOVER and inp.type not in policy.handover_types:
        wanted = None
    owner = inp.owner_mailbox_id
    kind: Literal["cadence", "handover"] = "handover" if wanted == HANDOVER else "cadence"
    out: list[Action] = []

    if wanted is None or owner is None:
        if op is not None:
            reason = "owner_changed" if wanted is not None else "plan_changed"
            out.append(Close(op.id, rid, "cancelled", reason, _why_cancelled(inp, wanted is None)))
        if wanted is not None and owner is None:
            out.append(Problem(rid, inp.owner_problem or "no owner"))
        return out

    method = policy.method(inp.potential)
    importance = policy.importance(inp.potential)
    at = policy.reminder_time_high if importance == "High" else policy.reminder_time
    cadence_name = wanted.name if isinstance(wanted, Cadence) else None

    def create(due: date) -> Create:
        assert owner is not None
        return Create(
            rid,
            owner,
            kind,
            cadence_name,
            due,
            reminder_instant(due, at, inp.time_zone),
            importance,
            method,
            subject_for(inp.name, kind, cadence_name, method),
        )

    def fresh_due() -> date:
        if isinstance(wanted, Cadence):
            return due_date(inp.last_meaningful_at, wanted, inp.time_zone, now, policy.working_days, inp.dismissed_due)
        return next_working_day(local_today(now, inp.time_zone), policy.working_days)

    if op is None:
        if kind == "handover" and inp.handover_done:
            return out
        out.append(create(fresh_due()))
        return out

    if op.kind != kind:
        out.append(Close(op.id, rid, "cancelled", "plan_changed", f"The plan changed to {inp.tier}."))
        if not (kind == "handover" and inp.handover_done):
            out.append(create(fresh_due()))
        return out
    # Only an interaction that has happened fulfils the task: a meeting still ahead would otherwise
    # complete and recreate it on every run until it takes place.
    last = inp.last_meaningful_at
    fulfilled = last is not None and op.planned_at < last <= now
    if (
        not fulfilled
        and last is not None
        and last <= now
        and isinstance(wanted, Cadence)
        and op.cadence == cadence_name
    ):
        # An interaction from before the task was planned that a lagging mailbox synced only now: the
        # task was planned without it (its due day is earlier than a cadence after it).
        fulfilled = wanted.after(last.astimezone(ZoneInfo(inp.time_zone)).date()) > op.due_date
    if op.owner_mailbox_id != owner:
        # The task moves: closed in the old owner's list, the same due date in the new owner's, unless
        # an interaction fulfilled it (often why the owner changed) or the cadence changed meanwhile.
        out.append(Close(op.id, rid, "cancelled", "owner_changed", "The relationship has a new owner."))
        if kind == "cadence" and (fulfilled or op.cadence != cadence_name):
            out.append(create(fresh_due()))
        else:
            moved = max(op.due_date, local_today(now, inp.time_zone))
            out.append(create(next_working_day(moved, policy.working_days)))
        return out
    if fulfilled and kind == "cadence":
        if policy.on_interaction == "complete":
            note = f"Done: {inp.last_meaningful_note or 'a two-way interaction'}."
            out.append(Close(op.id, rid, "completed", "interaction", note))
            out.append(create(fresh_due()))
            return out
        due = fresh_due()
        if due != op.due_date:
            out.append(_update(op, create(due), "interaction"))
            return out
        # Already rescheduled: planned_at stays, so changes of tier or potential must still get through.
    if kind == "cadence" and (op.cadence != cadence_name):
        out.append(_update(op, create(fresh_due()), "cadence_changed"))
    elif op.method != method or op.importance != importance:
        out.append(_update(op, create(op.due_date), "potential_changed"))
    return out


def _update(op: OpenFollowUp, c: Create, reason: str) -> Update:
    return Update(
        op.id, c.relationship_id, c.cadence, c.due_date, c.reminder_at, c.importance, c.method, c.subject, reason
    )


def _why_cancelled(inp: PlanInput, no_plan: bool) -> str:
    if not no_plan:
        return "The relationship has no owner who can receive tasks."
    if inp.status is not None and inp.tier is not None:
        return f"No follow-ups for a {inp.status} {inp.tier} relationship."
    return "No follow-ups planned for this relationship."


# --- the task's text ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TouchLine:
    """One of the last interactions, as the task body lists it."""

    at: datetime
    kind: str
    subject: str | None
    staff: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TaskSummary:
    """The relationship's summary a follow-up task carries in its body."""

    name: str
    type: str | None
    tier: str | None
    value_percent: float | None
    potential: str | None
    method: str
    due: date
    recent: tuple[TouchLine, ...] = ()
    first_contact: date | None = None
    latest_transaction: date | None = None
    latest_interaction: date | None = None


_KIND_WORDS = {"email": "E-mail", "meeting": "Meeting", "task": "Follow-up done"}


def task_body(s: TaskSummary) -> str:
    """Plain text: what the relationship is, how to get in touch, and its last five interactions."""
    value = f"{s.value_percent:.0f} %" if s.value_percent is not None else "unknown"
    lines = [
        f"Relationship: {s.name}",
        f"Type: {s.type or 'unknown'}; value: {s.tier or 'unclassified'} ({value}); potential: {s.potential or '-'}",
        f"How: {s.method}",
        f"Due: {s.due.isoformat()}",
        "",
        "Last interactions:",
    ]
    if not s.recent:
        lines.append("  none recorded")
    for t in s.recent[:5]:
        who = f" ({', '.join(t.staff)})" if t.staff else ""
        about = f": {t.subject}" if t.subject else ""
        lines.append(f"  {t.at.date().isoformat()} {_KIND_WORDS.get(t.kind, t.kind)}{who}{about}")
    dates = [
        ("First contact", s.first_contact),
        ("Latest order", s.latest_transaction),
        ("Latest interaction", s.latest_interaction),
    ]
    known = [f"{label}: {d.isoformat()}" for label, d in dates if d is not None]
    if known:
        lines += ["", "Key dates: " + "; ".join(known)]
    lines += ["", "Planned by relsync. Completing this task records the follow-up; deleting it skips this one."]
    return "\n".join(lines)
