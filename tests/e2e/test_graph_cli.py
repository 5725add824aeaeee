"""Microsoft Graph through the CLI: the same generated company synced over EWS and over Graph gives
the same store (compared through the exports; phones of kinds only EWS has are the one documented
difference), and mailboxes Graph refuses are one clear status line
each while the others sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from scheduler.cli import FakeGraphEndpoint, cli, start_fake_graph, write_fake_config
from tests.e2e.graphparity import assert_same_store

SEED = 11
#: Keys that name rows of one store (ids, creation times), not what the store knows.
LOCAL_KEYS = {"id", "created_at"}


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def configure(
    path: Path, fake: FakeExchange, url: str, graph: FakeGraphEndpoint | None, mailboxes: list[str] | None = None
) -> Path:
    addresses = mailboxes or list(fake.mailboxes)
    write_fake_config(path, fake.url, fake.username, fake.password, addresses, fake.company.domain, graph=graph)
    text = path.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{url}"')
    # Only the sync is compared: no write-back (it would change the mailboxes between the runs), no tasks.
    text = text.replace('level = "INFO"', 'level = "WARNING"')
    text += "\n[classification]\nwrite_back = false\n\n[followups]\nenabled = false\n"
    # Graph reads the calendar through calendarView, which has a window: wide enough here for every
    # generated meeting (over EWS single meetings are read whatever their date; see the README).
    text += "\n[sync]\ncalendar_days_back = 2000\ncalendar_days_ahead = 1000\n"
    path.write_text(text, encoding="utf-8")
    assert run(path, "db", "upgrade").exit_code == 0
    return path


def exported(config: Path, what: str) -> list[dict[str, Any]]:
    result = run(config, "export", what, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return [{k: v for k, v in row.items() if k not in LOCAL_KEYS} for row in rows]


@pytest.fixture
def fakes(ews_schema: etree.XMLSchema) -> Iterator[tuple[FakeExchange, FakeExchange, FakeGraphEndpoint]]:
    """Two fakes of the same generated company: one read over EWS, one over Graph."""
    with (
        FakeExchange(build_company(SEED, 3, "tiny"), validate=ews_schema) as over_ews,
        FakeExchange(build_company(SEED, 3, "tiny"), validate=ews_schema) as over_graph,
    ):
        graph = start_fake_graph(over_graph)
        try:
            yield over_ews, over_graph, graph
        finally:
            for stop in graph.stoppers:
                stop()
            close_connections()
        assert over_ews.violations == [] and over_graph.violations == []


def test_the_same_company_over_ews_and_over_graph_gives_the_same_store(
    fakes: tuple[FakeExchange, FakeExchange, FakeGraphEndpoint], tmp_path: Path, db_url: str
) -> None:
    over_ews, over_graph, graph = fakes
    ews_config = configure(tmp_path / "ews" / "relsync.toml", over_ews, f"sqlite:///{tmp_path / 'ews.db'}", None)
    graph_config = configure(tmp_path / "graph" / "relsync.toml", over_graph, db_url, graph)
    for config in (ews_config, graph_config):
        result = run(config, "run-once", "--json")
        assert result.exit_code == 0, result.output
        assert all(m["ok"] for m in json.loads(result.stdout))
    assert over_graph.stats.operations["SyncFolderItems"] == 0  # the Graph run never used EWS
    for what in ("people", "organizations", "interactions"):
        ews_rows, graph_rows = exported(ews_config, what), exported(graph_config, what)
        assert len(ews_rows) > 10
        assert_same_store(what, ews_rows, graph_rows)


def test_mailboxes_graph_refuses_are_one_status_line_each_and_the_others_sync(
    ews_schema: etree.XMLSchema, tmp_path: Path
) -> None:
    with FakeExchange(build_company(SEED, 3, "tiny"), validate=ews_schema) as fake:
        allowed, outside = list(fake.mailboxes)[:2], list(fake.mailboxes)[2]
        graph = start_fake_graph(fake, scope=set(allowed))
        try:
            gone = "left.the.company@" + fake.company.domain
            config = configure(
                tmp_path / "relsync.toml",
                fake,
                f"sqlite:///{tmp_path / 's.db'}",
                graph,
                mailboxes=[*allowed, outside, gone],
            )
            result = run(config, "run-once", "--json")
            assert result.exit_code != 0
            by = {m["mailbox"]: m for m in json.loads(result.stdout)}
            assert by[allowed[0]]["ok"] and by[allowed[1]]["ok"]
            assert not by[outside]["ok"] and not by[gone]["ok"]
            status = run(config, "status", "--json")
            rows = {m["mailbox"]: m for m in json.loads(status.stdout)}
        finally:
            for stop in graph.stoppers:
                stop()
    refused, missing = rows[outside]["attention_reason"], rows[gone]["attention_reason"]
    assert "scope" in refused and "\n" not in refused
    assert "exist" in missing and "\n" not in missing
    assert rows[allowed[0]]["state"] == "ok" and rows[outside]["state"] == rows[gone]["state"] == "needs attention"


def test_graph_with_a_certificate_from_the_config_syncs_and_a_wrong_one_is_one_clear_line(
    ews_schema: etree.XMLSchema, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography import x509

    from connector.fake.graph.server import FakeGraph
    from connector.fake.tokens import FakeTokenService, sha1_thumbprint
    from scheduler.cli import main
    from tests.e2e.test_oauth import _certificate

    client_id = "66666666-7777-8888-9999-000000000000"
    pem_file, cert_pem = _certificate(tmp_path)
    with FakeExchange(build_company(SEED, 2, "tiny"), validate=ews_schema) as fake:
        idp = FakeTokenService(exchange=fake, clients={}).start()
        graph = FakeGraph(fake).start()
        try:
            idp.certificates[client_id] = x509.load_pem_x509_certificate(cert_pem)
            ca = tmp_path / "ca.pem"
            ca.write_bytes(Path(str(idp.ca_file)).read_bytes() + Path(str(graph.ca_file)).read_bytes())
            config = tmp_path / "relsync.toml"
            config.write_text(
                f"""
[store]
url = "sqlite:///{tmp_path / "store.db"}"

[graph]
base_url = "{graph.base_url}"
tenant_id = "{idp.tenant}"
client_id = "{client_id}"
certificate_file = "{pem_file.name}"
certificate_thumbprint = "{sha1_thumbprint(cert_pem)}"
authority_host = "{idp.authority_host}"
ca_bundle = "ca.pem"

[mailboxes]
addresses = {json.dumps(list(fake.mailboxes))}
backend = "graph"

[organisation]
internal_domains = ["{fake.company.domain}"]

[logging]
level = "WARNING"
""",
                encoding="utf-8",
            )
            assert run(config, "db", "upgrade").exit_code == 0
            result = run(config, "run-once", "--json")
            assert result.exit_code == 0, result.output
            assert all(m["ok"] for m in json.loads(result.stdout))
            assert idp.token_requests == 1 and sum(graph.stats.operations.values()) > 0
            # Another app's key under this thumbprint: the token service refuses it; one line says so.
            (tmp_path / "other").mkdir()
            other, _ = _certificate(tmp_path / "other")
            pem_file.write_bytes(other.read_bytes())
            with pytest.raises(SystemExit) as info:
                main(["--config", str(config), "run-once"])
        finally:
            graph.stop()
            idp.stop()
    assert info.value.code == 4
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert "invalid_client" in last and "AADSTS700027" in last and "Traceback" not in err
    assert "PRIVATE KEY" not in err
