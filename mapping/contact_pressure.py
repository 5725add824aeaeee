"""Not too much contact: outbound messages without an answer beyond what the cadence calls for. Pure.

Seed "Customer Relationship Management": "not too little and not too much as too much is construed
as spam". The store hands in, per relationship, the outbound messages (ours, to them) since their
last inbound message or meeting (an answer resets the count) as :class:`PressureInput`.

The cadence calls for one message per cadence period: ``allowed = 1 + floor(days since the first
unanswered message / cadence days)``. A relationship is *over-contacted* when its unanswered count
exceeds ``allowed`` and is at least ``min_unanswered`` (default 3; two unanswered e-mails are
ordinary). Then the next follow-up says so and moves to another method: the first of the potential's
methods that is not e-mail (meeting or telephone), or telephone when the potential only lists e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from mapping.followups import Create, Update

_A = TypeVar("_A", Create, Update)


@dataclass(frozen=True, slots=True)
class PressureInput:
    relationship_id: int
    name: str
    cadence_days: int | None  # None: no cadence (no follow-ups): never over-contacted
    unanswered: Sequence[datetime]  # outbound message times since the last answer (any order)
    methods: tuple[str, ...]  # the potential's methods of interaction


@dataclass(frozen=True, slots=True)
class Pressure:
    relationship_id: int
    name: str
    unanswered: int
    allowed: int
    since: datetime
    method: str  # what the next follow-up should use instead of e-mail
    line: str  # the sentence for the task body and for `followups --problems`


_EMAIL = {"e-mail", "email", "mail"}


def alternative_method(methods: Sequence[str]) -> str:
    """The first non-e-mail method of the potential, else ``telephone``."""
    return next((m for m in methods if m.strip().casefold() not in _EMAIL), "telephone")


def pressure(inp: PressureInput, now: datetime, min_unanswered: int = 3) -> Pressure | None:
    """The relationship's over-contact, or None when it is within what its cadence calls for."""
    if inp.cadence_days is None or inp.cadence_days <= 0 or not inp.unanswered:
        return None
    since = min(inp.unanswered)
    n = len(inp.unanswered)
    allowed = 1 + max(0, (now - since).days) // inp.cadence_days
    if n <= allowed or n < min_unanswered:
        return None
    method = alternative_method(inp.methods)
    line = (
        f"{n} messages since {since.date().isoformat()} have had no answer (the cadence calls for {allowed}): "
        f"no more e-mail, try {method}."
    )
    return Pressure(inp.relationship_id, inp.name, n, allowed, since, method, line)


def over_contacted(inputs: Iterable[PressureInput], now: datetime, min_unanswered: int = 3) -> list[Pressure]:
    """Every over-contacted relationship, most unanswered first (for ``relsync followups --problems``)."""
    found = [p for i in inputs if (p := pressure(i, now, min_unanswered)) is not None]
    return sorted(found, key=lambda p: (-p.unanswered, p.relationship_id))


def with_pressure(action: _A, p: Pressure) -> _A:
    """The planned task moved to ``p.method`` (its subject says so: ``(monthly: telephone)``)."""
    subject = action.subject.replace(f": {action.method})", f": {p.method})")
    return replace(action, method=p.method, subject=subject)
