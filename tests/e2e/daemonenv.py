"""Helpers for the daemon tests: real ``relsync daemon`` processes against a fake Exchange in this process.

Each daemon gets its own config file (same store, same fake; a fixed ``worker_id`` so the fake's
overlap recorder and the lease table name it). The store is read with plain SQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from connector.fake.company.generator import Scale
from connector.fake.ews.server import FakeExchange
from scheduler.cli import write_fake_config

ROOT = Path(__file__).resolve().parents[2]
RELSYNC = [sys.executable, "-m", "scheduler.cli"]
#: Few items per mailbox: the daemon tests are about scheduling and leases over many mailboxes.
MICRO = Scale(contacts=4, inbox=6, sentitems=4, calendar=3, tasks=0)


def write_config(
    path: Path,
    server: FakeExchange,
    domain: str,
    url: str,
    worker: str,
    *,
    interval_minutes: float = 0.1,
    page_size: int = 512,
    write_back: bool = False,
    folders: tuple[str, ...] = ("contacts", "inbox"),
    **daemon: Any,
) -> Path:
    """A complete config for one worker: the fake, the shared store, short intervals and leases."""
    write_fake_config(path, server.url, server.username, server.password, list(server.mailboxes), domain)
    text = path.read_text(encoding="utf-8").replace('level = "INFO"', 'level = "WARNING"')
    text = text.replace(f'url = "sqlite:///{path.stem}.db"', f'url = "{url}"')
    settings = {
        "jitter_seconds": 1,
        "lease_seconds": 6,
        "workers": 2,
        "metrics_listen": "127.0.0.1:0",
        "classify_interval_minutes": 0.05,
        "shutdown_grace_seconds": 20,
        **daemon,
        "worker_id": worker,
    }
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in settings.items()]
    folder_list = ", ".join(f'"{f}"' for f in folders)
    text += (
        f"\n[sync]\nfolders = [{folder_list}]\ninterval_minutes = {interval_minutes}\npage_size = {page_size}\n\n"
        f"[classification]\nwrite_back = {'true' if write_back else 'false'}\n\n[daemon]\n" + "\n".join(lines) + "\n"
    )
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Daemons:
    """Running daemon processes, by worker id; stopped (killed if need be) at teardown."""

    directory: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, worker: str, config: Path) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{worker}.log").open("wb")
        proc = subprocess.Popen(
            [*RELSYNC, "--config", str(config), "daemon"],
            cwd=self.directory,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs[worker] = proc
        return proc

    def log(self, worker: str) -> str:
        return (self.directory / f"{worker}.log").read_text(encoding="utf-8", errors="replace")

    def check_alive(self) -> None:
        for worker, proc in self.procs.items():
            if proc.poll() is not None and proc.returncode != -signal.SIGKILL:
                raise AssertionError(f"daemon {worker} exited with {proc.returncode}:\n{self.log(worker)[-3000:]}")

    def terminate(self, worker: str, timeout: float = 30) -> int:
        """SIGTERM, then the exit code (the daemon must be gone within ``timeout`` seconds)."""
        proc = self.procs[worker]
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def kill(self, worker: str) -> None:
        proc = self.procs[worker]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def wait_until(condition: Callable[[], bool], daemons: Daemons, timeout: float, what: str) -> None:
    """Poll ``condition`` while checking the daemons are alive; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        daemons.check_alive()
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {what}")


def query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def sync_requests(server: FakeExchange) -> dict[str, int]:
    """SyncFolderItems requests per mailbox, over every client."""
    total: dict[str, int] = {}
    for per_mailbox in server.overlaps.to_json()["clients"].values():
        for mailbox, n in per_mailbox.items():
            total[mailbox] = total.get(mailbox, 0) + n
    return total


def mailboxes_by_client(server: FakeExchange) -> dict[str, set[str]]:
    """Which mailboxes each worker synced (the User-Agent names the worker)."""
    out: dict[str, set[str]] = {}
    for client, per_mailbox in server.overlaps.to_json()["clients"].items():
        worker = client.partition("(")[2].partition(")")[0]
        out.setdefault(worker, set()).update(per_mailbox)
    return out


def _plain(value: Any) -> Any:
    """The same value whichever backend returned it (SQLite: naive UTC text and 0/1; PostgreSQL: aware, bool)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T" and value[13] == ":":
        return datetime.fromisoformat(value)
    return value


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    return sorted((tuple(_plain(v) for v in r) for r in query(url, sql)), key=repr)


def store_contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """What sync put in the store, by natural keys: interactions, who sees them, and Exchange item links."""
    return {
        "interactions": _rows(
            url,
            "SELECT kind, internet_message_id, ical_uid, occurrence_start, subject, "
            "direction, is_cancelled FROM interactions",
        ),
        "viewers": _rows(
            url,
            "SELECT i.internet_message_id, i.ical_uid, i.occurrence_start, m.address "
            "FROM interaction_viewers v JOIN interactions i ON i.id = v.interaction_id "
            "JOIN staff_mailboxes m ON m.id = v.mailbox_id",
        ),
        "item_links": _rows(
            url,
            "SELECT m.address, l.folder, l.item_id, l.item_kind, l.deleted_at IS NULL "
            "FROM item_links l JOIN staff_mailboxes m ON m.id = l.mailbox_id "
            # follow-up tasks are written by each store's own planner, not synced
            "WHERE l.folder IN ('contacts', 'inbox', 'sentitems', 'calendar')",
        ),
    }
