"""Cadence compliance per owner: is the follow-up plan being kept?

Per owner (a staff mailbox): open follow-ups, those due on the report's day, those overdue (due before
it, still open: as ``relsync followups --overdue`` counts them), the share of completed ones done on or
before their due day, the average days overdue of the overdue ones, and the relationships above their
tier's cadence with no contact (no interaction since one cadence before the report's day).

The store counts follow-ups in SQL grouped by (owner, status, due day, done on time), so this module
sees a few hundred buckets, never the follow-ups themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class FollowUpBucket:
    """``count`` follow-ups of ``owner`` with one status and due day; ``on_time`` (completed ones only):
    completed on or before the due day."""

    owner: str
    status: str
    due_day: date
    on_time: bool | None
    count: int


@dataclass(frozen=True, slots=True)
class LapsedCount:
    """``count`` relationships of ``owner`` in ``tier`` with no contact within one cadence."""

    owner: str
    tier: str
    count: int


@dataclass(frozen=True, slots=True)
class OwnerCompliance:
    """One owner's line of the compliance report (percentages 0..100; ``None`` when nothing to measure)."""

    owner: str
    open: int
    due: int
    overdue: int
    done: int
    done_on_time: int
    on_time_percent: float | None
    average_days_overdue: float | None
    lapsed: int
    lapsed_by_tier: tuple[tuple[str, int], ...]


def lapse_cutoffs(cadence_days: Mapping[str, int], as_of: date) -> dict[str, date]:
    """Tier -> the day before which the last contact must lie for the tier's cadence to have lapsed
    (tiers without a cadence, or with a non-positive one, have none)."""
    return {tier: as_of - timedelta(days=days) for tier, days in cadence_days.items() if days > 0}


def compliance(
    buckets: Iterable[FollowUpBucket], lapsed: Iterable[LapsedCount], as_of: date
) -> tuple[OwnerCompliance, ...]:
    """One line per owner that has follow-ups or lapsed relationships, by owner."""
    open_: defaultdict[str, int] = defaultdict(int)
    due: defaultdict[str, int] = defaultdict(int)
    overdue: defaultdict[str, int] = defaultdict(int)
    days_overdue: defaultdict[str, int] = defaultdict(int)
    done: defaultdict[str, int] = defaultdict(int)
    on_time: defaultdict[str, int] = defaultdict(int)
    owners: set[str] = set()
    for b in buckets:
        owners.add(b.owner)
        if b.status == "open":
            open_[b.owner] += b.count
            if b.due_day == as_of:
                due[b.owner] += b.count
            elif b.due_day < as_of:
                overdue[b.owner] += b.count
                days_overdue[b.owner] += (as_of - b.due_day).days * b.count
        elif b.status == "completed":
            done[b.owner] += b.count
            if b.on_time:
                on_time[b.owner] += b.count
    by_tier: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for lap in lapsed:
        if lap.count > 0:
            owners.add(lap.owner)
            by_tier[lap.owner][lap.tier] = by_tier[lap.owner].get(lap.tier, 0) + lap.count
    lines = []
    for owner in sorted(owners):
        tiers = tuple(sorted(by_tier[owner].items()))
        lines.append(
            OwnerCompliance(
                owner=owner,
                open=open_[owner],
                due=due[owner],
                overdue=overdue[owner],
                done=done[owner],
                done_on_time=on_time[owner],
                on_time_percent=round(100 * on_time[owner] / done[owner], 1) if done[owner] else None,
                average_days_overdue=round(days_overdue[owner] / overdue[owner], 1) if overdue[owner] else None,
                lapsed=sum(count for _, count in tiers),
                lapsed_by_tier=tiers,
            )
        )
    return tuple(lines)


__all__ = ["FollowUpBucket", "LapsedCount", "OwnerCompliance", "compliance", "lapse_cutoffs"]
