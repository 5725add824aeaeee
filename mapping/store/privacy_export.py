"""Subject access export (store service): every record the store holds about a person, in one document.

Generic over the schema on purpose: every table with a ``person_id`` column contributes the subject's
rows, so a table added later is exported without touching this module. Besides those: the people rows
themselves, their item links, the interactions they are on (metadata: no bodies are stored), identity
review pairs and merges involving them, their relationships' overrides and ownership history, the
explanation of their classification, and the audit entries about any of these records.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store import (
    audit,
    models_history,  # noqa: F401  (classification_history joins Base.metadata)
)
from mapping.store.batching import chunked
from mapping.store.classification import explain_relationship
from mapping.store.models import (
    Base,
    EntityType,
    MatchKind,
    Relationship,
)
from mapping.store.privacy_erase import Subject


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(session: Session, table: sa.Table, where: Any) -> list[dict[str, Any]]:
    return [
        {k: _plain(v) for k, v in row._mapping.items()}
        for row in session.execute(sa.select(table).where(where).order_by(*table.primary_key.columns))
    ]


def person_tables() -> list[sa.Table]:
    """Every table with a ``person_id`` column (the ones a subject's rows are found in by id)."""
    return [t for t in Base.metadata.sorted_tables if "person_id" in t.columns]


def subject_access(session: Session, subject: Subject) -> dict[str, Any]:
    """Everything held about the subject, table by table, plus explanations and audit entries."""
    people = list(subject.person_ids)
    out: dict[str, Any] = {"subject": {"person_ids": people, "organisation_ids": list(subject.organisation_ids)}}
    tables: dict[str, list[dict[str, Any]]] = {}
    people_table = Base.metadata.tables["people"]
    tables["people"] = _rows(session, people_table, people_table.c.id.in_(people))
    for table in person_tables():
        tables[table.name] = _rows(session, table, table.c.person_id.in_(people))
    addresses = [r["address"] for r in tables.get("email_addresses", [])]
    p = Base.metadata.tables["interaction_participants"]
    # Participant rows not (yet) attached to the person still carry their address.
    tables["interaction_participants"] = _rows(
        session, p, sa.or_(p.c.person_id.in_(people), p.c.address.in_(addresses))
    )
    links = Base.metadata.tables["item_links"]
    tables["item_links"] = _rows(
        session, links, sa.and_(links.c.entity_type == EntityType.PERSON.value, links.c.entity_id.in_(people))
    )
    interaction_ids = sorted({r["interaction_id"] for r in tables["interaction_participants"]})
    interactions = Base.metadata.tables["interactions"]
    tables["interactions"] = [
        r for chunk in chunked(interaction_ids) for r in _rows(session, interactions, interactions.c.id.in_(chunk))
    ]
    for name, first, second in (("match_candidates", "a_id", "b_id"), ("merge_audit", "survivor_id", "merged_id")):
        t = Base.metadata.tables[name]
        tables[name] = _rows(
            session,
            t,
            sa.and_(t.c.kind == MatchKind.PERSON.value, sa.or_(t.c[first].in_(people), t.c[second].in_(people))),
        )
    relationship_ids = [r["id"] for r in tables.get("relationships", [])]
    for name in ("category_overrides", "ownership_changes", "classification_history"):
        t = Base.metadata.tables[name]
        tables[name] = _rows(session, t, t.c.relationship_id.in_(relationship_ids))
    out["tables"] = tables
    org_ids = {r["organisation_id"] for r in tables["people"] if r["organisation_id"] is not None}
    out["classification"] = [
        explain_relationship(session, rel)
        for rel in session.scalars(
            sa.select(Relationship)
            .where(sa.or_(Relationship.id.in_(relationship_ids), Relationship.organisation_id.in_(org_ids)))
            .order_by(Relationship.id)
        )
    ]
    subjects = (
        [f"person:{i}" for i in people]
        + [f"link:{r['id']}" for r in tables["item_links"]]
        + [f"follow_up:{r['id']}" for r in tables.get("follow_ups", [])]
        + [f"relationship:{i}" for i in relationship_ids]
    )
    out["audit"] = [row.as_dict() for chunk in chunked(subjects) for row in audit.entries(session, subjects=chunk)]
    return out
