"""Calibration files: what `relsync match calibrate` writes is what the identity pass reads, and a
damaged file is refused with a sentence naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapping.identity import Calibration, PersonCandidate, score_people
from mapping.identity.calibration_file import (
    FORMAT,
    CalibrationFileError,
    CalibrationSet,
    load_calibration_set,
    save_calibration_set,
)


def _fitted() -> CalibrationSet:
    person = Calibration(
        prior=-5.5, weights={("surname", (4.0,)): 3.2, ("given_name", (-3.5,)): -1.0}, pairs=900, households=False
    )
    return CalibrationSet(person=person, organization=None, fitted_at="2026-11-22T23:00:00+00:00", note="fit")


def test_a_saved_calibration_reads_back_and_scores_the_same(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "identity-calibration.json"
    save_calibration_set(path, _fitted())
    again = load_calibration_set(path)
    assert again == _fitted()
    assert again.person is not None and again.person.households is False and again.organization is None
    a = PersonCandidate("a", given="Anna", surname="Berg")
    b = PersonCandidate("b", given="Petra", surname="Berg")
    assert again.person.rescore(score_people(a, b)) == _fitted().person.rescore(score_people(a, b))  # type: ignore[union-attr]
    assert [p.name for p in path.parent.iterdir()] == ["identity-calibration.json"]  # no temporary left


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "not JSON"),
        ("[1, 2]", "not a calibration file"),
        (json.dumps({"format": "other"}), "not a calibration file"),
        (json.dumps({"format": FORMAT, "person": "yes"}), "'person' must be an object"),
        (json.dumps({"format": FORMAT, "person": {"weights": []}}), "'person' is not a calibration"),
        (json.dumps({"format": FORMAT, "person": {"prior": 0, "weights": [{"kind": "x"}]}}), "not a calibration"),
        (json.dumps({"format": FORMAT, "person": {"prior": float("nan")}}), "not a finite number"),
    ],
)
def test_a_damaged_file_is_refused_with_what_is_wrong(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "cal.json"
    path.write_text(text)
    with pytest.raises(CalibrationFileError) as info:
        load_calibration_set(path)
    assert str(path) in str(info.value) and says in str(info.value)
    assert "relsync match calibrate" in str(info.value)


def test_a_missing_file_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(CalibrationFileError, match="no such calibration file"):
        load_calibration_set(tmp_path / "nope.json")
