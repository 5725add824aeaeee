"""Adopting the follow-up tasks relsync already wrote into Outlook, when the store has no record of them.

A store that is lost, rebuilt, or moved to a new database has no follow-up rows, but the owners' Tasks
folders still hold the tasks an earlier store made, each stamped with relsync's id. Planning then
wants a task for every relationship again; without adoption every task would be created a second
time. The ids on those tasks name follow-ups the new store never knew, so they cannot be looked up;
what the new store can do is recognise them: a planned new task is the task already in its owner's
folder with the same subject (which names the relationship, its cadence and method), preferably with
the same due day too.

Rules (pure; :func:`match_orphans`):

- only *orphans* are offered: open tasks carrying relsync's id that no follow-up in the store knows;
- a planned task takes an orphan with the same subject and due day first, else one with the same
  subject alone (subjects compared ignoring case and runs of white space);
- each orphan is adopted at most once, each planned task adopts at most one orphan; among equals the
  first (in the order given) wins, so the outcome is deterministic. Where staff copied a task, one copy
  is adopted and the other stays theirs: creating yet another task is what adoption exists to avoid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class FoundTask:
    """An open task in an owner's Tasks folder that carries relsync's id."""

    our_id: str
    item_id: str
    change_key: str | None
    subject: str
    due: date | None


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """A task the plan wants created (key: the follow-up's id in the store)."""

    key: int
    subject: str
    due: date


def _title(value: str) -> str:
    return " ".join(value.split()).casefold()


def match_orphans(planned: Sequence[PlannedTask], orphans: Sequence[FoundTask]) -> dict[int, FoundTask]:
    """Planned task key -> the orphan it adopts (see the module docstring for the rules)."""
    out: dict[int, FoundTask] = {}
    taken: set[str] = set()
    passes: tuple[tuple[Callable[[PlannedTask], Hashable], Callable[[FoundTask], Hashable]], ...] = (
        (lambda p: (_title(p.subject), p.due), lambda o: (_title(o.subject), o.due)),
        (lambda p: _title(p.subject), lambda o: _title(o.subject)),
    )
    for planned_key, orphan_key in passes:
        offered: dict[Hashable, list[FoundTask]] = defaultdict(list)
        for orphan in orphans:
            if orphan.item_id not in taken:
                offered[orphan_key(orphan)].append(orphan)
        for p in planned:
            if p.key in out:
                continue
            free = [o for o in offered.get(planned_key(p), ()) if o.item_id not in taken]
            if free:
                out[p.key] = free[0]
                taken.add(free[0].item_id)
    return out
