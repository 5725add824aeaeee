"""Contact pressure's input from the store: our unanswered messages to each relationship (issue 16).

"Unanswered" is every outbound e-mail (our staff to them) after the relationship's latest inbound
e-mail or meeting, within the horizon; the pure decision is :mod:`mapping.contact_pressure`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.business_inputs import Relationships
from mapping.store.followups_outbox import _aware
from mapping.store.models import Direction, Interaction, InteractionKind, InteractionParticipant, Person


def unanswered_outbound(
    session: Session, rels: Relationships, now: datetime, horizon_days: int
) -> dict[int, list[datetime]]:
    """Relationship id -> the times of our e-mails to it since its latest answer (inbound or meeting)."""
    i, p = Interaction, InteractionParticipant
    since = now - timedelta(days=horizon_days)
    rows = session.execute(
        sa.select(i.id, i.kind, i.direction, i.occurred_at, Person.id, Person.organisation_id)
        .join(p, p.interaction_id == i.id)
        .join(Person, Person.id == p.person_id)
        .where(
            i.is_cancelled.is_(False),
            i.direction != Direction.INTERNAL,
            i.occurred_at <= now,
            i.occurred_at >= since,
            p.staff_mailbox_id.is_(None),
        )
    )
    seen: set[tuple[int, int]] = set()
    answered: dict[int, datetime] = {}
    sent: dict[int, list[datetime]] = defaultdict(list)
    for iid, kind, direction, at, person_id, org_id in rows:
        rid = rels.of_org.get(org_id) if org_id is not None else rels.of_person.get(person_id)
        if rid is None or (rid, iid) in seen:
            continue
        seen.add((rid, iid))
        when = _aware(at) or at
        if kind == InteractionKind.MEETING or direction == Direction.INBOUND:
            if rid not in answered or when > answered[rid]:
                answered[rid] = when
        elif kind == InteractionKind.EMAIL and direction == Direction.OUTBOUND:
            sent[rid].append(when)
    out: dict[int, list[datetime]] = {}
    for rid, times in sent.items():
        last = answered.get(rid)
        after = [t for t in times if last is None or t > last]
        if after:
            out[rid] = after
    return out
