"""A demo company synced once, the fake Entra ID with test users, and ``relsync serve`` on it.

The store is built as ``relsync demo`` builds it (sync, sales history, sync again), with two changes a
console test needs: doubtful identities are queued for review instead of merged by rule, and the
follow-ups were planned six weeks ago, so some are overdue today.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from connector.fake.model import CompanySource
from connector.fake.tokens import FakeTokenService
from mapping.sales_history import parse_sales_history
from mapping.store.migrate import upgrade
from mapping.store.models import utcnow
from mapping.store.sales_history import import_sales_history
from mapping.store.store import Store
from scheduler.cli import write_fake_config
from scheduler.config import load_config
from scheduler.fake_files import write_sales_history

CLIENT_ID, CLIENT_SECRET = "relsync-console", "console-secret-for-tests"
PASSWORD = "Passw0rd!"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@dataclass
class Demo:
    directory: Path
    config: Path
    company: CompanySource
    admin: str
    manager: str
    staff: str  # a staff mailbox that owns follow-ups
    outsider: str  # can sign in, has no role


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_demo(directory: Path, ews_schema: object, fake: FakeExchange | None = None) -> Demo:
    """The demo in ``directory``; with ``fake`` (a running FakeExchange of a tiny company), on that one,
    left running for the caller (the add-in tests keep using it), else on a fake of its own."""
    if fake is None:
        with FakeExchange(build_company(7, 2, "tiny"), validate=ews_schema) as own:
            return _build_demo(directory, own)
    return _build_demo(directory, fake)


def _build_demo(directory: Path, fake: FakeExchange) -> Demo:
    company = fake.company
    config = directory / "relsync.toml"
    mailboxes = [m.email for m in company.mailboxes()]
    write_fake_config(config, fake.url, fake.username, fake.password, mailboxes, company.domain)
    with config.open("a") as f:
        f.write("\n[identity]\nmerge_threshold = 1.0\nreview_threshold = 0.6\n")
    base = config.read_text(encoding="utf-8")
    config.write_text(base + "\n[followups]\nenabled = false\n", encoding="utf-8")
    from scheduler.followups_job import run_followups
    from scheduler.jobs import run_sync, thresholds

    loaded = load_config(config)
    upgrade(loaded.config.store.url)
    run_sync(loaded)
    sales = write_sales_history(config, company, label="--dir")
    store = Store(loaded.config.store.url)
    try:
        with store.session() as s:
            import_sales_history(
                s, parse_sales_history(sales.read_text(encoding="utf-8")).rows, sales.name, thresholds(loaded)
            )
    finally:
        store.dispose()
    run_sync(loaded)
    # Planned six weeks ago: the cadence tasks of then are overdue now.
    config.write_text(base, encoding="utf-8")
    run_followups(load_config(config), now=utcnow() - timedelta(days=42))
    assert fake.violations == []
    domain = company.domain
    return Demo(
        directory, config, company, f"ada.admin@{domain}", f"max.manager@{domain}", mailboxes[0], f"nobody@{domain}"
    )


def web_section(demo: Demo, port: int, idp: FakeTokenService | None, **extra: str) -> str:
    lines = ["", "[web]", f'listen = "127.0.0.1:{port}"']
    lines += [f"{k} = {v}" for k, v in extra.items()]
    if idp is not None:
        lines += [
            'auth = "oidc"',
            "",
            "[web.oidc]",
            f'tenant_id = "{idp.tenant}"',
            f'client_id = "{CLIENT_ID}"',
            f'redirect_uri = "http://localhost:{port}/auth/callback"',
            f'authority_host = "{idp.authority_host}"',
            f'ca_file = "{idp.ca_file}"',
        ]
    lines += [
        "",
        "[web.roles]",
        f'admin = ["{demo.admin}"]',
        f'manager = ["{demo.manager}"]',
        f'staff = ["{demo.staff}"]',
        "",
    ]
    return "\n".join(lines)


def identity_provider(demo: Demo, port: int) -> FakeTokenService:
    users = {u: PASSWORD for u in (demo.admin, demo.manager, demo.staff, demo.outsider)}
    return FakeTokenService(
        clients={CLIENT_ID: CLIENT_SECRET},
        users=users,
        redirect_uris={CLIENT_ID: [f"http://localhost:{port}/auth/callback"]},
    ).start()


@contextmanager
def serving(config: Path, port: int) -> Iterator[str]:
    """``relsync serve`` in its own process until the block ends; yields its base URL."""
    env = {**os.environ, "RELSYNC_WEB_CLIENT_SECRET": CLIENT_SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "--config", str(config), "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"relsync serve exited: {proc.stdout.read().decode() if proc.stdout else ''}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("relsync serve did not start listening within 30 s") from None
                time.sleep(0.2)
        yield f"http://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def write_config(demo: Demo, name: str, section: str) -> Path:
    path = demo.directory / name
    text = demo.config.read_text(encoding="utf-8") + section
    path.write_text(text, encoding="utf-8")  # beside the demo's: its relative paths still resolve
    return path
