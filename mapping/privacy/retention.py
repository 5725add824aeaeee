"""The retention decision: what is old enough to go, per interaction kind and for archived
relationships, and what a relationship's key dates are from what remains (pure, no I/O).

A period is whole days; an item goes when it is *strictly older* than its period (``occurred_at <
now - period``), so nothing younger than its period is ever removed. No period: kept forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

KINDS = ("email", "meeting", "task")


@dataclass(frozen=True)
class RetentionPolicy:
    """Days to keep each interaction kind, and archived relationships after their last activity."""

    email_days: int | None = None
    meeting_days: int | None = None
    task_days: int | None = None
    archived_relationship_days: int | None = None

    def __post_init__(self) -> None:
        for name in ("email_days", "meeting_days", "task_days", "archived_relationship_days"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"privacy.retention.{name} must be a positive number of days, not {value}")

    def days(self, kind: str) -> int | None:
        return {"email": self.email_days, "meeting": self.meeting_days, "task": self.task_days}.get(kind)

    @property
    def empty(self) -> bool:
        return all(
            getattr(self, n) is None for n in ("email_days", "meeting_days", "task_days", "archived_relationship_days")
        )


def cutoff(days: int | None, now: datetime) -> datetime | None:
    """The instant before which data of this period goes (None: kept)."""
    return None if days is None else now - timedelta(days=days)


def cutoffs(policy: RetentionPolicy, now: datetime) -> dict[str, datetime]:
    """Interaction kind -> its cutoff, for the kinds that have a period."""
    return {k: c for k in KINDS if (c := cutoff(policy.days(k), now)) is not None}


def expired(kind: str, occurred_at: datetime, policy: RetentionPolicy, now: datetime) -> bool:
    """Whether an interaction of ``kind`` that happened at ``occurred_at`` is past its period."""
    limit = cutoff(policy.days(kind), now)
    return limit is not None and occurred_at < limit


def archived_expired(
    status: str | None, last_activity: datetime | None, policy: RetentionPolicy, now: datetime
) -> bool:
    """Whether an archived relationship's last activity is past its period."""
    limit = cutoff(policy.archived_relationship_days, now)
    return status == "archive" and limit is not None and last_activity is not None and last_activity < limit


@dataclass(frozen=True)
class Dated:
    """One interaction as retention sees it."""

    id: int
    kind: str
    occurred_at: datetime


def retain(items: Iterable[Dated], policy: RetentionPolicy, now: datetime) -> tuple[list[int], list[int]]:
    """(removed ids, kept ids)."""
    removed: list[int] = []
    kept: list[int] = []
    for item in items:
        (removed if expired(item.kind, item.occurred_at, policy, now) else kept).append(item.id)
    return removed, kept


def key_dates(remaining: Sequence[datetime], first_contact: datetime | None) -> tuple[datetime | None, datetime | None]:
    """A relationship's (first contact, latest interaction) from its remaining interactions: the latest
    is the newest remaining one (None when none remain); the first contact, a historical fact, stays
    unless it would come after the latest, and is never later than the oldest remaining interaction."""
    if not remaining:
        return first_contact, None
    oldest, newest = min(remaining), max(remaining)
    first = oldest if first_contact is None or first_contact > oldest else first_contact
    return first, newest
