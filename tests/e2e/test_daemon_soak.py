"""Soak: the daemon (in this process, OAuth, PostgreSQL) runs hundreds of mailbox syncs while the fake
throws busy faults, 503s, dropped connections, expired tokens and refused sync states at it, and new
e-mails keep arriving. Afterwards every mailbox has converged: every new e-mail is in the store once,
and the store holds exactly what a fresh, fault-free sync of the same mailboxes builds.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.company.generator import build_company
from connector.fake.company.names import OWN_DOMAIN
from connector.fake.ews.server import FakeExchange
from connector.fake.model import Mailbox
from connector.fake.tokens import FakeTokenService
from mapping.store.migrate import upgrade
from scheduler.config import load_config
from scheduler.daemon import Daemon
from scheduler.jobs import run_sync
from tests.e2e.daemonenv import MICRO, query, store_contents
from tests.e2e.syncenv import DANA, message

pytestmark = pytest.mark.slow

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "fake-secret-soak"
#: The soak lasts until this many folder syncs (8 mailboxes x 2 folders: 20 syncs of each mailbox)
#: have run under faults, however fast the machine is; MAX_SECONDS only stops a hung run.
SOAK_SYNCS = 320
SOAK_FAULTS = 20  # faults that fired (the invalid sync states are counted by the operation)
SOAK_MAILS = 40  # new e-mails delivered during the soak
MAX_SECONDS = 240
MAILBOXES = 8
FAULTS = ("server_busy", "http_503", "drop", "token_expired", "invalid_sync_state")


def _config(path: Path, ex: FakeExchange, idp: FakeTokenService, url: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "client-secret").write_text(SECRET + "\n", encoding="utf-8")
    addresses = ", ".join(f'"{a}"' for a in ex.mailboxes)
    path.write_text(
        f"""
[store]
url = "{url}"

[exchange]
endpoint = "{ex.url}"
server_version = "ExchangeOnline"
auth = "oauth"
timeout_seconds = 10

[exchange.oauth]
tenant_id = "{idp.tenant}"
client_id = "{CLIENT_ID}"
client_secret_file = "client-secret"
authority_host = "{idp.authority_host}"
ca_bundle = "{idp.ca_file}"

[mailboxes]
addresses = [{addresses}]

[organisation]
internal_domains = ["{OWN_DOMAIN}"]

[logging]
level = "WARNING"

[sync]
folders = ["contacts", "inbox"]
interval_minutes = 0.01

[daemon]
worker_id = "soak"
jitter_seconds = 0.3
workers = 4
lease_seconds = 5
backoff_base_seconds = 0.2
backoff_max_seconds = 1
attention_after_failures = 4
slow_interval_minutes = 0.02
classify_interval_minutes = 0.1
metrics_listen = "127.0.0.1:0"
""",
        encoding="utf-8",
    )
    return path


def test_soak_with_faults_every_mailbox_converges_with_nothing_lost_or_twice(
    tmp_path: Path, pg_url: str, ews_schema: etree.XMLSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake EWS endpoint is plain http
    rng = random.Random(20261123)
    ex = FakeExchange(build_company(seed=91, mailboxes=MAILBOXES, scale=MICRO), validate=ews_schema).start()
    idp = FakeTokenService(exchange=ex, clients={CLIENT_ID: SECRET}).start()
    addresses = list(ex.mailboxes)
    upgrade(pg_url)
    daemon = Daemon(load_config(_config(tmp_path / "relsync.toml", ex, idp, pg_url)), seed=1)
    thread = threading.Thread(target=daemon.run, name="soak-daemon")
    added: dict[str, str] = {}  # Message-ID -> mailbox
    try:
        thread.start()
        deadline = time.monotonic() + MAX_SECONDS
        n = 0
        # Until enough syncs ran under enough faults and new mail: a faster sync must not end the soak
        # before the faults had their turn (the count of syncs alone was reached with 16 fired).
        while (
            ex.stats.operations["SyncFolderItems"] < SOAK_SYNCS
            or sum(ex.stats.faults.values()) < SOAK_FAULTS
            or len(added) < SOAK_MAILS
            or set(ex.stats.faults) != set(FAULTS) - {"invalid_sync_state"}
        ) and time.monotonic() < deadline:
            n += 1
            # A new fault every 0.4 s while few are pending (a mailbox on the slow schedule would let them pile up).
            if n % 4 == 0 and len(ex.faults.pending()) < 3:
                kind = rng.choice(FAULTS)
                op = "SyncFolderItems" if kind == "invalid_sync_state" else rng.choice([None, "SyncFolderItems"])
                ex.faults.add(kind, operation=op, mailbox=rng.choice(addresses), back_off_ms=200)
            if n % 3 == 0:
                to = rng.choice(addresses)
                spec = message(10_000 + n, f"Soak order {n}", DANA, [Mailbox("Staff", to, mailbox_type="Mailbox")])
                ex.mailboxes[to].create("inbox", spec)
                added[spec.fields["InternetMessageId"]] = to
            time.sleep(0.1)
        ex.faults.clear()
        calm = query(pg_url, "SELECT CURRENT_TIMESTAMP")[0][0]

        def converged() -> bool:
            found = {mid for (mid,) in query(pg_url, "SELECT internet_message_id FROM interactions")}
            fresh = query(pg_url, "SELECT count(*) FROM staff_mailboxes WHERE last_success_at > :t", t=calm)[0][0]
            return set(added) <= found and fresh == MAILBOXES

        limit = time.monotonic() + 60
        while not converged():
            assert time.monotonic() < limit, "the mailboxes did not converge within 60 s of the faults stopping"
            assert thread.is_alive(), "the daemon died"
            time.sleep(0.3)
    finally:
        daemon.stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the daemon did not stop within 30 s"
    syncs = ex.stats.operations["SyncFolderItems"]
    fired = dict(ex.stats.faults)

    # Nothing lost, nothing twice: each new e-mail once, seen by its mailbox.
    rows = query(
        pg_url,
        "SELECT i.internet_message_id, m.address FROM interactions i "
        "JOIN interaction_viewers v ON v.interaction_id = i.id "
        "JOIN staff_mailboxes m ON m.id = v.mailbox_id WHERE i.subject LIKE 'Soak order %'",
    )
    assert sorted(rows) == sorted(added.items())
    daemon_store = store_contents(pg_url)

    # And exactly what a fresh sync without faults builds.
    ref_url = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(ref_url)
    reports = run_sync(load_config(_config(tmp_path / "ref" / "relsync.toml", ex, idp, ref_url)))
    close_connections()
    idp.stop()
    ex.stop()
    assert all(r.ok for r in reports)
    assert daemon_store == store_contents(ref_url)
    assert syncs >= SOAK_SYNCS, f"only {syncs} folder syncs in {MAX_SECONDS} s"
    assert set(fired) == set(FAULTS) - {"invalid_sync_state"}, fired  # that one is counted by the operation
    assert len(added) >= SOAK_MAILS and sum(fired.values()) >= SOAK_FAULTS
    assert ex.violations == []
