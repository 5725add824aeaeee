"""Writing and reading classification history (:class:`~mapping.store.models_history.ClassificationChange`).

* :func:`record_changes` is called by :func:`mapping.store.classification.save_classifications` with
  the values about to be stored: a relationship whose type, status, tier, potential or value % differs
  from what its row holds gets one history row (a first classification counts as a change).
* :func:`record_revenue` keeps each relationship's net revenue as classification computed it, for
  the overview (:class:`~mapping.store.models_history.RelationshipRevenue`);
* :func:`classifications_as_of` answers "what was each relationship on that day" with one aggregate
  query (each relationship's latest row at or before the instant).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.models import Relationship
from mapping.store.models_history import ClassificationChange, RelationshipRevenue

TRACKED = ("type", "status", "tier", "potential", "value_percent")


def _plain(value: Any) -> Any:
    """Enum members as their string value, so ``RelationshipType.LEAD`` equals the stored ``"lead"``."""
    return getattr(value, "value", value)


def record_changes(session: Session, new_values: Iterable[Mapping[str, Any]], now: datetime) -> int:
    """Append a history row for each relationship whose tracked values change. Returns how many rows.

    ``new_values``: mappings with ``id`` and the :data:`TRACKED` keys, as about to be written.
    """
    wanted = {int(row["id"]): tuple(_plain(row[k]) for k in TRACKED) for row in new_values}
    if not wanted:
        return 0
    current: dict[int, tuple[Any, ...]] = {}
    ids = sorted(wanted)
    columns = (Relationship.id, *(getattr(Relationship, k) for k in TRACKED))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        query = sa.select(*columns).where(Relationship.id.in_(chunk))
        for rid, *values in session.execute(query):
            current[rid] = tuple(_plain(v) for v in values)
    rows = [
        {"relationship_id": rid, "changed_at": now, **dict(zip(TRACKED, values, strict=True))}
        for rid, values in wanted.items()
        if rid in current and current[rid] != values
    ]
    for start in range(0, len(rows), 5000):
        session.execute(sa.insert(ClassificationChange), rows[start : start + 5000])
    return len(rows)


def record_revenue(session: Session, revenue: Mapping[int, Decimal], now: datetime) -> int:
    """Store each relationship's net revenue as classification computed it (only rows that changed are
    written). Returns how many rows were written."""
    cent = Decimal("0.01")
    wanted = {rid: Decimal(value).quantize(cent) for rid, value in revenue.items()}
    if not wanted:
        return 0
    r = RelationshipRevenue
    current: dict[int, Decimal] = {}
    ids = sorted(wanted)
    for start in range(0, len(ids), 5000):
        query = sa.select(r.relationship_id, r.net_revenue).where(r.relationship_id.in_(ids[start : start + 5000]))
        current.update({rid: Decimal(str(value)).quantize(cent) for rid, value in session.execute(query)})
    new = [
        {"relationship_id": rid, "net_revenue": v, "computed_at": now}
        for rid, v in wanted.items()
        if rid not in current
    ]
    changed = [
        {"relationship_id": rid, "net_revenue": v, "computed_at": now}
        for rid, v in wanted.items()
        if rid in current and current[rid] != v
    ]
    for start in range(0, len(new), 5000):
        session.execute(sa.insert(r), new[start : start + 5000])
    for start in range(0, len(changed), 5000):
        session.execute(sa.update(r), changed[start : start + 5000])
    return len(new) + len(changed)


@dataclass(frozen=True, slots=True)
class PastClassification:
    """A relationship's classification as it was at some instant."""

    relationship_id: int
    type: str | None
    status: str | None
    tier: str | None
    potential: str | None
    value_percent: float | None


def latest_rows(before: datetime) -> sa.Subquery:
    """The id of each relationship's latest history row changed before ``before`` (ids grow with time)."""
    h = ClassificationChange
    return sa.select(sa.func.max(h.id).label("id")).where(h.changed_at < before).group_by(h.relationship_id).subquery()


def classifications_as_of(session: Session, before: datetime) -> dict[int, PastClassification]:
    """Relationship id -> its classification just before ``before`` (relationships without history yet
    at that instant are left out)."""
    h = ClassificationChange
    last = latest_rows(before)
    query = sa.select(h.relationship_id, h.type, h.status, h.tier, h.potential, h.value_percent).join(
        last, last.c.id == h.id
    )
    return {row[0]: PastClassification(*row) for row in session.execute(query)}


__all__ = [
    "TRACKED",
    "PastClassification",
    "classifications_as_of",
    "latest_rows",
    "record_changes",
    "record_revenue",
]
