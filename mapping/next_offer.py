"""What to offer next: what customers like this one buy that it has not. Pure.

Seed "12 Principles", 3 (cross-sell and up-sell). For each relationship, its *peers* are the other
relationships of its most specific segment that has at least ``min_peers`` of them, trying the
segment keys of :class:`OfferSettings` in order (default: same industry and size, same industry, same
size, same tier, everyone). A product's *support* is the share of those peers who bought it. The
suggestions are the products with the highest support (ties: the product name) that the relationship
has not bought, at least ``min_support``, at most ``top``.

Products are canonical names (:meth:`mapping.catalogue.Catalogue.resolve` first). Built for scale:
one pass over the purchases, one product tally per segment, and each relationship walks its
segment's ranked list only until it has ``top`` products it lacks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Dimension = Literal["industry", "size", "tier"]
DEFAULT_SEGMENTS: tuple[tuple[Dimension, ...], ...] = (("industry", "size"), ("industry",), ("size",), ("tier",), ())


@dataclass(frozen=True, slots=True)
class Profile:
    """One relationship's segment: its industry, size and tier (None: unknown)."""

    relationship_id: int
    industry: str | None = None
    size: str | None = None
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class OfferSettings:
    top: int = 3
    min_peers: int = 5
    min_support: float = 0.1
    segments: tuple[tuple[Dimension, ...], ...] = DEFAULT_SEGMENTS


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Offer ``product``: ``support`` (0..1) of the ``peers`` relationships of ``segment`` bought it."""

    product: str
    support: float
    buyers: int
    peers: int
    segment: str  # "industry=retail, size=large"; "everyone"

    def line(self) -> str:
        """``Widget Pro 2: bought by 12 of 40 similar customers (30 %; industry=retail)``."""
        return (
            f"{self.product}: bought by {self.buyers} of {self.peers} similar customers "
            f"({self.support * 100:.0f} %; {self.segment})"
        )


def _key(p: Profile, dims: tuple[Dimension, ...]) -> tuple[str | None, ...] | None:
    values = tuple(getattr(p, d) for d in dims)
    return None if any(v is None for v in values) else values


def suggest_all(
    profiles: Sequence[Profile],
    purchases: Iterable[tuple[int, str]],
    settings: OfferSettings = OfferSettings(),
) -> dict[int, list[Suggestion]]:
    """Suggestions for every relationship of ``profiles`` (only those with any), from ``(relationship
    id, canonical product)`` purchases (repeats are fine; purchases of unknown ids or with no product
    name are ignored)."""
    owned: dict[int, set[str]] = {p.relationship_id: set() for p in profiles}
    for rid, product in purchases:
        s = owned.get(rid)
        if s is not None and product:
            s.add(product)
    # Per segment level: segment key -> (members, product -> buyers).
    tallies: list[dict[tuple[str | None, ...], tuple[int, Counter[str]]]] = []
    for dims in settings.segments:
        level: dict[tuple[str | None, ...], tuple[int, Counter[str]]] = {}
        for p in profiles:
            k = _key(p, dims)
            if k is None:
                continue
            n, c = level.get(k, (0, Counter()))
            c.update(owned[p.relationship_id])
            level[k] = (n + 1, c)
        tallies.append(level)
    ranked: dict[tuple[int, tuple[str | None, ...]], list[tuple[str, int]]] = {}
    out: dict[int, list[Suggestion]] = {}
    for p in profiles:
        mine = owned[p.relationship_id]
        for li, dims in enumerate(settings.segments):
            k = _key(p, dims)
            if k is None:
                continue
            members, counts = tallies[li][k]
            peers = members - 1
            if peers < settings.min_peers and dims:
                continue
            if peers <= 0:
                break
            lst = ranked.get((li, k))
            if lst is None:
                lst = sorted(counts.items(), key=lambda pc: (-pc[1], pc[0]))
                ranked[(li, k)] = lst
            label = ", ".join(f"{d}={v}" for d, v in zip(dims, k, strict=True)) or "everyone"
            found: list[Suggestion] = []
            for product, buyers in lst:
                support = buyers / peers  # the relationship itself did not buy it, so all are peers
                if support < settings.min_support or len(found) >= settings.top:
                    break
                if product not in mine:
                    found.append(Suggestion(product, support, buyers, peers, label))
            if found:
                out[p.relationship_id] = found
            break
    return out
