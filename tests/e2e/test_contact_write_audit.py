"""Every write relsync makes to an Outlook contact is in the audit log, over EWS and over Graph: the
classification categories, the possible-duplicate category (on and off), an erasure's removal of its
managed categories. Counted against the fake itself: each write gives a contact a new version, so the
versions a contact gained during relsync's runs (no one else writes meanwhile) equal the ``ok``
entries about its link, and a run that writes nothing audits nothing."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from connector.fake.graph.render import ews_id
from scheduler.cli import cli, start_fake_graph, write_fake_config

CONTACT_WRITES = {"categories", "duplicate_category", "erase_categories"}


class Env:
    def __init__(self, fake: FakeExchange, config: Path, url: str, backend: str) -> None:
        self.fake, self.config, self.url, self.backend = fake, config, url, backend

    def run(self, *args: str) -> Result:
        result = CliRunner().invoke(cli, ["--config", str(self.config), *args], catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
        return result

    def versions(self) -> dict[tuple[str, str], int]:
        """(mailbox, EWS item id) -> the contact's current version in the fake."""
        out = {}
        for address, mb in self.fake.mailboxes.items():
            fs = mb.folders["contacts"]
            for item_id, _ in mb.items("contacts"):
                current = fs.get(mb.resolve(item_id)[1].index)
                assert current is not None
                out[(address, item_id)] = current[1]
        return out

    def links(self) -> dict[tuple[str, str], int]:
        """(mailbox, EWS item id) -> the store's link id for each contact it knows."""
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT m.address, l.item_id, l.id FROM item_links l "
                        "JOIN staff_mailboxes m ON m.id = l.mailbox_id WHERE l.folder = 'contacts'"
                    )
                ).all()
        finally:
            engine.dispose()
        return {(a, ews_id(i) if self.backend == "graph" else i): link for a, i, link in rows}

    def contact_writes_audited(self) -> Counter[str]:
        lines = self.run("audit", "list", "--json", "--kind", "exchange_write").output.splitlines()
        entries = [json.loads(line) for line in lines]
        return Counter(e["subject"] for e in entries if e["action"] in CONTACT_WRITES and e["outcome"] == "ok")


@pytest.fixture(params=["ews", "graph"])
def env(request: pytest.FixtureRequest, tmp_path: Path, ews_schema: etree.XMLSchema, sqlite_url: str) -> Iterator[Env]:
    company = build_company(7, 2, "tiny")
    with FakeExchange(company, validate=ews_schema) as fake:
        graph = start_fake_graph(fake) if request.param == "graph" else None
        try:
            config = tmp_path / "relsync.toml"
            addresses = [m.email for m in company.mailboxes()]
            write_fake_config(config, fake.url, fake.username, fake.password, addresses, company.domain, graph=graph)
            text = config.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{sqlite_url}"')
            # Doubtful pairs go to review (and get the Outlook category); nothing is merged by rule.
            text += "\n[identity]\nmerge_threshold = 1.0\nreview_threshold = 0.6\n"
            config.write_text(text.replace('level = "INFO"', 'level = "WARNING"'), encoding="utf-8")
            e = Env(fake, config, sqlite_url, request.param)
            e.run("db", "upgrade")
            yield e
        finally:
            close_connections()
            for stop in graph.stoppers if graph else []:
                stop()
    assert fake.violations == []


def test_every_write_to_a_contact_is_audited(env: Env) -> None:
    written: Counter[tuple[str, str]] = Counter()

    def step(*args: str) -> int:
        before = env.versions()
        env.run(*args)
        after = env.versions()
        bumped = {k: after[k] - before[k] for k in before if k in after and after[k] != before[k]}
        written.update(bumped)
        return sum(bumped.values())

    assert step("run-once") > 0  # classification categories and possible-duplicate flags
    pairs = json.loads(env.run("duplicates", "list", "--json").output)
    assert pairs, "the generated company plants doubtful duplicates"
    assert step("duplicates", "reject", str(pairs[0]["id"])) == 0  # the store decides; Outlook follows
    assert step("run-once") > 0  # the rejected pair's category comes off
    links = env.links()
    engine = sa.create_engine(env.url)
    with engine.connect() as conn:
        person = conn.execute(
            sa.text("SELECT entity_id FROM item_links WHERE folder = 'contacts' AND entity_type = 'person' LIMIT 1")
        ).scalar_one()
    engine.dispose()
    assert step("privacy", "erase", str(person)) > 0  # its managed categories come off its contacts

    audited = env.contact_writes_audited()
    expected = Counter({f"link:{links[k]}": n for k, n in written.items()})
    assert audited == expected
    assert step("run-once") == 0 and env.contact_writes_audited() == audited  # nothing written, nothing audited
    assert env.run("audit", "verify").exit_code == 0
