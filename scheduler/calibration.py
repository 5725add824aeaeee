"""The configured identity calibration (``[identity] calibration_file``), as the identity pass uses it.

Decisions: no key, expert weights. A key naming a file that does not exist yet (the admin set the key
and has not run ``relsync match calibrate``) is a warning and the expert weights, so a scheduled run
never fails for it. A file that exists but cannot be used is a configuration error (exit 2) naming the
file: scoring with weights the admin did not intend would be worse than stopping.
"""

from __future__ import annotations

import structlog

from mapping.identity.calibration_file import CalibrationFileError, CalibrationSet, load_calibration_set
from scheduler.config import ConfigError, LoadedConfig

log = structlog.get_logger(__name__)


def configured_calibration(loaded: LoadedConfig) -> CalibrationSet | None:
    """The calibration the config names, or ``None`` for the expert weights (see the module text)."""
    path = loaded.config.identity.calibration_file
    if path is None:
        return None
    if not path.exists():
        log.warning(
            "calibration file not found: identity resolution uses the expert weights",
            file=str(path),
            fix="run `relsync match calibrate`",
        )
        return None
    try:
        return load_calibration_set(path)
    except CalibrationFileError as exc:
        raise ConfigError(loaded.path, [f"identity.calibration_file: {exc}"]) from None
