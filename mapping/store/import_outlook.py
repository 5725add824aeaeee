"""The store side of ``relsync import contacts --to-outlook``: who gets an Outlook contact, the intent
recorded before each write, the outcome after it, and what an undo did with them.

Each service call is one transaction. The order that makes a contact never be created twice:

1. :func:`prepare` picks the people (created or merged into by the file's batches) who are in no staff
   mailbox yet (no contact item links to them) and have no contact from relsync already, places each
   in a mailbox by the rule (:mod:`mapping.contact_import.to_outlook`), and commits one ``intended``
   row each, with the id to stamp. Rows still ``intended`` from an earlier run that stopped midway
   come back with them, marked ``pending``: their contact may exist already.
2. The caller asks each mailbox for the pending ids first (a stamped contact found is adopted),
   creates the rest, and :func:`record_created` marks each row ``created`` (item id, ChangeKey) and
   audits the write, in one transaction per mailbox.
3. ``relsync import undo`` reads :func:`created_of_batch`, removes the contacts nobody changed, and
   hands the outcome to :func:`mapping.store.import_undo.undo_batch`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.contact_import.to_outlook import OWNER_RULE, mailbox_names, place
from mapping.store import audit
from mapping.store.models import (
    EmailAddress,
    EntityType,
    InteractionParticipant,
    ItemLink,
    Organisation,
    Person,
    Phone,
    PhoneKind,
    StaffMailbox,
    utcnow,
)
from mapping.store.models_import_outlook import ImportOutlookContact
from mapping.store.models_imports import ImportBatch, ImportBatchItem
from mapping.store.store import Store

AUDIT_CREATE = "create_contact"
AUDIT_REMOVE = "remove_contact"


@dataclass(frozen=True)
class Intent:
    """One contact to create (or, ``pending``, to look for first): the row, the stamp and what it says."""

    row_id: int
    our_id: str
    mailbox: str
    person_id: int
    display_name: str
    given: str | None
    surname: str | None
    emails: tuple[str, ...]
    business_phones: tuple[str, ...]
    mobile: str | None
    company: str | None
    job_title: str | None
    department: str | None
    pending: bool = False


@dataclass
class Prepared:
    intents: list[Intent] = field(default_factory=list)
    #: (person id, display name, owner cell) of people whose owner is not a configured mailbox.
    skipped: list[tuple[int, str, str | None]] = field(default_factory=list)
    #: People left out because relsync made their contact already.
    already: int = 0


@dataclass(frozen=True)
class Outcome:
    """What one intent came to: the item (created or adopted), or the error's sentence."""

    row_id: int
    item_id: str | None = None
    change_key: str | None = None
    adopted: bool = False
    error: str | None = None


def file_imported(store: Store, file_hash: str) -> bool:
    """Whether a batch (not undone) imported a file with this SHA-256 (a plain run is then a real one)."""
    with store.session() as s:
        return (
            s.scalar(
                sa.select(sa.func.count(ImportBatch.id)).where(
                    ImportBatch.file_hash == file_hash, ImportBatch.undone_at.is_(None)
                )
            )
            or 0
        ) > 0


def _chunks(ids: Sequence[int], size: int = 900) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for k in range(0, len(ordered), size):
        yield ordered[k : k + size]


def _people_of(session: Session, batches: Collection[int], merged_into: Collection[int]) -> list[int]:
    created = session.scalars(
        sa.select(ImportBatchItem.record_id).where(
            ImportBatchItem.batch_id.in_(list(batches)),
            ImportBatchItem.table_name == "people",
            ImportBatchItem.action == "created",
        )
    )
    return sorted(set(created) | set(merged_into))


def _eligible(session: Session, ids: list[int]) -> tuple[dict[int, Person], int]:
    """The live people among ``ids`` in no staff mailbox yet and without a contact from relsync."""
    people: dict[int, Person] = {}
    linked: set[int] = set()
    ours: set[int] = set()
    for chunk in _chunks(ids):
        people.update(
            (p.id, p)
            for p in session.scalars(sa.select(Person).where(Person.id.in_(chunk), Person.merged_into_id.is_(None)))
        )
        linked.update(
            session.scalars(
                sa.select(ItemLink.entity_id).where(
                    ItemLink.entity_type == EntityType.PERSON, ItemLink.entity_id.in_(chunk)
                )
            )
        )
        ours.update(
            session.scalars(
                sa.select(ImportOutlookContact.person_id).where(
                    ImportOutlookContact.person_id.in_(chunk),
                    ImportOutlookContact.state.in_(("intended", "created", "kept")),
                )
            )
        )
    already = len(ours & set(people))
    return {i: p for i, p in people.items() if i not in linked and i not in ours}, already


def _intents(session: Session, rows: Sequence[ImportOutlookContact], pending: bool) -> list[Intent]:
    ids = [r.person_id for r in rows]
    people = {p.id: p for chunk in _chunks(ids) for p in session.scalars(sa.select(Person).where(Person.id.in_(chunk)))}
    emails: dict[int, list[str]] = {}
    phones: dict[int, list[tuple[str, PhoneKind]]] = {}
    orgs: dict[int, str] = {}
    for chunk in _chunks(ids):
        for pid, address in session.execute(
            sa.select(EmailAddress.person_id, EmailAddress.address)
            .where(EmailAddress.person_id.in_(chunk))
            .order_by(EmailAddress.is_primary.desc(), EmailAddress.id)
        ):
            emails.setdefault(pid, []).append(address)
        for pid, number, kind in session.execute(
            sa.select(Phone.person_id, sa.func.coalesce(Phone.e164, Phone.raw), Phone.kind)
            .where(Phone.person_id.in_(chunk))
            .order_by(Phone.id)
        ):
            if number:
                phones.setdefault(pid, []).append((number, kind))
    org_ids = [p.organisation_id for p in people.values() if p.organisation_id is not None]
    for chunk in _chunks(org_ids):
        orgs.update(
            (int(i), str(n))
            for i, n in session.execute(sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(chunk)))
        )
    out: list[Intent] = []
    for r in rows:
        p = people.get(r.person_id)
        if p is None:
            continue
        numbers = phones.get(p.id, [])
        out.append(
            Intent(
                row_id=r.id,
                our_id=r.our_id,
                mailbox=r.mailbox,
                person_id=p.id,
                display_name=p.display_name,
                given=p.given_name,
                surname=p.surname,
                emails=tuple(emails.get(p.id, [])[:3]),
                business_phones=tuple(n for n, k in numbers if k != PhoneKind.MOBILE)[:2],
                mobile=next((n for n, k in numbers if k == PhoneKind.MOBILE), None),
                company=orgs.get(p.organisation_id) if p.organisation_id is not None else None,
                job_title=p.job_title,
                department=p.department,
                pending=pending,
            )
        )
    return out


def _staff_names(session: Session, mailboxes: Collection[str]) -> dict[str, list[str]]:
    """The names each configured staff mailbox's user goes by, as synced mail shows them: the display
    name its messages and meetings most often give the address (an owner cell may name the user)."""
    p = InteractionParticipant
    counted = (
        sa.select(StaffMailbox.address, p.display_name, sa.func.count())
        .join(p, p.staff_mailbox_id == StaffMailbox.id)
        .where(StaffMailbox.address.in_([m.casefold() for m in mailboxes]), p.display_name.is_not(None))
        .group_by(StaffMailbox.address, p.display_name)
    )
    best: dict[str, tuple[int, str]] = {}
    for address, name, count in session.execute(counted):
        if name and (address not in best or (count, name) > best[address]):
            best[address] = (count, name)
    return {address: [name] for address, (_, name) in best.items()}


def prepare(
    store: Store,
    batches: Collection[int],
    merged_into: Collection[int],
    rule: str,
    mailboxes: Collection[str],
) -> Prepared:
    """Record the intents of this run (see the module docstring, step 1) and return them with the
    pending ones of earlier runs. ``batches``: the file's batches; the newest is the intents' batch."""
    out = Prepared()
    if not batches:
        return out
    with store.session() as s:
        pending_rows = list(
            s.scalars(
                sa.select(ImportOutlookContact)
                .where(ImportOutlookContact.state == "intended")
                .order_by(ImportOutlookContact.id)
            )
        )
        people, out.already = _eligible(s, _people_of(s, batches, merged_into))
        names = mailbox_names(_staff_names(s, mailboxes)) if rule == OWNER_RULE else {}
        placements = place(rule, {i: p.user_fields for i, p in people.items()}, mailboxes, names)
        batch = max(batches)
        new_rows: list[ImportOutlookContact] = []
        for pl in placements:
            if pl.mailbox is None:
                out.skipped.append((pl.person_id, people[pl.person_id].display_name, pl.owner))
                continue
            row = ImportOutlookContact(
                batch_id=batch,
                person_id=pl.person_id,
                mailbox=pl.mailbox,
                our_id=f"relsync-ct-{uuid.uuid4().hex}",
                state="intended",
            )
            s.add(row)
            new_rows.append(row)
        s.flush()
        out.intents = _intents(s, pending_rows, pending=True) + _intents(s, new_rows, pending=False)
    return out


def record_created(store: Store, mailbox: str, outcomes: Sequence[Outcome]) -> None:
    """Mark each created (or adopted) contact's row ``created`` and audit the write; one transaction.
    A failed one stays ``intended``: the next run with ``--to-outlook`` looks for it, then tries again."""
    done = [o for o in outcomes if o.item_id is not None]
    failed = [o for o in outcomes if o.item_id is None]
    if not outcomes:
        return
    with store.session() as s:
        mailbox_id = s.scalar(sa.select(StaffMailbox.id).where(StaffMailbox.address == mailbox.lower()))
        rows = {
            r.id: r
            for r in s.scalars(
                sa.select(ImportOutlookContact).where(ImportOutlookContact.id.in_([o.row_id for o in outcomes]))
            )
        }
        now = utcnow()
        for o in done:
            row = rows[o.row_id]
            row.state, row.item_id, row.change_key, row.updated_at = "created", o.item_id, o.change_key, now
        audit.exchange_writes(
            s,
            AUDIT_CREATE,
            (
                (
                    f"person:{rows[o.row_id].person_id}",
                    {
                        "person_id": rows[o.row_id].person_id,
                        "mailbox_id": mailbox_id,
                        "batch_id": rows[o.row_id].batch_id,
                        "adopted": o.adopted,
                    },
                )
                for o in done
            ),
        )
        if failed:
            audit.exchange_writes(
                s,
                AUDIT_CREATE,
                (
                    (
                        f"person:{rows[o.row_id].person_id}",
                        {"person_id": rows[o.row_id].person_id, "mailbox_id": mailbox_id},
                    )
                    for o in failed
                ),
                outcome="error",
                reason=audit.scrub(failed[0].error),
            )


@dataclass(frozen=True)
class CreatedContact:
    row_id: int
    mailbox: str
    person_id: int
    our_id: str
    item_id: str
    change_key: str | None


def created_of_batch(store: Store, batch_id: int) -> list[CreatedContact]:
    """The contacts a batch created that are still there as far as relsync knows (state ``created``), and
    those whose creation's outcome is unknown (``intended``: ``item_id`` empty; look for them by stamp)."""
    with store.session() as s:
        return [
            CreatedContact(r.id, r.mailbox, r.person_id, r.our_id, r.item_id or "", r.change_key)
            for r in s.scalars(
                sa.select(ImportOutlookContact)
                .where(
                    ImportOutlookContact.batch_id == batch_id,
                    ImportOutlookContact.state.in_(("created", "intended")),
                )
                .order_by(ImportOutlookContact.id)
            )
        ]


def record_removals(session: Session, removals: Sequence[tuple[int, str]]) -> None:
    """In the undo's transaction: each row's new state (``removed`` or ``kept``) and the audit entries."""
    if not removals:
        return
    state = dict(removals)
    rows = list(session.scalars(sa.select(ImportOutlookContact).where(ImportOutlookContact.id.in_(list(state)))))
    now = utcnow()
    for r in rows:
        r.state, r.updated_at = state[r.id], now
    audit.exchange_writes(
        session,
        AUDIT_REMOVE,
        (
            (f"person:{r.person_id}", {"person_id": r.person_id, "batch_id": r.batch_id, "outcome": state[r.id]})
            for r in rows
        ),
    )
