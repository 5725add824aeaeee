"""The retention run (store service): remove interactions past their kind's period and archived
relationships past theirs, keep relationships' key dates consistent, count it all and audit it.

Set-based (one DELETE per table and kind, driven by the indexed ``occurred_at``), so a run over a
million interactions is a handful of statements, in one transaction: a crash removes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.privacy.retention import RetentionPolicy, cutoff, cutoffs, key_dates
from mapping.store import audit
from mapping.store.batching import chunked
from mapping.store.models import (
    CategoryOverride,
    EntityType,
    FollowUp,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    InteractionViewer,
    ItemLink,
    OwnershipChange,
    Person,
    Relationship,
    RelationshipStatus,
)
from mapping.store.models_history import ClassificationChange


@dataclass
class RetentionReport:
    """What a run removed (or, dry, would remove): interactions per kind, archived relationships."""

    dry_run: bool
    interactions: dict[str, int] = field(default_factory=dict)
    archived_relationships: int = 0
    key_dates_updated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "interactions": dict(self.interactions),
            "archived_relationships": self.archived_relationships,
            "key_dates_updated": self.key_dates_updated,
        }


def _count(session: Session, query: sa.Select[Any]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def run_retention(session: Session, policy: RetentionPolicy, now: datetime, dry_run: bool) -> RetentionReport:
    """Apply (or count) the policy in the caller's transaction; audited unless dry."""
    report = RetentionReport(dry_run)
    limits = cutoffs(policy, now)
    for kind, limit in limits.items():
        old = sa.select(Interaction.id).where(
            Interaction.kind == InteractionKind(kind), Interaction.occurred_at < limit
        )
        n = _count(session, old)
        report.interactions[kind] = n
        if dry_run or not n:
            continue
        session.execute(
            sa.delete(ItemLink).where(
                ItemLink.entity_type == EntityType.INTERACTION, ItemLink.entity_id.in_(old.scalar_subquery())
            )
        )
        session.execute(
            sa.delete(InteractionParticipant).where(InteractionParticipant.interaction_id.in_(old.scalar_subquery()))
        )
        session.execute(sa.delete(InteractionViewer).where(InteractionViewer.interaction_id.in_(old.scalar_subquery())))
        session.execute(
            sa.delete(Interaction).where(Interaction.kind == InteractionKind(kind), Interaction.occurred_at < limit)
        )
    archive_limit = cutoff(policy.archived_relationship_days, now)
    if archive_limit is not None:
        last = sa.func.coalesce(Relationship.latest_interaction_at, Relationship.classified_at, Relationship.updated_at)
        gone = sa.select(Relationship.id).where(Relationship.status == RelationshipStatus.ARCHIVE, last < archive_limit)
        ids = list(session.scalars(gone))
        report.archived_relationships = len(ids)
        if ids and not dry_run:
            for chunk in chunked(ids):
                follow_ups = sa.select(FollowUp.id).where(FollowUp.relationship_id.in_(chunk)).scalar_subquery()
                session.execute(
                    sa.delete(ItemLink).where(
                        ItemLink.entity_type == EntityType.TASK, ItemLink.entity_id.in_(follow_ups)
                    )
                )
                for model in (FollowUp, CategoryOverride, OwnershipChange, ClassificationChange):
                    session.execute(sa.delete(model).where(model.relationship_id.in_(chunk)))
                session.execute(sa.delete(Relationship).where(Relationship.id.in_(chunk)))
    if limits and not dry_run and any(report.interactions.values()):
        report.key_dates_updated = _refresh_key_dates(session, max(limits.values()))
    if not dry_run:
        audit.record(session, "retention", "run", reason="[privacy.retention] policy", detail=report.as_dict())
    return report


def _refresh_key_dates(session: Session, newest_cutoff: datetime) -> int:
    """Relationships whose latest interaction may have gone get their key dates from what remains."""
    affected = {
        r.id: r
        for r in session.scalars(
            sa.select(Relationship).where(
                Relationship.latest_interaction_at.is_not(None), Relationship.latest_interaction_at < newest_cutoff
            )
        )
    }
    if not affected:
        return 0
    dates: dict[int, list[datetime]] = {i: [] for i in affected}
    p, i = InteractionParticipant, Interaction
    for chunk in chunked(list(affected)):
        on_org = (
            sa.select(Relationship.id, i.occurred_at)
            .join(Person, Person.organisation_id == Relationship.organisation_id)
            .join(p, p.person_id == Person.id)
            .join(i, i.id == p.interaction_id)
            .where(Relationship.id.in_(chunk))
        )
        on_person = (
            sa.select(Relationship.id, i.occurred_at)
            .join(p, p.person_id == Relationship.person_id)
            .join(i, i.id == p.interaction_id)
            .where(Relationship.id.in_(chunk))
        )
        for query in (on_org, on_person):
            for rel_id, occurred in session.execute(query):
                dates[rel_id].append(occurred)
    changed = 0
    for rel_id, rel in affected.items():
        first, latest = key_dates(dates[rel_id], rel.first_contact_at)
        if (first, latest) != (rel.first_contact_at, rel.latest_interaction_at):
            rel.first_contact_at, rel.latest_interaction_at = first, latest
            changed += 1
    session.flush()
    return changed
