"""What an erasure must do, decided on plain values: which interactions go with the person, and the
receipt. The store service (:mod:`mapping.store.privacy_erase`) loads the facts and applies it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Involvement:
    """One interaction the erased person is on: are any outside participants left without them?"""

    interaction_id: int
    others_outside: int  # participants who are neither staff nor the erased person


def interactions_to_remove(involved: Iterable[Involvement]) -> tuple[list[int], list[int]]:
    """(removed, kept): an interaction only with the erased person (and staff) goes whole; one with
    other outside people stays, without the erased person's participant rows."""
    removed: list[int] = []
    kept: list[int] = []
    for i in involved:
        (kept if i.others_outside else removed).append(i.interaction_id)
    return sorted(removed), sorted(kept)


def mentions(text: str | None, needles: Iterable[str]) -> bool:
    """Whether a free-text value names the person (case-insensitive, needles of 3+ characters)."""
    if not text:
        return False
    folded = text.casefold()
    return any(len(n) >= 3 and n.casefold() in folded for n in needles)


def receipt(
    erasure_id: int,
    subject_hash: str,
    actor: str,
    started: datetime,
    finished: datetime,
    removed: Mapping[str, int],
    exchange: Mapping[str, int],
    keep_transactions: bool,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The erasure receipt: what was removed where, when, by whom; ids and counts, no personal data."""
    return {
        "erasure_id": erasure_id,
        "subject_hash": subject_hash,
        "by": actor,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "dry_run": dry_run,
        "keep_transactions": keep_transactions,
        "store": dict(sorted(removed.items())),
        "exchange": dict(sorted(exchange.items())),
        "suppressed": True,
    }
