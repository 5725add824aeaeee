"""Contact import against the store: load what the planner compares with, apply a plan as one batch.

:func:`store_view` loads the live organisations and people as plain records (a few set-based queries,
whatever the store's size). :func:`apply_plan` writes a :class:`~mapping.contact_import.plan.ImportPlan`
in one transaction: new organisations and people by set-based inserts, changes to existing people,
doubtful pairs into the review queue (the same ``match_candidates`` as sync's), and an
:class:`~mapping.store.models_imports.ImportBatch` with what was there before, so
:mod:`mapping.store.import_undo` can put it back.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.contact_import.clean import Postal
from mapping.contact_import.plan import ImportPlan, PersonPlan, StorePerson
from mapping.heap import without_cyclic_gc
from mapping.identity import OrgCandidate
from mapping.store import audit
from mapping.store.bulk import insert_rows, insert_rows_with_ids, update_tuples
from mapping.store.identity import org_candidates
from mapping.store.models import (
    AddressKind,
    EmailAddress,
    MatchCandidate,
    MatchKind,
    Organisation,
    Person,
    Phone,
    PhoneKind,
    PostalAddress,
    utcnow,
)
from mapping.store.models_imports import ImportBatch, ImportBatchItem

#: Rows per write statement and per slice of the import's work: a 100,000-row import never holds all its
#: bound rows at once, and a lookup's parameters stay few on both databases.
CHUNK = 2000
#: Person columns an import may change, restored by an undo.
PERSON_COLUMNS = (
    "display_name",
    "given_name",
    "middle_name",
    "surname",
    "job_title",
    "department",
    "organisation_id",
    "user_fields",
)


def store_view(session: Session) -> tuple[list[OrgCandidate], list[StorePerson]]:
    """The live organisations (as identity candidates) and people (as :class:`StorePerson`)."""
    orgs = org_candidates(session)
    names = {int(o.id): o.name for o in orgs}
    emails: dict[int, list[str]] = {}
    for pid, address in session.execute(sa.select(EmailAddress.person_id, EmailAddress.address)):
        emails.setdefault(pid, []).append(address)
    phones: dict[int, list[str]] = {}
    for pid, e164 in session.execute(sa.select(Phone.person_id, Phone.e164).where(Phone.e164.is_not(None))):
        phones.setdefault(pid, []).append(e164)
    postal: dict[int, Postal] = {}
    for pid, street, city, state, code, country in session.execute(
        sa.select(
            PostalAddress.person_id,
            PostalAddress.street,
            PostalAddress.city,
            PostalAddress.state,
            PostalAddress.postal_code,
            PostalAddress.country,
        ).order_by(PostalAddress.id)
    ):
        postal.setdefault(pid, Postal(street, city, state, code, country))
    people = [
        StorePerson(
            id=pid,
            display_name=display,
            given=given,
            middle=middle,
            surname=surname,
            job_title=title,
            department=dept,
            organisation_id=org,
            organisation_name=names.get(org) if org is not None else None,
            emails=tuple(emails.get(pid, ())),
            phones=tuple(phones.get(pid, ())),
            postal=postal.get(pid),
            user_fields={str(k): str(v) for k, v in (fields or {}).items()},
        )
        for pid, display, given, middle, surname, title, dept, org, fields in session.execute(
            sa.select(
                Person.id,
                Person.display_name,
                Person.given_name,
                Person.middle_name,
                Person.surname,
                Person.job_title,
                Person.department,
                Person.organisation_id,
                Person.user_fields,
            )
            .where(Person.merged_into_id.is_(None))
            .order_by(Person.id)
        )
    ]
    return orgs, people


def imported_batches(session: Session, file_hash: str) -> list[int]:
    """Ids of the batches (not undone) that imported a file with this SHA-256."""
    return list(
        session.scalars(
            sa.select(ImportBatch.id)
            .where(ImportBatch.file_hash == file_hash, ImportBatch.undone_at.is_(None))
            .order_by(ImportBatch.id)
        )
    )


def _insert(session: Session, model: Any, rows: Iterable[dict[str, Any]], *, ids: bool = True) -> list[int]:
    """Insert ``rows`` set-based (:mod:`mapping.store.bulk`: ``COPY`` on PostgreSQL, the driver's
    executemany on SQLite), :data:`CHUNK` at a time, returning their new ids in order; with
    ``ids=False`` none are read back (cheaper). An unset JSON value stays SQL NULL, as the ORM leaves it."""
    table, made, it = model.__tablename__, [], iter(rows)
    while chunk := list(itertools.islice(it, CHUNK)):
        if ids:
            made.extend(insert_rows_with_ids(session, table, chunk, json_none="sql"))
        else:
            insert_rows(session, table, chunk, json_none="sql")
    return made


def _children(
    person_id: int, emails: Iterable[str], phones: Iterable[Any], postal: Postal | None, primary: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    e = [
        {"person_id": person_id, "address": a, "original": a, "is_primary": primary and n == 0, "is_valid": True}
        for n, a in enumerate(emails)
    ]
    p = [
        {"person_id": person_id, "e164": ph.e164, "raw": ph.raw, "kind": PhoneKind(ph.kind), "label": "import"}
        for ph in phones
    ]
    a = (
        [
            {
                "person_id": person_id,
                "kind": AddressKind.WORK,
                "street": postal.street,
                "city": postal.city,
                "state": postal.state,
                "postal_code": postal.postcode,
                "country": postal.country,
            }
        ]
        if postal
        else []
    )
    return e, p, a


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@without_cyclic_gc
def apply_plan(
    session: Session, plan: ImportPlan, *, file_name: str, file_hash: str, profile: str, summary: dict[str, Any]
) -> int:
    """Write ``plan`` as one import batch and return its id (the caller's session commits)."""
    batch = ImportBatch(file_name=file_name[:255], file_hash=file_hash, profile=profile, summary=summary)
    session.add(batch)
    session.flush()
    items: list[dict[str, Any]] = []
    counts: dict[str, dict[str, int]] = {}  # per action, per table: the audit entry's detail

    def record(new: Iterable[dict[str, Any]]) -> None:
        """Batch items in order, written a chunk at a time."""
        for item in new:
            per = counts.setdefault(str(item["action"]), {})
            per[str(item["table_name"])] = per.get(str(item["table_name"]), 0) + 1
            items.append(item)
            if len(items) >= CHUNK:
                _insert_items(session, items)
                items.clear()

    def created(table: str, ids: Iterable[int]) -> None:
        record({"batch_id": batch.id, "table_name": table, "record_id": i, "action": "created"} for i in ids)

    now = utcnow()
    org_ids = dict(
        zip(
            (o.key for o in plan.new_orgs),
            _insert(
                session,
                Organisation,
                (
                    {
                        "name": o.name[:255],
                        "normalised_name": o.normalised_name[:255],
                        "website": o.website,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for o in plan.new_orgs
                ),
            ),
            strict=True,
        )
    )
    created("organisations", org_ids.values())

    def org_id(ref: int | str | None) -> int | None:
        return org_ids.get(ref) if isinstance(ref, str) else ref

    new_people = [p for p in plan.people if p.creates]
    person_ids = _insert(
        session,
        Person,
        (
            {
                "display_name": p.row.display_name,
                "given_name": p.row.given,
                "middle_name": p.row.middle,
                "surname": p.row.surname,
                "job_title": p.row.job_title,
                "department": p.row.department,
                "organisation_id": org_id(p.org),
                "user_fields": dict(p.user_fields) or None,
                "created_at": now,
                "updated_at": now,
            }
            for p in new_people
        ),
    )
    created("people", person_ids)
    new_id = {p.key: pid for p, pid in zip(new_people, person_ids, strict=True)}
    # The new people's e-mails, phones and addresses (they go with the person: not recorded one by one).
    for n, model in enumerate((EmailAddress, Phone, PostalAddress)):
        _insert(
            session,
            model,
            (
                row
                for p, pid in zip(new_people, person_ids, strict=True)
                for row in _children(pid, p.new_emails, p.new_phones, p.new_postal, primary=True)[n]
            ),
            ids=False,
        )
    # Existing people: new e-mails, phones and addresses (recorded one by one), then changed columns.
    existing = [p for p in plan.people if p.target is not None]
    for n, (table, model) in enumerate(
        (("email_addresses", EmailAddress), ("phones", Phone), ("postal_addresses", PostalAddress))
    ):
        rows = (
            row
            for p in existing
            if p.target is not None and (p.new_emails or p.new_phones or p.new_postal)
            for row in _children(p.target, p.new_emails, p.new_phones, p.new_postal, primary=False)[n]
        )
        created(table, _insert(session, model, rows))
    changed = [p for p in existing if p.changes]
    for start in range(0, len(changed), CHUNK):  # a slice after the other: as one update after the other
        record(_change_people(session, batch.id, changed[start : start + CHUNK], org_id))
    candidates = _reviews(plan, new_id, org_ids)
    created("match_candidates", _insert(session, MatchCandidate, candidates))
    _insert_items(session, items)
    audit.record(
        session,
        "import",
        "contacts",
        subject=f"import_batch:{batch.id}",
        reason=f"contact import ({profile[:64]})",
        detail={"batch_id": batch.id, "file_name_hash": audit.audit_file_hash(file_name), **counts},
    )
    return batch.id


def _insert_items(session: Session, items: list[dict[str, Any]]) -> None:
    """The batch's items; an item without ``before``/``after`` leaves SQL NULL there."""
    _insert(
        session,
        ImportBatchItem,
        (
            {
                "batch_id": i["batch_id"],
                "table_name": i["table_name"],
                "record_id": i["record_id"],
                "action": i["action"],
                "before": i.get("before"),
                "after": i.get("after"),
            }
            for i in items
        ),
        ids=False,
    )


def _people_before(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The changeable columns (and ``updated_at``) of the people ``ids``, one query per chunk."""
    out: dict[int, dict[str, Any]] = {}
    names = (*PERSON_COLUMNS, "updated_at")
    for start in range(0, len(ids), CHUNK):
        for row in session.execute(
            sa.select(Person.id, *(getattr(Person, c) for c in names)).where(Person.id.in_(ids[start : start + CHUNK]))
        ):
            out[row[0]] = {c: _jsonable(v) for c, v in zip(names, row[1:], strict=True)}
    return out


_POSTAL_COLUMNS = ("street", "city", "state", "postal_code", "country")


def _first_addresses(session: Session, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """Each person's first postal address (lowest id) as (id, street, city, state, postal_code, country)."""
    out: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(ids), CHUNK):
        for row in session.execute(
            sa.select(PostalAddress.person_id, PostalAddress.id, *(getattr(PostalAddress, c) for c in _POSTAL_COLUMNS))
            .where(PostalAddress.person_id.in_(ids[start : start + CHUNK]))
            .order_by(PostalAddress.id)
        ):
            out.setdefault(row[0], tuple(row[1:]))
    return out


def _change_people(session: Session, batch_id: int, changed: Sequence[PersonPlan], org_id: Any) -> list[dict[str, Any]]:
    """Apply the field changes of existing people set-based and return the batch items with what was
    there before. Plans are taken in rounds in which each person appears once (two rows of a file the
    engine kept apart may both merge into one store person): a later round sees the earlier ones'
    values, as one update after the other would."""
    out: list[tuple[int, int, dict[str, Any]]] = []
    pending = list(enumerate(changed))
    while pending:
        seen: set[int] = set()
        now_round: list[tuple[int, PersonPlan]] = []
        later: list[tuple[int, PersonPlan]] = []
        for n, p in pending:
            assert p.target is not None
            (later if p.target in seen else now_round).append((n, p))
            seen.add(p.target)
        out.extend(_change_round(session, batch_id, now_round, org_id))
        pending = later
    out.sort(key=lambda x: x[:2])  # the items in plan order, as one update after the other recorded them
    return [item for _, _, item in out]


def _executemany(session: Session, table: sa.Table, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """``UPDATE table SET columns WHERE id = :_target`` for every row, set-based (:func:`update_tuples`)."""
    for start in range(0, len(rows), CHUNK):
        values = [(r["_target"], *(r[c] for c in columns)) for r in rows[start : start + CHUNK]]
        update_tuples(session, table.name, "id", columns, values, json_none="sql")


def _change_round(
    session: Session, batch_id: int, changed: Sequence[tuple[int, PersonPlan]], org_id: Any
) -> list[tuple[int, int, dict[str, Any]]]:
    """One round of :func:`_change_people` (each target once): one UPDATE per set of changed columns and chunk."""
    before_of = _people_before(session, [p.target for _, p in changed if p.target is not None])
    now = utcnow()
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    address_changes: list[tuple[int, int, Postal]] = []
    out: list[tuple[int, int, dict[str, Any]]] = []
    for n, p in changed:
        assert p.target is not None
        values: dict[str, Any] = {}
        for change in p.changes:
            if change.field == "organisation_id":
                values["organisation_id"] = org_id(
                    int(change.after) if change.after and change.after.isdigit() else change.after
                )
            elif change.field.startswith("user_field:"):
                values["user_fields"] = dict(p.user_fields)
            elif change.field == "address":
                address_changes.append((n, p.target, p.row.postal))
            else:
                values[change.field] = change.after
        if not values:
            continue
        values["updated_at"] = now
        updates.setdefault(tuple(sorted(values)), []).append({"_target": p.target, **values})
        before = before_of[p.target]
        out.append(
            (
                n,
                0,
                {
                    "batch_id": batch_id,
                    "table_name": "people",
                    "record_id": p.target,
                    "action": "changed",
                    "before": {c: before[c] for c in values},
                    "after": {c: _jsonable(values[c]) for c in values},
                },
            )
        )
    for columns, rows in updates.items():
        _executemany(session, Person.__table__, columns, rows)  # type: ignore[arg-type]
    if address_changes:
        first_of = _first_addresses(session, [t for _, t, _ in address_changes])
        rows = []
        for n, target, postal in address_changes:
            first = first_of[target]
            new = dict(
                zip(
                    _POSTAL_COLUMNS,
                    (postal.street, postal.city, postal.state, postal.postcode, postal.country),
                    strict=True,
                )
            )
            rows.append({"_target": first[0], **new})
            out.append(
                (
                    n,
                    1,
                    {
                        "batch_id": batch_id,
                        "table_name": "postal_addresses",
                        "record_id": first[0],
                        "action": "changed",
                        "before": dict(zip(_POSTAL_COLUMNS, first[1:], strict=True)),
                        "after": new,
                    },
                )
            )
        _executemany(session, PostalAddress.__table__, _POSTAL_COLUMNS, rows)  # type: ignore[arg-type]
    return out


def _reviews(plan: ImportPlan, new_id: dict[str, int], org_ids: dict[str, int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int, int]] = set()

    def add(kind: MatchKind, a: int, b: int, score: float, evidence: Iterable[tuple[str, str, float]]) -> None:
        lo, hi = sorted((a, b))
        if (kind.value, lo, hi) in seen or lo == hi:
            return
        seen.add((kind.value, lo, hi))
        out.append(
            {
                "kind": kind,
                "a_id": lo,
                "b_id": hi,
                "score": score,
                "evidence": [{"kind": k, "detail": d, "weight": w} for k, d, w in evidence]
                + [{"kind": "import", "detail": "found by a contact import", "weight": 0.0}],
            }
        )

    for p in plan.people:
        if p.key not in new_id:
            continue
        for r in p.reviews:
            other = new_id.get(r.other) if isinstance(r.other, str) else r.other
            if other is not None:
                add(MatchKind.PERSON, new_id[p.key], other, r.score, r.evidence)
    for o in plan.org_reviews:
        if o.key in org_ids:
            add(MatchKind.ORGANIZATION, org_ids[o.key], o.store_id, o.score, o.evidence)
    return out


@without_cyclic_gc  # loading the store, planning and writing: no cycles worth a collection
def import_contacts(
    session: Session,
    rows: Sequence[Any],
    *,
    thresholds: Any,
    precedence: Any,
    file_name: str,
    file_hash: str,
    profile: str,
    dry_run: bool | None,
    summary: Any = None,
) -> tuple[ImportPlan, int | None, list[int], bool]:
    """Plan ``rows`` (cleaned :class:`~mapping.contact_import.clean.ContactRow`) against the store and,
    unless it is a dry run, apply the plan as a batch.

    ``dry_run`` ``None`` means the default: a dry run for a file never imported before (by SHA-256),
    a real run for one imported before. Returns the plan, the new batch id (``None`` when nothing was
    written), the earlier batches of this file, and whether it was a dry run. A real run that changes
    nothing records no batch."""
    from mapping.contact_import.plan import plan_import

    earlier = imported_batches(session, file_hash)
    dry = (not earlier) if dry_run is None else dry_run
    orgs, people = store_view(session)
    plan = plan_import(rows, orgs, people, thresholds, precedence)
    del orgs, people  # the store's view is not needed to write the plan
    if dry:
        return plan, None, earlier, True
    counts = plan.counts()
    if not (plan.new_orgs or any(p.changed for p in plan.people) or plan.org_reviews):
        return plan, None, earlier, False
    batch = apply_plan(
        session, plan, file_name=file_name, file_hash=file_hash, profile=profile, summary={**counts, **(summary or {})}
    )
    return plan, batch, earlier, False
