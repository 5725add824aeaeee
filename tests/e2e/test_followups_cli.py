"""Follow-ups through the CLI: `run-once` plans and writes them, `followups` lists them, `status` says
what stops them, `export relationships` shows the next one, and a `run-once` killed while Exchange is
creating tasks leaves exactly one task per follow-up after the rerun.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.ews.server import FakeExchange
from scheduler.cli import cli, write_fake_config
from tests.e2e.syncenv import ALICE, BOB
from tests.e2e.test_followups import RULES, company

ROOT = Path(__file__).resolve().parents[2]
RELSYNC = [sys.executable, "-m", "scheduler.cli"]


class Env:
    def __init__(self, fake: FakeExchange, config: Path, url: str) -> None:
        self.fake, self.config, self.url = fake, config, url

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(self.config), *args], catch_exceptions=False)

    def tasks(self, owner: str) -> list[dict[str, object]]:
        return [dict(s.fields) for _, s in self.fake.mailboxes[owner].items("tasks")]

    def scalar(self, sql: str) -> object:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql)).scalar()
        finally:
            engine.dispose()


@pytest.fixture
def env(tmp_path: Path, ews_schema: etree.XMLSchema, db_url: str) -> Iterator[Env]:
    with FakeExchange(company(), validate=ews_schema) as fake:
        config = tmp_path / "relsync.toml"
        write_fake_config(config, fake.url, fake.username, fake.password, [ALICE.email, BOB.email], "contoso.example")
        text = config.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{db_url}"')
        config.write_text(
            text.replace('level = "INFO"', 'level = "WARNING"') + RULES.format(extra=""), encoding="utf-8"
        )
        e = Env(fake, config, db_url)
        assert e.run("db", "upgrade").exit_code == 0
        yield e
        close_connections()
    assert fake.violations == []


def test_run_once_writes_the_follow_ups_and_the_cli_lists_and_exports_them(env: Env) -> None:
    result = env.run("run-once", "--json")
    assert result.exit_code == 0, result.output
    assert len(env.tasks(ALICE.email)) == 2 and len(env.tasks(BOB.email)) == 1

    listed = json.loads(env.run("followups", "--json").output)
    assert sorted(r["owner"] for r in listed) == [ALICE.email, ALICE.email, BOB.email]
    assert all(r["status"] == "open" and r["in_outlook"] for r in listed)
    bob = json.loads(env.run("followups", "--owner", BOB.email, "--json").output)
    assert [r["subject"] for r in bob] == ["Follow up: Erin Estrada, Northwind (monthly: telephone, e-mail)"]
    table = env.run("followups").output
    assert "Northwind" in table and "Fabrikam" in table

    rows = {r["name"]: r for r in map(json.loads, env.run("export", "relationships").output.splitlines())}
    assert rows["Northwind"]["owner_mailbox"] == BOB.email
    assert rows["Northwind"]["next_follow_up"] == bob[0]["due"]

    again = env.run("run-once", "--json")  # a rerun creates nothing
    assert again.exit_code == 0 and len(env.tasks(ALICE.email)) == 2 and len(env.tasks(BOB.email)) == 1


def test_status_names_relationships_that_nobody_can_follow_up(env: Env) -> None:
    assert env.run("run-once", "--json").exit_code == 0
    assert "get no follow-up task" not in env.run("status").output
    # Bob leaves: his mailbox goes from the configuration and from Exchange, and nobody else has met Erin.
    env.config.write_text(env.config.read_text(encoding="utf-8").replace(f', "{BOB.email}"', ""), encoding="utf-8")
    del env.fake.mailboxes[BOB.email]
    assert env.run("run-once", "--json").exit_code == 0
    # His open task went with his mailbox: nothing is left waiting to be written there.
    assert env.scalar("SELECT count(*) FROM follow_ups WHERE pending_write IS NOT NULL") == 0
    out = env.run("status").output
    assert "follow-ups: 1 relationship(s) get no follow-up task" in out
    assert "Northwind (Average): no owner: no staff member has two-way interactions with it" in out
    problems = json.loads(env.run("followups", "--problems", "--json").output)
    assert [p["name"] for p in problems] == ["Northwind"]
    assert env.scalar("SELECT count(*) FROM ownership_changes WHERE to_mailbox_id IS NULL") == 1


def test_a_run_killed_while_exchange_creates_tasks_leaves_exactly_one_task_each(env: Env, tmp_path: Path) -> None:
    # Exchange creates the tasks, then takes 30 s to say so: the run is killed in between.
    env.fake.faults.add("slow_reply", operation="CreateItem", times=None, delay_ms=30_000)
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [*RELSYNC, "--config", str(env.config), "run-once"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 90
        while not env.tasks(ALICE.email) and not env.tasks(BOB.email):
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "no task was created"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    created_before = len(env.tasks(ALICE.email)) + len(env.tasks(BOB.email))
    assert created_before >= 1
    assert env.scalar("SELECT count(*) FROM follow_ups WHERE created_in_exchange_at IS NOT NULL") == 0

    env.fake.faults.clear()
    result = env.run("run-once", "--json")
    assert result.exit_code == 0, result.output
    assert len(env.tasks(ALICE.email)) == 2 and len(env.tasks(BOB.email)) == 1
    assert env.scalar("SELECT count(*) FROM follow_ups WHERE status = 'open'") == 3
    assert env.scalar("SELECT count(*) FROM follow_ups WHERE pending_write IS NOT NULL") == 0
    assert env.scalar("SELECT count(*) FROM item_links WHERE folder = 'tasks' AND deleted_at IS NULL") == 3


def test_staff_choose_an_owner_with_an_owner_category_and_the_task_moves(env: Env) -> None:
    env.config.write_text(
        env.config.read_text(encoding="utf-8").replace("write_back = false", "write_back = true"), encoding="utf-8"
    )
    assert env.run("run-once", "--json").exit_code == 0
    (alice_task,) = [t for t in env.tasks(ALICE.email) if "Fabrikam" in str(t["Subject"])]
    # Alice's contact of Dana: relsync wrote the managed categories; Alice adds "Owner: Bob".
    mailbox = env.fake.mailboxes[ALICE.email]
    item_id, dana = next((i, s) for i, s in mailbox.items("contacts") if s.fields["DisplayName"] == "Dana Dunn")
    assert {"Customer", "Value: Superior", "Potential: High"} <= set(dana.fields["Categories"])
    mailbox.update(item_id, Categories=(*dana.fields["Categories"], f"Owner: {BOB.email}"))

    assert env.run("run-once", "--json").exit_code == 0
    assert not [t for t in env.tasks(ALICE.email) if "Fabrikam" in str(t["Subject"])]
    (bob_task,) = [t for t in env.tasks(BOB.email) if "Fabrikam" in str(t["Subject"])]
    assert bob_task["DueDate"] == alice_task["DueDate"]
    rows = {r["name"]: r for r in map(json.loads, env.run("export", "relationships").output.splitlines())}
    assert rows["Fabrikam"]["owner"] == BOB.email and rows["Fabrikam"]["owner_mailbox"] == BOB.email
    # The choice shows on every contact of the relationship, in every mailbox, like the other categories.
    assert f"Owner: {BOB.email}" in mailbox.get(item_id).fields["Categories"]  # type: ignore[union-attr]
