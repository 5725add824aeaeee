"""Calendar items as Graph calendarView instances: singles, occurrences and exceptions inside a window.

A recurring master is expanded as the EWS side expands it (``recurrence.occurrences``): the instance
id of occurrence ``n`` is ``MailboxStore.item_id("calendar", index, n)``, the same id EWS gives that
occurrence, so ids stay stable across pages, rounds and protocols. Exceptions carry their own fields;
deleted occurrences are never served (an update of the series reports them as removed).

What an item change stands for: a new item, its instances in the window; an updated one, all its
instances in the window again, plus ``@removed`` for its deleted occurrences and moved-out exceptions
whose original start is in the window, and for a single that left the window; a deleted one,
``@removed`` for each instance it had in the window. Not modelled: an update that shortens or moves a
whole series does not report the occurrences that left (the store keeps no earlier version).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.fake.graph.render import EventIds, removed, render_event, rest_id
from connector.fake.mailbox import Change, FolderStore, MailboxStore
from connector.fake.model import ItemSpec
from connector.fake.recurrence import Occurrence, item_duration, occurrence_values, occurrences

FOLDER = "calendar"


@dataclass(frozen=True, slots=True)
class Window:
    """The calendarView window [start, end)."""

    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if end <= start:  # a zero-length event sits at its start
            return self.start <= start < self.end
        return start < self.end and end > self.start

    def key(self) -> tuple[int, int]:
        return int(self.start.timestamp()), int(self.end.timestamp())

    @classmethod
    def from_key(cls, key: tuple[int, int]) -> Window:
        return cls(datetime.fromtimestamp(key[0], UTC), datetime.fromtimestamp(key[1], UTC))


def _bounds(values: dict[str, Any]) -> tuple[datetime, datetime] | None:
    start, end = values.get("Start"), values.get("End")
    if not isinstance(start, datetime):
        return None
    return start, end if isinstance(end, datetime) else start


def _occurrence_bounds(master: ItemSpec, occ: Occurrence, duration: timedelta) -> tuple[datetime, datetime] | None:
    """Where an occurrence lies. A plain one lies where the series puts it: no need to build its fields
    (a series without an end has up to 1000 occurrences, few of them in the window)."""
    if occ.exception is None:
        return occ.original_start, occ.original_start + duration
    return _bounds(occurrence_values(master, occ))


def is_series(spec: ItemSpec) -> bool:
    return spec.kind == "CalendarItem" and spec.fields.get("Recurrence") is not None


def render_master(mb: MailboxStore, index: int, spec: ItemSpec, version: int) -> dict[str, Any]:
    """The event of a series master or a single item (what ``GET /events/{id}`` answers)."""
    ids = EventIds(
        rest_id(mb.item_id(FOLDER, index)),
        rest_id(mb.change_key(FOLDER, index, version)),
        rest_id(mb.folder_id(FOLDER)),
    )
    kind = "seriesMaster" if is_series(spec) else "singleInstance"
    return render_event(spec.fields, ids, kind, owner=mb.address)


def render_instance(mb: MailboxStore, index: int, spec: ItemSpec, version: int, instance: int) -> dict[str, Any] | None:
    """One occurrence or exception by its 1-based instance number (None: no such live instance)."""
    occs = occurrences(spec) if is_series(spec) else []
    if not 1 <= instance <= len(occs) or occs[instance - 1].deleted:
        return None
    occ = occs[instance - 1]
    ids = EventIds(
        rest_id(mb.item_id(FOLDER, index, instance)),
        rest_id(mb.change_key(FOLDER, index, version, instance)),
        rest_id(mb.folder_id(FOLDER)),
        rest_id(mb.item_id(FOLDER, index)),
    )
    kind = "exception" if occ.exception is not None else "occurrence"
    return render_event(occurrence_values(spec, occ), ids, kind, occ.original_start, owner=mb.address)


def change_entries(mb: MailboxStore, fs: FolderStore, ch: Change, window: Window) -> list[dict[str, Any]]:
    """The calendarView delta entries one item change stands for (rendered or @removed)."""
    index = ch.index
    if ch.type == "Delete":
        old = fs.deleted_spec(index) or (fs.base[index] if index < fs.base_len else None)
        if old is None or not is_series(old):
            return [removed(rest_id(mb.item_id(FOLDER, index)))]
        gone = []
        old_duration = item_duration(old)
        for o in occurrences(old):
            bounds = None if o.deleted else _occurrence_bounds(old, o, old_duration)
            if bounds is not None and window.overlaps(*bounds):
                gone.append(removed(rest_id(mb.item_id(FOLDER, index, o.instance))))
        return gone
    spec = ch.spec if ch.spec is not None else fs.base[index]
    if spec.kind != "CalendarItem":
        return []
    fresh = ch.type == "Create"  # the client cannot hold anything of it yet: nothing to remove
    if not is_series(spec):
        bounds = _bounds(spec.fields)
        if bounds is not None and window.overlaps(*bounds):
            ids = EventIds(
                rest_id(mb.item_id(FOLDER, index)),
                rest_id(mb.change_key(FOLDER, index, ch.version)),
                rest_id(mb.folder_id(FOLDER)),
            )
            return [render_event(spec.fields, ids, "singleInstance", owner=mb.address)]
        return [] if fresh else [removed(rest_id(mb.item_id(FOLDER, index)))]
    out: list[dict[str, Any]] = []
    duration = item_duration(spec)
    for occ in occurrences(spec):
        original_in = window.overlaps(occ.original_start, occ.original_start)
        if occ.deleted:
            if original_in and not fresh:
                out.append(removed(rest_id(mb.item_id(FOLDER, index, occ.instance))))
            continue
        bounds = _occurrence_bounds(spec, occ, duration)
        if bounds is not None and window.overlaps(*bounds):
            values = occurrence_values(spec, occ)
            ids = EventIds(
                rest_id(mb.item_id(FOLDER, index, occ.instance)),
                rest_id(mb.change_key(FOLDER, index, ch.version, occ.instance)),
                rest_id(mb.folder_id(FOLDER)),
                rest_id(mb.item_id(FOLDER, index)),
            )
            kind = "exception" if occ.exception is not None else "occurrence"
            out.append(render_event(values, ids, kind, occ.original_start, owner=mb.address))
        elif original_in and not fresh:  # an exception moved out of the window
            out.append(removed(rest_id(mb.item_id(FOLDER, index, occ.instance))))
    return out
