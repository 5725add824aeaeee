"""Key-date triggers in the store: which were handled, which an open follow-up carries (issue 16).

A raised trigger whose key is in ``followup_triggers`` is not raised again; the ones an open follow-up
carries go back to the planner (:func:`mapping.trigger_planning.plan_with_triggers`) as *carried*, so
a task that is replaced takes them along. A follow-up completed (by an interaction, or by staff in
Outlook) or dismissed marks what it carried *done*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.followups import Close
from mapping.store.batching import chunked
from mapping.store.models import FollowUp, FollowUpStatus
from mapping.store.models_business import FollowUpTrigger
from mapping.trigger_planning import Merged, Trigger, TriggerKind

CARRIED, DONE, SKIPPED = "carried", "done", "skipped"


def settle(session: Session) -> int:
    """Mark done what completed or dismissed follow-ups carried. Returns how many."""
    closed = sa.select(FollowUp.id).where(FollowUp.status.in_([FollowUpStatus.COMPLETED, FollowUpStatus.DISMISSED]))
    result = session.execute(
        sa.update(FollowUpTrigger)
        .where(FollowUpTrigger.state == CARRIED, FollowUpTrigger.follow_up_id.in_(closed))
        .values(state=DONE)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def split(
    session: Session, raised: Mapping[int, Sequence[Trigger]]
) -> tuple[dict[int, list[Trigger]], dict[int, list[Trigger]]]:
    """(new, carried) per relationship: ``raised`` less the keys already handled, and the triggers
    recorded as carried by an open follow-up (or by one a replacing task should take over)."""
    handled: dict[int, set[str]] = defaultdict(set)
    carried: dict[int, list[Trigger]] = defaultdict(list)
    for rid, key, kind, due, line, state in session.execute(
        sa.select(
            FollowUpTrigger.relationship_id,
            FollowUpTrigger.key,
            FollowUpTrigger.kind,
            FollowUpTrigger.due,
            FollowUpTrigger.line,
            FollowUpTrigger.state,
        )
    ):
        handled[rid].add(key)
        if state == CARRIED:
            carried[rid].append(Trigger(rid, cast(TriggerKind, kind), key, due, line))
    new = {rid: fresh for rid, ts in raised.items() if (fresh := [t for t in ts if t.key not in handled[rid]])}
    return new, dict(carried)


def record(
    session: Session,
    merged: Iterable[Merged],
    closes: Iterable[Close],
    triggers: Mapping[int, Sequence[Trigger]],
    carried: Mapping[int, Sequence[Trigger]],
    now: datetime,
) -> int:
    """Record what the plan decided: keys carried by a follow-up (``None``: the one created in this batch
    for that relationship), keys skipped (a handover), and keys of completed follow-ups done."""
    done = [c.follow_up_id for c in closes if c.status == "completed"]
    for chunk in chunked(done):
        session.execute(
            sa.update(FollowUpTrigger)
            .where(FollowUpTrigger.state == CARRIED, FollowUpTrigger.follow_up_id.in_(chunk))
            .values(state=DONE)
            .execution_options(synchronize_session=False)
        )
    merged = list(merged)
    if not merged:
        return 0
    session.flush()
    rids = {m.relationship_id for m in merged}
    open_of: dict[int, int] = {}
    for chunk in chunked(rids):
        open_of.update(
            session.execute(
                sa.select(FollowUp.relationship_id, FollowUp.id).where(
                    FollowUp.relationship_id.in_(chunk), FollowUp.status == FollowUpStatus.OPEN
                )
            ).all()
        )
    rows: dict[tuple[int, str], FollowUpTrigger] = {}
    for chunk in chunked(rids):
        rows.update(
            ((t.relationship_id, t.key), t)
            for t in session.scalars(sa.select(FollowUpTrigger).where(FollowUpTrigger.relationship_id.in_(chunk)))
        )
    n = 0
    for m in merged:
        by_key = {t.key: t for t in [*carried.get(m.relationship_id, ()), *triggers.get(m.relationship_id, ())]}
        follow_up = m.follow_up_id if m.follow_up_id is not None else open_of.get(m.relationship_id)
        for key, state in [*((k, CARRIED) for k in m.keys), *((k, SKIPPED) for k in m.skipped)]:
            t = by_key.get(key)
            row = rows.get((m.relationship_id, key))
            if row is None:
                if t is None:
                    continue
                row = FollowUpTrigger(relationship_id=m.relationship_id, key=key, kind=t.kind, due=t.due, line=t.line)
                session.add(row)
                rows[(m.relationship_id, key)] = row
            row.follow_up_id = follow_up if state == CARRIED else None
            row.state, row.at = state, now
            n += 1
    session.flush()
    return n


def reasons(session: Session, follow_up_ids: Iterable[int]) -> dict[int, list[str]]:
    """Follow-up id -> the lines of the triggers it carries (the task body's "Why now")."""
    out: dict[int, list[str]] = defaultdict(list)
    for chunk in chunked(follow_up_ids):
        for fid, line in session.execute(
            sa.select(FollowUpTrigger.follow_up_id, FollowUpTrigger.line)
            .where(FollowUpTrigger.follow_up_id.in_(chunk), FollowUpTrigger.state == CARRIED)
            .order_by(FollowUpTrigger.due, FollowUpTrigger.id)
        ):
            if fid is not None:
                out[fid].append(line)
    return dict(out)


def carried_counts(session: Session) -> dict[str, int]:
    """Triggers by state (for ``relsync status``)."""
    return {
        str(s): int(n)
        for s, n in session.execute(sa.select(FollowUpTrigger.state, sa.func.count()).group_by(FollowUpTrigger.state))
    }
