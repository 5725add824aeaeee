"""What e-mails and meetings share: participants, viewers, and the upsert of interactions by natural key."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from mapping.policy import Decision
from mapping.records import Participant
from mapping.store.apply.bulk import insert_rows
from mapping.store.apply.directory import Directory
from mapping.store.batching import chunked
from mapping.store.models import (
    Base,
    Direction,
    Interaction,
    InteractionParticipant,
    InteractionViewer,
    ParticipantRole,
    ResponseType,
)


def new_participants(
    items: Iterable[tuple[object, Interaction | None, Decision]], directory: Directory
) -> Iterable[tuple[Participant, Direction]]:
    """The (participant, direction) pairs :func:`set_participants` will resolve, in its order: those
    not yet recorded on their interaction (``key`` identifies the interaction within the page)."""
    haves: dict[object, set[tuple[str, str]]] = {}
    for key, interaction, decision in items:
        have = haves.get(key)
        if have is None:
            have = {(p.address, p.role.value) for p in interaction.participants} if interaction is not None else set()
            haves[key] = have
        assert decision.direction is not None
        direction = Direction(decision.direction)
        for participant in decision.participants:
            if (participant.address, participant.role) in have:
                continue
            have.add((participant.address, participant.role))
            if participant.address not in directory.staff_by_address:
                yield participant, direction


def viewers_of(session: Session, interaction_ids: list[int], mailbox_id: int) -> set[int]:
    seen: set[int] = set()
    for chunk in chunked(interaction_ids):
        seen.update(
            session.scalars(
                sa.select(InteractionViewer.interaction_id).where(
                    InteractionViewer.mailbox_id == mailbox_id,
                    InteractionViewer.interaction_id.in_(chunk),
                )
            )
        )
    return seen


_ROLE_RESPONSE = {r.value: r for r in ResponseType}


def set_participants(
    session: Session,
    interaction: Interaction,
    participants: tuple[Participant, ...],
    direction: Direction,
    directory: Directory,
) -> None:
    """Participants are the same in every copy; add the ones not yet recorded."""
    have = {(p.address, p.role.value) for p in interaction.participants}
    for participant in participants:
        if (participant.address, participant.role) in have:
            continue
        have.add((participant.address, participant.role))
        staff_id = directory.staff_by_address.get(participant.address)
        person_id = None if staff_id is not None else directory.person_for_participant(participant, direction)
        interaction.participants.append(
            InteractionParticipant(
                address=participant.address,
                display_name=(participant.name or None) and participant.name[:255],
                role=ParticipantRole(participant.role),
                response=_ROLE_RESPONSE.get(participant.response) if participant.response else None,
                person_id=person_id,
                staff_mailbox_id=staff_id,
            )
        )


def participant_rows(
    participants: tuple[Participant, ...], direction: Direction, directory: Directory, have: set[tuple[str, str]]
) -> list[dict[str, object]]:
    """:func:`set_participants` for an interaction created in this page, as rows for a bulk insert."""
    rows: list[dict[str, object]] = []
    for participant in participants:
        if (participant.address, participant.role) in have:
            continue
        have.add((participant.address, participant.role))
        staff_id = directory.staff_by_address.get(participant.address)
        person_id = None if staff_id is not None else directory.person_for_participant(participant, direction)
        rows.append(
            {
                "address": participant.address,
                "display_name": (participant.name or None) and participant.name[:255],
                "role": ParticipantRole(participant.role),
                "response": _ROLE_RESPONSE.get(participant.response) if participant.response else None,
                "person_id": person_id,
                "staff_mailbox_id": staff_id,
            }
        )
    return rows


_TABLES = Base.metadata.tables
_K = TypeVar("_K", bound=Hashable)


class InteractionUpsert(Generic[_K]):
    """The page's interactions by natural key (Message-ID for an e-mail, (UID, original start) for a
    meeting occurrence): stored ones are updated through the ORM, new ones collected as plain rows
    and inserted in bulk with their participants and viewers by :meth:`insert`.

    The ORM's per-object bookkeeping and its one RETURNING insert per row were most of a page's
    cost, so new interactions, participants and viewers go in with one executemany each.
    """

    def __init__(self, existing: dict[_K, Interaction]) -> None:
        self.existing = existing
        #: key -> (the new row, the (address, role) pairs it has, its participant rows)
        self.new: dict[_K, tuple[dict[str, object], set[tuple[str, str]], list[dict[str, object]]]] = {}

    def put(
        self,
        session: Session,
        key: _K,
        identity: Mapping[str, object],
        values: Mapping[str, object],
        participants: tuple[Participant, ...],
        direction: Direction,
        directory: Directory,
    ) -> None:
        """Update the stored interaction with ``values`` and add its new participants, or collect it
        as new (``identity`` are the columns only a new row takes); a later copy on the page updates it."""
        interaction = self.existing.get(key)
        if interaction is not None:
            for column, value in values.items():
                setattr(interaction, column, value)
            set_participants(session, interaction, participants, direction, directory)
            return
        pending = self.new.get(key)
        if pending is None:  # the first copy on the page creates it; a later copy updates it
            pending = self.new[key] = (dict(identity), set(), [])
        pending[0].update(values)
        pending[2].extend(participant_rows(participants, direction, directory, pending[1]))

    def insert(
        self,
        session: Session,
        read_ids: Callable[[Session, list[_K]], Iterable[tuple[_K, int]]],
        mailbox_id: int,
        seen: Iterable[_K],
    ) -> dict[_K, int]:
        """Insert the new interactions (their ids read back by ``read_ids``), their participants, and a
        viewer row for every ``seen`` key the mailbox does not view yet; the id of every key."""
        ids = {key: interaction.id for key, interaction in self.existing.items()}
        viewers = viewers_of(session, list(ids.values()), mailbox_id)
        if self.new:
            insert_rows(session, "interactions", [row for row, _, _ in self.new.values()])
            ids.update(read_ids(session, list(self.new)))
        rows: list[dict[str, object]] = []
        for key, (_, _, its_rows) in self.new.items():
            for participant in its_rows:
                participant["interaction_id"] = ids[key]
            rows.extend(its_rows)
        # One statement each (see mapping.store.apply.bulk): the ORM's bulk path issues one per row here.
        insert_rows(session, "interaction_participants", rows)
        viewer_rows: list[dict[str, object]] = []
        for key in seen:
            if ids[key] not in viewers:
                viewer_rows.append({"interaction_id": ids[key], "mailbox_id": mailbox_id})
                viewers.add(ids[key])
        insert_rows(session, "interaction_viewers", viewer_rows)
        return ids


def stored_interactions(
    session: Session, column: InstrumentedAttribute[str | None], keys: Iterable[str]
) -> list[Interaction]:
    """The stored interactions whose natural-key ``column`` (Message-ID, iCalendar UID) is one of
    ``keys``, with their participants, in a few ``IN (...)`` queries."""
    found: list[Interaction] = []
    for chunk in chunked(keys):
        found.extend(
            session.scalars(
                sa.select(Interaction).where(column.in_(chunk)).options(selectinload(Interaction.participants))
            )
        )
    return found
