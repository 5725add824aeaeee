"""The CLI end to end: a real `relsync fake-exchange` process, real exchangelib, real store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RELSYNC = [sys.executable, "-m", "scheduler.cli"]


def relsync(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RELSYNC, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`relsync fake-exchange --write-config` running as its own process."""
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
    line = proc.stdout.readline()
    try:
        info = json.loads(line)
        info["config"] = config
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_fake_exchange_prints_one_json_line_with_endpoint_credentials_and_mailboxes(fake: dict[str, Any]) -> None:
    assert set(fake) >= {"endpoint", "username", "password", "mailboxes"}
    assert fake["endpoint"].startswith("http://127.0.0.1:") and fake["endpoint"].endswith("/EWS/Exchange.asmx")
    assert len(fake["mailboxes"]) == 3


def test_written_config_keeps_the_password_out_of_the_file(fake: dict[str, Any]) -> None:
    config: Path = fake["config"]
    text = config.read_text()
    assert fake["password"] not in text
    secret = config.with_name("relsync.password")
    assert secret.read_text().strip() == fake["password"]
    assert secret.stat().st_mode & 0o077 == 0


def test_db_upgrade_check_and_run_once_work_against_the_fake(fake: dict[str, Any]) -> None:
    config = str(fake["config"])
    up = relsync("--config", config, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    check = relsync("--config", config, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "agree" in check.stdout
    run = relsync("--config", config, "run-once", "--json")
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert [r["mailbox"] for r in results] == fake["mailboxes"]
    assert all(r["ok"] for r in results)
    assert all(set(r["folders"]) == {"contacts", "inbox", "sentitems", "calendar"} for r in results)
    assert fake["password"] not in run.stderr


def test_unknown_mailbox_needs_attention_and_the_others_still_run(fake: dict[str, Any]) -> None:
    config: Path = fake["config"]
    text = config.read_text().replace('addresses = ["', 'addresses = ["ghost@nowhere.example", "', 1)
    config.write_text(text)
    assert relsync("--config", str(config), "db", "upgrade").returncode == 0
    run = relsync("--config", str(config), "run-once", "--json")
    assert run.returncode == 1
    results = {r["mailbox"]: r for r in json.loads(run.stdout)}
    assert not results["ghost@nowhere.example"]["ok"]
    assert "ErrorNonExistentMailbox" in results["ghost@nowhere.example"]["detail"]
    assert all(results[m]["ok"] for m in fake["mailboxes"])
    # status: the same problem, as one line with its fix, under the table; the others are ok
    rows = {r["mailbox"]: r for r in json.loads(relsync("--config", str(config), "status", "--json").stdout)}
    assert rows["ghost@nowhere.example"]["state"] == "needs attention"
    assert all(rows[m]["state"] == "ok" and rows[m]["worker"] is None for m in fake["mailboxes"])
    table = relsync("--config", str(config), "status")
    assert table.returncode == 0, table.stderr
    problems = [line for line in table.stdout.splitlines() if line.startswith("needs attention: ")]
    assert problems == [f"needs attention: ghost@nowhere.example: {rows['ghost@nowhere.example']['attention_reason']}"]
    assert "Fix: check the address in mailboxes.addresses" in problems[0]


def test_wrong_password_is_one_clear_sentence_without_the_secret(fake: dict[str, Any]) -> None:
    config: Path = fake["config"]
    config.with_name("relsync.password").write_text("not-the-password\n")
    assert relsync("--config", str(config), "db", "upgrade").returncode == 0
    run = relsync("--config", str(config), "run-once")
    assert run.returncode == 4
    assert run.stderr.strip().splitlines()[-1].startswith("relsync: exchange")
    assert "credentials" in run.stderr
    assert "not-the-password" not in run.stderr + run.stdout
    assert "Traceback" not in run.stderr


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[exchange]\nendpoint = "mail"\n')
    run = relsync("--config", str(bad), "run-once")
    assert run.returncode == 2
    assert f"{bad}: exchange.endpoint" in run.stderr
    assert f"{bad}: mailboxes: " in run.stderr


def test_demo_runs_the_main_job_on_the_embedded_defaults(tmp_path: Path) -> None:
    run = relsync("demo", "--dir", str(tmp_path / "demo"), "--scale", "tiny", "--mailboxes", "2")
    assert run.returncode == 0, run.stderr
    assert "fake Exchange at http://127.0.0.1:" in run.stdout
    assert (tmp_path / "demo" / "relsync.db").is_file()
