"""Fitted identity weights kept in a file: what ``relsync match calibrate`` writes and every identity
pass reads when ``[identity] calibration_file`` names it.

A file, not a table: an admin can read it, keep it in version control beside the config, copy it to
another installation, or delete it to go back to the expert weights. One JSON object: a format tag,
when it was fitted, and one :class:`~mapping.identity.calibrate.Calibration` per kind (``person``,
``organization``; ``null`` = expert weights for that kind). Reading checks every part and names what
is wrong, so a damaged file stops the pass with a sentence instead of scoring with half its weights.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapping.files import write_text_atomically
from mapping.identity.calibrate import Calibration

FORMAT = "relsync identity calibration 1"


class CalibrationFileError(Exception):
    """A calibration file that cannot be used; the message names the file and what to do."""


@dataclass(frozen=True, slots=True)
class CalibrationSet:
    """The calibrations of one store, per kind (``None``: that kind keeps the expert weights)."""

    person: Calibration | None = None
    organization: Calibration | None = None
    fitted_at: str = ""
    note: str = ""  # what the fit saw, for the admin (pairs, the household check)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "fitted_at": self.fitted_at,
            "note": self.note,
            "person": self.person.to_dict() if self.person else None,
            "organization": self.organization.to_dict() if self.organization else None,
        }


def _calibration(data: Any, kind: str) -> Calibration | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ValueError(f"{kind!r} must be an object or null (got {type(data).__name__})")
    try:
        cal = Calibration.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{kind!r} is not a calibration ({type(exc).__name__}: {exc})") from None
    if not all(math.isfinite(w) for w in (cal.prior, *cal.weights.values())):
        raise ValueError(f"{kind!r} has a weight that is not a finite number")
    return cal


def parse_calibration_set(text: str) -> CalibrationSet:
    """A :class:`CalibrationSet` from the file's text; :class:`ValueError` says what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ValueError(f'not a calibration file (no "format": "{FORMAT}")')
    return CalibrationSet(
        person=_calibration(data.get("person"), "person"),
        organization=_calibration(data.get("organization"), "organization"),
        fitted_at=str(data.get("fitted_at", "")),
        note=str(data.get("note", "")),
    )


def load_calibration_set(path: Path) -> CalibrationSet:
    """Read ``path``; a missing, unreadable or damaged file is a :class:`CalibrationFileError`."""
    fix = "Fix: run `relsync match calibrate` to write it again, or remove identity.calibration_file"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationFileError(f"{path}: no such calibration file. {fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationFileError(f"{path}: cannot be read ({exc}). {fix}") from None
    try:
        return parse_calibration_set(text)
    except ValueError as exc:
        raise CalibrationFileError(f"{path}: {exc}. {fix}") from None


def save_calibration_set(path: Path, calibrations: CalibrationSet) -> None:
    """Write ``path`` atomically (a reader sees the old file or the new one, never half of one).

    Mode 0644: the weights hold no personal data, and a daemon running as another user reads them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(calibrations.to_dict(), indent=2) + "\n"
    write_text_atomically(path, text, mode=0o644)
