"""The plain records identity resolution takes in and gives back.

Candidates are what the store (or a CSV, or a benchmark) knows about one organisation or one person,
flattened into frozen records of plain strings. Results are explainable: a :class:`MatchScore` carries
every piece of :class:`Evidence` that moved the score, with its weight, so a reviewer (or an audit
entry) can read *why* two records were merged or queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Decision = Literal["merge", "review", "apart"]
Kind = Literal["person", "organization"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Score cut-offs, from the config: ``score >= merge`` merges, ``score >= review`` queues for review.

    Scores are calibrated log-odds squashed into 0..1 (see :mod:`mapping.identity.scoring`), so 0.5 means
    "the evidence for and against balances".
    """

    merge: float = 0.9
    review: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.merge <= 1.0:
            raise ValueError(f"thresholds need 0 <= review <= merge <= 1, got review={self.review} merge={self.merge}")

    def decide(self, score: float) -> Decision:
        """The decision for one score."""
        if score >= self.merge:
            return "merge"
        if score >= self.review:
            return "review"
        return "apart"


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class OrgCandidate:
    """One organisation as the store knows it.

    ``domains`` are e-mail or web domains in any spelling (``www.acme.co.uk``, ``https://acme.com/x``,
    ``jane@acme.com``); free-mail domains are ignored. ``aliases`` are other names staff use for it.
    ``phones`` and ``addresses`` are free text (an address is one line: street, city, postcode).
    """

    id: str
    name: str
    domains: tuple[str, ...] = ()
    website: str | None = None
    aliases: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    city: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class PersonCandidate:
    """One person as the store knows it.

    ``display_name`` is used for ``given``/``surname`` when those are missing ("Smith, John" works).
    ``org_id`` links to an :class:`OrgCandidate` when the store has resolved the organisation,
    ``org_name`` is the company name as typed. ``birth_date`` is ISO (``1971-03-05``) or ``19710305``;
    ``addresses`` are free-text postal lines and ``postcode``/``city`` their parts when known.
    """

    id: str
    display_name: str = ""
    given: str | None = None
    surname: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    org_id: str | None = None
    org_name: str | None = None
    birth_date: str | None = None
    addresses: tuple[str, ...] = ()
    postcode: str | None = None
    city: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason for or against a match: ``weight`` is its log-odds contribution (negative = against)."""

    kind: str
    detail: str
    weight: float


@dataclass(frozen=True, slots=True)
class MatchScore:
    """The verdict on one pair: a score in 0..1, the evidence behind it, and the decision."""

    score: float
    evidence: tuple[Evidence, ...]
    decision: Decision

    def explain(self) -> str:
        """One line per piece of evidence, strongest first, for review screens and audit entries."""
        lines = [f"{self.decision} ({self.score:.3f})"]
        for e in sorted(self.evidence, key=lambda e: -abs(e.weight)):
            lines.append(f"  {e.weight:+.1f} {e.kind}: {e.detail}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class MatchPair:
    """Two candidates (by id, ``a < b`` for a full pass; ``a`` is the new item for :func:`match_new`)."""

    a: str
    b: str
    score: MatchScore

    @property
    def decision(self) -> Decision:
        return self.score.decision
