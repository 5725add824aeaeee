"""Store services of the web console that the reports do not already offer: follow-up lists (the
drill-down of cadence compliance) and sync health. Each call owns its (read-only) transaction and
returns plain frozen dataclasses or the rows ``relsync status`` prints, so the web tier renders them
without knowing SQL. (The relationship page and search are :mod:`mapping.store.insights_card`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.models import FollowUp, FollowUpStatus, Organisation, Person, Relationship, StaffMailbox
from mapping.store.reports import mailbox_status
from mapping.store.store import Store


@dataclass(frozen=True)
class FollowUpView:
    id: int
    relationship_id: int
    relationship: str
    owner: str
    subject: str
    due_at: datetime
    status: str
    completed_at: datetime | None
    overdue: bool


def _name_of(session: Session, rel: Relationship) -> str:
    if rel.organisation_id is not None:
        org = session.get(Organisation, rel.organisation_id)
        return org.name if org else f"organisation {rel.organisation_id}"
    person = session.get(Person, rel.person_id) if rel.person_id is not None else None
    return person.display_name if person else f"person {rel.person_id}"


def _follow_up_views(session: Session, where: Any, now: datetime, limit: int) -> list[FollowUpView]:
    rows = session.execute(
        sa.select(FollowUp, StaffMailbox.address)
        .join(StaffMailbox, StaffMailbox.id == FollowUp.owner_mailbox_id)
        .where(where)
        .order_by(FollowUp.due_at, FollowUp.id)
        .limit(limit)
    ).all()
    rel_ids = {f.relationship_id for f, _ in rows}
    names = {
        rel.id: _name_of(session, rel)
        for rel in session.scalars(sa.select(Relationship).where(Relationship.id.in_(rel_ids)))
    }
    return [
        FollowUpView(
            f.id,
            f.relationship_id,
            names.get(f.relationship_id, "?"),
            owner,
            f.subject,
            f.due_at,
            str(f.status),
            f.completed_at,
            f.status is FollowUpStatus.OPEN and f.due_at < now,
        )
        for f, owner in rows
    ]


def follow_ups(
    store: Store, now: datetime, owner: str | None = None, state: str = "open", limit: int = 500
) -> list[FollowUpView]:
    """Follow-up tasks by due date: ``state`` open, overdue or all; ``owner`` an owner mailbox's address."""
    with store.session() as s:
        conditions: list[Any] = []
        if owner is not None:
            conditions.append(sa.func.lower(StaffMailbox.address) == owner.casefold())
        if state in ("open", "overdue"):
            conditions.append(FollowUp.status == FollowUpStatus.OPEN)
        if state == "overdue":
            conditions.append(FollowUp.due_at < now)
        return _follow_up_views(s, sa.and_(sa.true(), *conditions), now, limit)


def sync_health(store: Store, now: datetime, configured: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per mailbox, what ``relsync status`` shows (rows of :func:`mapping.store.reports.mailbox_status`)."""
    with store.session() as s:
        return mailbox_status(s, now, configured=configured)
