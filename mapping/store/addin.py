"""The Outlook add-in's reads: the relationship cards for an item's people, and linked Exchange users.

:func:`pane_cards` answers the task pane for the external addresses of one message or meeting (see
:func:`mapping.addin.triage`): each address's person and relationship, then one card per relationship
(:func:`mapping.store.insights_card.relationship_card`, lists cut to a few entries for a pane), with the
open follow-up (the viewer's own first) and the duplicate pairs still waiting for review. Addresses no
one in the store has are listed as unknown. Each relationship is read once, however many of its people
are on the item; at most ``max_cards`` cards, the rest counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from mapping.addin import Triage
from mapping.store.insights_card import DuplicateView, RelationshipCard, relationship_card
from mapping.store.models import (
    EmailAddress,
    FollowUp,
    FollowUpStatus,
    Person,
    Relationship,
    StaffMailbox,
    utcnow,
)
from mapping.store.models_addin import AddinLink
from mapping.store.store import Store
from mapping.what_matters import DEFAULT_FIELD, what_matters


@dataclass(frozen=True, slots=True)
class OpenFollowUp:
    id: int
    owner: str
    subject: str
    due: date
    mine: bool  # owned by the viewer (only then can they mark it done from the pane)


@dataclass(frozen=True, slots=True)
class PaneCard:
    """One relationship on the item: the card, which of the item's addresses belong to it, the open
    follow-up and the duplicate pairs pending review."""

    addresses: tuple[str, ...]
    card: RelationshipCard
    open_follow_up: OpenFollowUp | None
    pending_duplicates: tuple[DuplicateView, ...]
    what_matters: str | None  # the staff-kept note (Outlook field "What matters") of its people, if any


@dataclass(frozen=True, slots=True)
class PaneAnswer:
    cards: tuple[PaneCard, ...]
    unknown: tuple[str, ...]  # external addresses nobody in the store has
    more_cards: int  # relationships on the item beyond ``max_cards``
    triage: Triage


def _relationships_by_address(store: Store, addresses: Sequence[str]) -> dict[str, int]:
    """address -> relationship id, for the addresses a live (or merged: its survivor's) person has."""
    if not addresses:
        return {}
    with store.session() as s:
        rows = list(s.execute(sa.select(EmailAddress.address, Person.id, Person.merged_into_id, Person.organisation_id)
                              .join(Person, Person.id == EmailAddress.person_id)
                              .where(EmailAddress.address.in_(list(addresses)))))
        survivors = {pid: merged for _, pid, merged, _ in rows if merged is not None}
        people: dict[str, tuple[int, int | None]] = {a: (pid, org) for a, pid, merged, org in rows if merged is None}
        for _ in range(5):  # a merged person's survivor may have been merged too (short chains)
            if not survivors:
                break
            found = {pid: (merged, org) for pid, merged, org in s.execute(
                sa.select(Person.id, Person.merged_into_id, Person.organisation_id)
                .where(Person.id.in_(set(survivors.values()))))}
            next_round: dict[int, int] = {}
            for a, pid, merged, _ in rows:
                if merged is None or a in people:
                    continue
                target = found.get(survivors.get(pid, -1))
                if target is None:
                    continue
                if target[0] is None:
                    people[a] = (survivors[pid], target[1])
                else:
                    next_round[pid] = target[0]
            survivors = next_round
        orgs = {org for _, org in people.values() if org is not None}
        persons = {pid for pid, org in people.values() if org is None}
        by_org: dict[int | None, int] = {org: rid for org, rid in s.execute(
            sa.select(Relationship.organisation_id, Relationship.id).where(Relationship.organisation_id.in_(orgs)))}
        by_person: dict[int | None, int] = {pid: rid for pid, rid in s.execute(
            sa.select(Relationship.person_id, Relationship.id).where(Relationship.person_id.in_(persons)))}
    out: dict[str, int] = {}
    for address, (pid, org) in people.items():
        rid = by_org.get(org) if org is not None else by_person.get(pid)
        if rid is not None:
            out[address] = rid
    return out


def _open_follow_up(store: Store, relationship_id: int, viewer: str) -> OpenFollowUp | None:
    with store.session() as s:
        rows = list(s.execute(sa.select(FollowUp.id, StaffMailbox.address, FollowUp.subject, FollowUp.due_at)
                              .join(StaffMailbox, StaffMailbox.id == FollowUp.owner_mailbox_id)
                              .where(FollowUp.relationship_id == relationship_id,
                                     FollowUp.status == FollowUpStatus.OPEN)
                              .order_by(FollowUp.due_at, FollowUp.id).limit(20)))
    if not rows:
        return None
    folded = viewer.casefold()
    fid, owner, subject, due = next((r for r in rows if r[1].casefold() == folded), rows[0])
    return OpenFollowUp(fid, owner, subject, due.date(), owner.casefold() == folded)


def _what_matters(store: Store, people: Sequence[int]) -> str | None:
    if not people:
        return None
    with store.session() as s:
        for (fields,) in s.execute(sa.select(Person.user_fields).where(Person.id.in_(list(people)),
                                                                      Person.user_fields.is_not(None))):
            raw = fields.get(DEFAULT_FIELD) if isinstance(fields, dict) else None
            note = what_matters("", raw if isinstance(raw, str) else None).text
            if note:
                return note
    return None


def pane_cards(store: Store, triage: Triage, viewer: str, max_cards: int = 5, limit: int = 5) -> PaneAnswer:
    """The pane's answer for one item's triaged addresses, as seen by staff mailbox ``viewer``."""
    by_address = _relationships_by_address(store, triage.external)
    order: list[int] = []
    addresses: dict[int, list[str]] = {}
    for address in triage.external:
        rid = by_address.get(address)
        if rid is None:
            continue
        if rid not in addresses:
            order.append(rid)
        addresses.setdefault(rid, []).append(address)
    cards = []
    for rid in order[:max_cards]:
        card = relationship_card(store, rid, limit=limit)
        if card is None:
            continue
        cards.append(PaneCard(tuple(addresses[rid]), card, _open_follow_up(store, rid, viewer),
                              tuple(d for d in card.duplicates if d.status == "pending"),
                              _what_matters(store, [p.id for p in card.people[:50]])))
    unknown = tuple(a for a in triage.external if a not in by_address)
    return PaneAnswer(tuple(cards), unknown, max(0, len(order) - max_cards), triage)


# --- Exchange Server identities linked to staff mailboxes ---------------------------------------------


def identity_hash(amurl: str, msexchuid: str) -> str:
    """The key of an Exchange user identity: the user's id is unique only at the server of ``amurl``."""
    return hashlib.sha256(f"{amurl}\n{msexchuid}".encode()).hexdigest()


def linked_mailbox(store: Store, key: str) -> str | None:
    """The staff mailbox address an Exchange identity (:func:`identity_hash`) is linked to, if any."""
    with store.session() as s:
        return s.scalar(sa.select(AddinLink.mailbox).where(AddinLink.identity_hash == key))


def link_identity(store: Store, key: str, mailbox: str, actor: str) -> None:
    """Link an Exchange identity to ``mailbox`` (again: the newest link wins), recording who and when."""
    with store.session() as s:
        row = s.scalar(sa.select(AddinLink).where(AddinLink.identity_hash == key))
        if row is None:
            s.add(AddinLink(identity_hash=key, mailbox=mailbox.casefold(), linked_at=utcnow(), linked_by=actor))
        else:
            row.mailbox, row.linked_at, row.linked_by = mailbox.casefold(), utcnow(), actor


__all__ = ["OpenFollowUp", "PaneAnswer", "PaneCard", "identity_hash", "link_identity", "linked_mailbox",
           "pane_cards"]
