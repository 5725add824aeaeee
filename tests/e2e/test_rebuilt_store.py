"""A store lost and rebuilt against mailboxes relsync has written to before (issue 13: 23 tasks became 46).

Through the real CLI against the fake Exchange, as an admin would recover: `run-once`, the store is
dropped, `db upgrade`, `resync`, `import transactions` (as the demo does), `run-once`. The mailboxes
then hold exactly the tasks, categories and master category lists they held before, and a second
`run-once` writes nothing (the fake's `/_fake/stats` write counter).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.company.sales import sales_csv
from connector.fake.ews.server import FakeExchange
from scheduler.cli import cli, write_fake_config


class Env:
    def __init__(self, fake: FakeExchange, config: Path, url: str, sales: Path) -> None:
        self.fake, self.config, self.url, self.sales = fake, config, url, sales

    def run(self, *args: str) -> Result:
        result = CliRunner().invoke(cli, ["--config", str(self.config), *args], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        return result

    def recover(self) -> None:
        """What the README's demo does to fill a store: sync, import the sales history, run the main job."""
        self.run("db", "upgrade")
        self.run("resync", "--json")
        self.run("import", "transactions", str(self.sales), "--json")

    def writes(self) -> dict[str, int]:
        """The fake's write counters by kind (create, update, delete) and in total."""
        with urllib.request.urlopen(f"{self.fake.base_url}/_fake/stats", timeout=10) as answer:
            stats = json.load(answer)
        return {**stats["writes"], "total": int(stats["writes_total"])}

    def outlook(self) -> dict[str, Any]:
        """Every task (item id -> subject, due day, status) and contact's categories, per mailbox."""
        out: dict[str, Any] = {}
        for address, mb in self.fake.mailboxes.items():
            out[address] = {
                "tasks": {
                    i: (s.fields.get("Subject"), s.fields.get("DueDate"), s.fields.get("Status"))
                    for i, s in mb.items("tasks")
                },
                "contacts": {i: tuple(s.fields.get("Categories") or ()) for i, s in mb.items("contacts")},
            }
        return out

    def drop_store(self) -> None:
        """The store is lost: every table (and for PostgreSQL every type) is gone."""
        if self.url.startswith("sqlite"):
            Path(self.url.removeprefix("sqlite:///")).unlink()
            return
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        finally:
            engine.dispose()

    def scalar(self, sql: str) -> Any:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql)).scalar()
        finally:
            engine.dispose()


@pytest.fixture
def env(tmp_path: Path, ews_schema: etree.XMLSchema, db_url: str) -> Iterator[Env]:
    company = build_company(seed=13, mailboxes=2, scale="tiny")
    with FakeExchange(company, validate=ews_schema) as fake:
        config = tmp_path / "relsync.toml"
        write_fake_config(
            config, fake.url, fake.username, fake.password, [m.email for m in company.mailboxes()], company.domain
        )
        text = config.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{db_url}"')
        config.write_text(text.replace('level = "INFO"', 'level = "WARNING"'), encoding="utf-8")
        sales = tmp_path / "sales.csv"
        sales.write_text(sales_csv(company), encoding="utf-8")
        yield Env(fake, config, db_url, sales)
        close_connections()
    assert fake.violations == []


def test_a_rebuilt_store_adopts_what_relsync_wrote_and_writes_nothing_twice(env: Env) -> None:
    env.recover()
    env.run("run-once", "--json")
    before = env.outlook()
    ours = env.scalar("SELECT count(*) FROM follow_ups WHERE status = 'open' AND created_in_exchange_at IS NOT NULL")
    assert ours > 0, "the company should give some relationships follow-ups"

    env.drop_store()
    created = env.writes().get("create", 0)
    env.recover()
    env.run("run-once", "--json")
    assert env.outlook() == before  # exactly the tasks (same items) and categories it held before
    # Nothing was created: every task was adopted. (Categories are written meanwhile: `resync` classifies
    # before the sales history is imported, as on the first install, and `run-once` puts them back.)
    assert env.writes().get("create", 0) == created
    adopted = env.scalar("SELECT count(*) FROM follow_ups WHERE status = 'open' AND created_in_exchange_at IS NOT NULL")
    assert adopted == ours
    assert env.scalar("SELECT count(*) FROM follow_ups WHERE pending_write IS NOT NULL") == 0

    writes = env.writes()
    env.run("run-once", "--json")
    assert env.writes() == writes  # a second run writes nothing: no task, category or master list
    assert env.outlook() == before
