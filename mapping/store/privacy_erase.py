"""Erasure and subject lookup (store service): find everything the store holds about a person or an
organisation, refuse what must not be erased now, and remove it in one transaction.

An erasure runs in three steps (the orchestration is ``scheduler.privacy``): :func:`begin` plans it,
refuses while a daemon holds a lease on an affected mailbox, adds the addresses to the suppression list
and opens a journal row; the caller removes what relsync wrote into Exchange; :func:`erase_store`
then deletes the store's rows and closes the journal with its receipt, in one transaction. A crash
anywhere leaves either the person still in the store (a rerun plans the same and finishes) or the
journal closed (a rerun says it is done), never a half-erased person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.errors import EXIT_USAGE, RelsyncError
from mapping.privacy.erasure import Involvement, interactions_to_remove, mentions
from mapping.privacy.hashing import address_hash, keyed_hash, normalise_address
from mapping.store import audit, sales_rollup
from mapping.store.batching import chunked
from mapping.store.models import (
    CategoryOverride,
    EmailAddress,
    EntityType,
    FollowUp,
    Interaction,
    InteractionParticipant,
    InteractionViewer,
    ItemKind,
    ItemLink,
    MailboxLease,
    MatchCandidate,
    MatchKind,
    MergeAudit,
    Organisation,
    OrganisationDomain,
    OwnershipChange,
    Person,
    Phone,
    PostalAddress,
    Relationship,
    StaffMailbox,
    Transaction,
    utcnow,
)
from mapping.store.models_history import ClassificationChange
from mapping.store.models_privacy import Erasure
from mapping.store.privacy import suppress


class ErasureRefused(RelsyncError):
    """The erasure cannot run as asked; nothing was changed."""

    exit_code = EXIT_USAGE
    topic = "privacy"


@dataclass(frozen=True)
class Subject:
    """Who is asked about: people (with those merged into them) and organisations, by id."""

    person_ids: tuple[int, ...]
    organisation_ids: tuple[int, ...] = ()
    subject_hash: str = ""


@dataclass(frozen=True)
class ContactTarget:
    link_id: int
    mailbox: str
    item_id: str
    change_key: str | None
    categories: tuple[str, ...]


@dataclass(frozen=True)
class TaskTarget:
    follow_up_id: int
    link_id: int
    mailbox: str
    item_id: str


@dataclass(frozen=True)
class ErasurePlan:
    """What an erasure touches. ``addresses`` and ``names`` stay in memory (never stored or shown)."""

    subject: Subject
    addresses: tuple[str, ...]
    names: tuple[str, ...] = field(repr=False)
    contacts: tuple[ContactTarget, ...]
    tasks: tuple[TaskTarget, ...]
    mailbox_ids: tuple[int, ...]
    removed_interactions: tuple[int, ...]
    kept_interactions: tuple[int, ...]
    relationship_ids: tuple[int, ...]
    follow_up_ids: tuple[int, ...] = ()

    def summary(self) -> dict[str, int]:
        """Counts a dry run shows (no personal data)."""
        return {
            "people": len(self.subject.person_ids),
            "organisations": len(self.subject.organisation_ids),
            "addresses": len(self.addresses),
            "outlook_contacts": len(self.contacts),
            "follow_up_tasks": len(self.tasks),
            "interactions_removed": len(self.removed_interactions),
            "interactions_kept_without_them": len(self.kept_interactions),
            "relationships": len(self.relationship_ids),
            "mailboxes": len(self.mailbox_ids),
        }


def subject_hash(key: bytes, asked: str) -> str:
    """The journal's key for what was asked (an address or an id), without keeping it."""
    text = asked.strip()
    return address_hash(key, text) if "@" in text else keyed_hash(key, "id:" + text.lower())


def _with_merged(session: Session, model: type[Person] | type[Organisation], ids: Iterable[int]) -> list[int]:
    found, frontier = set(ids), set(ids)
    while frontier:
        frontier = set(session.scalars(sa.select(model.id).where(model.merged_into_id.in_(frontier)))) - found
        found |= frontier
    return sorted(found)


def find_subject(session: Session, asked: str, key: bytes) -> Subject | None:
    """The people or organisation ``asked`` names: an e-mail address, a person id (``12``) or an
    organisation id (``org:12``). None: nobody (the caller checks the journal). A merged record's id is
    refused (its data lives with the record it was merged into)."""
    text = asked.strip()
    digest = subject_hash(key, text)
    if "@" in text:
        person_id = session.scalar(
            sa.select(EmailAddress.person_id).where(EmailAddress.address == normalise_address(text))
        )
        if person_id is None:
            return None
        root = session.get_one(Person, person_id)
        while root.merged_into_id is not None:
            root = session.get_one(Person, root.merged_into_id)
        return Subject(tuple(_with_merged(session, Person, [root.id])), (), digest)
    is_org = text.lower().startswith("org:")
    raw = text[4:] if is_org else text
    if not raw.isdigit():
        raise ErasureRefused(
            f"{asked!r} is neither an e-mail address, a person id nor org:ID. "
            "Fix: give the person's address, their id (relsync explain shows it) or org:ID"
        )
    row: Person | Organisation | None = session.get(Organisation, int(raw)) if is_org else session.get(Person, int(raw))
    if row is None:
        return None
    what = "organisation" if is_org else "person"
    if row.merged_into_id is not None:
        raise ErasureRefused(
            f"{what} {row.id} was merged into {row.merged_into_id}, which holds its data now. "
            f"Fix: erase {'org:' if is_org else ''}{row.merged_into_id}; nothing was erased"
        )
    if is_org:
        orgs = _with_merged(session, Organisation, [row.id])
        people = session.scalars(sa.select(Person.id).where(Person.organisation_id.in_(orgs)))
        return Subject(tuple(_with_merged(session, Person, people)), tuple(orgs), digest)
    return Subject(tuple(_with_merged(session, Person, [row.id])), (), digest)


def finished_erasure(session: Session, digest: str) -> dict[str, Any] | None:
    """The receipt of a finished erasure of this subject, if there was one."""
    receipt = session.scalar(
        sa.select(Erasure.receipt)
        .where(Erasure.subject_hash == digest, Erasure.finished_at.is_not(None))
        .order_by(Erasure.id.desc())
        .limit(1)
    )
    return dict(receipt) if receipt else None


def _ids(session: Session, query: sa.Select[Any]) -> list[Any]:
    return list(session.scalars(query))


def plan_erasure(session: Session, subject: Subject) -> ErasurePlan:
    """Everything the erasure touches, read in one go."""
    people = list(subject.person_ids)
    addresses = sorted(
        {
            a
            for chunk in chunked(people)
            for a in session.scalars(sa.select(EmailAddress.address).where(EmailAddress.person_id.in_(chunk)))
        }
    )
    names: set[str] = set()
    for row in session.execute(
        sa.select(Person.display_name, Person.given_name, Person.surname, Person.nickname).where(Person.id.in_(people))
    ):
        names.add(row.display_name)
        if row.given_name and row.surname:
            names.add(f"{row.given_name} {row.surname}")
    for org_name in session.scalars(sa.select(Organisation.name).where(Organisation.id.in_(subject.organisation_ids))):
        names.add(org_name)
    p = InteractionParticipant
    theirs = sa.or_(p.person_id.in_(people), p.address.in_(addresses)) if people else sa.false()
    touched = set(_ids(session, sa.select(p.interaction_id).where(theirs)))
    others: dict[int, int] = dict.fromkeys(touched, 0)
    for chunk in chunked(sorted(touched)):
        rows = session.execute(
            sa.select(p.interaction_id, sa.func.count())
            # NULL-safe "not them": a participant no person is known for is someone else outside.
            .where(
                p.interaction_id.in_(chunk),
                p.staff_mailbox_id.is_(None),
                sa.func.coalesce(p.person_id, -1).not_in(people or [-1]),
                p.address.not_in(addresses or [""]),
            )
            .group_by(p.interaction_id)
        )
        others.update({int(i): int(n) for i, n in rows})
    removed, kept = interactions_to_remove(Involvement(i, n) for i, n in others.items())
    rel_ids = _ids(
        session,
        sa.select(Relationship.id).where(
            sa.or_(Relationship.person_id.in_(people), Relationship.organisation_id.in_(subject.organisation_ids))
        ),
    )
    follow_ups = _ids(
        session,
        sa.select(FollowUp.id).where(
            sa.or_(
                FollowUp.person_id.in_(people),
                FollowUp.organisation_id.in_(subject.organisation_ids),
                FollowUp.relationship_id.in_(rel_ids),
            )
        ),
    )
    # Their organisation's follow-ups that name them ("Follow up: Dana Dunn, Fabrikam") go too; the
    # planner makes a new one about whoever else is there.
    their_orgs = _ids(
        session, sa.select(Person.organisation_id).where(Person.id.in_(people), Person.organisation_id.is_not(None))
    )
    for f in session.execute(
        sa.select(FollowUp.id, FollowUp.subject, FollowUp.note).where(FollowUp.organisation_id.in_(their_orgs))
    ):
        if mentions(f.subject, names) or mentions(f.note, names):
            follow_ups.append(f.id)
    contacts = tuple(
        ContactTarget(r.id, r.address, r.item_id, r.change_key, tuple(r.categories or ()))
        for r in session.execute(
            sa.select(ItemLink.id, StaffMailbox.address, ItemLink.item_id, ItemLink.change_key, ItemLink.categories)
            .join(StaffMailbox, StaffMailbox.id == ItemLink.mailbox_id)
            .where(
                ItemLink.entity_type == EntityType.PERSON,
                ItemLink.entity_id.in_(people),
                ItemLink.item_kind == ItemKind.CONTACT,
                ItemLink.deleted_at.is_(None),
            )
            .order_by(ItemLink.id)
        )
    )
    tasks = tuple(
        TaskTarget(r.entity_id, r.id, r.address, r.item_id)
        for r in session.execute(
            sa.select(ItemLink.id, ItemLink.entity_id, StaffMailbox.address, ItemLink.item_id)
            .join(StaffMailbox, StaffMailbox.id == ItemLink.mailbox_id)
            .where(
                ItemLink.entity_type == EntityType.TASK,
                ItemLink.entity_id.in_(follow_ups),
                ItemLink.deleted_at.is_(None),
            )
            .order_by(ItemLink.id)
        )
    )
    mailboxes = set(
        _ids(
            session,
            sa.select(ItemLink.mailbox_id).where(
                ItemLink.entity_type == EntityType.PERSON, ItemLink.entity_id.in_(people)
            ),
        )
    )
    for chunk in chunked(sorted(touched)):
        mailboxes.update(
            _ids(session, sa.select(InteractionViewer.mailbox_id).where(InteractionViewer.interaction_id.in_(chunk)))
        )
    mailboxes.update(_ids(session, sa.select(FollowUp.owner_mailbox_id).where(FollowUp.id.in_(follow_ups))))
    return ErasurePlan(
        subject,
        tuple(addresses),
        tuple(sorted(names)),
        contacts,
        tasks,
        tuple(sorted(mailboxes)),
        tuple(removed),
        tuple(kept),
        tuple(rel_ids),
        tuple(sorted(set(follow_ups))),
    )


def leased_mailboxes(session: Session, mailbox_ids: Sequence[int], now: datetime) -> list[int]:
    """Which of these mailboxes a daemon is syncing now (a live lease)."""
    return sorted(
        session.scalars(
            sa.select(MailboxLease.mailbox_id).where(
                MailboxLease.mailbox_id.in_(mailbox_ids),
                MailboxLease.holder.is_not(None),
                MailboxLease.expires_at > now,
            )
        )
    )


def begin(session: Session, plan: ErasurePlan, actor: str, now: datetime) -> int:
    """Refuse while a daemon syncs an affected mailbox; else suppress the addresses (so no sync brings
    them back from here on) and open the journal. Returns the journal id."""
    held = leased_mailboxes(session, plan.mailbox_ids, now)
    if held:
        raise ErasureRefused(
            f"a daemon is syncing mailbox{'es' if len(held) > 1 else ''} {', '.join(map(str, held))} "
            "that hold this person's data. Fix: run the erasure again once that sync has finished "
            "(`relsync status` shows it), or stop the daemon; nothing was erased"
        )
    suppress(session, plan.addresses, "erasure")
    journal = Erasure(subject_hash=plan.subject.subject_hash, actor=actor[:128], started_at=now)
    session.add(journal)
    session.flush()
    audit.record(
        session,
        "erasure",
        "started",
        subject=f"erasure:{journal.id}",
        detail={"subject_hash": plan.subject.subject_hash, **plan.summary()},
    )
    return journal.id


def _delete(session: Session, model: Any, *where: Any) -> int:
    return int(session.execute(sa.delete(model).where(*where)).rowcount)  # type: ignore[attr-defined]


def erase_store(session: Session, plan: ErasurePlan, keep_transactions: bool) -> dict[str, int]:
    """Delete every row about the subject (one transaction, the caller's); returns counts per table."""
    people, orgs, rels = list(plan.subject.person_ids), list(plan.subject.organisation_ids), list(plan.relationship_ids)
    n: dict[str, int] = {}
    p = InteractionParticipant
    n["interaction_participants"] = _delete(session, p, sa.or_(p.person_id.in_(people), p.address.in_(plan.addresses)))
    for chunk in chunked(list(plan.removed_interactions)):
        n["item_links"] = n.get("item_links", 0) + _delete(
            session, ItemLink, ItemLink.entity_type == EntityType.INTERACTION, ItemLink.entity_id.in_(chunk)
        )
        _delete(session, p, p.interaction_id.in_(chunk))
        _delete(session, InteractionViewer, InteractionViewer.interaction_id.in_(chunk))
        n["interactions"] = n.get("interactions", 0) + _delete(session, Interaction, Interaction.id.in_(chunk))
    scrubbed = 0
    for chunk in chunked(list(plan.kept_interactions)):
        for i in session.scalars(sa.select(Interaction).where(Interaction.id.in_(chunk))):
            if mentions(i.subject, plan.names + plan.addresses) or mentions(i.snippet, plan.names + plan.addresses):
                i.subject, i.snippet = None, None
                scrubbed += 1
    n["interaction_subjects_scrubbed"] = scrubbed
    follow_ups = list(plan.follow_up_ids)
    # One statement per entity type: each uses the (entity_type, entity_id) index (an OR would scan).
    for entity_type, ids in ((EntityType.PERSON, people), (EntityType.TASK, follow_ups)):
        n["item_links"] = n.get("item_links", 0) + _delete(
            session, ItemLink, ItemLink.entity_type == entity_type, ItemLink.entity_id.in_(ids)
        )
    n["follow_ups"] = _delete(session, FollowUp, FollowUp.id.in_(follow_ups))
    _delete(session, CategoryOverride, CategoryOverride.relationship_id.in_(rels))
    _delete(session, OwnershipChange, OwnershipChange.relationship_id.in_(rels))
    n["classification_history"] = _delete(session, ClassificationChange, ClassificationChange.relationship_id.in_(rels))
    n["relationships"] = _delete(session, Relationship, Relationship.id.in_(rels))
    for kind, ids in ((MatchKind.PERSON, people), (MatchKind.ORGANIZATION, orgs)):
        n["match_candidates"] = n.get("match_candidates", 0) + _delete(
            session,
            MatchCandidate,
            MatchCandidate.kind == kind,
            sa.or_(MatchCandidate.a_id.in_(ids), MatchCandidate.b_id.in_(ids)),
        )
        n["merge_audit"] = n.get("merge_audit", 0) + _delete(
            session,
            MergeAudit,
            MergeAudit.kind == kind,
            sa.or_(MergeAudit.survivor_id.in_(ids), MergeAudit.merged_id.in_(ids)),
        )
    t = Transaction
    theirs = sa.or_(t.person_id.in_(people), t.organisation_id.in_(orgs), t.customer_key.in_(plan.addresses))
    if keep_transactions:
        n["transactions_anonymised"] = int(
            session.execute(
                sa.update(t)
                .where(theirs)
                .values(person_id=None, organisation_id=None, matched_by=None, customer_key="erased")
            ).rowcount  # type: ignore[attr-defined]
        )
    else:
        n["transactions"] = _delete(session, t, theirs)
        if n["transactions"]:
            sales_rollup.refresh(session)  # the overview's revenue by product no longer counts them
    n["email_addresses"] = _delete(session, EmailAddress, EmailAddress.person_id.in_(people))
    n["phones"] = _delete(session, Phone, Phone.person_id.in_(people))
    n["postal_addresses"] = _delete(session, PostalAddress, PostalAddress.person_id.in_(people))
    session.execute(sa.update(Person).where(Person.id.in_(people)).values(merged_into_id=None))
    n["people"] = _delete(session, Person, Person.id.in_(people))
    if orgs:
        session.execute(sa.update(Person).where(Person.organisation_id.in_(orgs)).values(organisation_id=None))
        session.execute(sa.update(Organisation).where(Organisation.parent_id.in_(orgs)).values(parent_id=None))
        session.execute(
            sa.update(Organisation).where(Organisation.merged_into_id.in_(orgs)).values(merged_into_id=None)
        )
        _delete(session, OrganisationDomain, OrganisationDomain.organisation_id.in_(orgs))
        n["organisations"] = _delete(session, Organisation, Organisation.id.in_(orgs))
    n["mentions_scrubbed"] = _scrub_mentions(session, plan)
    return {k: v for k, v in n.items() if v}


def _scrub_mentions(session: Session, plan: ErasurePlan) -> int:
    """Other rows that name them in free text: a relationship's referrer, people's user fields
    ("Referred By"), an owner written as their address."""
    needles = plan.names + plan.addresses
    count = 0
    for rel in session.scalars(
        sa.select(Relationship).where(
            sa.or_(Relationship.referred_by.is_not(None), Relationship.owner.in_(plan.addresses))
        )
    ):
        if mentions(rel.referred_by, needles):
            rel.referred_by = None
            count += 1
        if rel.owner in plan.addresses:
            rel.owner = None
            count += 1
    for person in session.scalars(sa.select(Person).where(Person.user_fields.is_not(None))):
        fields = dict(person.user_fields or {})
        kept = {k: v for k, v in fields.items() if not mentions(str(v), needles)}
        if kept != fields:
            person.user_fields = kept or None
            count += 1
    session.flush()
    return count


def finish(session: Session, erasure_id: int, receipt: dict[str, Any], now: datetime) -> None:
    """Close the journal with its receipt and audit the erasure (ids and counts only)."""
    journal = session.get_one(Erasure, erasure_id)
    journal.finished_at = now
    journal.receipt = receipt
    audit.record(
        session,
        "erasure",
        "finished",
        subject=f"erasure:{erasure_id}",
        detail={"store": receipt.get("store"), "exchange": receipt.get("exchange")},
    )


__all__ = [
    "ContactTarget",
    "ErasurePlan",
    "ErasureRefused",
    "Subject",
    "TaskTarget",
    "begin",
    "erase_store",
    "find_subject",
    "finish",
    "finished_erasure",
    "leased_mailboxes",
    "plan_erasure",
    "subject_hash",
    "utcnow",
]
