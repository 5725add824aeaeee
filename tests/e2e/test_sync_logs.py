"""The JSON log lines of real syncs: mailbox and folder on every line, never a secret or a message body."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from connector.fake.ews.server import FakeExchange
from scheduler.cli import write_fake_config
from scheduler.logs import hide
from tests.e2e.jsonlogs import JsonLines, json_logs
from tests.e2e.syncenv import ALICE, BOB, DANA, EnvFactory, HandCompany, message

BODY = "Confidential pricing: the Fabrikam deal closes at 1.2M, do not forward"


def company() -> HandCompany:
    return HandCompany(
        items={
            (ALICE.email, "inbox"): [message(i, f"Mail {i}", DANA, [ALICE], Body=f"{BODY} #{i}") for i in range(3)],
            (BOB.email, "inbox"): [message(10, "For Bob", DANA, [BOB], Body=BODY)],
        }
    )


@pytest.fixture
def logs() -> Iterator[JsonLines]:
    with json_logs("DEBUG") as lines:
        yield lines


def test_every_line_of_a_mailbox_sync_names_the_mailbox_and_folder_and_no_secret_or_body(
    make_env: EnvFactory, logs: JsonLines
) -> None:
    env = make_env(company())
    hide(env.ex.password)  # as resolve_secret does for the configured password
    env.ex.faults.add("server_busy", back_off_ms=500, operation="SyncFolderItems", mailbox=ALICE.email, times=1)
    env.ex.faults.add("drop", operation="SyncFolderItems", mailbox=BOB.email, times=1)
    logs.take()  # what the fixtures logged while starting is not a sync's
    assert env.sync(ALICE.email, ["inbox", "contacts"]).ok
    assert env.sync(BOB.email, ["inbox"]).ok
    assert not env.sync("ghost@contoso.example", ["inbox"]).ok
    lines = logs.take()
    events = [line["event"] for line in lines]
    assert events.count("folder synced") == 3 and events.count("retrying") == 2
    assert "mailbox needs attention" in events
    assert any(line["logger"].startswith("urllib3") for line in lines)  # the standard library's lines too
    for line in lines:
        assert line["mailbox"] in (ALICE.email, BOB.email, "ghost@contoso.example"), line
        if line["event"] != "mailbox needs attention":
            assert line["folder"] in ("inbox", "contacts"), line
        assert line["timestamp"].endswith("Z") and line["level"]
    retry = next(line for line in lines if line["event"] == "retrying" and line["mailbox"] == BOB.email)
    assert retry["folder"] == "inbox"  # logged from the read-ahead or the main thread alike
    text = json.dumps(lines)
    assert env.ex.password not in text
    assert "Confidential pricing" not in text and BODY not in text


def test_the_redaction_drops_secret_keys_and_known_secret_values_anywhere(logs: JsonLines) -> None:
    hide("s3cr3t-Pa55word")
    log = structlog.get_logger("relsync.test")
    log.info("login with s3cr3t-Pa55word failed", password="hunter2", text_body="Dear customer", user="svc")
    logging.getLogger("exchangelib.protocol").warning("retrying with %s", "s3cr3t-Pa55word")
    logging.getLogger("exchangelib.protocol").debug("request XML with bodies: never let through")
    try:
        raise RuntimeError("token s3cr3t-Pa55word refused")
    except RuntimeError:
        log.exception("sign-in failed")
    lines = logs.take()
    failed = lines.pop()
    assert failed["event"] == "sign-in failed" and "RuntimeError: token [redacted] refused" in failed["exception"]
    assert "Traceback" in failed["exception"] and "s3cr3t" not in json.dumps(failed)
    assert lines[0]["event"] == "login with [redacted] failed"
    assert lines[0]["password"] == "[redacted]" and lines[0]["text_body"] == "[redacted]"
    assert lines[0]["user"] == "svc"
    assert lines[1]["event"] == "retrying with [redacted]" and lines[1]["logger"] == "exchangelib.protocol"
    assert len(lines) == 2


def test_run_once_as_a_process_logs_json_without_the_password_from_its_file(
    make_env: EnvFactory, tmp_path: Path
) -> None:
    env = make_env(company())
    ex: FakeExchange = env.ex
    config = tmp_path / "relsync.toml"
    write_fake_config(config, ex.url, ex.username, ex.password, [ALICE.email, BOB.email], "contoso.example")
    text = config.read_text().replace('level = "INFO"', 'level = "DEBUG"')
    config.write_text(text.replace('format = "console"', 'format = "json"'))
    run = [sys.executable, "-m", "scheduler.cli", "--config", str(config)]
    upgraded = subprocess.run([*run, "db", "upgrade"], capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    done = subprocess.run([*run, "run-once", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    synced = {(line["mailbox"], line["folder"]) for line in lines if line["event"] == "folder synced"}
    assert {(ALICE.email, "inbox"), (BOB.email, "inbox")} <= synced
    assert ex.password not in done.stderr and BODY not in done.stderr and BODY not in done.stdout
