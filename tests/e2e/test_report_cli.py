"""``relsync report`` end to end on the demo company (the demo job runs once for the module): the
terminal summary, JSON, one self-contained HTML file with the same bytes on a second run, bad days."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.cli.main import main

RELSYNC = [sys.executable, "-m", "scheduler.cli"]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


Relsync = Callable[..., Run]


@pytest.fixture
def relsync(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Run ``relsync`` in this process (the entry point that turns errors into sentences and exit codes)."""
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company synced, valued, classified and planned; returns its config file."""
    directory = tmp_path_factory.mktemp("report") / "demo"
    run = subprocess.run(
        [*RELSYNC, "demo", "--dir", str(directory), "--scale", "tiny", "--mailboxes", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stderr
    return directory / "relsync.toml"


def test_html_report_is_self_contained_and_byte_identical_on_a_second_run(
    relsync: Relsync, demo: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.html", tmp_path / "second.html"
    for target in (first, second):
        run = relsync("--config", str(demo), "report", "--html", str(target))
        assert run.returncode == 0, run.stderr
    html = first.read_text(encoding="utf-8")
    assert first.read_bytes() == second.read_bytes()
    assert "http" not in html.lower()
    assert "<script" not in html.lower()
    assert html.count("<svg") == 7  # tier x potential, Pareto, four revenue bars, movement
    data = json.loads(relsync("--config", str(demo), "report", "--json").stdout)
    inside = data["pareto"]["inside"]
    assert inside, "the demo company has sales, so someone brings 80 % of them"
    for customer in inside[:50]:
        assert f'href="/relationships/{customer["relationship_id"]}"' in html
    assert (first.stat().st_mode & 0o777) == 0o640


def test_json_report_counts_every_relationship_and_names_the_pareto_customers(relsync: Relsync, demo: Path) -> None:
    run = relsync("--config", str(demo), "report", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    overview = data["overview"]
    assert overview["total"] == sum(overview["by_tier"].values()) == sum(map(sum, overview["tier_potential"]["matrix"]))
    assert overview["total"] > 0
    pareto = data["pareto"]
    assert float(pareto["inside_revenue_share"]) >= pareto["mark"]
    assert {"source", "industry", "size", "product"} == set(data["revenue"])
    # The demo classified every relationship today: each moved from unclassified into its tier.
    assert len(data["movement"]["moves"]) == overview["total"]
    assert set(data["data_quality"]) >= {"unmatched_sales_rows", "pending_duplicates"}
    assert data["compliance"], "the demo plans follow-ups, so some owner has them"


def test_terminal_summary_shows_the_matrix_and_compliance(relsync: Relsync, demo: Path) -> None:
    run = relsync("--config", str(demo), "report")
    assert run.returncode == 0, run.stderr
    for heading in (
        "tier x potential",
        "who brings the revenue",
        "tier movement",
        "cadence compliance",
        "data quality",
    ):
        assert heading in run.stdout


def test_a_future_day_or_a_backwards_range_is_one_sentence_and_exit_2(
    relsync: Relsync, demo: Path, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    kept = tmp_path / "kept.html"
    kept.write_text("the report of last week", encoding="utf-8")
    tomorrow = (today + timedelta(days=1)).isoformat()
    run = relsync("--config", str(demo), "report", "--as-of", tomorrow, "--html", str(kept))
    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"relsync: report: --as-of {tomorrow} is in the future "
        f"(today is {today.isoformat()}): give today or an earlier day"
    )
    assert kept.read_text(encoding="utf-8") == "the report of last week"
    start, end = today - timedelta(days=1), today - timedelta(days=10)
    run = relsync("--config", str(demo), "report", "--as-of", end.isoformat(), "--from", start.isoformat())
    assert run.returncode == 2
    assert f"ends ({end.isoformat()}) before it starts ({start.isoformat()})" in run.stderr
    assert "Traceback" not in run.stderr
    run = relsync("--config", str(demo), "report", "--as-of", "31/12/2026")
    assert run.returncode == 2 and "--as-of" in run.stderr
