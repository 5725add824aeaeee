"""Re-keying a mailbox's item links when its backend changes (EWS ids -> Microsoft Graph ids).

A mailbox synced over EWS holds links keyed by EWS item ids. When it moves to Graph, the connector
translates those ids (Graph's ``translateExchangeIds``) and hands the translation here:

- :func:`legacy_links` reads what there is to translate: the folder's live links, which of them stand
  for a whole calendar series (EWS links a series through its first occurrence; Graph lists instances),
  and, once per mailbox, the follow-up tasks' links (folder ``tasks``);
- :func:`rewrite_item_ids` rewrites them in **one** transaction together with the folder's sync state
  (set to "start from scratch"), so a crash leaves either the old ids with the EWS state (the migration
  runs again) or the new ids with no state (the full read upserts onto them), never a mix;
- :func:`retire_series_links` unlinks, after that full read, the series links Graph replaced with
  instance links (their occurrences keep their viewers: the instance links hold them).

When the ids cannot be translated (Graph refuses ``translateExchangeIds`` for an app's token), the old
links are *parked* (their ids prefixed with :data:`PARKED`, in the same transaction as the state reset),
so they stay recognisable however many runs the full read takes; the read links every item again under
its new id, and :func:`replace_returned_links` then folds each old link into the new link of the same
entity (same person, e-mail or meeting) in the same mailbox folder, so only links whose entity did not
come back are left for the safety rail (:func:`parked_links` finds them, :func:`unpark` gives back their
ids to those kept). :func:`legacy_tasks` gives what the
connector needs to find the follow-up tasks again without a translation (their titles and due dates), and
:func:`outside_window` the calendar links a read over the current window could not have seen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mapping.changes import FolderName, SyncRules
from mapping.store.apply import unlink_links
from mapping.store.batching import chunked
from mapping.store.followups import TASKS_FOLDER, record_dismissed, record_written
from mapping.store.models import (
    EntityType,
    FollowUp,
    Interaction,
    ItemLink,
    MailboxBackend,
    StaffMailbox,
    SyncState,
    utcnow,
)
from mapping.store.store import Store


@dataclass(frozen=True, slots=True)
class LegacyLinks:
    """A folder's links to translate; ``tasks`` is None when the mailbox's task ids were moved already."""

    item_ids: tuple[str, ...]
    series: frozenset[str]
    tasks: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Rewritten:
    """What :func:`rewrite_item_ids` did. ``collisions``: a target id some other link holds (left alone)."""

    rewritten: int = 0
    unchanged: int = 0
    collisions: int = 0
    tasks_rewritten: int = 0
    tasks_lost: int = 0


def _live_ids(session: Session, mailbox_id: int, folder: str) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            sa.select(ItemLink.item_id)
            .where(ItemLink.mailbox_id == mailbox_id, ItemLink.folder == folder, ItemLink.deleted_at.is_(None))
            .order_by(ItemLink.id)
        )
    )


def legacy_links(store: Store, mailbox_id: int, folder: FolderName) -> LegacyLinks:
    """The live links of a mailbox folder (and its task links while the mailbox still holds EWS ids)."""
    with store.session() as s:
        item_ids = _live_ids(s, mailbox_id, folder)
        series: frozenset[str] = frozenset()
        if folder == "calendar":
            series = frozenset(
                s.scalars(
                    sa.select(ItemLink.item_id)
                    .join(
                        Interaction,
                        sa.and_(ItemLink.entity_type == EntityType.INTERACTION, Interaction.id == ItemLink.entity_id),
                    )
                    .where(
                        ItemLink.mailbox_id == mailbox_id,
                        ItemLink.folder == folder,
                        ItemLink.deleted_at.is_(None),
                        Interaction.occurrence_start.is_not(None),
                    )
                )
            )
        backend = s.scalar(sa.select(StaffMailbox.backend).where(StaffMailbox.id == mailbox_id))
        tasks = _live_ids(s, mailbox_id, TASKS_FOLDER) if backend != MailboxBackend.GRAPH else None
    return LegacyLinks(item_ids, series, tasks)


def _rewrite(session: Session, mailbox_id: int, folder: str, new_ids: Mapping[str, str]) -> tuple[int, int, int]:
    """(rewritten, unchanged, collisions). An id another link of the folder holds (even a deleted one:
    the key is unique) is left as it is; the full read then treats that item as any other."""
    taken = set(
        session.scalars(sa.select(ItemLink.item_id).where(ItemLink.mailbox_id == mailbox_id, ItemLink.folder == folder))
    )
    params: list[dict[str, str]] = []
    unchanged = collisions = 0
    for old, new in sorted(new_ids.items()):
        if old == new:
            unchanged += 1
        elif new in taken:
            collisions += 1
        else:
            taken.add(new)
            params.append({"b_old": old, "b_new": new})
    if params:
        table = cast(sa.Table, ItemLink.__table__)  # Core: an executemany keyed by the old id, not by primary key
        session.execute(
            sa.update(table)
            .where(table.c.mailbox_id == mailbox_id, table.c.folder == folder, table.c.item_id == sa.bindparam("b_old"))
            .values(item_id=sa.bindparam("b_new")),
            params,
        )
    return len(params), unchanged, collisions


#: The note on a follow-up whose task was not found again when its mailbox changed backend.
LOST_TASK_NOTE = "Its Outlook task was not found again after the move to Microsoft Graph: this period is dismissed."


def _close_lost_tasks(session: Session, mailbox_id: int, item_ids: Collection[str]) -> int:
    """Close the follow-ups of these task links as dismissed (their links marked gone): the new backend
    cannot name their tasks, so they can neither be read nor written, and must not be made a second time."""
    closed = 0
    now = utcnow()
    for chunk in chunked(item_ids):
        follow_ups = session.scalars(
            sa.select(ItemLink.entity_id).where(
                ItemLink.mailbox_id == mailbox_id,
                ItemLink.folder == TASKS_FOLDER,
                ItemLink.deleted_at.is_(None),
                ItemLink.entity_type == EntityType.TASK,
                ItemLink.item_id.in_(chunk),
            )
        ).all()
        for follow_up_id in follow_ups:
            record_dismissed(session, follow_up_id, now)
            follow_up = session.get(FollowUp, follow_up_id)
            if follow_up is not None and follow_up.closed_reason == "dismissed":
                follow_up.note = LOST_TASK_NOTE
            record_written(session, follow_up_id, None, now, gone=True)  # a closed one's link too
            closed += 1
    return closed


def rewrite_item_ids(
    store: Store,
    mailbox_id: int,
    folder: FolderName,
    new_ids: Mapping[str, str],
    *,
    task_ids: Mapping[str, str] | None = None,
    backend: MailboxBackend = MailboxBackend.GRAPH,
    lost_tasks: Collection[str] = (),
) -> Rewritten:
    """In one transaction: re-key the folder's links (old id -> new id; ids not in ``new_ids`` stay),
    forget the folder's sync state (the next read is a full one that upserts onto the new ids), and,
    when ``task_ids`` is given, re-key the follow-up tasks' links, close the follow-ups of the task links
    in ``lost_tasks`` (tasks the new backend cannot name: dismissed, never made twice) and record
    ``backend`` as the mailbox's, so the tasks are moved once."""
    with store.session() as s:
        rewritten, unchanged, collisions = _rewrite(s, mailbox_id, folder, new_ids)
        state = s.scalars(
            sa.select(SyncState).where(SyncState.mailbox_id == mailbox_id, SyncState.folder == folder)
        ).one_or_none()
        if state is not None:
            state.state = None
            state.full_syncs += 1
        tasks = lost = 0
        if task_ids is not None:
            tasks, _, task_collisions = _rewrite(s, mailbox_id, TASKS_FOLDER, task_ids)
            collisions += task_collisions
            lost = _close_lost_tasks(s, mailbox_id, [i for i in lost_tasks if i not in task_ids])
            s.execute(sa.update(StaffMailbox).where(StaffMailbox.id == mailbox_id).values(backend=backend))
    return Rewritten(rewritten, unchanged, collisions, tasks, lost)


def retire_series_links(
    store: Store, mailbox_id: int, folder: FolderName, item_ids: Collection[str], rules: SyncRules
) -> int:
    """Unlink the given (series) links whose series another live link of the folder now holds.

    Used after the first full read over Graph: a series' occurrences came back as instance links, so the
    link EWS kept for the whole series is redundant. Unlinking it is a reported deletion
    (:func:`mapping.store.apply.unlink_links`), whose viewers stay because the instance links hold the
    same series. A series none of whose instances came back (all outside the calendar window) keeps
    its link, as a meeting that merely left the window does."""
    if not item_ids:
        return 0
    other = aliased(ItemLink)
    mine, theirs = aliased(Interaction), aliased(Interaction)
    replaced = (
        sa.select(other.id)
        .join(theirs, sa.and_(other.entity_type == EntityType.INTERACTION, theirs.id == other.entity_id))
        .where(
            other.mailbox_id == mailbox_id,
            other.folder == folder,
            other.deleted_at.is_(None),
            other.id != ItemLink.id,
            theirs.ical_uid == mine.ical_uid,
        )
        .exists()
    )
    unlinked = 0
    with store.session() as s:
        for chunk in chunked(item_ids):
            links = s.scalars(
                sa.select(ItemLink)
                .join(mine, sa.and_(ItemLink.entity_type == EntityType.INTERACTION, mine.id == ItemLink.entity_id))
                .where(
                    ItemLink.mailbox_id == mailbox_id,
                    ItemLink.folder == folder,
                    ItemLink.deleted_at.is_(None),
                    ItemLink.item_id.in_(chunk),
                    mine.ical_uid.is_not(None),
                    replaced,
                )
            ).all()
            unlinked += unlink_links(s, mailbox_id, folder, links, rules, utcnow())
    return unlinked


# ------------------------------------------------------------------------------ without a translation
#: Prefix of a parked link's id: an EWS-era link the new backend's full read has yet to replace. No
#: Exchange id (EWS or Graph, both base64) contains a colon.
PARKED = "relsync-parked:"
_PARKED_END = PARKED[:-1] + chr(ord(PARKED[-1]) + 1)  # sorts after every id that starts with PARKED


def parked(item_id: str) -> str:
    """The parked form of a link id."""
    return PARKED + item_id


def parked_links(store: Store, mailbox_id: int, folder: FolderName) -> tuple[frozenset[str], frozenset[str]]:
    """(the folder's live parked link ids, those of them standing for a calendar series). A range on the
    (mailbox, folder, item id) key, so asking on every sync costs one index probe."""
    with store.session() as s:
        rows = s.execute(
            sa.select(ItemLink.item_id, Interaction.occurrence_start)
            .outerjoin(
                Interaction,
                sa.and_(ItemLink.entity_type == EntityType.INTERACTION, Interaction.id == ItemLink.entity_id),
            )
            .where(
                ItemLink.mailbox_id == mailbox_id,
                ItemLink.folder == folder,
                ItemLink.deleted_at.is_(None),
                ItemLink.item_id >= PARKED,
                ItemLink.item_id < _PARKED_END,
            )
        ).all()
    ids = frozenset(r[0] for r in rows)
    series = frozenset(r[0] for r in rows if r[1] is not None) if folder == "calendar" else frozenset()
    return ids, series


def live_item_ids(store: Store, mailbox_id: int, folder: FolderName) -> set[str]:
    """Every live link id of a mailbox folder."""
    with store.session() as s:
        return set(_live_ids(s, mailbox_id, folder))


def unpark(store: Store, mailbox_id: int, folder: FolderName, item_ids: Collection[str]) -> set[str]:
    """Give the given live parked links their own ids back (links kept though the read did not see them:
    meetings outside the calendar window). Returns the ids they now hold."""
    wanted = {i: i[len(PARKED) :] for i in item_ids if i.startswith(PARKED)}
    if not wanted:
        return set()
    with store.session() as s:
        live: set[str] = set()
        for chunk in chunked(wanted):
            live.update(
                s.scalars(
                    sa.select(ItemLink.item_id).where(
                        ItemLink.mailbox_id == mailbox_id,
                        ItemLink.folder == folder,
                        ItemLink.deleted_at.is_(None),
                        ItemLink.item_id.in_(chunk),
                    )
                )
            )
        _rewrite(s, mailbox_id, folder, {old: wanted[old] for old in live})
    return {wanted[old] for old in live}


@dataclass(frozen=True, slots=True)
class LegacyTask:
    """A follow-up task link of a mailbox still holding EWS ids, with what identifies its task otherwise."""

    item_id: str
    our_id: str
    title: str
    due: date


def legacy_tasks(store: Store, mailbox_id: int) -> tuple[LegacyTask, ...]:
    """The mailbox's live follow-up task links, with each follow-up's subject (the task's title) and due day."""
    with store.session() as s:
        rows = s.execute(
            sa.select(ItemLink.item_id, FollowUp.our_id, FollowUp.subject, FollowUp.due_at)
            .join(FollowUp, sa.and_(ItemLink.entity_type == EntityType.TASK, FollowUp.id == ItemLink.entity_id))
            .where(ItemLink.mailbox_id == mailbox_id, ItemLink.folder == TASKS_FOLDER, ItemLink.deleted_at.is_(None))
            .order_by(ItemLink.id)
        ).all()
    return tuple(LegacyTask(item_id, our_id, subject, due_at.date()) for item_id, our_id, subject, due_at in rows)


def record_backend(store: Store, mailbox_id: int, backend: MailboxBackend = MailboxBackend.GRAPH) -> None:
    """Record the mailbox's backend (its task ids are the new backend's from now on)."""
    with store.session() as s:
        s.execute(sa.update(StaffMailbox).where(StaffMailbox.id == mailbox_id).values(backend=backend))


K = TypeVar("K", bound=Hashable)
Old = TypeVar("Old")
New = TypeVar("New")


def pair_by_key(old: Sequence[tuple[K, Old]], new: Sequence[tuple[K, New]]) -> tuple[list[tuple[Old, New]], list[Old]]:
    """Pair old and new things sharing a key, in their order: (pairs, old things whose key some new thing
    has but that found no partner left). Old things whose key no new thing has are in neither list."""
    by_key: dict[K, list[New]] = defaultdict(list)
    for key, fresh in new:
        by_key[key].append(fresh)
    pairs: list[tuple[Old, New]] = []
    extra: list[Old] = []
    used: dict[K, int] = defaultdict(int)
    for key, stale in old:
        partners = by_key.get(key)
        if not partners:
            continue
        if used[key] < len(partners):
            pairs.append((stale, partners[used[key]]))
            used[key] += 1
        else:
            extra.append(stale)
    return pairs, extra


@dataclass(frozen=True, slots=True)
class Replaced:
    """What :func:`replace_returned_links` did: old links folded into a new one (``merged``), further old
    links of an entity that came back (``unlinked``, viewers kept)."""

    merged: int = 0
    unlinked: int = 0


_LINK_COLUMNS = (
    ItemLink.id,
    ItemLink.item_id,
    ItemLink.entity_type,
    ItemLink.entity_id,
    ItemLink.change_key,
    ItemLink.categories,
    ItemLink.our_id,
    ItemLink.last_seen_at,
)


def replace_returned_links(
    store: Store,
    mailbox_id: int,
    folder: FolderName,
    old_ids: Collection[str],
    seen: Collection[str],
    rules: SyncRules,
) -> Replaced:
    """After a folder's first full read under new ids: fold each old link the read did not see into the
    link the read made under a new id for the same entity (same mailbox and folder).

    ``old_ids``: the folder's link ids before the read (parked ones, without a translation); ``seen``: the
    ids the read saw; a new link is any live link of the folder whose id is not an old one. The old row stays
    (its id, first sighting, the categories relsync wrote, our id, the overrides pointing at it) and takes
    over the new item id, change key, categories as read and last sighting; the new row is deleted. Nothing
    is reported deleted, so the interaction keeps this mailbox as a viewer. An entity with more old links
    than new ones (two copies of an e-mail in one folder) has the extra old links unlinked; the new link
    keeps the viewer. Old links whose entity did not come back are left alone: the caller's full-read
    cleanup (and its safety rail) judges them."""
    seen_set = seen if isinstance(seen, set | frozenset) else set(seen)
    old_set = old_ids if isinstance(old_ids, set | frozenset) else set(old_ids)
    missing = [i for i in old_set if i not in seen_set]
    if not missing:
        return Replaced()
    table = cast(sa.Table, ItemLink.__table__)
    live = (ItemLink.mailbox_id == mailbox_id, ItemLink.folder == folder, ItemLink.deleted_at.is_(None))
    with store.session() as s:
        old_rows: list[Any] = []
        for chunk in chunked(missing):
            old_rows += s.execute(sa.select(*_LINK_COLUMNS).where(*live, ItemLink.item_id.in_(chunk))).all()
        if not old_rows:
            return Replaced()
        new_rows: list[Any] = []
        by_type: dict[EntityType, set[int]] = defaultdict(set)
        for r in old_rows:
            by_type[r.entity_type].add(r.entity_id)
        for entity_type, ids in by_type.items():  # by type too: the (type, id) index answers
            for entity_ids in chunked(ids):
                rows = s.execute(
                    sa.select(*_LINK_COLUMNS).where(
                        *live, ItemLink.entity_type == entity_type, ItemLink.entity_id.in_(entity_ids)
                    )
                )
                new_rows += [r for r in rows if r.item_id not in old_set]
        old_rows.sort(key=lambda r: r.id)
        new_rows.sort(key=lambda r: r.id)
        pairs, extra = pair_by_key(
            [((r.entity_type, r.entity_id), r) for r in old_rows], [((r.entity_type, r.entity_id), r) for r in new_rows]
        )
        for chunk_ids in chunked([n.id for _, n in pairs]):  # first: the new ids become free
            s.execute(sa.delete(table).where(table.c.id.in_(chunk_ids)))
        if pairs:
            s.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("b_id"))
                .values(
                    item_id=sa.bindparam("b_item_id"),
                    change_key=sa.bindparam("b_change_key"),
                    categories=sa.bindparam("b_categories", type_=table.c.categories.type),
                    our_id=sa.bindparam("b_our_id"),
                    last_seen_at=sa.bindparam("b_last_seen_at"),
                ),
                [
                    {
                        "b_id": o.id,
                        "b_item_id": n.item_id,
                        "b_change_key": n.change_key,
                        "b_categories": n.categories if n.categories is not None else o.categories,
                        "b_our_id": o.our_id or n.our_id,
                        "b_last_seen_at": n.last_seen_at,
                    }
                    for o, n in pairs
                ],
            )
        unlinked = 0
        for chunk_ids in chunked([o.id for o in extra]):
            links = s.scalars(sa.select(ItemLink).where(ItemLink.id.in_(chunk_ids))).all()
            unlinked += unlink_links(s, mailbox_id, folder, links, rules, utcnow())
    return Replaced(len(pairs), unlinked)


def outside_window(
    store: Store, mailbox_id: int, folder: FolderName, item_ids: Collection[str], start: datetime, end: datetime
) -> set[str]:
    """The given live links of the folder whose interaction starts before ``start`` or at/after ``end``: a
    read over that calendar window could not have seen them, so they are not gone (as a meeting that left
    the window is not)."""
    out: set[str] = set()
    with store.session() as s:
        for chunk in chunked(item_ids):
            out.update(
                s.scalars(
                    sa.select(ItemLink.item_id)
                    .join(
                        Interaction,
                        sa.and_(ItemLink.entity_type == EntityType.INTERACTION, Interaction.id == ItemLink.entity_id),
                    )
                    .where(
                        ItemLink.mailbox_id == mailbox_id,
                        ItemLink.folder == folder,
                        ItemLink.deleted_at.is_(None),
                        ItemLink.item_id.in_(chunk),
                        sa.or_(Interaction.occurred_at < start, Interaction.occurred_at >= end),
                    )
                )
            )
    return out
