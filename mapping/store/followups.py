"""Follow-ups in the store: what the planner needs, loaded set-based, and its decisions recorded.

The follow-up table is an outbox: every decision is committed first, with ``pending_write`` naming
what Exchange has yet to be told (``create``, ``update``, ``complete``, ``delete``); the connector
then does it and clears the mark. A run that dies in between leaves the mark, and the next run
finishes the write. A task is created with our id stamped on it, so a create that reached Exchange
but not the store is found again by that id, never created twice.

*Meaningful two-way interaction* (what a follow-up is about): a meeting that took place, a
follow-up task staff completed, or an e-mail in a conversation where the relationship both wrote
to us and heard from us. One-way mail (newsletters sent, unanswered offers) does not count.

The outbox itself (pending writes, what staff did to their tasks) is :mod:`mapping.store.followups_outbox`;
its names are re-exported here, so callers keep using ``fs.<name>``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mapping.followups import (
    Close,
    Create,
    FollowUpPolicy,
    OpenFollowUp,
    OwnerDecision,
    OwnerInput,
    PlanInput,
    Problem,
    TaskSummary,
    TouchLine,
    Update,
)
from mapping.store.batching import chunked
from mapping.store.followups_outbox import TASKS_FOLDER as TASKS_FOLDER
from mapping.store.followups_outbox import LiveTask as LiveTask
from mapping.store.followups_outbox import TaskWrite as TaskWrite
from mapping.store.followups_outbox import _aware
from mapping.store.followups_outbox import live_tasks as live_tasks
from mapping.store.followups_outbox import pending_writes as pending_writes
from mapping.store.followups_outbox import record_dismissed as record_dismissed
from mapping.store.followups_outbox import record_staff_completed as record_staff_completed
from mapping.store.followups_outbox import record_tasks_created as record_tasks_created
from mapping.store.followups_outbox import record_written as record_written
from mapping.store.models import (
    Direction,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    Organisation,
    OwnershipChange,
    Person,
    Relationship,
    StaffMailbox,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class Touch:
    """One interaction of a relationship, as the task body lists it."""

    at: datetime
    kind: str
    subject: str | None
    staff: tuple[str, ...]
    contact: str | None


@dataclass
class Engagement:
    """A relationship's interactions within the planning horizon."""

    last_meaningful: Touch | None = None
    counts: dict[int, int] = field(default_factory=dict)  # staff mailbox -> two-way interactions in window
    recent: list[Touch] = field(default_factory=list)  # newest first, at most five
    contact: str | None = None  # the person most recently in touch (an organisation's main contact)


def load_engagement(session: Session, now: datetime, horizon_days: int, window_days: int) -> dict[int, Engagement]:
    """Relationship id -> its engagement: last meaningful interaction, two-way counts per staff member."""
    i, p, person = Interaction, InteractionParticipant, Person
    org_rel, per_rel = aliased(Relationship), aliased(Relationship)
    since = now - timedelta(days=horizon_days)
    window_from = now - timedelta(days=window_days)
    conn = session.connection()
    live = sa.and_(
        i.is_cancelled.is_(False), i.direction != Direction.INTERNAL, i.occurred_at <= now, i.occurred_at >= since
    )
    rows = conn.execute(
        sa.select(
            i.id,
            sa.func.coalesce(org_rel.id, per_rel.id),
            i.kind,
            i.direction,
            i.conversation_id,
            i.occurred_at,
            i.subject,
            person.display_name,
        )
        .join(p, p.interaction_id == i.id)
        .join(person, person.id == p.person_id)
        .outerjoin(org_rel, org_rel.organisation_id == person.organisation_id)
        .outerjoin(per_rel, per_rel.person_id == person.id)
        .where(live, p.staff_mailbox_id.is_(None))
    ).all()
    staff_of: dict[int, set[int]] = defaultdict(set)
    for iid, mid in conn.execute(
        sa.select(p.interaction_id, p.staff_mailbox_id)
        .join(i, i.id == p.interaction_id)
        .where(live, p.staff_mailbox_id.is_not(None))
    ):
        if mid is not None:
            staff_of[iid].add(mid)
    names = dict(conn.execute(sa.select(StaffMailbox.id, StaffMailbox.display_name)).all())

    per_rel_rows: dict[int, dict[int, tuple[Any, ...]]] = defaultdict(dict)
    for iid, rid, kind, direction, conv, at, subject, contact in rows:
        if rid is not None:
            per_rel_rows[rid].setdefault(iid, (kind, direction, conv, _aware(at), subject, contact))
    out: dict[int, Engagement] = {}
    for rid, items in per_rel_rows.items():
        directions: dict[str, set[str]] = defaultdict(set)
        for kind, direction, conv, *_ in items.values():
            if kind == InteractionKind.EMAIL and conv:
                directions[conv].add(str(direction))
        two_way = {conv for conv, ds in directions.items() if {"inbound", "outbound"} <= ds}
        eng = Engagement()
        touches: list[tuple[datetime, Touch, bool]] = []
        for iid, (kind, _direction, conv, at, subject, contact) in items.items():
            meaningful = kind in (InteractionKind.MEETING, InteractionKind.TASK) or (
                kind == InteractionKind.EMAIL and conv in two_way
            )
            staff = tuple(sorted(names.get(m, "?") for m in staff_of.get(iid, ())))
            touch = Touch(at, str(kind), subject, staff, contact)
            touches.append((at, touch, meaningful))
            if meaningful and at >= window_from:
                for m in staff_of.get(iid, ()):
                    eng.counts[m] = eng.counts.get(m, 0) + 1
        touches.sort(key=lambda t: t[0], reverse=True)
        eng.recent = [t for _, t, _ in touches[:5]]
        eng.last_meaningful = next((t for _, t, m in touches if m), None)
        eng.contact = touches[0][1].contact if touches else None
        out[rid] = eng
    return out


# --- ownership ------------------------------------------------------------------------------------


def owner_inputs(session: Session, engagement: Mapping[int, Engagement], active: frozenset[int]) -> list[OwnerInput]:
    mailbox_of = {a.casefold(): m for m, a in session.execute(sa.select(StaffMailbox.id, StaffMailbox.address))}
    out = []
    for rid, owner, incumbent in session.execute(
        sa.select(Relationship.id, Relationship.owner, Relationship.owner_mailbox_id).order_by(Relationship.id)
    ):
        eng = engagement.get(rid)
        out.append(
            OwnerInput(
                rid,
                owner,
                mailbox_of.get(owner.casefold()) if owner else None,
                incumbent,
                eng.counts if eng else {},
                active,
            )
        )
    return out


def save_owner_decisions(session: Session, decisions: Iterable[OwnerDecision], now: datetime) -> int:
    """Record changed owners on the relationships, each with an audit row. Returns how many changed."""
    changed = [d for d in decisions if d.changed]
    if not changed:
        return 0
    incumbents: dict[int, int | None] = {}
    for chunk in chunked(d.relationship_id for d in changed):
        incumbents.update(
            session.execute(
                sa.select(Relationship.id, Relationship.owner_mailbox_id).where(Relationship.id.in_(chunk))
            ).all()
        )
    session.execute(
        sa.update(Relationship),
        [
            {"id": d.relationship_id, "owner_mailbox_id": d.mailbox_id, "owner_source": d.source, "updated_at": now}
            for d in changed
        ],
    )
    session.execute(
        sa.insert(OwnershipChange),
        [
            {
                "relationship_id": d.relationship_id,
                "from_mailbox_id": incumbents.get(d.relationship_id),
                "to_mailbox_id": d.mailbox_id,
                "source": d.source,
                "evidence": {**d.evidence, **({"problem": d.problem} if d.problem else {})},
                "decided_at": now,
            }
            for d in changed
        ],
    )
    return len(changed)


# --- plan inputs ------------------------------------------------------------------------------------


def _touch_note(t: Touch) -> str:
    who = f" with {', '.join(t.staff)}" if t.staff else ""
    kind = {"email": "e-mail", "meeting": "meeting", "task": "follow-up"}.get(t.kind, t.kind)
    return f"{kind} on {t.at.date().isoformat()}{who}"


def plan_inputs(
    session: Session,
    engagement: Mapping[int, Engagement],
    time_zone_of: Mapping[int, str],
    default_time_zone: str,
    problems: Mapping[int, str],
) -> list[PlanInput]:
    """One :class:`PlanInput` per relationship, with its open follow-up and its last dismissal."""
    open_rows: dict[int, OpenFollowUp] = {}
    for f in session.scalars(sa.select(FollowUp).where(FollowUp.status == FollowUpStatus.OPEN)):
        open_rows[f.relationship_id] = OpenFollowUp(
            f.id,
            f.owner_mailbox_id,
            "handover" if f.kind == FollowUpKind.HANDOVER else "cadence",
            f.cadence,
            _due_day(f.due_at),
            f.method,
            f.importance,
            _aware(f.created_at) or utcnow(),
        )
    dismissed = dict(
        session.execute(
            sa.select(FollowUp.relationship_id, sa.func.max(FollowUp.due_at))
            .where(FollowUp.status == FollowUpStatus.DISMISSED, FollowUp.kind == FollowUpKind.CADENCE)
            .group_by(FollowUp.relationship_id)
        ).all()
    )
    handovers = set(
        session.scalars(
            sa.select(FollowUp.relationship_id).where(
                FollowUp.kind == FollowUpKind.HANDOVER, FollowUp.status != FollowUpStatus.CANCELLED
            )
        )
    )
    org_names = dict(session.execute(sa.select(Organisation.id, Organisation.name)).all())
    person_names = dict(
        session.execute(sa.select(Person.id, Person.display_name).where(Person.organisation_id.is_(None))).all()
    )
    first_people = dict(
        session.execute(
            sa.select(Person.organisation_id, sa.func.min(Person.display_name))
            .where(Person.organisation_id.is_not(None), Person.merged_into_id.is_(None))
            .group_by(Person.organisation_id)
        ).all()
    )
    out = []
    for rid, org_id, person_id, tier, potential, status, owner, rel_type in session.execute(
        sa.select(
            Relationship.id,
            Relationship.organisation_id,
            Relationship.person_id,
            Relationship.tier,
            Relationship.potential,
            Relationship.status,
            Relationship.owner_mailbox_id,
            Relationship.type,
        ).order_by(Relationship.id)
    ):
        eng = engagement.get(rid)
        if org_id is not None:
            contact = (eng.contact if eng else None) or first_people.get(org_id)
            org = org_names.get(org_id, f"organisation {org_id}")
            name = f"{contact}, {org}" if contact else org
        else:
            name = person_names.get(person_id or 0, f"person {person_id}")
        tz = time_zone_of.get(owner, default_time_zone) if owner is not None else default_time_zone
        last = eng.last_meaningful if eng else None
        due = dismissed.get(rid)
        out.append(
            PlanInput(
                rid,
                name,
                tier,
                potential,
                str(status) if status is not None else None,
                owner,
                tz,
                last.at if last else None,
                _touch_note(last) if last else None,
                open_rows.get(rid),
                _due_day(due) if due is not None else None,
                rid in handovers,
                problems.get(rid),
                str(rel_type) if rel_type is not None else None,
            )
        )
    return out


def _due_day(value: datetime) -> date:
    return (_aware(value) or value).date()


def _due_instant(day: date) -> datetime:
    """A due day is stored as UTC midnight of that day, as EWS sends a task's DueDate: a day, not an
    instant, so it reads back as the same day whatever the owner's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- recording the plan ------------------------------------------------------------------------------


@dataclass
class Recorded:
    created: int = 0
    updated: int = 0
    completed: int = 0
    cancelled: int = 0
    problems: list[Problem] = field(default_factory=list)


def record_plan(
    session: Session,
    actions: Sequence[Create | Update | Close | Problem],
    inputs: Mapping[int, PlanInput],
    now: datetime,
) -> Recorded:
    """Apply the planner's actions to the follow-up rows, each marked for the write Exchange still needs."""
    rec = Recorded()
    rows: dict[int, FollowUp] = {}
    for chunk in chunked(a.follow_up_id for a in actions if isinstance(a, Close | Update)):
        rows.update((f.id, f) for f in session.scalars(sa.select(FollowUp).where(FollowUp.id.in_(chunk))))
    rels: dict[int, Relationship] = {}
    for chunk in chunked(a.relationship_id for a in actions if isinstance(a, Create)):
        rels.update((r.id, r) for r in session.scalars(sa.select(Relationship).where(Relationship.id.in_(chunk))))
    for a in actions:
        if isinstance(a, Problem):
            rec.problems.append(a)
        elif isinstance(a, Close):
            f = rows[a.follow_up_id]
            f.status = FollowUpStatus(a.status)
            f.closed_reason, f.note, f.completed_at = a.reason, a.note, now
            # Completed by an interaction: the task is ticked off with the note; cancelled: removed. Also
            # when its creation is still pending: it may have reached Exchange before a crash.
            f.pending_write = "complete" if a.status == "completed" else "delete"
            if a.status == "completed":
                rec.completed += 1
            else:
                rec.cancelled += 1
        elif isinstance(a, Update):
            f = rows[a.follow_up_id]
            f.cadence, f.due_at, f.reminder_at = a.cadence, _due_instant(a.due_date), a.reminder_at
            f.importance, f.method, f.subject = a.importance, a.method, a.subject
            f.note = f"Rescheduled: {a.reason.replace('_', ' ')}."
            if f.pending_write != "create":
                f.pending_write = "update"
            rec.updated += 1
        else:
            rel = rels[a.relationship_id]
            session.add(
                FollowUp(
                    our_id=f"relsync-fu-{uuid.uuid4().hex}",
                    relationship_id=rel.id,
                    owner_mailbox_id=a.owner_mailbox_id,
                    person_id=rel.person_id,
                    organisation_id=rel.organisation_id,
                    kind=FollowUpKind(a.kind),
                    cadence=a.cadence,
                    method=a.method,
                    importance=a.importance,
                    subject=a.subject,
                    due_at=_due_instant(a.due_date),
                    reminder_at=a.reminder_at,
                    status=FollowUpStatus.OPEN,
                    pending_write="create",
                    created_at=now,
                    updated_at=now,
                )
            )
            rec.created += 1
        # One open follow-up per relationship and owner is a unique index: flush closes before creates.
        if isinstance(a, Close):
            session.flush()
    session.flush()
    return rec


# --- reports --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    id: int
    owner: str
    relationship_id: int
    subject: str
    due: date
    status: str
    importance: str
    in_outlook: bool
    overdue: bool


def list_follow_ups(
    session: Session, now: datetime, owner: str | None = None, overdue: bool = False, include_closed: bool = False
) -> list[FollowUpRow]:
    query = (
        sa.select(FollowUp, StaffMailbox.address)
        .join(StaffMailbox, StaffMailbox.id == FollowUp.owner_mailbox_id)
        .order_by(FollowUp.due_at, FollowUp.id)
    )
    if not include_closed:
        query = query.where(FollowUp.status == FollowUpStatus.OPEN)
    if owner:
        query = query.where(sa.func.lower(StaffMailbox.address) == owner.casefold())
    out = []
    for f, address in session.execute(query):
        due_at = _aware(f.due_at) or f.due_at
        late = f.status == FollowUpStatus.OPEN and due_at + timedelta(days=1) <= now
        if overdue and not late:
            continue
        out.append(
            FollowUpRow(
                f.id,
                address,
                f.relationship_id,
                f.subject,
                due_at.date(),
                str(f.status),
                f.importance,
                f.created_in_exchange_at is not None,
                late,
            )
        )
    return out


def next_follow_ups(session: Session) -> dict[int, datetime]:
    """Relationship id -> the due instant of its open follow-up (for exports)."""
    return {
        rid: _aware(due) or due
        for rid, due in session.execute(
            sa.select(FollowUp.relationship_id, sa.func.min(FollowUp.due_at))
            .where(FollowUp.status == FollowUpStatus.OPEN)
            .group_by(FollowUp.relationship_id)
        )
    }


def summaries(
    session: Session, writes: Sequence[TaskWrite], names: Mapping[int, str], engagement: Mapping[int, Engagement]
) -> dict[int, TaskSummary]:
    """Follow-up id -> the relationship summary its new task carries."""
    rel_ids = {w.relationship_id for w in writes}
    rels = {r.id: r for r in session.scalars(sa.select(Relationship).where(Relationship.id.in_(rel_ids or {-1})))}
    methods = dict(
        session.execute(
            sa.select(FollowUp.id, FollowUp.method).where(FollowUp.id.in_([w.follow_up_id for w in writes] or [-1]))
        ).all()
    )
    out: dict[int, TaskSummary] = {}
    for w in writes:
        r = rels.get(w.relationship_id)
        eng = engagement.get(w.relationship_id)
        recent = tuple(TouchLine(t.at, t.kind, t.subject, t.staff) for t in (eng.recent if eng else []))
        first = _aware(r.first_contact_at) if r else None
        latest = _aware(r.latest_interaction_at) if r else None
        out[w.follow_up_id] = TaskSummary(
            names.get(w.relationship_id, w.subject),
            str(r.type) if r and r.type else None,
            r.tier if r else None,
            r.value_percent if r else None,
            r.potential if r else None,
            methods.get(w.follow_up_id, ""),
            _due_day(w.due_at),
            recent,
            first.date() if first else None,
            r.latest_transaction_on if r else None,
            latest.date() if latest else None,
        )
    return out


def _needs_follow_ups(policy: FollowUpPolicy) -> sa.ColumnElement[bool]:
    """Relationships the plan gives tasks: a tier with a cadence, or a handover of a handed-over type."""
    cadence = [t for t, p in policy.cadences.items() if p is not None and p != "handover"]
    handover = [t for t, p in policy.cadences.items() if p == "handover"]
    return sa.and_(
        Relationship.status.in_(sorted(policy.statuses)),
        sa.or_(
            Relationship.tier.in_(cadence or ["-"]),
            sa.and_(Relationship.tier.in_(handover or ["-"]), Relationship.type.in_(sorted(policy.handover_types))),
        ),
    )


def followup_problems(
    session: Session, policy: FollowUpPolicy, active: frozenset[int], limit: int | None = None
) -> list[dict[str, Any]]:
    """Relationships whose plan calls for follow-ups that nobody can receive, each with the reason.

    ``relsync status`` lists them, so a relationship is never skipped in silence.
    """
    planned = [tier for tier, plan in policy.cadences.items() if plan is not None]
    if not planned:
        return []
    addresses = dict(session.execute(sa.select(StaffMailbox.id, StaffMailbox.address)).all())
    query = (
        sa.select(
            Relationship.id,
            Relationship.owner,
            Relationship.owner_mailbox_id,
            Organisation.name,
            Person.display_name,
            Relationship.tier,
        )
        .outerjoin(Organisation, Organisation.id == Relationship.organisation_id)
        .outerjoin(Person, Person.id == Relationship.person_id)
        .where(
            _needs_follow_ups(policy),
            sa.or_(Relationship.owner_mailbox_id.is_(None), Relationship.owner_mailbox_id.not_in(active or {-1})),
        )
        .order_by(Relationship.id)
    )
    if limit is not None:
        query = query.limit(limit)
    out = []
    for rid, owner, mailbox_id, org, person, tier in session.execute(query):
        if owner and (mailbox_id is None or mailbox_id not in active):
            why = f"owner {owner} has no mailbox relsync serves (gone or disabled)"
        elif mailbox_id is not None:
            why = f"owner's mailbox {addresses.get(mailbox_id, mailbox_id)} is gone or disabled"
        else:
            why = "no owner: no staff member has two-way interactions with it"
        out.append({"relationship_id": rid, "name": org or person, "tier": tier, "problem": why})
    return out


def count_followup_problems(session: Session, policy: FollowUpPolicy, active: frozenset[int]) -> int:
    planned = [tier for tier, plan in policy.cadences.items() if plan is not None]
    if not planned:
        return 0
    return int(
        session.execute(
            sa.select(sa.func.count())
            .select_from(Relationship)
            .where(
                _needs_follow_ups(policy),
                sa.or_(Relationship.owner_mailbox_id.is_(None), Relationship.owner_mailbox_id.not_in(active or {-1})),
            )
        ).scalar_one()
    )
