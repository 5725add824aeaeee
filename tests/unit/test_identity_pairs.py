"""Scoring a labelled pairs CSV: decisions, metrics, and bad rows reported by line."""

from __future__ import annotations

import json

import pytest

from mapping.identity.pairs import PairsFileError, evaluate, parse_pairs, score_pairs

STEVE = json.dumps({"name": "Steve Miller", "emails": ["steve@acme.com"], "company": "Acme"}).replace('"', '""')
STEPHEN = json.dumps({"name": "Stephen Miller", "emails": ["steve@acme.com"]}).replace('"', '""')
GOOD = f"""kind,a,b,label
organization,IBM,"International Business Machines, Inc.",1
organization,Acme Corp,ACME Corporation,1
organization,Acme Corp,Acme Bank,0
person,"{STEVE}","{STEPHEN}",1
person,John Smith,"{{""name"": ""John Smith"", ""company"": ""Acme Bank""}}",
"""


def test_scores_and_metrics() -> None:
    pairs, error = parse_pairs(GOOD)
    assert error is None and len(pairs) == 5
    scored = score_pairs(pairs)
    decisions = [s.score.decision for s in scored]
    assert decisions[1] == "merge" and decisions[2] == "apart" and decisions[3] == "merge"
    metrics = evaluate(scored)
    assert metrics.pairs == 4  # the unlabelled row is scored, not evaluated
    assert metrics.false_positive == 0
    assert metrics.true_positive == 2 and metrics.false_negative == 1  # IBM alone is only reviewed
    assert metrics.precision == 1.0 and metrics.recall == pytest.approx(2 / 3)
    assert metrics.f1 == pytest.approx(0.8)


def test_bad_rows_are_reported_with_their_line_and_the_rest_scored() -> None:
    text = (
        "kind,a,b,label\n"
        "organization,Acme,Acme Inc,1\n"
        "animal,Rex,Fido,0\n"
        'person,"{not json",Bob,1\n'
        "person,Bob Jones,Robert Jones,yes\n"
        'person,"[1, 2]",Bob,0\n'
        'person,"{""name"": 5}",Bob,0\n'
        "organization,Globex,Globex GmbH,0,extra\n"
        "person,Ann Lee,Ann Lee,0\n"
    )
    pairs, error = parse_pairs(text)
    assert [p.line for p in pairs] == [2, 6, 9]  # "[1, 2]" is not JSON-object syntax: read as a name
    assert isinstance(error, PairsFileError) and isinstance(error, ValueError)
    assert error.lines == (3, 4, 5, 7, 8)
    assert "line 3" in str(error) and "kind" in str(error)


def test_a_missing_header_column_is_fatal() -> None:
    with pytest.raises(PairsFileError) as info:
        parse_pairs("left,right\nx,y\n")
    assert info.value.lines == (1,)


def test_line_numbers_count_multi_line_cells() -> None:
    text = 'kind,a,b\nperson,"Ann\nLee",Ann Lee\nbogus,x,y\n'
    pairs, error = parse_pairs(text)
    assert len(pairs) == 1 and error is not None and error.lines == (4,)
