"""A new user's first steps, through the real `relsync` command: the path the README shows by hand
(fake, run-once, import transactions, run-once, explain, followups) on a store nobody created; one
sentence naming `relsync db upgrade` when a store is not ready; no colour codes off a terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.cli import write_fake_config

RELSYNC = [sys.executable, "-m", "scheduler.cli"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def relsync(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([*RELSYNC, *args], capture_output=True, text=True, timeout=180, env={**base, **(env or {})})


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`relsync fake-exchange --write-config` as its own process, as a new user starts it."""
    config = tmp_path / "relsync.toml"
    proc = subprocess.Popen(
        [
            *RELSYNC,
            "fake-exchange",
            "--port",
            "0",
            "--seed",
            "7",
            "--mailboxes",
            "3",
            "--scale",
            "tiny",
            "--write-config",
            str(config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        info = json.loads(proc.stdout.readline())
        info["config"] = config
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def offline_config(tmp_path: Path, store_url: str | None = None) -> Path:
    """A config as `fake-exchange --write-config` writes it, for commands that only read the store."""
    config = tmp_path / "relsync.toml"
    write_fake_config(
        config, "http://127.0.0.1:9/EWS/Exchange.asmx", "svc", "pw-not-used", ["a@contoso.example"], "contoso.example"
    )
    if store_url is not None:
        text = config.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{store_url}"')
        config.write_text(text, encoding="utf-8")
    return config


# ---- the whole path by hand ----------------------------------------------------------------------


def test_the_readme_path_by_hand_runs_end_to_end_without_a_separate_db_step(fake: dict[str, Any]) -> None:
    config = str(fake["config"])
    sales = Path(fake["sales_history"])
    assert sales == fake["config"].with_name("sales.csv")
    assert sales.read_text(encoding="utf-8").startswith(
        "date,customer,amount,currency,kind,product,external_id,referred\n"
    )
    assert not list(sales.parent.glob(".*.tmp")), "every file is renamed into place"
    assert fake["config"].with_name("relsync.password").stat().st_mode & 0o077 == 0

    first = relsync("--config", config, "run-once", "--json")  # no `db upgrade` first: the store makes itself
    assert first.returncode == 0, first.stderr
    assert all(r["ok"] for r in json.loads(first.stdout))

    imported = relsync("--config", config, "import", "transactions", str(sales), "--json")
    assert imported.returncode in (0, 1), imported.stderr  # 1: some customers are not in a tiny company's books
    assert json.loads(imported.stdout)["imported"] > 0

    again = relsync("--config", config, "run-once", "--json")
    assert again.returncode == 0, again.stderr

    explained = relsync("--config", config, "explain", "Acme Corp", "--json")
    assert explained.returncode == 0, explained.stderr
    (why,) = json.loads(explained.stdout)
    assert why["name"] == "Acme Corp" and why["inputs"]["order_count"] >= 1  # the imported sales count

    follow = relsync("--config", config, "followups", "--json")
    assert follow.returncode == 0, follow.stderr
    assert json.loads(follow.stdout), "relationships with value get follow-up tasks"
    for step in (first, imported, again, explained, follow):
        assert "Traceback" not in step.stderr and not ANSI.search(step.stderr)


# ---- a store that is not ready ---------------------------------------------------------------------


def test_a_new_sqlite_store_is_created_by_the_first_command_that_needs_it(tmp_path: Path) -> None:
    config = str(offline_config(tmp_path))
    status = relsync("--config", config, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert [row["state"] for row in json.loads(status.stdout)] == ["never synced"]
    check = relsync("--config", config, "db", "check")
    assert check.returncode == 0 and "agree" in check.stdout, check.stdout + check.stderr


def test_a_store_on_an_older_schema_gets_one_sentence_naming_db_upgrade(tmp_path: Path) -> None:
    config = str(offline_config(tmp_path))
    assert relsync("--config", config, "db", "upgrade", "--revision", "0008").returncode == 0
    status = relsync("--config", config, "followups")
    assert status.returncode == 3
    lines = status.stderr.strip().splitlines()
    assert lines[-1].startswith("relsync: store: the store (store.url) is at schema revision 0008"), status.stderr
    assert "Fix: run `relsync db upgrade`" in lines[-1]
    assert "Traceback" not in status.stderr and "OperationalError" not in status.stderr
    assert relsync("--config", config, "db", "upgrade").returncode == 0
    assert relsync("--config", config, "followups").returncode == 0


def test_a_new_postgresql_store_is_not_created_behind_the_admins_back(tmp_path: Path, pg_url: str) -> None:
    config = str(offline_config(tmp_path, pg_url))
    status = relsync("--config", config, "status")
    assert status.returncode == 3
    assert status.stderr.strip().splitlines()[-1] == (
        "relsync: store: the store (store.url) has no relsync tables yet. Fix: run `relsync db upgrade` once"
    )
    assert relsync("--config", config, "db", "upgrade").returncode == 0
    assert relsync("--config", config, "status").returncode == 0


# ---- colour ----------------------------------------------------------------------------------------


def test_logs_to_a_file_carry_no_colour_codes(tmp_path: Path) -> None:
    config = str(offline_config(tmp_path))
    with (tmp_path / "upgrade.log").open("w") as log:
        done = subprocess.run(
            [*RELSYNC, "--config", config, "db", "upgrade"],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            timeout=120,
            env={k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")},
        )
    assert done.returncode == 0
    text = (tmp_path / "upgrade.log").read_text()
    assert "Running upgrade" in text, "alembic's lines are logged"
    assert not ANSI.search(text), text[:300]


def on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run relsync with stderr on a pseudo-terminal (as a person at a shell sees it); return stderr."""
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen([*RELSYNC, *args], stdout=subprocess.DEVNULL, stderr=terminal, env=env)
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(controller)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("how", ["flag", "env"])
def test_no_color_and_NO_COLOR_keep_a_terminal_plain(tmp_path: Path, how: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    coloured = on_a_terminal(["--config", str(offline_config(tmp_path / "a")), "db", "upgrade"], env)
    assert ANSI.search(coloured), "a terminal gets colour by default"
    args = ["--config", str(offline_config(tmp_path / "b")), "db", "upgrade"]
    plain = on_a_terminal(
        ["--no-color", *args] if how == "flag" else args, env if how == "flag" else {**env, "NO_COLOR": "1"}
    )
    assert "Running upgrade" in plain
    assert not ANSI.search(plain)
