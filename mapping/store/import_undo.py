"""Undoing a contact import batch: remove what it created, restore what it changed.

Refused, with one sentence per reason, when something later depends on the batch: a person it created
has since been merged, linked to an Outlook item, taken part in an interaction, bought something or
got a follow-up; a person or address it changed has been changed again since; an organisation it
created has people the batch did not bring. Relationships and classifications derived from the
batch's people go with them (they are recomputed from what remains).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.errors import EXIT_USAGE, RelsyncError
from mapping.store import audit
from mapping.store.models import (
    EmailAddress,
    EntityType,
    FollowUp,
    InteractionParticipant,
    ItemLink,
    MatchCandidate,
    MatchStatus,
    Organisation,
    Person,
    Phone,
    PostalAddress,
    Transaction,
    utcnow,
)
from mapping.store.models_imports import ImportBatch, ImportBatchItem

_MODELS: dict[str, Any] = {
    "organisations": Organisation,
    "people": Person,
    "email_addresses": EmailAddress,
    "phones": Phone,
    "postal_addresses": PostalAddress,
    "match_candidates": MatchCandidate,
}


class ImportUndoError(RelsyncError):
    """The batch cannot be undone (unknown, already undone, or later changes depend on it)."""

    exit_code = EXIT_USAGE
    topic = "import undo"

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons

    def sentences(self) -> list[str]:
        return [f"{self.topic}: {r}" for r in self.reasons]


@dataclass(frozen=True)
class UndoResult:
    batch_id: int
    removed: dict[str, int]
    restored: dict[str, int]


def _items(session: Session, batch_id: int) -> list[ImportBatchItem]:
    return list(
        session.scalars(
            sa.select(ImportBatchItem).where(ImportBatchItem.batch_id == batch_id).order_by(ImportBatchItem.id)
        )
    )


def _ids(items: list[ImportBatchItem], table: str, action: str = "created") -> set[int]:
    return {i.record_id for i in items if i.table_name == table and i.action == action}


def _chunks(ids: set[int], size: int = 900) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[k : k + size] for k in range(0, len(ordered), size)]


def _chunks_str(ids: frozenset[str], size: int = 900) -> list[list[str]]:
    ordered = sorted(ids)
    return [ordered[k : k + size] for k in range(0, len(ordered), size)]


def _referenced(session: Session, column: Any, ids: set[int], *where: Any) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(ids):
        out.update(v for v in session.scalars(sa.select(column).where(column.in_(chunk), *where).distinct()) if v)
    return out


def _listed(ids: set[int], limit: int = 10) -> str:
    shown = ", ".join(f"#{i}" for i in sorted(ids)[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _dependencies(
    session: Session, items: list[ImportBatchItem], outlook_items: frozenset[str] = frozenset()
) -> list[str]:
    """Why the batch cannot be undone; links to ``outlook_items`` (the Outlook contacts the batch created,
    which the undo takes away with it) do not count."""
    people = _ids(items, "people")
    # What the batch left in each record it changed: two rows of a file may change one person, the
    # later after the earlier, and only a value the batch did not leave is a change made since.
    left: dict[tuple[str, int], dict[str, Any]] = {}
    for item in items:
        if item.action == "changed" and item.after is not None:
            left.setdefault((item.table_name, item.record_id), {}).update(item.after)
    # People the batch moved into an organisation it created go back with the undo: not "from elsewhere".
    moved_in = {r for (t, r), after in left.items() if t == "people" and "organisation_id" in after}
    ours_in_outlook = [ItemLink.item_id.not_in(sorted(outlook_items))] if outlook_items else []
    orgs = _ids(items, "organisations")
    ours = _ids(items, "match_candidates")
    out: list[str] = []
    checks = [
        (
            "merged with another person since",
            _referenced(session, Person.id, people, Person.merged_into_id.is_not(None))
            | _referenced(session, Person.merged_into_id, people),
        ),
        (
            "linked to an Outlook item since",
            _referenced(
                session, ItemLink.entity_id, people, ItemLink.entity_type == EntityType.PERSON, *ours_in_outlook
            ),
        ),
        ("in an interaction since", _referenced(session, InteractionParticipant.person_id, people)),
        ("in a sales transaction since", _referenced(session, Transaction.person_id, people)),
        ("given a follow-up since", _referenced(session, FollowUp.person_id, people)),
    ]
    for why, hit in checks:
        if hit:
            out.append(f"person {_listed(hit)} created by this batch was {why}: undo that first or keep the batch")
    foreign: set[int] = set()
    ours_or_moved = people | moved_in  # compared here, not in SQL: a big batch is more ids than a statement takes
    for chunk in _chunks(orgs):
        members = session.execute(sa.select(Person.id, Person.organisation_id).where(Person.organisation_id.in_(chunk)))
        foreign.update(org for person, org in members if person not in ours_or_moved and org is not None)
    foreign |= _referenced(session, Organisation.merged_into_id, orgs) | _referenced(
        session, Organisation.id, orgs, Organisation.merged_into_id.is_not(None)
    )
    if foreign:
        out.append(f"organisation {_listed(foreign)} created by this batch has people or merges from elsewhere since")
    decided: set[int] = set()
    for chunk in _chunks(ours):
        decided.update(
            session.scalars(
                sa.select(MatchCandidate.id).where(
                    MatchCandidate.id.in_(chunk), MatchCandidate.status != MatchStatus.PENDING
                )
            )
        )
    if decided:
        out.append(f"review pair {_listed(decided)} from this batch was decided since: undo that decision first")
    for (table, record_id), after in left.items():
        model = _MODELS[table]
        cols = [c for c in after if c != "updated_at"]
        row = session.execute(sa.select(*(getattr(model, c) for c in cols)).where(model.id == record_id)).one_or_none()
        if row is None:
            out.append(f"{table} #{record_id} changed by this batch no longer exists")
            continue
        moved = [c for c, now in zip(cols, row, strict=True) if now != after[c]]
        if moved:
            name = f" ({session.get_one(Person, record_id).display_name})" if table == "people" else ""
            out.append(f"{table} #{record_id}{name}: {', '.join(moved)} changed again since the import")
    return out


def _value(model: Any, column: str, value: Any) -> Any:
    if column in ("updated_at", "created_at") and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _checked(
    session: Session, batch_id: int, outlook_items: frozenset[str]
) -> tuple[ImportBatch, list[ImportBatchItem]]:
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise ImportUndoError([f"no import batch {batch_id}: `relsync import list` shows the batches"])
    if batch.undone_at is not None:
        raise ImportUndoError([f"batch {batch_id} was already undone at {batch.undone_at:%Y-%m-%d %H:%M} UTC"])
    items = _items(session, batch_id)
    problems = _dependencies(session, items, outlook_items)
    if problems:
        raise ImportUndoError([f"batch {batch_id} cannot be undone: {p}" for p in problems])
    return batch, items


def check_undo(session: Session, batch_id: int, outlook_items: frozenset[str] = frozenset()) -> None:
    """Raise :class:`ImportUndoError` when batch ``batch_id`` cannot be undone (changes nothing)."""
    _checked(session, batch_id, outlook_items)


def undo_batch(session: Session, batch_id: int, outlook: Sequence[tuple[int, str, str]] = ()) -> UndoResult:
    """Undo batch ``batch_id`` or raise :class:`ImportUndoError` saying what depends on it.

    ``outlook``: (row id, item id, "removed" or "kept") of each Outlook contact the batch created, as
    the caller left it in the mailbox. Their item links go (a removed contact is gone; a kept one, which
    staff changed since, is theirs now and a full resync reads it in again as a contact of its own)."""
    from mapping.store.import_outlook import record_removals

    items_out = frozenset(item for _, item, _ in outlook if item)
    batch, items = _checked(session, batch_id, items_out)
    for item_ids in _chunks_str(items_out):
        session.execute(
            sa.delete(ItemLink).where(ItemLink.entity_type == EntityType.PERSON, ItemLink.item_id.in_(item_ids))
        )
    record_removals(session, [(row, state) for row, _, state in outlook])
    removed: dict[str, int] = {}
    restored: dict[str, int] = {}
    ours = _ids(items, "match_candidates")
    for chunk in _chunks(ours):
        session.execute(sa.delete(MatchCandidate).where(MatchCandidate.id.in_(chunk)))
    removed["match_candidates"] = len(ours)
    for item in reversed(items):
        if item.action == "changed" and item.before is not None:
            model = _MODELS[item.table_name]
            values = {c: _value(model, c, v) for c, v in item.before.items()}
            statement = sa.update(model).where(model.id == item.record_id)
            if "user_fields" in values:
                statement = statement.values(
                    user_fields=sa.bindparam("fields", values.pop("user_fields"), type_=sa.JSON(none_as_null=True))
                )
            session.execute(statement.values(**values))
            restored[item.table_name] = restored.get(item.table_name, 0) + 1
    people = _ids(items, "people")
    # Pending pairs found later by sync's scan against a person this batch created go with that person.
    for chunk in _chunks(people):
        session.execute(
            sa.delete(MatchCandidate).where(
                MatchCandidate.kind == "person", sa.or_(MatchCandidate.a_id.in_(chunk), MatchCandidate.b_id.in_(chunk))
            )
        )
    for table in ("email_addresses", "phones", "postal_addresses", "people", "organisations"):
        model = _MODELS[table]
        ids = _ids(items, table)
        for chunk in _chunks(ids):
            session.execute(sa.delete(model).where(model.id.in_(chunk)))
        removed[table] = len(ids)
    batch.undone_at = utcnow()
    audit.record(
        session,
        "import",
        "undo",
        subject=f"import_batch:{batch_id}",
        reason="relsync import undo",
        detail={"batch_id": batch_id, "removed": removed, "restored": restored},
    )
    return UndoResult(batch_id, removed, restored)


def batch_list(session: Session) -> list[dict[str, Any]]:
    """Every import batch, newest first, for ``relsync import list``."""
    rows = session.execute(sa.select(ImportBatch).order_by(ImportBatch.id.desc())).scalars()
    return [
        {
            "batch": b.id,
            "file": b.file_name,
            "profile": b.profile,
            "imported_at": b.created_at.isoformat(),
            "undone_at": b.undone_at.isoformat() if b.undone_at else None,
            "summary": b.summary,
        }
        for b in rows
    ]
