"""Calibrating the evidence weights on a store's own data: Fellegi-Sunter with an unsupervised EM step.

The expert weights in :mod:`mapping.identity.people` and :mod:`mapping.identity.orgs` are sensible for
a CRM, but every data set has its own error rates: where surnames are often replaced wholesale (a
married name, a data-entry slip), "different surname" is weaker evidence than the default says; where
every record has a birth date, a shared one is stronger. :func:`fit_calibration` learns, from the
*unlabelled* candidate pairs a pass scored, how often each comparison outcome ("level") occurs among
matches (``m``) and non-matches (``u``), by expectation-maximisation started from the expert scores,
and turns them into weights ``log(m / u)`` and a prior ``log(p / (1 - p))``.

Protections survive calibration: a fitted weight keeps the sign of the expert weight (an outcome the
expert model counts *against* a match, such as two different companies or two different birth dates,
can become weaker but never evidence *for* one), and weights are bounded. Evidence kinds are compared
per pair as a whole (an organisation name comparison that yields "2 words in common" and "distinctive
word on one side only" is one level), so levels are the expert model's own outcomes.

A calibrated merge also needs, by the expert weights, a shared personal identifier (e-mail, phone,
birth date, domain) or names that do not contradict each other and non-location evidence leaning
towards a match: otherwise the pair goes to review. So a family at one address or two firms in one
building are never merged on the location alone, whatever weight the fit gives to a shared address.
The one exception is data that shows it holds no households (:mod:`mapping.identity.households`, set
as ``households=False``): there names that contradict each other no longer block a calibrated merge
(two different employers still do), since a replaced given name at one address is a copy, not a
relative. On FEBRL 4 (fitted over every pair) this recovers 83 of the 5,000 links (F1 0.9905 -> 0.9989)
with no false merge.

The fit is best made over every pair (``background``: a random sample of the pairs blocking left out,
see :func:`_fit`), not over the candidate pairs alone: blocking chose those because they share a name,
a birth date or an address, so among them a shared surname looks common and weighs little. On FEBRL 4
the candidates alone give F1 0.9976, every pair 0.9989 (the same comparisons and blocking).

A :class:`Calibration` is plain data (``to_dict`` / ``from_dict``), so an admin can fit it once on the
store, review it, and keep it in the config. :meth:`Calibration.rescore` re-weights a score the expert
model produced; it is never applied to an already re-weighted score.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mapping.identity.model import DEFAULT_THRESHOLDS, Evidence, MatchScore, Thresholds
from mapping.identity.scoring import combine

Level = tuple[float, ...]  # the expert weights of one kind's evidence in one pair, sorted; () = absent

#: Evidence about where a record is, not who it is: a household or an office building shares it. A
#: calibrated merge needs the other evidence to lean towards a match as well (else: review at most).
LOCATION_KINDS = frozenset({"address", "postcode", "city"})
#: Evidence that identifies one person or organisation nearly alone, and names that can contradict it.
IDENTIFIER_KINDS = frozenset({"email", "phone", "birth_date", "domain"})
#: Of those, the ones a family or a building shares (a landline, a switchboard): they allow a calibrated
#: merge only when the names do not say two (where households may exist).
SHARED_LINES = frozenset({"phone"})
#: Name evidence this low (expert weights) says two: different given names, organisation names with no
#: word in common or a distinctive word on each side only. (A word added on one side is not this.)
NAMES_DIFFER = -3.5
NAME_KINDS = frozenset({"given_name", "name"})
CONTRADICTING_KINDS = frozenset({"organisation"})
#: A level seen in fewer candidate pairs keeps its expert weight: too little data to re-weigh it.
MIN_SUPPORT = 20
NOT_COMPARED = "not compared (missing on one side)"

MAX_WEIGHT = 20.0
MAX_ABSENT = 2.0  # a missing comparison says little either way
MAX_PRIOR = 12.0
MAX_PRIOR_ALL_PAIRS = 30.0  # over every pair of a large store the share of matches is tiny (1e-7: -16)
TOLERANCE = 1e-5  # EM stops when no pattern's match probability moves more than this
SMOOTHING = 0.5  # pseudo-count per level and class, so a level seen a few times gets no extreme weight


def _levels(score: MatchScore) -> dict[str, Level]:
    by_kind: dict[str, list[float]] = {}
    for e in score.evidence:
        by_kind.setdefault(e.kind, []).append(e.weight)
    return {k: tuple(sorted(v)) if len(v) > 1 else (v[0],) for k, v in by_kind.items()}


def _identity_leans_to_match(evidence: Iterable[Evidence], households: bool = True) -> bool:
    """Whether a calibrated merge is allowed, judged on the *expert* weights (so the rule does not move
    with the data it guards): the same e-mail address, birth date or web domain; the same phone unless
    the names say two people or firms (a family's landline, restaurants on a hotel's switchboard); else
    non-location evidence that sums to more than nothing with no contradicting given name or
    organisation name, and no evidence of two different employers. A family at one address (same
    surname, different given names), two firms in one building, or a record without a usable name is
    never merged on the location.

    ``households=False`` (the store showed, on enough data, that one address is one person: see
    :mod:`mapping.identity.households`): names that contradict no longer block, since there is no
    family for them to protect; two different employers still do."""
    items = list(evidence)
    names = sum(e.weight for e in items if e.kind in NAME_KINDS)
    shared = {e.kind for e in items if e.kind in IDENTIFIER_KINDS and e.weight > 0}
    if shared - SHARED_LINES:
        return True
    if shared and not (households and names <= NAMES_DIFFER):
        return True  # a phone, but not a family's landline or restaurants sharing a hotel's switchboard
    if any(e.kind in CONTRADICTING_KINDS and e.weight < 0 for e in items):
        return False  # two John Smiths at two companies
    if not households:
        return True
    if names < 0:
        return False
    return sum(e.weight for e in items if e.kind not in LOCATION_KINDS) > 0


def _bounded(expert: float, fitted: float) -> float:
    if not expert:
        bound = MAX_ABSENT
        return max(-bound, min(bound, fitted))
    if expert > 0:
        return max(0.0, min(MAX_WEIGHT, fitted))
    return min(0.0, max(-MAX_WEIGHT, fitted))


@dataclass(frozen=True, slots=True)
class Calibration:
    """Fitted weights: ``weights[(kind, level)]`` replaces the expert weight of that outcome."""

    prior: float
    weights: Mapping[tuple[str, Level], float]
    pairs: int = 0  # how many candidate pairs it was fitted on
    match_share: float = 0.0  # the fitted share of matches among them
    #: The location guard (see the module text). Off only for data where one address is one person,
    #: e.g. a registry without households; never off by default.
    guard: bool = True
    #: Whether the data the fit saw may hold households (:mod:`mapping.identity.households`): True
    #: unless a check on the store showed one address is one person; then the guard lets names differ.
    households: bool = True
    _absent: tuple[tuple[str, float], ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        absent = tuple((k, w) for (k, lv), w in sorted(self.weights.items()) if not lv and abs(w) >= 0.05)
        object.__setattr__(self, "_absent", absent)

    def rescore(self, score: MatchScore, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> MatchScore:
        """``score`` (from the expert model) with its evidence re-weighted and the decision re-taken."""
        groups: dict[str, list[Evidence]] = {}
        for e in score.evidence:
            groups.setdefault(e.kind, []).append(e)
        evidence: list[Evidence] = []
        for kind, items in groups.items():
            if len(items) == 1:
                weight = self.weights.get((kind, (items[0].weight,)))
            else:
                weight = self.weights.get((kind, tuple(sorted(e.weight for e in items))))
            if weight is None:  # an outcome the fit never saw: keep the expert weights
                evidence.extend(items)
            elif len(items) == 1:
                evidence.append(Evidence(kind, items[0].detail, weight))
            else:
                evidence.append(Evidence(kind, "; ".join(e.detail for e in items), weight))
        for kind, weight in self._absent:
            if kind not in groups:
                evidence.append(Evidence(kind, NOT_COMPARED, weight))
        expert = score
        score = combine(self.prior, evidence, thresholds)
        if self.guard and score.decision == "merge" and not _identity_leans_to_match(expert.evidence, self.households):
            guard = Evidence(
                "guard",
                "no shared identifier and the names do not agree: the location alone is not enough to merge",
                0.0,
            )
            return MatchScore(score.score, (*score.evidence, guard), "review")
        return score

    def log_odds(self, pattern: Pattern) -> float:
        """The calibrated prior plus weights of one outcome pattern (as :meth:`rescore` would sum them)."""
        present = {k for k, _ in pattern}
        total = self.prior
        for kind, level in pattern:
            weight = self.weights.get((kind, level))
            total += sum(level) if weight is None else weight
        total += math.fsum(w for k, w in self._absent if k not in present)
        return total

    def describe(self) -> str:
        """One line per level, for an admin to review."""
        lines = [f"prior {self.prior:+.2f} (match share {self.match_share:.4f} of {self.pairs} pairs)"]
        for (kind, level), w in sorted(self.weights.items()):
            lines.append(f"  {kind:<12} expert {sum(level):+6.2f} {list(level)!s:<18} fitted {w:+6.2f}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "pairs": self.pairs,
            "match_share": self.match_share,
            "guard": self.guard,
            "households": self.households,
            "weights": [{"kind": k, "level": list(lv), "weight": w} for (k, lv), w in sorted(self.weights.items())],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        weights = {
            (str(x["kind"]), tuple(float(v) for v in x["level"])): float(x["weight"]) for x in data.get("weights", ())
        }
        return cls(
            prior=float(data["prior"]),
            weights=weights,
            pairs=int(data.get("pairs", 0)),
            match_share=float(data.get("match_share", 0.0)),
            guard=bool(data.get("guard", True)),
            households=bool(data.get("households", True)),
        )


Pattern = tuple[tuple[str, Level], ...]


@dataclass(frozen=True, slots=True)
class Background:
    """The pairs blocking left out, for a fit over every pair (see :func:`_fit`): the expert scores of a
    random sample of them, and how many pairs there are in all outside the candidates."""

    scores: Sequence[MatchScore]
    pairs: int


def _pattern(score: MatchScore) -> Pattern:
    kinds = [e.kind for e in score.evidence]
    if len(set(kinds)) == len(kinds):  # the common case: one piece of evidence per kind
        return tuple(sorted((e.kind, (e.weight,)) for e in score.evidence))
    return tuple(sorted(_levels(score).items()))


def fit_calibration(
    scores: Iterable[MatchScore], iterations: int = 60, *, background: Background | None = None
) -> Calibration:
    """Fit m/u probabilities per evidence level on unlabelled candidate pairs (every scored pair of a
    pass, ``keep_apart``), by EM started from the expert model's own match probabilities.
    ``background``: a sample of the pairs blocking left out (:func:`background_sample`), for a fit over
    every pair rather than the candidates alone (strongly advised: see :func:`_fit`)."""
    scores = list(scores)
    return _fit([_pattern(s) for s in scores], scores, iterations, background)


def calibrate_scores(
    scores: Sequence[MatchScore],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    keep_apart: bool = False,
    *,
    guard: bool = True,
    households: bool = True,
    background: Background | None = None,
) -> tuple[Calibration, list[MatchScore | None]]:
    """Fit a calibration on ``scores`` (every candidate pair of a pass) and re-weight them; a pair the
    calibrated model leaves apart comes back as ``None`` unless ``keep_apart``. ``households=False``
    when a :func:`~mapping.identity.households.household_check` of the store found none. Cheaper than
    :func:`fit_calibration` then :meth:`Calibration.rescore` on each: pairs are grouped by outcome."""
    patterns = [_pattern(s) for s in scores]
    cal = _fit(patterns, scores, background=background)
    if not guard or not households:
        cal = replace(cal, guard=guard, households=households)
    cutoff = math.log(thresholds.review / (1 - thresholds.review)) if 0 < thresholds.review < 1 else None
    totals: dict[Pattern, float] = {}
    out: list[MatchScore | None] = []
    for score, pattern in zip(scores, patterns, strict=True):
        if not keep_apart and cutoff is not None:
            total = totals.get(pattern)
            if total is None:
                total = totals[pattern] = cal.log_odds(pattern)
            if total < cutoff - 1e-6:
                out.append(None)
                continue
        out.append(cal.rescore(score, thresholds))
    return cal, out


def _fit(
    patterns: Sequence[Pattern],
    scores: Sequence[MatchScore],
    iterations: int = 60,
    background: Background | None = None,
) -> Calibration:
    """EM over outcome patterns (naive Bayes: levels independent given match or not).

    Without ``background`` the fit sees the candidate pairs only, and its ``u`` (how often a level occurs
    among non-matches) is that of the candidates: pairs that blocking chose because they share a name or
    a birth date, so "same surname" looks common among non-matches and weighs little. With it, the fit is
    over every pair, as Fellegi-Sunter means it (and as splink estimates ``u`` by random sampling): the
    pairs blocking left out are non-matches, represented by a random sample, each sampled pair standing
    for ``background.pairs / len(background.scores)`` of them; ``m`` comes from the candidates (blocking
    keeps nearly every match); the prior is the share of matches among all pairs."""
    counts: Counter[Pattern] = Counter()
    start: dict[Pattern, float] = {}
    kinds: set[str] = set()
    for key, s in zip(patterns, scores, strict=True):
        counts[key] += 1
        start[key] = start.get(key, 0.0) + s.score
        kinds.update(k for k, _ in key)
    extra: Counter[Pattern] = Counter()
    scale = 0.0
    if background is not None and background.scores and background.pairs > 0:
        scale = background.pairs / len(background.scores)
        for s in background.scores:
            key = _pattern(s)
            extra[key] += 1
            kinds.update(k for k, _ in key)
    n = sum(counts.values())
    if n == 0:
        return Calibration(prior=0.0, weights={})
    total = n + scale * sum(extra.values())
    kind_list = sorted(kinds)

    def full(key: Pattern) -> tuple[tuple[str, Level], ...]:
        present = dict(key)
        return tuple((k, present.get(k, ())) for k in kind_list)

    rows = [(full(key), count, start[key] / count) for key, count in counts.items()]
    fixed = [(full(key), count * scale) for key, count in extra.items()]  # non-matches, by definition
    resp = [r[2] for r in rows]
    all_levels: dict[str, set[Level]] = defaultdict(set)
    for levels, _ in [(r[0], 0) for r in rows] + fixed:
        for k, lv in levels:
            all_levels[k].add(lv)
    fixed_u: dict[tuple[str, Level], float] = defaultdict(float)
    for levels, weight in fixed:
        for kl in levels:
            fixed_u[kl] += weight
    p = 0.5
    m: dict[tuple[str, Level], float] = {}
    u: dict[tuple[str, Level], float] = {}
    for _ in range(iterations):
        # M step.
        matches = sum(r * c for r, (_, c, _) in zip(resp, rows, strict=True))
        p = min(1 - 1e-12, max(1e-12, matches / total))
        mc: dict[tuple[str, Level], float] = defaultdict(float)
        uc: dict[tuple[str, Level], float] = defaultdict(float, fixed_u)
        for r, (levels, c, _) in zip(resp, rows, strict=True):
            for kl in levels:
                mc[kl] += r * c
                uc[kl] += (1 - r) * c
        for k, lvs in all_levels.items():
            km = sum(mc[(k, lv)] for lv in lvs) + SMOOTHING * len(lvs)
            ku = sum(uc[(k, lv)] for lv in lvs) + SMOOTHING * len(lvs)
            for lv in lvs:
                m[(k, lv)] = (mc[(k, lv)] + SMOOTHING) / km
                u[(k, lv)] = (uc[(k, lv)] + SMOOTHING) / ku
        # E step.
        logit_p = math.log(p / (1 - p))
        ratio = {kl: math.log(m[kl] / u[kl]) for kl in m}
        new = []
        for levels, _, _ in rows:
            t = logit_p + sum([ratio[kl] for kl in levels])
            new.append(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, t)))))
        delta = max((abs(a - b) for a, b in zip(new, resp, strict=True)), default=0.0)
        resp = new
        if delta < TOLERANCE:
            break
    support: Counter[tuple[str, Level]] = Counter()
    for levels, c, _ in rows:
        for kl in levels:
            support[kl] += c
    for key, c in extra.items():
        for kl in full(key):
            support[kl] += c
    weights = {kl: _bounded(sum(kl[1]), math.log(m[kl] / u[kl])) for kl in m if support[kl] >= MIN_SUPPORT}
    bound = MAX_PRIOR if not scale else MAX_PRIOR_ALL_PAIRS
    prior = max(-bound, min(bound, math.log(p / (1 - p))))
    return Calibration(prior=prior, weights=weights, pairs=n, match_share=p)
