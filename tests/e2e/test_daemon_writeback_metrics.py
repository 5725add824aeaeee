"""The daemon's classification writes categories back to Exchange and counts them on ``/metrics``.

A real ``relsync daemon`` syncs a few mailboxes of the fake, classifies, and writes the managed
categories onto the contacts. ``relsync_exchange_writes_total{kind="categories"}`` per mailbox must
end up equal to the contacts the fake now holds with a managed category (each written once).
"""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from mapping.categories import managed_colours
from mapping.store.migrate import upgrade
from scheduler.config import load_config
from tests.e2e.daemonenv import MICRO, Daemons, wait_until, write_config

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _category_writes(port: int) -> dict[str, float]:
    """``relsync_exchange_writes_total{kind="categories"}`` by mailbox, as scraped."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:  # not listening yet
        return {}
    return {
        sample.labels["mailbox"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "relsync_exchange_writes_total" and sample.labels.get("kind") == "categories"
    }


def _contacts_with_managed_categories(server: FakeExchange, managed: set[str]) -> dict[str, float]:
    counts: dict[str, float] = {}
    for address, mailbox in server.mailboxes.items():
        n = 0
        for item_id, _ in mailbox.items("contacts"):
            spec = mailbox.get(item_id)
            if spec is not None and managed & set(spec.fields.get("Categories") or ()):
                n += 1
        if n:
            counts[address] = float(n)
    return counts


def test_category_write_back_by_the_daemon_is_counted_per_mailbox_on_metrics(tmp_path: Path) -> None:
    company = build_company(seed=29, mailboxes=3, scale=MICRO)
    server = FakeExchange(company).start()
    daemons = Daemons(tmp_path)
    url = f"sqlite:///{tmp_path / 'relsync.db'}"
    upgrade(url)
    port = _free_port()
    config = write_config(
        tmp_path / "solo.toml",
        server,
        company.domain,
        url,
        "solo",
        write_back=True,
        metrics_listen=f"127.0.0.1:{port}",
    )
    managed = set(managed_colours(load_config(config).classification))
    try:
        daemons.start("solo", config)
        wait_until(
            lambda: (
                bool(written := _category_writes(port))
                and written == _contacts_with_managed_categories(server, managed)
            ),
            daemons,
            120,
            "category writes on /metrics matching the contacts written in the fake",
        )
        assert sum(_category_writes(port).values()) > 0
        assert daemons.terminate("solo") == 0
    finally:
        daemons.close()
        server.stop()
