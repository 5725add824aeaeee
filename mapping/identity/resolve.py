"""Finding duplicates: a full blocked pass over a list, and incremental matching against an index.

``find_org_duplicates`` / ``find_person_duplicates`` compare every blocked pair of a list once.
``build_org_index`` / ``build_person_index`` prepare the store's rows once (features and blocks);
``match_new`` then matches a handful of new records against it in milliseconds, which is what a sync
step needs when a contact is created in Outlook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from mapping.identity.blocking import MAX_BLOCK, build_blocks, candidate_pairs, lookup
from mapping.identity.model import (
    DEFAULT_THRESHOLDS,
    Kind,
    MatchPair,
    MatchScore,
    OrgCandidate,
    PersonCandidate,
    Thresholds,
)
from mapping.identity.orgs import OrgFeatures, compare_org_features, org_block_keys, org_features
from mapping.identity.people import PersonFeatures, compare_person_features, person_block_keys, person_features

C = TypeVar("C", OrgCandidate, PersonCandidate)
F = TypeVar("F", OrgFeatures, PersonFeatures)


@dataclass(frozen=True, slots=True)
class _Strategy(Generic[C, F]):
    kind: Kind
    features: Callable[[C], F]
    keys: Callable[[F], set[str]]
    compare: Callable[[F, F, Thresholds], MatchScore]


_ORGS: _Strategy[OrgCandidate, OrgFeatures] = _Strategy(
    "organization", org_features, org_block_keys, compare_org_features
)
_PEOPLE: _Strategy[PersonCandidate, PersonFeatures] = _Strategy(
    "person", person_features, person_block_keys, compare_person_features
)


def _pair(a: str, b: str, score: MatchScore) -> MatchPair:
    return MatchPair(a, b, score) if a <= b else MatchPair(b, a, score)


def _full_pass(
    strategy: _Strategy[C, F], items: Sequence[C], thresholds: Thresholds, max_block: int, keep_apart: bool
) -> list[MatchPair]:
    feats = [strategy.features(c) for c in items]
    blocks = build_blocks(strategy.keys(f) for f in feats)
    out: list[MatchPair] = []
    compare = strategy.compare
    for i, j in candidate_pairs(blocks, max_block):
        if items[i].id == items[j].id:
            continue
        score = compare(feats[i], feats[j], thresholds)
        if keep_apart or score.decision != "apart":
            out.append(_pair(items[i].id, items[j].id, score))
    out.sort(key=lambda p: (-p.score.score, p.a, p.b))
    return out


def find_org_duplicates(
    orgs: Sequence[OrgCandidate],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    max_block: int = MAX_BLOCK,
    keep_apart: bool = False,
) -> list[MatchPair]:
    """Every blocked pair of ``orgs`` scored ``review`` or ``merge`` (``keep_apart``: every scored pair),
    best first. Pair ids are ordered ``a < b``."""
    return _full_pass(_ORGS, orgs, thresholds, max_block, keep_apart)


def find_person_duplicates(
    people: Sequence[PersonCandidate],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    max_block: int = MAX_BLOCK,
    keep_apart: bool = False,
) -> list[MatchPair]:
    """Every blocked pair of ``people`` scored ``review`` or ``merge``, best first (see the org variant)."""
    return _full_pass(_PEOPLE, people, thresholds, max_block, keep_apart)


class MatchIndex(Generic[C, F]):
    """The store's rows of one kind, prepared once for :func:`match_new` (features and blocks)."""

    def __init__(self, strategy: _Strategy[C, F], items: Iterable[C], max_block: int = MAX_BLOCK) -> None:
        self._strategy: _Strategy[C, F] = strategy
        self.max_block = max_block
        self.ids: list[str] = []
        self._features: list[F] = []
        for c in items:
            self.ids.append(c.id)
            self._features.append(strategy.features(c))
        self._blocks = build_blocks(strategy.keys(f) for f in self._features)

    @property
    def kind(self) -> Kind:
        return self._strategy.kind

    def __len__(self) -> int:
        return len(self.ids)

    def match(self, item: C, thresholds: Thresholds = DEFAULT_THRESHOLDS, keep_apart: bool = False) -> list[MatchPair]:
        """Pairs ``(item.id, row id)`` scored ``review`` or ``merge`` against the indexed rows, best first."""
        f = self._strategy.features(item)
        out: list[MatchPair] = []
        for i in lookup(self._blocks, self._strategy.keys(f), self.max_block):
            if self.ids[i] == item.id:
                continue
            score = self._strategy.compare(f, self._features[i], thresholds)
            if keep_apart or score.decision != "apart":
                out.append(MatchPair(item.id, self.ids[i], score))
        out.sort(key=lambda p: (-p.score.score, p.b))
        return out


def build_org_index(
    orgs: Iterable[OrgCandidate], *, max_block: int = MAX_BLOCK
) -> MatchIndex[OrgCandidate, OrgFeatures]:
    """An index over the store's organisations for :func:`match_new`."""
    return MatchIndex(_ORGS, orgs, max_block)


def build_person_index(
    people: Iterable[PersonCandidate], *, max_block: int = MAX_BLOCK
) -> MatchIndex[PersonCandidate, PersonFeatures]:
    """An index over the store's people for :func:`match_new`."""
    return MatchIndex(_PEOPLE, people, max_block)


def match_new(
    new_items: Sequence[C],
    index: MatchIndex[C, F],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    within_batch: bool = True,
) -> list[MatchPair]:
    """Match new records against the index (and, with ``within_batch``, against each other).

    Returns pairs ``(new id, existing or other new id)`` scored ``review`` or ``merge``, grouped by new
    item in input order, best first within each. The index is not changed: add the rows to the store
    and rebuild (or keep a second small index) as the caller sees fit.
    """
    out: list[MatchPair] = []
    for item in new_items:
        out.extend(index.match(item, thresholds))
    if within_batch and len(new_items) > 1:
        strategy = index._strategy
        for pair in _full_pass(strategy, new_items, thresholds, index.max_block, keep_apart=False):
            out.append(pair)
    return out
