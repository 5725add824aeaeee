"""The Outlook add-in's reads: the relationship cards for an item's people, and linked Exchange users.

:func:`pane_cards` answers the task pane for the external addresses of one message or meeting (see
:func:`mapping.addin.triage`): each address's person and relationship, then one lean card per
relationship (what the pane shows of :func:`mapping.store.insights_card.relationship_card`, with the
same timeline query, all in one read transaction), with the open follow-up (the viewer's own first),
what to offer next (as the last follow-up run found it: :mod:`mapping.store.business_offers`) and the
duplicate pairs still waiting for review. Addresses no one in the store has are listed as
unknown. Each relationship is read once, however many of its people
are on the item; at most ``max_cards`` cards, the rest counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mapping.addin import Triage
from mapping.next_offer import Suggestion
from mapping.store.business_offers import offers_of
from mapping.store.insights_card import WALK_ABOVE, DuplicateView, KeyDates, TimelineEntry
from mapping.store.models import (
    CategoryOverride,
    EmailAddress,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionParticipant,
    InteractionViewer,
    MatchCandidate,
    MatchKind,
    MatchStatus,
    Organisation,
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
class Override:
    dimension: str
    value: str
    set_by: str
    set_at: datetime


@dataclass(frozen=True, slots=True)
class PaneRelationship:
    """What the pane shows of one relationship (a lean :class:`~mapping.store.insights_card.RelationshipCard`:
    no transactions, phones or rule details, so it is read in a handful of queries)."""

    id: int
    name: str
    kind: str  # "organization" or "person"
    organisation: str | None
    group: str | None  # the parent organisation
    type: str | None
    status: str | None
    tier: str | None
    value_percent: float | None
    potential: str | None
    potential_signals: tuple[str, ...]
    owner: str | None
    overrides: tuple[Override, ...]  # live staff overrides (Outlook category or the card)
    key_dates: KeyDates
    timeline: tuple[TimelineEntry, ...]
    interactions_total: int | None  # None: more than COUNT_CAP (not counted)


@dataclass(frozen=True, slots=True)
class PaneCard:
    """One relationship on the item: the card, which of the item's addresses belong to it, the open
    follow-up and the duplicate pairs pending review."""

    addresses: tuple[str, ...]
    card: PaneRelationship
    open_follow_up: OpenFollowUp | None
    pending_duplicates: tuple[DuplicateView, ...]
    what_matters: str | None  # the staff-kept note (Outlook field "What matters") of its people, if any
    next_offer: tuple[Suggestion, ...] = ()  # what similar customers buy that it has not, best first


@dataclass(frozen=True, slots=True)
class PaneAnswer:
    cards: tuple[PaneCard, ...]
    unknown: tuple[str, ...]  # external addresses nobody in the store has
    more_cards: int  # relationships on the item beyond ``max_cards``
    triage: Triage


_BY_ADDRESS = (
    sa.select(EmailAddress.address, Person.id, Person.merged_into_id, Person.organisation_id)
    .join(Person, Person.id == EmailAddress.person_id)
    .where(EmailAddress.address.in_(sa.bindparam("addresses", expanding=True)))
)


def _relationships_by_address(s: Session, addresses: Sequence[str]) -> dict[str, int]:
    """address -> relationship id, for the addresses a live (or merged: its survivor's) person has."""
    if not addresses:
        return {}
    rows = list(s.execute(_BY_ADDRESS, {"addresses": list(addresses)}))
    survivors = {pid: merged for _, pid, merged, _ in rows if merged is not None}
    people: dict[str, tuple[int, int | None]] = {a: (pid, org) for a, pid, merged, org in rows if merged is None}
    for _ in range(5):  # a merged person's survivor may have been merged too (short chains)
        if not survivors:
            break
        found = {
            pid: (merged, org)
            for pid, merged, org in s.execute(
                sa.select(Person.id, Person.merged_into_id, Person.organisation_id).where(
                    Person.id.in_(set(survivors.values()))
                )
            )
        }
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
    r = Relationship
    by_org: dict[int, int] = {}
    by_person: dict[int, int] = {}
    if orgs or persons:
        for org_id, person_id, rel_id in s.execute(
            sa.select(r.organisation_id, r.person_id, r.id).where(
                sa.or_(r.organisation_id.in_(orgs), r.person_id.in_(persons))
            )
        ):
            if org_id is not None:
                by_org[org_id] = rel_id
            if person_id is not None:
                by_person[person_id] = rel_id
    out: dict[str, int] = {}
    for address, (pid, org) in people.items():
        rel_of = by_org.get(org) if org is not None else by_person.get(pid)
        if rel_of is not None:
            out[address] = rel_of
    return out


# Built once (statement construction and aliasing cost more than running these small queries).
_PARENT, _OWNER = aliased(Organisation), aliased(StaffMailbox)
_RELATIONSHIP = (
    sa.select(Relationship, Organisation.name, _PARENT.name, _OWNER.address, Person.display_name)
    .outerjoin(Organisation, Organisation.id == Relationship.organisation_id)
    .outerjoin(_PARENT, _PARENT.id == Organisation.parent_id)
    .outerjoin(_OWNER, _OWNER.id == Relationship.owner_mailbox_id)
    .outerjoin(Person, Person.id == Relationship.person_id)
    .where(Relationship.id == sa.bindparam("rid"))
)
_MEMBERS = (
    sa.select(Person.id, Person.user_fields)
    .where(Person.organisation_id == sa.bindparam("org"), Person.merged_into_id.is_(None))
    .order_by(Person.id)
    .limit(500)
)
_SOLO = sa.select(Person.id, Person.user_fields).where(Person.id == sa.bindparam("pid"))
_OVERRIDES = (
    sa.select(CategoryOverride, sa.func.coalesce(StaffMailbox.address, CategoryOverride.set_by))
    .outerjoin(StaffMailbox, StaffMailbox.id == CategoryOverride.mailbox_id)  # set from the console: set_by
    .where(CategoryOverride.relationship_id == sa.bindparam("rid"), CategoryOverride.removed_at.is_(None))
    .order_by(CategoryOverride.id)
)
_OPEN = (
    sa.select(FollowUp.id, StaffMailbox.address, FollowUp.subject, FollowUp.due_at)
    .join(StaffMailbox, StaffMailbox.id == FollowUp.owner_mailbox_id)
    .where(FollowUp.relationship_id == sa.bindparam("rid"), FollowUp.status == FollowUpStatus.OPEN)
    .order_by(FollowUp.due_at, FollowUp.id)
    .limit(20)
)


_I, _P = Interaction, InteractionParticipant
_THEIRS = sa.select(_P.interaction_id).where(_P.person_id.in_(sa.bindparam("people", expanding=True)))
#: A relationship with more participant rows than this gets no total on the card ("many"): counting
#: 100,000 interactions would cost more than the rest of the card.
COUNT_CAP = 10_000
_ROWS = sa.select(sa.func.count()).select_from(
    sa.select(_P.interaction_id)
    .where(_P.person_id.in_(sa.bindparam("people", expanding=True)))
    .limit(COUNT_CAP + 1)
    .subquery()
)
_TOTAL = sa.select(sa.func.count()).select_from(_I).where(_I.id.in_(_THEIRS), _I.is_private.is_(False))
_COLUMNS = (_I.id, _I.occurred_at, _I.kind, _I.direction, _I.subject)
_NEWEST = (_I.occurred_at.desc(), _I.id.desc())
_FEW = (
    sa.select(*_COLUMNS)
    .where(_I.id.in_(_THEIRS), _I.is_private.is_(False))
    .order_by(*_NEWEST)
    .limit(sa.bindparam("limit"))
)
_WALK = (
    sa.select(*_COLUMNS)
    .where(
        sa.exists().where(_P.interaction_id == _I.id, _P.person_id.in_(sa.bindparam("people", expanding=True))),
        _I.is_private.is_(False),
    )
    .order_by(*_NEWEST)
    .limit(sa.bindparam("limit"))
)
_VIEWERS = (
    sa.select(InteractionViewer.interaction_id, StaffMailbox.address)
    .join(StaffMailbox, StaffMailbox.id == InteractionViewer.mailbox_id)
    .where(InteractionViewer.interaction_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(InteractionViewer.interaction_id, StaffMailbox.address)
)
_C = MatchCandidate
_PENDING_PAIRS = (
    sa.select(_C.id, _C.kind, _C.a_id, _C.b_id, _C.score, _C.status)
    .where(
        _C.status == MatchStatus.PENDING,
        sa.or_(
            sa.and_(
                _C.kind == MatchKind.ORGANIZATION,
                sa.or_(_C.a_id == sa.bindparam("org"), _C.b_id == sa.bindparam("org")),
            ),
            sa.and_(
                _C.kind == MatchKind.PERSON,
                sa.or_(
                    _C.a_id.in_(sa.bindparam("people", expanding=True)),
                    _C.b_id.in_(sa.bindparam("people", expanding=True)),
                ),
            ),
        ),
    )
    .order_by(_C.score.desc(), _C.id)
    .limit(20)
)


def _timeline(s: Session, people: list[int], limit: int) -> tuple[tuple[TimelineEntry, ...], int | None]:
    """The newest ``limit`` visible interactions of ``people`` and their total (None: more than
    :data:`COUNT_CAP` participant rows, not counted), as :func:`mapping.store.insights_card.relationship_card`
    finds them (walking the time index for a busy relationship), with prebuilt statements."""
    if not people:
        return (), 0
    rows_seen = int(s.scalar(_ROWS, {"people": people}) or 0)  # stops at COUNT_CAP + 1
    total = int(s.scalar(_TOTAL, {"people": people}) or 0) if rows_seen <= COUNT_CAP else None
    busy = rows_seen > WALK_ABOVE
    rows = list(s.execute(_WALK if busy else _FEW, {"people": people, "limit": limit}))
    viewers: dict[int, list[str]] = {}
    for iid, address in s.execute(_VIEWERS, {"ids": [r[0] for r in rows] or [-1]}):
        viewers.setdefault(iid, []).append(address)
    return tuple(
        TimelineEntry(iid, at, str(kind.value), str(direction.value), subject, tuple(viewers.get(iid, ())))
        for iid, at, kind, direction, subject in rows
    ), total


def _duplicates(s: Session, org: int | None, people: list[int]) -> tuple[DuplicateView, ...]:
    rows = s.execute(_PENDING_PAIRS, {"org": org if org is not None else -1, "people": people or [-1]})
    return tuple(
        DuplicateView(cid, str(kind.value), a, b, float(score), str(status.value))
        for cid, kind, a, b, score, status in rows
    )


def _open_follow_up(s: Session, relationship_id: int, viewer: str) -> OpenFollowUp | None:
    rows = list(s.execute(_OPEN, {"rid": relationship_id}))
    if not rows:
        return None
    folded = viewer.casefold()
    fid, owner, subject, due = next((r for r in rows if r[1].casefold() == folded), rows[0])
    return OpenFollowUp(fid, owner, subject, due.date(), owner.casefold() == folded)


def _note(fields: object) -> str | None:
    raw = fields.get(DEFAULT_FIELD) if isinstance(fields, dict) else None
    return what_matters("", raw if isinstance(raw, str) else None).text if isinstance(raw, str) else None


def _signals(inputs: object) -> tuple[str, ...]:
    raw = inputs.get("potential_signals", []) if isinstance(inputs, dict) else []
    return tuple(" ".join(str(p) for p in x) if isinstance(x, list | tuple) else str(x) for x in raw or [])


def _card(s: Session, rid: int, viewer: str, addresses: tuple[str, ...], limit: int) -> PaneCard | None:
    row = s.execute(_RELATIONSHIP, {"rid": rid}).first()
    if row is None:
        return None
    rel, org_name, group, owner_address, person_name = row
    if rel.organisation_id is not None:
        members = list(s.execute(_MEMBERS, {"org": rel.organisation_id}))
    else:
        members = list(s.execute(_SOLO, {"pid": rel.person_id}))
    people = [pid for pid, _ in members]
    note = next((n for _, fields in members if fields and (n := _note(fields))), None)
    timeline, total = _timeline(s, people, limit)
    overrides = tuple(
        Override(str(o.dimension), o.value, address, o.created_at) for o, address in s.execute(_OVERRIDES, {"rid": rid})
    )
    follow_up = _open_follow_up(s, rid, viewer)
    duplicates = _duplicates(s, rel.organisation_id, people)
    card = PaneRelationship(
        id=rel.id,
        name=org_name or person_name or f"#{rel.id}",
        kind="organization" if rel.organisation_id is not None else "person",
        organisation=org_name,
        group=group,
        type=str(rel.type) if rel.type is not None else None,
        status=str(rel.status) if rel.status is not None else None,
        tier=rel.tier,
        value_percent=rel.value_percent,
        potential=rel.potential,
        potential_signals=_signals(rel.inputs),
        owner=owner_address or rel.owner,
        overrides=overrides,
        key_dates=KeyDates(
            rel.first_contact_at,
            rel.latest_interaction_at,
            rel.latest_transaction_on,
            follow_up.due if follow_up else None,
        ),
        timeline=timeline,
        interactions_total=total,
    )
    return PaneCard(addresses, card, follow_up, duplicates, note, offers_of(s, rid))


def pane_cards(store: Store, triage: Triage, viewer: str, max_cards: int = 5, limit: int = 5) -> PaneAnswer:
    """The pane's answer for one item's triaged addresses, as seen by staff mailbox ``viewer`` (one read
    transaction; at most ``limit`` interactions per card)."""
    with store.session() as s:
        by_address = _relationships_by_address(s, triage.external)
        order: list[int] = []
        addresses: dict[int, list[str]] = {}
        for address in triage.external:
            rid = by_address.get(address)
            if rid is None:
                continue
            if rid not in addresses:
                order.append(rid)
            addresses.setdefault(rid, []).append(address)
        cards = [c for rid in order[:max_cards] if (c := _card(s, rid, viewer, tuple(addresses[rid]), limit))]
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


__all__ = [
    "OpenFollowUp",
    "Override",
    "PaneAnswer",
    "PaneCard",
    "PaneRelationship",
    "identity_hash",
    "link_identity",
    "linked_mailbox",
    "pane_cards",
]
