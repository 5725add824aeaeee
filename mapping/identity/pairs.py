"""Scoring labelled pairs from a CSV, for ``relsync match pairs FILE.csv`` and the benchmarks.

The CSV has a header with columns ``kind`` (``person`` or ``organization``; ``org`` and
``organisation`` are accepted), ``a``, ``b`` and optionally ``label`` (1 = the same entity, 0 = not).
A side is a plain name, or a JSON object ``{"name": ..., "emails": [...], "phones": [...],
"company": ..., "domains": [...], "website": ...}``.

Bad rows do not stop the run: :func:`parse_pairs` returns the good rows and a :class:`PairsFileError`
listing every bad line with its number, which the CLI prints after scoring the rest.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mapping.identity.calibration_file import CalibrationSet
from mapping.identity.model import DEFAULT_THRESHOLDS, Kind, MatchScore, OrgCandidate, PersonCandidate, Thresholds
from mapping.identity.orgs import score_orgs
from mapping.identity.people import score_people

_KINDS: dict[str, Kind] = {
    "person": "person",
    "people": "person",
    "organization": "organization",
    "organisation": "organization",
    "org": "organization",
    "company": "organization",
}
MAX_SIDE = 10_000  # characters of one cell we are willing to parse as JSON


class PairsFileError(ValueError):
    """Rows of a pairs file that could not be read; ``problems`` holds ``(line number, message)``."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.problems = tuple(problems)
        self.lines = tuple(line for line, _ in self.problems)
        shown = "; ".join(f"line {line}: {message}" for line, message in self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(f"{len(self.problems)} bad row(s): {shown}{more}")


@dataclass(frozen=True, slots=True)
class LabelledPair:
    """One row: the two sides as candidates, and the label when the file has one."""

    line: int
    kind: Kind
    a: OrgCandidate | PersonCandidate
    b: OrgCandidate | PersonCandidate
    label: bool | None


@dataclass(frozen=True, slots=True)
class ScoredPair:
    pair: LabelledPair
    score: MatchScore


@dataclass(frozen=True, slots=True)
class Metrics:
    """Pairwise quality of the ``merge`` decisions against the labels (``review`` counts as not merged)."""

    pairs: int
    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int
    reviewed: int  # pairs sent to review (any label)

    @property
    def precision(self) -> float:
        predicted = self.true_positive + self.false_positive
        return self.true_positive / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{field!r} must be a string or a list of strings")


def _side(kind: Kind, text: str, ident: str) -> OrgCandidate | PersonCandidate:
    text = text.strip()
    data: dict[str, Any]
    if text.startswith("{"):
        if len(text) > MAX_SIDE:
            raise ValueError(f"JSON side longer than {MAX_SIDE} characters")
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"side is not valid JSON: {exc.msg}") from None
        if not isinstance(loaded, dict):
            raise ValueError("a JSON side must be an object")
        data = loaded
    else:
        data = {"name": text}
    name = data.get("name") or ""
    if not isinstance(name, str):
        raise ValueError("'name' must be a string")
    emails = _strings(data.get("emails", data.get("email")), "emails")
    phones = _strings(data.get("phones", data.get("phone")), "phones")
    company = data.get("company")
    if company is not None and not isinstance(company, str):
        raise ValueError("'company' must be a string")
    if kind == "person":
        return PersonCandidate(id=ident, display_name=name, emails=emails, phones=phones, org_name=company)
    website = data.get("website")
    if website is not None and not isinstance(website, str):
        raise ValueError("'website' must be a string")
    domains = _strings(data.get("domains", data.get("domain")), "domains") + emails
    return OrgCandidate(
        id=ident,
        name=name or company or "",
        domains=domains,
        website=website,
        phones=phones,
        aliases=_strings(data.get("aliases"), "aliases"),
        addresses=_strings(data.get("addresses", data.get("address")), "addresses"),
        city=data.get("city") if isinstance(data.get("city"), str) else None,
    )


def _row(line: int, row: Mapping[str, str | None]) -> LabelledPair:
    kind_text = (row.get("kind") or "").strip().lower()
    kind = _KINDS.get(kind_text)
    if kind is None:
        raise ValueError(f"kind must be person or organization, not {kind_text!r}")
    a_text, b_text = row.get("a"), row.get("b")
    if a_text is None or b_text is None:
        raise ValueError("missing column a or b")
    label_text = (row.get("label") or "").strip()
    label: bool | None
    if label_text in ("", "-"):
        label = None
    elif label_text in ("0", "1"):
        label = label_text == "1"
    else:
        raise ValueError(f"label must be 0 or 1, not {label_text[:20]!r}")
    return LabelledPair(line, kind, _side(kind, a_text, f"{line}a"), _side(kind, b_text, f"{line}b"), label)


def parse_pairs(text: str | Iterable[str]) -> tuple[list[LabelledPair], PairsFileError | None]:
    """The readable rows of a pairs CSV, and an error naming every unreadable line (or ``None``).

    A missing header column (``kind``, ``a`` or ``b``) makes the whole file unreadable: that raises
    :class:`PairsFileError` for line 1 at once.
    """
    lines = io.StringIO(text) if isinstance(text, str) else text
    reader = csv.DictReader(lines)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("kind", "a", "b") if c not in header]
    if missing:
        raise PairsFileError([(1, f"header lacks column(s) {', '.join(missing)}")])
    reader.fieldnames = header
    good: list[LabelledPair] = []
    problems: list[tuple[int, str]] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((reader.line_num, f"not valid CSV: {exc}"))
            continue
        line = reader.line_num
        try:
            if None in row:
                raise ValueError("more cells than columns")
            good.append(_row(line, row))
        except ValueError as exc:
            problems.append((line, str(exc)))
    return good, PairsFileError(problems) if problems else None


def score_pairs(
    pairs: Iterable[LabelledPair],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    calibrations: CalibrationSet | None = None,
) -> list[ScoredPair]:
    """Each pair with its score and decision (re-weighted by ``calibrations`` for the kinds it covers,
    as the identity pass would)."""
    person = calibrations.person if calibrations else None
    org = calibrations.organization if calibrations else None
    out: list[ScoredPair] = []
    for p in pairs:
        if isinstance(p.a, PersonCandidate) and isinstance(p.b, PersonCandidate):
            score = score_people(p.a, p.b, thresholds)
            out.append(ScoredPair(p, person.rescore(score, thresholds) if person else score))
        elif isinstance(p.a, OrgCandidate) and isinstance(p.b, OrgCandidate):
            score = score_orgs(p.a, p.b, thresholds)
            out.append(ScoredPair(p, org.rescore(score, thresholds) if org else score))
    return out


def evaluate(scored: Iterable[ScoredPair]) -> Metrics:
    """Precision, recall and F1 of the ``merge`` decisions over the labelled pairs (unlabelled skipped)."""
    tp = fp = fn = tn = reviewed = n = 0
    for s in scored:
        if s.pair.label is None:
            continue
        n += 1
        merged = s.score.decision == "merge"
        reviewed += s.score.decision == "review"
        if merged and s.pair.label:
            tp += 1
        elif merged:
            fp += 1
        elif s.pair.label:
            fn += 1
        else:
            tn += 1
    return Metrics(n, tp, fp, fn, tn, reviewed)
