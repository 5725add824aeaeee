"""The follow-up outbox: the writes Exchange still needs, recorded once done, and what staff did to
their tasks in Outlook (completed, deleted) read back into the store.

See :mod:`mapping.store.followups` for why the table is an outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mapping.store import audit
from mapping.store.models import (
    Direction,
    EmailAddress,
    EntityType,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    InteractionViewer,
    ItemKind,
    ItemLink,
    ParticipantRole,
    Person,
    StaffMailbox,
)

TASKS_FOLDER = "tasks"


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- the outbox -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskWrite:
    """One write Exchange still needs, with what the task says."""

    follow_up_id: int
    our_id: str
    action: str  # create, update, complete, delete
    mailbox_id: int
    mailbox: str
    subject: str
    due_at: datetime
    reminder_at: datetime | None
    importance: str
    relationship_id: int
    note: str | None
    item_id: str | None
    change_key: str | None
    planned_at: datetime


def pending_writes(session: Session) -> list[TaskWrite]:
    """Every follow-up whose task Exchange has yet to be told about, by mailbox then id."""
    link = aliased(ItemLink)
    query = (
        sa.select(FollowUp, StaffMailbox.address, link.item_id, link.change_key)
        .join(StaffMailbox, StaffMailbox.id == FollowUp.owner_mailbox_id)
        .outerjoin(
            link, sa.and_(link.entity_type == EntityType.TASK, link.entity_id == FollowUp.id, link.deleted_at.is_(None))
        )
        .where(FollowUp.pending_write.is_not(None))
        .order_by(FollowUp.owner_mailbox_id, FollowUp.id)
    )
    return [
        TaskWrite(
            f.id,
            f.our_id,
            str(f.pending_write),
            f.owner_mailbox_id,
            address,
            f.subject,
            _aware(f.due_at) or f.due_at,
            _aware(f.reminder_at),
            f.importance,
            f.relationship_id,
            f.note,
            item_id,
            ck,
            _aware(f.created_at) or f.created_at,
        )
        for f, address, item_id, ck in session.execute(query)
    ]


def record_tasks_created(session: Session, created: Sequence[tuple[TaskWrite, str, str | None]], now: datetime) -> None:
    """Tasks now exist in Exchange (write, item id, ChangeKey): link them and clear their outbox marks.

    Set-based (one INSERT and one UPDATE per batch). A follow-up closed while its task was being
    created keeps the close as its pending write (the task is then completed or removed).
    """
    if not created:
        return
    session.execute(
        sa.insert(ItemLink),
        [
            {
                "mailbox_id": w.mailbox_id,
                "folder": TASKS_FOLDER,
                "item_id": item_id,
                "change_key": ck,
                "item_kind": ItemKind.TASK,
                "entity_type": EntityType.TASK,
                "entity_id": w.follow_up_id,
                "our_id": w.our_id,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for w, item_id, ck in created
        ],
    )
    ids = [w.follow_up_id for w, _, _ in created]
    audit.exchange_writes(
        session,
        "task_create",
        (
            (
                f"follow_up:{w.follow_up_id}",
                {"mailbox_id": w.mailbox_id, "relationship_id": w.relationship_id, "our_id": w.our_id},
            )
            for w, _, _ in created
        ),
        reason="follow-up plan",
    )
    session.execute(sa.update(FollowUp).where(FollowUp.id.in_(ids)).values(created_in_exchange_at=now))
    session.execute(
        sa.update(FollowUp).where(FollowUp.id.in_(ids), FollowUp.pending_write == "create").values(pending_write=None)
    )


def record_written(
    session: Session, follow_up_id: int, change_key: str | None, now: datetime, gone: bool = False
) -> None:
    """An update/complete/delete reached Exchange (or the task was already gone): clear the mark."""
    f = session.get(FollowUp, follow_up_id)
    if f is None:
        return
    audit.exchange_writes(
        session,
        f"task_{f.pending_write or 'update'}",
        [
            (
                f"follow_up:{follow_up_id}",
                {"mailbox_id": f.owner_mailbox_id, "relationship_id": f.relationship_id, "gone": gone},
            )
        ],
        reason=f.closed_reason or "follow-up plan",
    )
    f.pending_write = None
    links = sa.select(ItemLink).where(
        ItemLink.entity_type == EntityType.TASK, ItemLink.entity_id == follow_up_id, ItemLink.deleted_at.is_(None)
    )
    for link in session.scalars(links):
        link.last_seen_at = now
        if gone:
            link.deleted_at = now
        elif change_key:
            link.change_key = change_key
    session.flush()


@dataclass(frozen=True, slots=True)
class LiveTask:
    follow_up_id: int
    mailbox_id: int
    mailbox: str
    item_id: str
    relationship_id: int


def live_tasks(session: Session) -> list[LiveTask]:
    """Open follow-ups whose task exists in Exchange and is in step: staff may complete or delete them."""
    query = (
        sa.select(
            FollowUp.id, FollowUp.owner_mailbox_id, StaffMailbox.address, ItemLink.item_id, FollowUp.relationship_id
        )
        .join(StaffMailbox, StaffMailbox.id == FollowUp.owner_mailbox_id)
        .join(
            ItemLink,
            sa.and_(
                ItemLink.entity_type == EntityType.TASK,
                ItemLink.entity_id == FollowUp.id,
                ItemLink.deleted_at.is_(None),
            ),
        )
        .where(FollowUp.status == FollowUpStatus.OPEN, FollowUp.pending_write.is_(None))
        .order_by(FollowUp.owner_mailbox_id, FollowUp.id)
    )
    return [LiveTask(*row) for row in session.execute(query)]


def record_staff_completed(session: Session, follow_up_id: int, completed_at: datetime, now: datetime) -> None:
    """Staff ticked the task off in Outlook: it is an interaction (it counts as contact) and closes."""
    f = session.get(FollowUp, follow_up_id)
    if f is None or f.status != FollowUpStatus.OPEN:
        return
    f.status, f.completed_at, f.closed_reason = FollowUpStatus.COMPLETED, completed_at, "staff"
    f.note = "Completed in Outlook."
    owner = session.get(StaffMailbox, f.owner_mailbox_id)
    interaction = Interaction(
        kind=InteractionKind.TASK, subject=f.subject, occurred_at=completed_at, direction=Direction.OUTBOUND
    )
    session.add(interaction)
    session.flush()
    for person_id, address in _contact_addresses(session, f):
        session.add(
            InteractionParticipant(
                interaction_id=interaction.id, person_id=person_id, address=address, role=ParticipantRole.TO
            )
        )
    if owner is not None:
        session.add(
            InteractionParticipant(
                interaction_id=interaction.id,
                address=owner.address.casefold(),
                display_name=owner.display_name,
                role=ParticipantRole.FROM,
                staff_mailbox_id=owner.id,
            )
        )
        session.add(InteractionViewer(interaction_id=interaction.id, mailbox_id=owner.id))
    session.flush()


def _contact_addresses(session: Session, f: FollowUp) -> list[tuple[int, str]]:
    """The person the follow-up is about (an organisation's most recent contact, else its first)."""
    if f.person_id is not None:
        people = [f.person_id]
    else:
        recent = session.execute(
            sa.select(InteractionParticipant.person_id)
            .join(Person, Person.id == InteractionParticipant.person_id)
            .join(Interaction, Interaction.id == InteractionParticipant.interaction_id)
            .where(Person.organisation_id == f.organisation_id)
            .order_by(Interaction.occurred_at.desc())
            .limit(1)
        ).scalar()
        first = session.execute(
            sa.select(sa.func.min(Person.id)).where(
                Person.organisation_id == f.organisation_id, Person.merged_into_id.is_(None)
            )
        ).scalar()
        people = [p for p in (recent or first,) if p is not None]
    out = []
    for pid in people:
        address = session.execute(
            sa.select(EmailAddress.address)
            .where(EmailAddress.person_id == pid)
            .order_by(EmailAddress.is_primary.desc(), EmailAddress.id)
            .limit(1)
        ).scalar()
        out.append((pid, address or f"person-{pid}@unknown.invalid"))
    return out


def record_dismissed(session: Session, follow_up_id: int, now: datetime) -> None:
    """Staff deleted the task: that period is done with (not planned again)."""
    f = session.get(FollowUp, follow_up_id)
    if f is None or f.status != FollowUpStatus.OPEN:
        return
    f.status, f.completed_at, f.closed_reason = FollowUpStatus.DISMISSED, now, "dismissed"
    f.note = "Deleted in Outlook: this period is dismissed."
    record_written(session, follow_up_id, None, now, gone=True)
