"""Finding duplicates: a full blocked pass over a list, and incremental matching against an index.

``find_org_duplicates`` / ``find_person_duplicates`` compare every blocked pair of a list once.
``build_org_index`` / ``build_person_index`` prepare the store's rows once (features and blocks);
``match_new`` then matches a handful of new records against it in milliseconds, which is what a sync
step needs when a contact is created in Outlook.
"""

from __future__ import annotations

import bisect
import multiprocessing as mp
import os
import random
import threading
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mapping.heap import without_cyclic_gc
from mapping.identity.blocking import (
    MAX_BLOCK,
    WINDOW,
    build_blocks,
    candidate_pairs,
    lookup,
    neighbourhood_pairs,
)
from mapping.identity.calibrate import Background, Calibration, calibrate_scores
from mapping.identity.households import HouseholdCheck, household_check
from mapping.identity.model import (
    DEFAULT_THRESHOLDS,
    Kind,
    MatchPair,
    MatchScore,
    OrgCandidate,
    PersonCandidate,
    Thresholds,
)
from mapping.identity.orgs import OrgFeatures, compare_org_features, org_block_keys, org_features, org_sort_key
from mapping.identity.people import (
    PersonFeatures,
    compare_person_features,
    person_block_keys,
    person_features,
    person_sort_key,
)

C = TypeVar("C", OrgCandidate, PersonCandidate)
F = TypeVar("F", OrgFeatures, PersonFeatures)


@dataclass(frozen=True, slots=True)
class _Strategy(Generic[C, F]):
    kind: Kind
    features: Callable[[C], F]
    keys: Callable[[F], set[str]]
    compare: Callable[[F, F, Thresholds], MatchScore]
    sort_key: Callable[[F], str]
    window: int


_ORGS: _Strategy[OrgCandidate, OrgFeatures] = _Strategy(
    "organization", org_features, org_block_keys, compare_org_features, org_sort_key, WINDOW
)
_PEOPLE: _Strategy[PersonCandidate, PersonFeatures] = _Strategy(
    "person", person_features, person_block_keys, compare_person_features, person_sort_key, 1
)


def _pair(a: str, b: str, score: MatchScore) -> MatchPair:
    return MatchPair(a, b, score) if a <= b else MatchPair(b, a, score)


#: Forked workers are started only while this process and what they may come to own stay under this
#: many bytes. A worker shares its parent's memory until it writes to it, and reference counting writes
#: to every object it reads: benchmarks/contact_import.py (100,000 rows against 100,000 people) measured
#: the import at 891 MB and, with two workers, the three at 1,701 MB (their summed PSS), so each worker
#: came to own about half of what it inherited (:data:`WORKER_OWNED_SHARE`).
WORKER_MEMORY_BUDGET = 1 << 30
WORKER_OWNED_SHARE = 0.5


def resident_bytes() -> int:
    """This process's resident memory now (Linux ``/proc/self/statm``; elsewhere its peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def default_workers() -> int:
    """Worker processes for a pass when the caller does not say: two on a machine with two or more
    cores, but one when the process runs other threads (forking a threaded process is unsafe) or when the
    workers would take the process over :data:`WORKER_MEMORY_BUDGET` (a big import: speed is not worth
    the memory of a second and third copy of its heap)."""
    if threading.active_count() > 1:
        return 1
    workers = min(2, os.cpu_count() or 1)
    if workers > 1 and resident_bytes() * (1 + WORKER_OWNED_SHARE * workers) > WORKER_MEMORY_BUDGET:
        return 1
    return workers


#: A full pass over this many items, or a batch of this many matched against an index (see
#: :func:`match_new`), runs in forked worker processes: below it their start costs more than they save.
PARALLEL_MIN_ITEMS = 20_000
MATCH_PARALLEL_MIN_ITEMS = 5_000

#: State a forked worker inherits (set just before the pool starts, cleared after).
_WORK: tuple[Any, ...] = ()


def _score_slice(bounds: tuple[int, int]) -> list[tuple[int, int, MatchScore]]:
    strategy, ids, feats, pairs, thresholds, keep_apart = _WORK
    out = []
    for i, j in pairs[bounds[0] : bounds[1]]:
        if ids[i] == ids[j]:
            continue
        score = strategy.compare(feats[i], feats[j], thresholds)
        if keep_apart or score.decision != "apart":
            out.append((i, j, score))
    return out


def _features_slice(bounds: tuple[int, int]) -> list[Any]:
    strategy, items = _WORK
    return [strategy.features(c) for c in items[bounds[0] : bounds[1]]]


@without_cyclic_gc
def _full_pass(
    strategy: _Strategy[C, F],
    items: Sequence[C],
    thresholds: Thresholds,
    max_block: int,
    keep_apart: bool,
    workers: int | None = None,
    calibration: Calibration | bool = False,
    features: Sequence[F] | None = None,
) -> list[MatchPair]:
    global _WORK
    workers = default_workers() if workers is None else workers
    ids = [c.id for c in items]
    parallel = workers > 1 and len(items) >= PARALLEL_MIN_ITEMS and "fork" in mp.get_all_start_methods()
    if features is not None:
        feats = list(features)
    elif parallel:
        _WORK = (strategy, items)
        step = -(-len(items) // (workers * 4))
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                chunks = pool.map(_features_slice, [(k, k + step) for k in range(0, len(items), step)])
        finally:
            _WORK = ()
        feats = [f for chunk in chunks for f in chunk]
    else:
        feats = [strategy.features(c) for c in items]
    blocks = build_blocks(strategy.keys(f) for f in feats)
    near = neighbourhood_pairs([strategy.sort_key(f) for f in feats], strategy.window)
    pairs = candidate_pairs(blocks, max_block, near)
    _WORK = (strategy, ids, feats, pairs, thresholds, keep_apart or calibration is not False)
    try:
        if workers > 1 and len(pairs) >= PARALLEL_MIN_ITEMS and "fork" in mp.get_all_start_methods():
            step = -(-len(pairs) // (workers * 4))
            with mp.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_score_slice, [(k, k + step) for k in range(0, len(pairs), step)])
            scored = [x for part in parts for x in part]
        else:
            scored = _score_slice((0, len(pairs)))
    finally:
        _WORK = ()
    if calibration is not False:
        background = None
        if calibration is True:
            n = len(feats)
            outside = n * (n - 1) // 2 - len(pairs)
            background = background_sample(strategy.compare, feats, feats, set(pairs), outside, thresholds, True)
        scored = _recalibrated(scored, calibration, thresholds, keep_apart, background)
    out = [_pair(ids[i], ids[j], score) for i, j, score in scored]
    out.sort(key=lambda p: (-p.score.score, p.a, p.b))
    return out


T = TypeVar("T")


#: Pairs blocking left out that a fit over every pair compares (a random sample of them): enough for the
#: share of each comparison outcome among non-matches, at a fixed cost whatever the size of the data.
BACKGROUND_SAMPLE = 20_000


def background_sample(
    compare: Callable[[Any, Any, Thresholds], MatchScore],
    left: Sequence[Any],
    right: Sequence[Any],
    candidates: Container[tuple[int, int]],
    outside: int,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    same_list: bool = False,
    size: int = BACKGROUND_SAMPLE,
) -> Background:
    """The expert scores of up to ``size`` random pairs ``(left[i], right[j])`` that are not
    ``candidates`` (``(i, j)`` positions, ``i < j`` when ``same_list``: a full pass over one list), for a
    calibration fitted over every pair (:class:`~mapping.identity.calibrate.Background`); ``outside`` is
    how many pairs there are outside the candidates. The same inputs give the same sample (fixed seed)."""
    rng = random.Random(len(left) * 1_000_003 + len(right))
    want = min(size, max(0, outside))
    scores: list[MatchScore] = []
    for _ in range(want * 4):
        if len(scores) >= want or not left or not right:
            break
        i, j = rng.randrange(len(left)), rng.randrange(len(right))
        if same_list:
            if i == j:
                continue
            i, j = min(i, j), max(i, j)
        if (i, j) not in candidates:
            scores.append(compare(left[i], right[j], thresholds))
    return Background(scores, max(0, outside))


def full_pass_background(
    items: Sequence[OrgCandidate] | Sequence[PersonCandidate],
    pairs: Iterable[MatchPair],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Background:
    """For a calibration fitted on the pairs of a full pass over ``items`` (``keep_apart=True``): a sample
    of the pairs the pass left out, so the fit is over every pair (``fit_calibration(scores,
    background=...)``; what ``calibration=True`` does inside the pass)."""
    ids: list[str] = [c.id for c in items]
    position = {x: n for n, x in enumerate(ids)}
    seen = {(min(position[p.a], position[p.b]), max(position[p.a], position[p.b])) for p in pairs}
    n = len(items)
    if n and isinstance(items[0], OrgCandidate):
        orgs = [org_features(c) for c in items if isinstance(c, OrgCandidate)]
        return background_sample(compare_org_features, orgs, orgs, seen, n * (n - 1) // 2 - len(seen), thresholds, True)
    people = [person_features(c) for c in items if isinstance(c, PersonCandidate)]
    return background_sample(
        compare_person_features, people, people, seen, n * (n - 1) // 2 - len(seen), thresholds, True
    )


def _recalibrated(
    scored: list[tuple[T, T, MatchScore]],
    calibration: Calibration | bool,
    thresholds: Thresholds,
    keep_apart: bool,
    background: Background | None = None,
) -> list[tuple[T, T, MatchScore]]:
    """Every pair's expert score re-weighted by ``calibration`` (``True``: fitted on these pairs by EM,
    over every pair when ``background`` samples the others)."""
    if calibration is True:
        _, new_scores = calibrate_scores([s for _, _, s in scored], thresholds, keep_apart, background=background)
    elif isinstance(calibration, Calibration):
        new_scores = [calibration.rescore(s, thresholds) for _, _, s in scored]
    else:
        return scored
    return [
        (i, j, new)
        for (i, j, _), new in zip(scored, new_scores, strict=True)
        if new is not None and (keep_apart or new.decision != "apart")
    ]


def find_org_duplicates(
    orgs: Sequence[OrgCandidate],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    max_block: int = MAX_BLOCK,
    keep_apart: bool = False,
    workers: int | None = None,
    calibration: Calibration | bool = False,
) -> list[MatchPair]:
    """Every blocked pair of ``orgs`` scored ``review`` or ``merge`` (``keep_apart``: every scored pair),
    best first. Pair ids are ordered ``a < b``. ``workers`` > 1 scores in forked processes (POSIX,
    large inputs only); ``None`` picks :func:`default_workers`.

    ``calibration``: ``False`` uses the expert weights; a :class:`Calibration` (fitted earlier, e.g. kept
    in the config) re-weights every score; ``True`` fits one by EM on this pass's candidate pairs first
    (see :mod:`mapping.identity.calibrate`)."""
    return _full_pass(_ORGS, orgs, thresholds, max_block, keep_apart, workers, calibration)


def find_person_duplicates(
    people: Sequence[PersonCandidate],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    max_block: int = MAX_BLOCK,
    keep_apart: bool = False,
    workers: int | None = None,
    calibration: Calibration | bool = False,
) -> list[MatchPair]:
    """Every blocked pair of ``people`` scored ``review`` or ``merge``, best first (see the org variant)."""
    return _full_pass(_PEOPLE, people, thresholds, max_block, keep_apart, workers, calibration)


class MatchIndex(Generic[C, F]):
    """The store's rows of one kind, prepared once for :func:`match_new` (features and blocks)."""

    @without_cyclic_gc
    def __init__(
        self,
        strategy: _Strategy[C, F],
        items: Iterable[C],
        max_block: int = MAX_BLOCK,
        only_keys: Container[str] | None = None,
    ) -> None:
        self._strategy: _Strategy[C, F] = strategy
        self.max_block = max_block
        self.ids: list[str] = []
        self._features: list[F] = []
        for c in items:
            self.ids.append(c.id)
            self._features.append(strategy.features(c))
        if only_keys is None:
            self._blocks = build_blocks(strategy.keys(f) for f in self._features)
        else:  # the keys the caller's records have: no other block is ever looked up
            self._blocks = build_blocks([k for k in strategy.keys(f) if k in only_keys] for f in self._features)
        self._sorted = sorted((k, i) for i, k in enumerate(strategy.sort_key(f) for f in self._features) if k)
        self._positions: dict[str, int] | None = None

    def features_of(self, item_id: str) -> F | None:
        """The prepared features of the indexed row ``item_id`` (``None`` when it is not indexed)."""
        if self._positions is None:
            self._positions = {x: n for n, x in enumerate(self.ids)}
        n = self._positions.get(item_id)
        return None if n is None else self._features[n]

    @property
    def kind(self) -> Kind:
        return self._strategy.kind

    def household_check(self) -> HouseholdCheck | None:
        """For a person index: whether the indexed people show households (see
        :mod:`mapping.identity.households`); ``None`` for organisations (firms share buildings)."""
        if self._strategy.kind != "person":
            return None
        rows: Sequence[object] = self._features
        return household_check(f for f in rows if isinstance(f, PersonFeatures))

    def __len__(self) -> int:
        return len(self.ids)

    def background(
        self, items: Sequence[C], features: Sequence[F], candidates: set[tuple[str, str]], thresholds: Thresholds
    ) -> Background:
        """A random sample of the pairs (new item, indexed row) that are not ``candidates`` (by id), for
        a calibration fitted over every pair (see :func:`background_sample`)."""
        ids = [c.id for c in items]
        positions = {(a, b) for a, b in candidates}
        left_out = _ByIds(ids, self.ids, positions)
        outside = len(items) * len(self.ids) - len(candidates)
        return background_sample(self._strategy.compare, features, self._features, left_out, outside, thresholds)

    def match(
        self,
        item: C,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        keep_apart: bool = False,
        calibration: Calibration | None = None,
        features: F | None = None,
    ) -> list[MatchPair]:
        """Pairs ``(item.id, row id)`` scored ``review`` or ``merge`` against the indexed rows, best first
        (re-weighted by ``calibration`` when given; ``features``: the item's, when the caller has them)."""
        f = self._strategy.features(item) if features is None else features
        out: list[MatchPair] = []
        found = lookup(self._blocks, self._strategy.keys(f), self.max_block)
        key = self._strategy.sort_key(f)
        if key:  # the sorted neighbourhood: the rows that sort next to the new item's name
            at = bisect.bisect_left(self._sorted, (key, -1))
            window = self._strategy.window
            found.update(i for _, i in self._sorted[max(0, at - window) : at + window])
        for i in sorted(found):
            if self.ids[i] == item.id:
                continue
            score = self._strategy.compare(f, self._features[i], thresholds)
            if calibration is not None:
                score = calibration.rescore(score, thresholds)
            if keep_apart or score.decision != "apart":
                out.append(MatchPair(item.id, self.ids[i], score))
        out.sort(key=lambda p: (-p.score.score, p.b))
        return out


class _ByIds:
    """Positions ``(i, j)`` seen as the id pair ``(left[i], right[j])``: in ``pairs``, or one record twice."""

    def __init__(self, left: Sequence[str], right: Sequence[str], pairs: set[tuple[str, str]]) -> None:
        self.left, self.right, self.pairs = left, right, pairs

    def __contains__(self, position: object) -> bool:
        if not isinstance(position, tuple):
            return False
        a, b = self.left[position[0]], self.right[position[1]]
        return a == b or (a, b) in self.pairs


def build_org_index(
    orgs: Iterable[OrgCandidate], *, max_block: int = MAX_BLOCK
) -> MatchIndex[OrgCandidate, OrgFeatures]:
    """An index over the store's organisations for :func:`match_new`."""
    return MatchIndex(_ORGS, orgs, max_block)


def build_person_index(
    people: Iterable[PersonCandidate], *, max_block: int = MAX_BLOCK, only_keys: Container[str] | None = None
) -> MatchIndex[PersonCandidate, PersonFeatures]:
    """An index over the store's people for :func:`match_new`. ``only_keys``: the blocking keys of the
    records that will be matched, when known (a large import): blocks of other keys are never looked
    up, so they are not kept (a block's size still counts every indexed person, so the result is the same)."""
    return MatchIndex(_PEOPLE, people, max_block, only_keys)


def _match_slice(bounds: tuple[int, int]) -> list[MatchPair]:
    index, items, feats, thresholds, keep_apart, cal = _WORK
    return [
        p
        for item, f in zip(items[bounds[0] : bounds[1]], feats[bounds[0] : bounds[1]], strict=True)
        for p in index.match(item, thresholds, keep_apart=keep_apart, calibration=cal, features=f)
    ]


def _match_each(
    index: MatchIndex[C, F],
    items: Sequence[C],
    feats: Sequence[F | None],
    thresholds: Thresholds,
    keep_apart: bool,
    cal: Calibration | None,
    workers: int | None,
) -> list[MatchPair]:
    """``index.match`` of every item, in item order: in forked worker processes for a large batch (an
    import of tens of thousands of rows against the store), as the full pass scores its pairs."""
    global _WORK
    workers = default_workers() if workers is None else workers
    _WORK = (index, items, feats, thresholds, keep_apart, cal)
    try:
        if workers > 1 and len(items) >= MATCH_PARALLEL_MIN_ITEMS and "fork" in mp.get_all_start_methods():
            step = -(-len(items) // (workers * 4))
            with mp.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_match_slice, [(k, k + step) for k in range(0, len(items), step)])
            return [p for part in parts for p in part]
        return _match_slice((0, len(items)))
    finally:
        _WORK = ()


@without_cyclic_gc
def match_new(
    new_items: Sequence[C],
    index: MatchIndex[C, F],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    within_batch: bool = True,
    calibration: Calibration | bool = False,
    features: Sequence[F] | None = None,
    workers: int | None = None,
) -> list[MatchPair]:
    """Match new records against the index (and, with ``within_batch``, against each other).

    Returns pairs ``(new id, existing or other new id)`` scored ``review`` or ``merge``, grouped by new
    item in input order, best first within each. The index is not changed: add the rows to the store
    and rebuild (or keep a second small index) as the caller sees fit.

    ``calibration`` as in :func:`find_person_duplicates`; ``True`` fits on the new items' candidate pairs
    against the index (worth it for a large batch, such as an import, not for a handful), and asks the
    index whether its people show households: a store where one address is one person lets the
    location guard accept names that differ (:mod:`mapping.identity.households`).

    ``features``: the new items' prepared features, in order, when the caller computed them already
    (each is then computed once, not once per use). ``workers`` > 1 matches a batch of
    :data:`MATCH_PARALLEL_MIN_ITEMS` or more in forked processes (POSIX); ``None`` picks :func:`default_workers`.
    """
    out: list[MatchPair] = []
    feats: Sequence[F | None] = features if features is not None else [None] * len(new_items)
    cal: Calibration | None = calibration if isinstance(calibration, Calibration) else None
    if calibration is True:
        strategy = index._strategy
        mine = [strategy.features(c) if f is None else f for c, f in zip(new_items, feats, strict=True)]
        every = _match_each(index, new_items, mine, thresholds, True, None, workers)
        check = index.household_check()
        households = check is None or check.households
        background = index.background(new_items, mine, {(p.a, p.b) for p in every}, thresholds)
        cal, scores = calibrate_scores(
            [p.score for p in every], thresholds, households=households, background=background
        )
        order = {item.id: n for n, item in enumerate(new_items)}
        for p, score in zip(every, scores, strict=True):
            if score is not None and score.decision != "apart":
                out.append(MatchPair(p.a, p.b, score))
        out.sort(key=lambda p: (order[p.a], -p.score.score, p.b))
    else:
        out.extend(_match_each(index, new_items, feats, thresholds, False, cal, workers))
    if within_batch and len(new_items) > 1:
        strategy = index._strategy
        batch_cal: Calibration | bool = cal if cal is not None else False
        # The batch's own pairs are scored in workers too when there are many (a large import's rows).
        for pair in _full_pass(strategy, new_items, thresholds, index.max_block, False, workers, batch_cal, features):
            out.append(pair)
    return out
