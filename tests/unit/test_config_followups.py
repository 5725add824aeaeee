"""The ``[followups]`` section: defaults plan the seeds' cadence; every mistake names key and fix."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from mapping.followups import Cadence
from scheduler.config import ConfigError, LoadedConfig, load_config
from scheduler.followups_job import followup_policy
from tests.unit.configtext import MINIMAL


def _load(tmp_path: Path, extra: str = "") -> LoadedConfig:
    path = tmp_path / "relsync.toml"
    path.write_text(MINIMAL + extra, encoding="utf-8")
    return load_config(path, environ={})


def test_without_the_section_the_business_case_cadence_is_planned(tmp_path: Path) -> None:
    loaded = _load(tmp_path)
    policy = followup_policy(loaded)
    assert policy.cadences["Superior"] == Cadence("weekly", days=7)
    assert policy.cadences["Average"] == Cadence("monthly", months=1)
    assert policy.cadences["Marginal"] == Cadence("quarterly", months=3)
    assert policy.cadences["Eliminate"] == "handover"
    assert policy.methods["High"] == ("face to face", "telephone", "e-mail")
    assert policy.methods["Low"] == ("e-mail",)
    assert policy.reminder_time == time(9) and policy.reminder_time_high == time(8)
    assert policy.working_days == frozenset(range(5)) and policy.statuses == frozenset({"active", "inactive"})


def test_custom_cadences_and_times_are_taken(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        '\n[followups]\ncadence = { Superior = "every 10 days", Average = "none" }\n'
        'reminder_time = "07:30"\nworking_days = ["Sun", "Mon"]\n',
    )
    policy = followup_policy(loaded)
    assert policy.cadences == {"Superior": Cadence("every 10 days", days=10), "Average": None}
    assert policy.reminder_time == time(7, 30) and policy.working_days == frozenset({6, 0})


def test_every_mistake_in_the_section_is_reported_with_its_key_and_fix(tmp_path: Path) -> None:
    extra = """
[followups]
cadence = { Superb = "weekly", Average = "sometimes" }
high_potentials = ["Huge"]
reminder_time = "9 o'clock"
working_days = ["Mon", "Funday"]
on_interaction = "ignore"
time_zone = "Mars/Olympus"
time_zones = { "bob@example.com" = "Nowhere/Land" }
"""
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, extra)
    problems = info.value.problems
    joined = "\n".join(problems)
    assert all(str(tmp_path / "relsync.toml") in p and "Fix: " in p for p in problems)
    for key in (
        "followups.cadence.Superb",
        "followups.cadence.Average",
        "followups.high_potentials",
        "followups.reminder_time",
        "followups.working_days",
        "followups.on_interaction",
        "followups.time_zone",
        "followups.time_zones.bob@example.com",
    ):
        assert f"{key}: " in joined, key
    assert "Superior" in joined  # the fix names the tiers there are
    assert len(problems) == 8
