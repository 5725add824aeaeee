"""What e-mails and meetings share: participants, viewers, and the upsert of interactions by natural key."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from mapping.policy import Decision
from mapping.records import Participant
from mapping.store.apply.directory import Directory
from mapping.store.batching import among
from mapping.store.bulk import insert_rows_with_ids, insert_tuples, update_tuples
from mapping.store.models import (
    Base,
    Direction,
    Interaction,
    InteractionParticipant,
    InteractionViewer,
    ParticipantRole,
    ResponseType,
    utcnow,
)


@dataclass(slots=True, eq=False)
class StoredInteraction:
    """An interaction stored before this page, as a plain row: what a page may change of it
    (``values``), the values as stored (``saved``) and the (address, role) pairs of its participants.
    Changed ones are written back with one UPDATE by id per page (see :meth:`InteractionUpsert.insert`)."""

    id: int
    internet_message_id: str | None
    ical_uid: str | None
    occurrence_start: datetime | None
    values: dict[str, object]
    saved: dict[str, object]
    participants: set[tuple[str, str]] = field(default_factory=set)


#: The columns a page sets on a stored interaction (messages: the first five; meetings: the rest).
_VALUE_COLUMNS = (
    "subject",
    "conversation_id",
    "size_bytes",
    "snippet",
    "occurred_at",
    "ends_at",
    "is_all_day",
    "is_cancelled",
    "direction",
)


def new_participants(
    items: Iterable[tuple[object, StoredInteraction | None, Decision]], directory: Directory
) -> Iterable[tuple[Participant, Direction]]:
    """The (participant, direction) pairs :func:`participant_rows` will resolve, in its order: those
    not yet recorded on their interaction (``key`` identifies the interaction within the page)."""
    haves: dict[object, set[tuple[str, str]]] = {}
    for key, interaction, decision in items:
        have = haves.get(key)
        if have is None:
            have = set(interaction.participants) if interaction is not None else set()
            haves[key] = have
        assert decision.direction is not None
        direction = DIRECTIONS[decision.direction]
        for participant in decision.participants:
            if (participant.address, participant.role) in have:
                continue
            have.add((participant.address, participant.role))
            if participant.address not in directory.staff_by_address:
                yield participant, direction


def viewers_of(session: Session, interaction_ids: list[int], mailbox_id: int) -> set[int]:
    if not interaction_ids:
        return set()
    return set(
        session.scalars(
            sa.select(InteractionViewer.interaction_id).where(
                InteractionViewer.mailbox_id == mailbox_id,
                among(session, InteractionViewer.interaction_id, interaction_ids),
            )
        )
    )


_ROLE_RESPONSE = {r.value: r for r in ResponseType}
#: The members by value: a dict lookup per participant, where ``Enum(value)`` costs a call each.
_ROLES = {r.value: r for r in ParticipantRole}
DIRECTIONS = {d.value: d for d in Direction}


#: A participant row's columns, as :func:`participant_rows` gives them (``interaction_id`` added last).
_PARTICIPANT_COLUMNS = (
    "address",
    "display_name",
    "role",
    "response",
    "person_id",
    "staff_mailbox_id",
    "interaction_id",
)


def participant_rows(
    participants: tuple[Participant, ...], direction: Direction, directory: Directory, have: set[tuple[str, str]]
) -> list[tuple[object, ...]]:
    """The participants not yet in ``have`` (the (address, role) pairs the interaction has), as rows
    for a bulk insert (:data:`_PARTICIPANT_COLUMNS` but the interaction's id): participants are the
    same in every copy, so only missing ones are added."""
    rows: list[tuple[object, ...]] = []
    for participant in participants:
        if (participant.address, participant.role) in have:
            continue
        have.add((participant.address, participant.role))
        staff_id = directory.staff_by_address.get(participant.address)
        person_id = None if staff_id is not None else directory.person_for_participant(participant, direction)
        rows.append(
            (
                participant.address,
                (participant.name or None) and participant.name[:255],
                _ROLES[participant.role],
                _ROLE_RESPONSE.get(participant.response) if participant.response else None,
                person_id,
                staff_id,
            )
        )
    return rows


_TABLES = Base.metadata.tables
_K = TypeVar("_K", bound=Hashable)


class InteractionUpsert(Generic[_K]):
    """The page's interactions by natural key (Message-ID for an e-mail, (UID, original start) for a
    meeting occurrence): stored ones updated in place as plain rows, new ones collected as plain
    rows; :meth:`insert` writes them all, one statement per table (see :mod:`.bulk`).

    The ORM's per-object bookkeeping (loading, tracking and flushing every stored interaction and
    participant, one RETURNING insert per new row) was most of a page's cost.
    """

    def __init__(self, existing: dict[_K, StoredInteraction]) -> None:
        self.existing = existing
        #: key -> (the new row, the (address, role) pairs it has, its participant rows)
        self.new: dict[_K, tuple[dict[str, object], set[tuple[str, str]], list[tuple[object, ...]]]] = {}
        #: the participant rows added to stored interactions (their interaction_id set)
        self.added: list[tuple[object, ...]] = []

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
            interaction.values.update(values)
            rows = participant_rows(participants, direction, directory, interaction.participants)
            self.added.extend((*row, interaction.id) for row in rows)
            return
        pending = self.new.get(key)
        if pending is None:  # the first copy on the page creates it; a later copy updates it
            pending = self.new[key] = (dict(identity), set(), [])
        pending[0].update(values)
        pending[2].extend(participant_rows(participants, direction, directory, pending[1]))

    def insert(
        self,
        session: Session,
        mailbox_id: int,
        seen: Iterable[_K],
    ) -> dict[_K, int]:
        """Write the stored interactions that changed (``updated_at`` set, as the ORM's ``onupdate``
        does), insert the new ones (their ids drawn as they go in), the participants, and a
        viewer row for every ``seen`` key the mailbox does not view yet; the id of every key."""
        self._update(session)
        ids = {key: interaction.id for key, interaction in self.existing.items()}
        viewers = viewers_of(session, list(ids.values()), mailbox_id)
        if self.new:
            new_ids = insert_rows_with_ids(
                session, "interactions", [row for row, _, _ in self.new.values()], json_none="null"
            )
            ids.update(zip(self.new, new_ids, strict=True))
        rows = self.added
        for key, (_, _, its_rows) in self.new.items():
            interaction_id = ids[key]
            rows.extend((*row, interaction_id) for row in its_rows)
        insert_tuples(session, "interaction_participants", _PARTICIPANT_COLUMNS, rows, json_none="null")
        viewer_rows: list[tuple[int, int]] = []
        for key in seen:
            if ids[key] not in viewers:
                viewer_rows.append((ids[key], mailbox_id))
                viewers.add(ids[key])
        insert_tuples(session, "interaction_viewers", ("interaction_id", "mailbox_id"), viewer_rows, json_none="null")
        return ids

    def _update(self, session: Session) -> None:
        changed: dict[tuple[str, ...], list[tuple[object, ...]]] = {}
        now = utcnow()
        for interaction in self.existing.values():
            values, saved = interaction.values, interaction.saved
            if any(values[c] != saved[c] for c in values):
                columns = tuple(values)
                changed.setdefault(columns, []).append((interaction.id, *values.values(), now))
                interaction.saved = dict(values)
        for columns, rows in changed.items():
            update_tuples(session, "interactions", "id", (*columns, "updated_at"), rows, json_none="null")


def stored_interactions(
    session: Session, column: InstrumentedAttribute[str | None], keys: Iterable[str]
) -> list[StoredInteraction]:
    """The stored interactions whose natural-key ``column`` (Message-ID, iCalendar UID) is one of
    ``keys``, with their participants' (address, role) pairs, in two queries."""
    session.flush()  # what the page deleted so far (a private item forgotten) is gone
    keys = set(keys)
    if not keys:
        return []
    i = Interaction
    columns = [getattr(i, c) for c in _VALUE_COLUMNS]
    found: list[StoredInteraction] = []
    query = sa.select(i.id, i.internet_message_id, i.ical_uid, i.occurrence_start, *columns)
    if session.get_bind().dialect.name == "postgresql":
        # Joined to the page's keys, not ``= ANY(array)``: the driver prepares a statement run this
        # often, and PostgreSQL's generic plan for it, made while the table was small, scanned every
        # interaction (40 ms a page at 20,000 rows and growing: benchmarks/store_apply.py --pg).
        page_keys = (
            sa.func.unnest(sa.bindparam("keys", sorted(keys), ARRAY(sa.String)))
            .table_valued("key")
            .render_derived(name="page_keys")
        )
        query = query.join(page_keys, column == page_keys.c.key).where(column.is_not(None))
    else:
        query = query.where(column.is_not(None), among(session, column, keys))
    rows = session.execute(query)
    for row in rows:
        values = dict(zip(_VALUE_COLUMNS, row[4:], strict=True))
        found.append(StoredInteraction(row[0], row[1], row[2], row[3], values, dict(values)))
    by_id = {interaction.id: interaction for interaction in found}
    if not by_id:
        return found
    p = InteractionParticipant
    for interaction_id, address, role in session.execute(
        sa.select(p.interaction_id, p.address, p.role).where(among(session, p.interaction_id, by_id))
    ):
        by_id[interaction_id].participants.add((address, role.value))
    return found
