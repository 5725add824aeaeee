"""Turning evidence into a score: log-odds weights summed onto a prior, squashed into 0..1.

Each comparison adds an :class:`~mapping.identity.model.Evidence` with a weight in log-odds (roughly
"how many times likelier is this observation for one entity than for two"): positive for, negative
against. The score is the logistic of prior + sum, so it is symmetric whenever the comparisons are,
always in 0..1, and every step of it can be read back.
"""

from __future__ import annotations

import math

from mapping.identity.model import Evidence, MatchScore, Thresholds


def combine(prior: float, evidence: list[Evidence], thresholds: Thresholds) -> MatchScore:
    """The score for ``prior`` plus the weights of ``evidence``, with the thresholds' decision."""
    total = prior + math.fsum(e.weight for e in evidence)
    # Clamp: exp overflows beyond ~700 and certainty needs no more than this.
    total = max(-50.0, min(50.0, total))
    score = 1.0 / (1.0 + math.exp(-total))
    return MatchScore(score=score, evidence=tuple(evidence), decision=thresholds.decide(score))
