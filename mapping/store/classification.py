"""The store side of classification: staff overrides from Outlook, results saved, categories wanted.

* :func:`record_overrides` compares, for every live Outlook contact of a person, the managed
  categories relsync last wrote there (``ItemLink.written_categories``) with the categories the last
  sync saw (``ItemLink.categories``), through :func:`mapping.categories.detect_overrides`. A managed
  category staff added by hand opens an override of its dimension for the person's relationship
  (closing an older one of that dimension); a category staff removed that relsync had written closes
  the relationship's live override of that dimension ("respected until staff remove it"). A contact
  relsync never wrote has no base, so nothing on it counts as an override.
* :func:`save_classifications` stores each :class:`~mapping.relationship_records.Classification` on its
  relationship row (with the inputs and fired rules, for ``relsync explain``), and a row of
  classification history for each relationship whose classification changed (tier movement).
* :func:`wanted_by_person` says which managed categories each live person's contacts should carry: those
  of the person's relationship, which is its organisation's when it has one, else its own.

A person's relationship: :func:`person_relationships`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mapping.categories import all_managed_names, detect_overrides
from mapping.classify_config import ClassificationConfig
from mapping.relationship_records import Classification, RelationshipFacts
from mapping.store import audit
from mapping.store.history import record_changes, record_revenue
from mapping.store.models import (
    CategoryDimension,
    CategoryOverride,
    EmailAddress,
    EntityType,
    ItemKind,
    ItemLink,
    Organisation,
    Person,
    Relationship,
    RelationshipStatus,
    RelationshipType,
    StaffMailbox,
    utcnow,
)


def _relationship_of_person() -> tuple[Any, Any, Any]:
    """(expression of the person's relationship id, org relationship alias, person relationship alias)."""
    by_org = aliased(Relationship)
    by_person = aliased(Relationship)
    rel_id = sa.case((Person.organisation_id.is_not(None), by_org.id), else_=by_person.id)
    return rel_id, by_org, by_person


def person_relationships(session: Session) -> dict[int, int]:
    """Live person id -> the id of its relationship (its organisation's, else its own)."""
    rel_id, by_org, by_person = _relationship_of_person()
    query = (
        sa.select(Person.id, rel_id)
        .outerjoin(by_org, by_org.organisation_id == Person.organisation_id)
        .outerjoin(by_person, by_person.person_id == Person.id)
        .where(Person.merged_into_id.is_(None))
    )
    return {pid: rid for pid, rid in session.execute(query) if rid is not None}


@dataclass(frozen=True)
class OverrideChanges:
    opened: int = 0
    closed: int = 0


def record_overrides(session: Session, config: ClassificationConfig, now: datetime | None = None) -> OverrideChanges:
    """Open and close staff overrides from what staff did to managed categories (see the module docstring)."""
    now = now or utcnow()
    all_managed = all_managed_names(config)
    names = config.categories
    rel_id, by_org, by_person = _relationship_of_person()
    rows = session.execute(
        sa.select(ItemLink.id, ItemLink.mailbox_id, rel_id, ItemLink.written_categories, ItemLink.categories)
        .join(Person, Person.id == ItemLink.entity_id)
        .outerjoin(by_org, by_org.organisation_id == Person.organisation_id)
        .outerjoin(by_person, by_person.person_id == Person.id)
        .where(
            ItemLink.item_kind == ItemKind.CONTACT,
            ItemLink.entity_type == EntityType.PERSON,
            ItemLink.deleted_at.is_(None),
            ItemLink.written_categories.is_not(None),
            Person.merged_into_id.is_(None),
        )
        .order_by(ItemLink.id)
    ).all()
    changes: list[tuple[int, int, int, CategoryDimension, str | None]] = []
    for link_id, mailbox_id, relationship_id, written, current in rows:
        if relationship_id is None:
            continue
        found = detect_overrides([str(c) for c in written], [str(c) for c in current or ()], all_managed, names)
        for dimension, value in found.items():
            changes.append((link_id, mailbox_id, relationship_id, CategoryDimension(dimension), value))
    if not changes:
        return OverrideChanges()
    live: dict[tuple[int, CategoryDimension], list[CategoryOverride]] = {}
    for override in session.scalars(
        sa.select(CategoryOverride)
        .where(CategoryOverride.removed_at.is_(None), CategoryOverride.relationship_id.in_({c[2] for c in changes}))
        .order_by(CategoryOverride.id)
    ):
        live.setdefault((override.relationship_id, override.dimension), []).append(override)
    opened = closed = 0
    for link_id, mailbox_id, relationship_id, dim, value in changes:
        current_overrides = live.setdefault((relationship_id, dim), [])
        if value is not None and any(o.value.casefold() == value.casefold() for o in current_overrides):
            continue  # already recorded (e.g. a write-back that failed last time)
        for override in current_overrides:
            override.removed_at = now
            closed += 1
        current_overrides.clear()
        if value is not None:
            override = CategoryOverride(
                relationship_id=relationship_id,
                dimension=dim,
                value=value,
                item_link_id=link_id,
                mailbox_id=mailbox_id,
                created_at=now,
            )
            session.add(override)
            current_overrides.append(override)
            opened += 1
    session.flush()
    audit.append(
        session,
        (
            audit.AuditRecord(
                "override",
                "set" if value is not None else "removed",
                subject=f"relationship:{relationship_id}",
                reason="staff changed a managed category in Outlook",
                detail={"link_id": link_id, "mailbox_id": mailbox_id, "dimension": dim.value},
            )
            for link_id, mailbox_id, relationship_id, dim, value in changes
        ),
    )
    return OverrideChanges(opened, closed)


_PLAIN = (str, int, float, bool, type(None))


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # the common case first: this runs ~30 times per relationship
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def explanation(result: Classification) -> dict[str, Any]:
    """What ``relationships.inputs`` holds: the facts the rules saw and how value and potential came out."""
    return {
        "facts": _jsonable(result.inputs),
        "net_revenue": str(result.net_revenue),
        "value_rank": result.value_rank,
        "potential_score": result.potential_score,
        "potential_signals": [[name, points] for name, points in result.potential_signals],
        "overridden": list(result.overridden),
        "notes": list(result.notes),
        "referral_credit": str(result.referral_credit) if result.referral_credit else None,
        "group": None
        if result.group is None
        else {
            "root_id": result.group.root_id,
            "root": result.group.root_name,
            "value_percent": result.group.value_percent,
            "tier": result.group.tier,
            "inherited": result.group.inherited,
        },
    }


def save_classifications(
    session: Session, facts: Sequence[RelationshipFacts], results: Sequence[Classification], now: datetime | None = None
) -> int:
    """Store each result on its relationship row (one bulk UPDATE). Returns how many rows.

    ``owner`` is the explicit owner (rule or category); the owner's mailbox is decided by the
    follow-up planner (``mapping.followups.decide_owner``), which also weighs interactions.
    """
    now = now or utcnow()
    params: list[dict[str, Any]] = []
    for f, r in zip(facts, results, strict=True):
        latest_tx = f.latest_transaction_at
        params.append(
            {
                "id": int(r.id),
                "type": RelationshipType(r.type),
                "status": RelationshipStatus(r.status),
                "value_percent": r.value_percent,
                "tier": r.tier,
                "potential": r.potential,
                "owner": r.owner,
                "first_contact_at": f.first_contact_at,
                "latest_transaction_on": latest_tx.date() if latest_tx is not None else None,
                "latest_interaction_at": f.latest_interaction_at,
                "inputs": explanation(r),
                "fired_rules": list(r.fired_rules),
                "classified_at": now,
                "updated_at": now,
            }
        )
    # History first: it compares with the values the rows hold before this update.
    record_changes(session, params, now)
    record_revenue(session, {int(r.id): r.net_revenue for r in results}, now)
    for start in range(0, len(params), 5000):
        session.execute(sa.update(Relationship), params[start : start + 5000])
    return len(params)


def wanted_by_person(
    session: Session, wanted_by_relationship: Mapping[int, Sequence[str]]
) -> dict[int, tuple[str, ...]]:
    """Person id -> the managed categories its contacts should carry (persons without one are left out)."""
    return {
        person_id: tuple(wanted_by_relationship[rid])
        for person_id, rid in person_relationships(session).items()
        if rid in wanted_by_relationship
    }


def record_written_managed(session: Session, written: Iterable[tuple[int, Sequence[str]]]) -> int:
    """Store (link id, managed categories now on the item after our write) as what relsync last wrote."""
    params = [{"id": link_id, "written_categories": list(categories)} for link_id, categories in written]
    for start in range(0, len(params), 5000):
        session.execute(sa.update(ItemLink), params[start : start + 5000])
    return len(params)


__all__ = [
    "OverrideChanges",
    "explain_relationship",
    "explanation",
    "find_relationships",
    "person_relationships",
    "record_overrides",
    "record_written_managed",
    "save_classifications",
    "wanted_by_person",
]


def find_relationships(session: Session, query: str) -> list[Relationship]:
    """The relationships ``query`` names: by e-mail address (the person's relationship), else by exact
    organisation or person name (case-insensitive), else by a name containing it."""
    text = query.strip()
    if not text:
        return []
    by_person = person_relationships(session)
    if "@" in text:
        ids = session.scalars(sa.select(EmailAddress.person_id).where(EmailAddress.address == text.casefold()))
        rel_ids = {by_person[p] for p in ids if p in by_person}
    else:
        rel_ids = set()
        for exact in (True, False):
            folded = text.casefold()
            # autoescape: a % or _ in the query is that character, not a LIKE wildcard ("%" matched everyone)
            org_match = (
                sa.func.lower(Organisation.name) == folded
                if exact
                else sa.func.lower(Organisation.name).contains(folded, autoescape=True)
            )
            person_match = (
                sa.func.lower(Person.display_name) == folded
                if exact
                else sa.func.lower(Person.display_name).contains(folded, autoescape=True)
            )
            rel_ids |= set(
                session.scalars(
                    sa.select(Relationship.id)
                    .join(Organisation, Organisation.id == Relationship.organisation_id)
                    .where(org_match, Organisation.merged_into_id.is_(None))
                )
            )
            people = session.scalars(sa.select(Person.id).where(person_match, Person.merged_into_id.is_(None)))
            rel_ids |= {by_person[p] for p in people if p in by_person}
            if rel_ids:
                break
    if not rel_ids:
        return []
    return list(session.scalars(sa.select(Relationship).where(Relationship.id.in_(rel_ids)).order_by(Relationship.id)))


def explain_relationship(session: Session, rel: Relationship) -> dict[str, Any]:
    """Everything ``relsync explain`` shows for one relationship, JSON-friendly."""
    if rel.organisation_id is not None:
        org = session.get(Organisation, rel.organisation_id)
        name, kind = (org.name if org else "?"), "organization"
    else:
        person = session.get(Person, rel.person_id) if rel.person_id is not None else None
        name, kind = (person.display_name if person else "?"), "person"
    overrides = session.execute(
        sa.select(CategoryOverride, sa.func.coalesce(StaffMailbox.address, CategoryOverride.set_by))
        .outerjoin(StaffMailbox, StaffMailbox.id == CategoryOverride.mailbox_id)
        .where(CategoryOverride.relationship_id == rel.id)
        .order_by(CategoryOverride.created_at, CategoryOverride.id)
    ).all()
    inputs = dict(rel.inputs or {})
    return {
        "id": rel.id,
        "name": name,
        "kind": kind,
        "result": {
            "type": str(rel.type) if rel.type is not None else None,
            "status": str(rel.status) if rel.status is not None else None,
            "value_percent": rel.value_percent,
            "tier": rel.tier,
            "potential": rel.potential,
            "owner": rel.owner,
        },
        "classified_at": _jsonable(rel.classified_at),
        "inputs": inputs.get("facts", {}),
        "net_revenue": inputs.get("net_revenue"),
        "value_rank": inputs.get("value_rank"),
        "potential_score": inputs.get("potential_score"),
        "potential_signals": inputs.get("potential_signals", []),
        "fired_rules": list(rel.fired_rules or []),
        "overridden": inputs.get("overridden", []),
        "notes": inputs.get("notes", []),
        "referral_credit": inputs.get("referral_credit"),
        "group": inputs.get("group"),
        "overrides": [
            {
                "dimension": str(o.dimension),
                "value": o.value,
                "mailbox": address,
                "set_at": _jsonable(o.created_at),
                "removed_at": _jsonable(o.removed_at),
            }
            for o, address in overrides
        ],
    }
