"""The retention run (store service): remove interactions past their kind's period and archived
relationships past theirs, keep relationships' key dates consistent, count it all and audit it.

Set-based and chunked by id ranges. Per policy class (interaction kind) the expired rows are one
indexed predicate, ``kind = :kind AND occurred_at < :cutoff``; the run walks them in windows of
consecutive ids holding at most ``chunk`` of them (20,000), and each window is one transaction of four
statements driven by that same predicate bounded by the window (``id BETWEEN :lo AND :hi``): the
window's item links, participants and viewers, then the interactions themselves, then one audit entry
saying what the window removed. No row is loaded into the ORM.

Crash-safe: a kill between windows leaves every interaction either whole (with all its dependent rows)
or gone (with all of them), and every removal audited; a rerun computes the windows afresh from what
is still expired and finishes. The archived relationships are one more transaction, and the key dates
are recomputed (from what remains, by :func:`mapping.privacy.retention.key_dates`) in the last one,
with the run's summary entry; that step depends only on the store's state, so a rerun after a kill
there repairs them too.

What is expired is exactly :func:`mapping.privacy.retention.expired` (the pure decision), which the
property test ``tests/store/test_retention_pass.py`` checks against this pass on random stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
from mapping.store.store import Store

#: Expired interactions removed per transaction: small enough that a window's transaction stays well
#: under SQLite's busy timeout (5 s) on a loaded machine, so a syncing daemon waits instead of failing.
#: Over 1M interactions on SQLite: 20,000 took about 5 s a window at load 7; at load 2 a run took 30 s
#: with 20,000 and 41 s with 10,000 (the same CPU, 26-27 s), so 10,000 halves the wait for that cost.
RETENTION_CHUNK = 10_000
#: SQLite's page cache for the run's connection, in KiB (its default is 2 MiB): the deletes touch
#: every index of four large tables; with the default cache each touch is a read from the OS.
SQLITE_CACHE_KIB = 262_144


@dataclass
class RetentionReport:
    """What a run removed (or, dry, would remove): interactions per kind, archived relationships."""

    dry_run: bool
    interactions: dict[str, int] = field(default_factory=dict)
    archived_relationships: int = 0
    key_dates_updated: int = 0
    #: Transactions that removed interactions (windows of ids).
    windows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "interactions": dict(self.interactions),
            "archived_relationships": self.archived_relationships,
            "key_dates_updated": self.key_dates_updated,
        }


@dataclass(frozen=True)
class Window:
    """Consecutive interaction ids ``lo..hi`` holding ``expired`` interactions of one kind."""

    kind: str
    lo: int
    hi: int
    expired: int


def _expired(kind: str, limit: datetime) -> sa.ColumnElement[bool]:
    """The policy class's predicate, on the indexed ``occurred_at``."""
    return sa.and_(Interaction.kind == InteractionKind(kind), Interaction.occurred_at < limit)


def windows(session: Session, kind: str, limit: datetime, chunk: int) -> list[Window]:
    """The id windows of this kind's expired interactions, ``chunk`` of them to a window (their ids
    are streamed once, in order; only the bounds are kept)."""
    out: list[Window] = []
    lo = last = 0
    n = 0
    query = sa.select(Interaction.id).where(_expired(kind, limit)).order_by(Interaction.id)
    for batch in session.execute(query.execution_options(yield_per=10_000)).scalars().partitions():
        for interaction_id in batch:
            if n == 0:
                lo = interaction_id
            last, n = interaction_id, n + 1
            if n == chunk:
                out.append(Window(kind, lo, last, n))
                n = 0
    if n:
        out.append(Window(kind, lo, last, n))
    return out


#: Core-speed deletes: the ORM would otherwise fetch every deleted row's key back (RETURNING) to
#: update a session that holds none of them.
PLAIN = {"synchronize_session": False}


def remove_window(session: Session, window: Window, limit: datetime) -> int:
    """Delete one window's expired interactions and every row that depends on them, by the same
    predicate; returns how many interactions went (fewer than planned when some went meanwhile)."""
    bounded = sa.and_(Interaction.id.between(window.lo, window.hi), _expired(window.kind, limit))
    ids = sa.select(Interaction.id).where(bounded)
    session.execute(
        sa.delete(ItemLink).where(
            ItemLink.entity_type == EntityType.INTERACTION,
            ItemLink.entity_id.between(window.lo, window.hi),
            ItemLink.entity_id.in_(ids),
        ),
        execution_options=PLAIN,
    )
    for model, column in (
        (InteractionParticipant, InteractionParticipant.interaction_id),
        (InteractionViewer, InteractionViewer.interaction_id),
    ):
        session.execute(
            sa.delete(model).where(column.between(window.lo, window.hi), column.in_(ids)), execution_options=PLAIN
        )
    gone = session.execute(sa.delete(Interaction).where(bounded), execution_options=PLAIN)
    removed: int = gone.rowcount  # type: ignore[attr-defined]
    return removed


def _archived(policy: RetentionPolicy, now: datetime) -> sa.Select[int] | None:
    limit = cutoff(policy.archived_relationship_days, now)
    if limit is None:
        return None
    last = sa.func.coalesce(Relationship.latest_interaction_at, Relationship.classified_at, Relationship.updated_at)
    return sa.select(Relationship.id).where(Relationship.status == RelationshipStatus.ARCHIVE, last < limit)


def remove_relationships(session: Session, ids: list[int]) -> None:
    """Delete archived relationships with their follow-ups (and those tasks' links), overrides,
    ownership and classification history."""
    for part in chunked(ids):
        follow_ups = sa.select(FollowUp.id).where(FollowUp.relationship_id.in_(part)).scalar_subquery()
        session.execute(
            sa.delete(ItemLink).where(ItemLink.entity_type == EntityType.TASK, ItemLink.entity_id.in_(follow_ups)),
            execution_options=PLAIN,
        )
        for model in (FollowUp, CategoryOverride, OwnershipChange, ClassificationChange):
            session.execute(sa.delete(model).where(model.relationship_id.in_(part)), execution_options=PLAIN)
        session.execute(sa.delete(Relationship).where(Relationship.id.in_(part)), execution_options=PLAIN)


def refresh_key_dates(session: Session, newest_cutoff: datetime) -> int:
    """Relationships whose latest interaction may have gone (it is older than the newest cutoff) get
    their key dates from what remains: the oldest and newest remaining interaction per relationship in
    one grouped query (through its organisation's people, or its person), the pure
    :func:`~mapping.privacy.retention.key_dates` on them, one bulk update of what changed."""
    r, p, i = Relationship, InteractionParticipant, Interaction
    affected = r.latest_interaction_at.is_not(None), r.latest_interaction_at < newest_cutoff
    rows = session.execute(sa.select(r.id, r.first_contact_at, r.latest_interaction_at).where(*affected)).all()
    if not rows:
        return 0
    spans: dict[int, list[datetime]] = {}
    on_org = (
        sa.select(r.id, sa.func.min(i.occurred_at), sa.func.max(i.occurred_at))
        .join(Person, Person.organisation_id == r.organisation_id)
        .join(p, p.person_id == Person.id)
        .join(i, i.id == p.interaction_id)
        .where(*affected)
        .group_by(r.id)
    )
    on_person = (
        sa.select(r.id, sa.func.min(i.occurred_at), sa.func.max(i.occurred_at))
        .join(p, p.person_id == r.person_id)
        .join(i, i.id == p.interaction_id)
        .where(*affected)
        .group_by(r.id)
    )
    for query in (on_org, on_person):
        for rel_id, oldest, newest in session.execute(query):
            spans.setdefault(rel_id, []).extend((oldest, newest))
    changes = []
    for rel_id, first_contact, latest in rows:
        first, new_latest = key_dates(spans.get(rel_id, []), first_contact)
        if (first, new_latest) != (first_contact, latest):
            changes.append({"id": rel_id, "first_contact_at": first, "latest_interaction_at": new_latest})
    if changes:
        session.execute(sa.update(Relationship), changes)
    return len(changes)


@contextmanager
def _large_cache(session: Session) -> Iterator[None]:
    """On SQLite, a page cache fit for a bulk delete for this transaction, then the connection's own."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = session.execute(sa.text("PRAGMA cache_size")).scalar()
    session.execute(sa.text(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
    try:
        yield
    finally:
        session.execute(sa.text(f"PRAGMA cache_size = {int(before or -2000)}"))


def run_retention(
    store: Store, policy: RetentionPolicy, now: datetime, dry_run: bool, *, chunk: int = RETENTION_CHUNK
) -> RetentionReport:
    """Apply (or, dry, count) the policy: one transaction per window of expired interactions, one for
    the archived relationships, one for key dates and the run's audit entry (see the module docstring)."""
    report = RetentionReport(dry_run)
    limits = cutoffs(policy, now)
    archived = _archived(policy, now)
    with store.session() as session:
        planned = {kind: windows(session, kind, limit, chunk) for kind, limit in limits.items()}
        gone = list(session.scalars(archived)) if archived is not None else []
    report.archived_relationships = len(gone)
    if dry_run:
        report.interactions = {kind: sum(w.expired for w in ws) for kind, ws in planned.items()}
        return report
    for kind, ws in planned.items():
        report.interactions[kind] = 0
        for window in ws:
            with store.session() as session, _large_cache(session):
                removed = remove_window(session, window, limits[kind])
                if removed:
                    audit.record(
                        session,
                        "retention",
                        "interactions_removed",
                        reason="[privacy.retention] policy",
                        detail={"kind": kind, "ids": [window.lo, window.hi], "removed": removed},
                    )
            report.interactions[kind] += removed
            report.windows += 1
    with store.session() as session:
        if archived is not None and gone:  # judged again inside this transaction: still archived and old
            gone = list(session.scalars(archived))
            report.archived_relationships = len(gone)
            remove_relationships(session, gone)
        if limits:
            report.key_dates_updated = refresh_key_dates(session, max(limits.values()))
        audit.record(session, "retention", "run", reason="[privacy.retention] policy", detail=report.as_dict())
    return report
