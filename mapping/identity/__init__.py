"""Identity resolution: is this organisation or person one we already know?

Pure and store-agnostic: plain candidate records in, explainable scores and decisions out.

- :func:`score_orgs`, :func:`score_people`: one pair, with its evidence.
- :func:`find_org_duplicates`, :func:`find_person_duplicates`: a full pass over a list, blocked.
- :func:`build_org_index` / :func:`build_person_index` then :func:`match_new`: incremental matching.
- :class:`Calibration` / :func:`fit_calibration`: evidence weights fitted by EM on a store's own
  candidate pairs (``calibration=True`` on the passes), over every pair when given a
  :func:`full_pass_background` (a sample of the pairs blocking left out), see
  :mod:`mapping.identity.calibrate`.
- :mod:`mapping.identity.places`: postcode, street address and town compared, typing slips included.
- :mod:`mapping.identity.households`: whether a store's people show households (the location guard
  of a calibrated merge relaxes only where one address is one person).
- :mod:`mapping.identity.calibration_file`: fitted weights kept in a JSON file (``relsync match calibrate``).
- :mod:`mapping.identity.pairs`: scoring labelled pairs from a CSV, precision/recall/F1.
"""

from mapping.identity.calibrate import Background, Calibration, calibrate_scores, fit_calibration
from mapping.identity.model import (
    DEFAULT_THRESHOLDS,
    Decision,
    Evidence,
    Kind,
    MatchPair,
    MatchScore,
    OrgCandidate,
    PersonCandidate,
    Thresholds,
)
from mapping.identity.orgs import score_orgs
from mapping.identity.people import score_people
from mapping.identity.resolve import (
    MatchIndex,
    build_org_index,
    build_person_index,
    find_org_duplicates,
    find_person_duplicates,
    full_pass_background,
    match_new,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Background",
    "Calibration",
    "Decision",
    "Evidence",
    "Kind",
    "MatchIndex",
    "MatchPair",
    "MatchScore",
    "OrgCandidate",
    "PersonCandidate",
    "Thresholds",
    "build_org_index",
    "build_person_index",
    "calibrate_scores",
    "find_org_duplicates",
    "find_person_duplicates",
    "fit_calibration",
    "full_pass_background",
    "match_new",
    "score_orgs",
    "score_people",
]
