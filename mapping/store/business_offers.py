"""What to offer next, kept per relationship (``relationship_offers``) for the Outlook card.

The suggestions are those of :func:`mapping.next_offer.suggest_all`, found by the business analysis
(:func:`mapping.store.business.analyse`) that the follow-up run makes anyway; :func:`record_offers` keeps
them inside that run's transaction, writing only the relationships whose suggestions changed, and
:func:`offers_of` reads one relationship's in a primary-key lookup. Computing them per card would mean
reading every customer's purchases on every request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.next_offer import Suggestion
from mapping.store.models_business import RelationshipOffer

_BATCH = 5_000


def _plain(found: Sequence[Suggestion]) -> list[dict[str, Any]]:
    return [
        {"product": s.product, "support": s.support, "buyers": s.buyers, "peers": s.peers, "segment": s.segment}
        for s in found
    ]


def _suggestion(raw: object) -> Suggestion | None:
    if not isinstance(raw, dict):
        return None
    try:
        return Suggestion(
            str(raw["product"]), float(raw["support"]), int(raw["buyers"]), int(raw["peers"]), str(raw["segment"])
        )
    except (KeyError, TypeError, ValueError):
        return None


def record_offers(session: Session, offers: Mapping[int, Sequence[Suggestion]], now: datetime) -> int:
    """Keep ``offers`` (relationship id -> suggestions, best first; every relationship the analysis
    covered) as the current suggestions: changed ones rewritten, new ones added, the rest's rows removed.
    Returns how many relationships changed."""
    wanted = {rid: _plain(found) for rid, found in offers.items() if found}
    stored = {
        rid: plain
        for rid, plain in session.execute(sa.select(RelationshipOffer.relationship_id, RelationshipOffer.suggestions))
    }
    gone = [rid for rid in stored if rid not in wanted]
    changed = [rid for rid, plain in wanted.items() if stored.get(rid) != plain]
    for i in range(0, len(gone), _BATCH):
        session.execute(sa.delete(RelationshipOffer).where(RelationshipOffer.relationship_id.in_(gone[i : i + _BATCH])))
    updates = [rid for rid in changed if rid in stored]
    for i in range(0, len(updates), _BATCH):
        ids = updates[i : i + _BATCH]
        session.execute(sa.delete(RelationshipOffer).where(RelationshipOffer.relationship_id.in_(ids)))
    rows = [{"relationship_id": rid, "suggestions": wanted[rid], "updated_at": now} for rid in changed]
    for i in range(0, len(rows), _BATCH):
        session.execute(sa.insert(RelationshipOffer), rows[i : i + _BATCH])
    session.flush()
    return len(changed) + len(gone)


_ONE = sa.select(RelationshipOffer.suggestions).where(RelationshipOffer.relationship_id == sa.bindparam("rid"))


def offers_of(session: Session, relationship_id: int) -> tuple[Suggestion, ...]:
    """One relationship's suggestions, best first (none: nothing to suggest, or not analysed yet)."""
    raw = session.scalar(_ONE, {"rid": relationship_id})
    if not isinstance(raw, list):
        return ()
    return tuple(s for item in raw if (s := _suggestion(item)) is not None)


__all__ = ["offers_of", "record_offers"]
