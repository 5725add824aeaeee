"""Applying a page of calendar items: one interaction per meeting occurrence (iCalendar UID, original start)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.changes import ItemChange, MeetingSeries, Page
from mapping.policy import Decision, decide_meeting, org_domain_for
from mapping.records import MeetingRecord
from mapping.store.apply.directory import Directory
from mapping.store.apply.interactions import (
    DIRECTIONS,
    InteractionUpsert,
    StoredInteraction,
    new_participants,
    stored_interactions,
)
from mapping.store.apply.links import AnyLink, Links, NewLink, forget, save_links, touch_link, unlink
from mapping.store.batching import chunked
from mapping.store.models import (
    Base,
    Direction,
    EntityType,
    Interaction,
    InteractionKind,
    ItemLink,
)

_TABLES = Base.metadata.tables


#: A meeting occurrence's natural key: (iCalendar UID, original start; None for a single meeting).
_Key = tuple[str, datetime | None]


def apply_meetings(session: Session, page: Page, links: Links, directory: Directory, now: datetime) -> None:
    rules = directory.rules
    result = directory.result
    series_list: list[tuple[ItemChange, MeetingSeries, Decision]] = []
    unlinked: list[AnyLink] = []  # the page's deleted items, for _cancel_deleted_occurrences
    for change in page.changes:
        if change.record is None:
            link = links.get(change.item_id)
            if link is not None and unlink(session, page, link, now, rules):
                result.deleted += 1
                unlinked.append(link)
            continue
        series = change.record
        assert isinstance(series, MeetingSeries)
        decision = decide_meeting(series.item, rules.privacy, rules.internal_domains)
        if not decision.store:
            result.skipped[decision.reason or "skipped"] += 1
            forget(session, page, links.get(change.item_id))
            continue
        series_list.append((change, series, decision))
    if not series_list:
        _cancel_deleted_occurrences(session, page, links, unlinked)
        return
    addresses = {p.address for _, _, d in series_list for p in d.participants}
    domains = {d for a in addresses if (d := org_domain_for(a, rules.internal_domains))}
    directory.load(addresses, set(), domains)
    # Every stored occurrence of the page's series, with its participants, in a few queries.
    stored_by_uid: dict[str, dict[datetime | None, StoredInteraction]] = {}
    uids = {s.item.uid for _, s, _ in series_list if s.item.uid}
    for row in stored_interactions(session, Interaction.ical_uid, uids):
        assert row.ical_uid is not None
        stored_by_uid.setdefault(row.ical_uid, {})[row.occurrence_start] = row
    directory.create_people(
        new_participants(
            (
                (
                    (series.item.uid, o.occurrence_start),
                    stored_by_uid.get(series.item.uid or "", {}).get(o.occurrence_start),
                    decision,
                )
                for _, series, decision in series_list
                for o in series.occurrences
            ),
            directory,
        )
    )
    upsert: InteractionUpsert[_Key] = InteractionUpsert(
        {(uid, start): row for uid, by_start in stored_by_uid.items() for start, row in by_start.items()}
    )
    seen_occurrences: list[_Key] = []
    touched: list[tuple[ItemChange, _Key]] = []
    for change, series, decision in series_list:
        assert decision.direction is not None and series.item.uid is not None
        direction = DIRECTIONS[decision.direction]
        uid = series.item.uid
        stored = stored_by_uid.setdefault(uid, {})
        first: _Key | None = None
        for occurrence in series.occurrences:
            key = (uid, occurrence.occurrence_start)
            identity = {"kind": InteractionKind.MEETING, "ical_uid": uid, "occurrence_start": key[1]}
            values = _meeting_values(occurrence, direction)
            upsert.put(session, key, identity, values, decision.participants, direction, directory)
            seen_occurrences.append(key)
            first = first or key
        if series.window is not None:
            produced = {o.occurrence_start for o in series.occurrences}
            window_start, window_end = series.window
            gone = [
                start
                for start in {*stored, *(k[1] for k in upsert.new if k[0] == uid)}
                if start is not None and start not in produced and window_start <= start < window_end  # type: ignore[operator]
            ]
            for start in gone:  # a deleted occurrence did not happen
                if start in stored:
                    stored[start].values["is_cancelled"] = True
                else:
                    upsert.new[(uid, start)][0]["is_cancelled"] = True
        if first is None:
            result.skipped["no occurrence in window"] += 1
            continue
        touched.append((change, first))
    session.flush()  # the people, organisations and updated occurrences the page brought
    ids = upsert.insert(session, page.mailbox_id, seen_occurrences)
    for change, first_key in touched:
        created = touch_link(session, page, links, change, EntityType.INTERACTION, ids[first_key], now)
        result.created += created
        result.updated += not created
    _cancel_deleted_occurrences(session, page, links, unlinked)


def _cancel_deleted_occurrences(session: Session, page: Page, links: Links, unlinked: list[AnyLink]) -> None:
    """Store as cancelled the occurrences a delta round deleted from a series the mailbox still holds.

    Over Graph every occurrence is an item of its own and a deleted one only arrives as removed, where
    EWS expands the series again and finds the occurrence gone (the ``gone`` ones of
    :func:`apply_meetings`). The same decision here, on a round's last page (the one that carries
    the window): an occurrence deleted in the round (on this page, or named by ``removed_earlier``)
    whose original start lies in the window, of a series of which the mailbox still has a live link
    after the round, did not happen. A whole series deleted (no live link of it left, however many
    pages its removals took) stays as it was, as over EWS; so does an occurrence outside the window
    (it merely left it), a single meeting, and one that is still linked under another item id.
    """
    if page.window is None or not (unlinked or page.removed_earlier):
        return
    window_start, window_end = page.window
    save_links(session, links.values())  # the page's changed links, for the queries below
    linked_ids = {link.entity_id for link in unlinked if link.entity_type == EntityType.INTERACTION}
    for item_ids in chunked(page.removed_earlier):  # unlinked by the round's earlier pages
        linked_ids.update(
            session.scalars(
                sa.select(ItemLink.entity_id).where(
                    ItemLink.mailbox_id == page.mailbox_id,
                    ItemLink.folder == page.folder,
                    ItemLink.item_id.in_(item_ids),
                    ItemLink.entity_type == EntityType.INTERACTION,
                    ItemLink.deleted_at.is_not(None),
                )
            )
        )
    candidates: list[Interaction] = []
    for chunk in chunked(linked_ids):
        candidates.extend(
            session.scalars(
                sa.select(Interaction)
                .where(
                    Interaction.id.in_(chunk),
                    Interaction.kind == InteractionKind.MEETING,
                    Interaction.ical_uid.is_not(None),
                    Interaction.occurrence_start.is_not(None),
                    Interaction.is_cancelled.is_(False),
                )
                # The page's updates went in by Core UPDATE: an object loaded before them is refreshed.
                .execution_options(populate_existing=True)
            )
        )
    candidates = [
        i for i in candidates if i.occurrence_start is not None and window_start <= i.occurrence_start < window_end
    ]
    if not candidates:
        return
    session.flush()  # the page's changes, so the query below sees only what is still live
    uid_of: dict[int, str] = {}
    for uids in chunked({i.ical_uid for i in candidates if i.ical_uid}):
        rows = session.execute(sa.select(Interaction.id, Interaction.ical_uid).where(Interaction.ical_uid.in_(uids)))
        uid_of.update({row_id: uid for row_id, uid in rows if uid})
    live: set[int] = {
        link.entity_id
        for link in links.values()
        if isinstance(link, NewLink) and link.deleted_at is None and link.entity_type == EntityType.INTERACTION
    }
    for ids in chunked(uid_of):
        live.update(
            session.scalars(
                sa.select(ItemLink.entity_id).where(
                    ItemLink.mailbox_id == page.mailbox_id,
                    ItemLink.folder == page.folder,
                    ItemLink.entity_type == EntityType.INTERACTION,
                    ItemLink.entity_id.in_(ids),
                    ItemLink.deleted_at.is_(None),
                )
            )
        )
    held = {uid_of[i] for i in live if i in uid_of}  # the series this mailbox still holds
    for interaction in candidates:
        # One still linked (the same occurrence under another item id) did not go anywhere.
        if interaction.ical_uid in held and interaction.id not in live:
            interaction.is_cancelled = True


def _meeting_values(occurrence: MeetingRecord, direction: Direction) -> dict[str, object]:
    """What a meeting occurrence's row takes from its record (on creation and on every update)."""
    return {
        "subject": occurrence.subject,
        "occurred_at": occurrence.start,
        "ends_at": occurrence.end,
        "is_all_day": occurrence.is_all_day,
        "is_cancelled": occurrence.is_cancelled,
        "direction": direction,
    }
