"""The contract suite's world: one contract, two backends (see conftest.py for the fixture).

``backend`` builds a world the test cannot tell apart by backend: one FakeExchange holding the mailboxes,
one fake Entra token service, and either exchangelib over EWS (OAuth, as Exchange Online) or the Graph
client against a FakeGraph serving the *same* mailboxes. Faults are injected on whichever server the
backend talks to, by the same names. Waits are recorded, not slept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from connector.auth import OAuthSettings
from connector.backends import Backends
from connector.engine import MailboxReport, MailboxSource, SyncSettings
from connector.ews.client import EwsConnection
from connector.ews.reader import EwsMailboxSync
from connector.ews.settings import EwsSettings
from connector.ews.writer import EwsWriter
from connector.fake.ews.server import FakeExchange
from connector.fake.graph.server import FakeGraph
from connector.fake.tokens import FakeTokenService
from connector.graph.client import GraphClient
from connector.graph.reader import GraphMailboxSync
from connector.graph.settings import GraphSettings
from connector.graph.writer import GraphWriter
from connector.writer import MailboxWriter
from mapping.changes import FolderName, SyncRules
from mapping.store.store import Store
from tests.e2e.syncenv import ALICE, ALL_FOLDERS, DOMAIN

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "contract-secret-Zq8~x"


@dataclass
class World:
    """A fake Exchange (and Graph), a token service, a store, and the backend's engine between them."""

    name: str
    ex: FakeExchange
    idp: FakeTokenService
    store: Store
    graph: FakeGraph | None = None
    waits: list[float] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)
    rules: SyncRules = field(default_factory=lambda: SyncRules(internal_domains=frozenset({DOMAIN})))

    def oauth(self, resource: str | None = None) -> OAuthSettings:
        extra: dict[str, Any] = {"resource": resource} if resource else {}
        return OAuthSettings(
            tenant_id=self.idp.tenant,
            client_id=CLIENT_ID,
            client_secret=SECRET,
            authority_host=self.idp.authority_host,
            ca_bundle=self.idp.ca_file,
            **extra,
        )

    def engine(self, **settings: Any) -> MailboxSource:
        sync_settings = SyncSettings(**{"retry_base_seconds": 0.01, **settings})
        if self.graph is None:
            connection = EwsConnection(
                EwsSettings(
                    endpoint=self.ex.url,
                    auth="oauth",
                    oauth=self.oauth(),
                    server_version="ExchangeOnline",
                    timeout_seconds=10,
                )
            )
            self.closers.append(connection.close)
            return EwsMailboxSync(connection, self.store, self.rules, sync_settings, sleep=self.waits.append)
        graph_settings = GraphSettings(
            base_url=self.graph.base_url,
            oauth=self.oauth("https://graph.microsoft.com"),
            ca_bundle=self.graph.ca_file,
            timeout_seconds=10,
            page_size=min(settings.get("page_size", 100), 1000),
            retry_base_seconds=0.01,
            max_attempts=settings.get("max_attempts", 6),
        )
        client = GraphClient(graph_settings, sleep=self.waits.append)
        self.closers.append(client.close)
        return GraphMailboxSync(client, self.store, self.rules, sync_settings)

    def writer(self, address: str = ALICE.email) -> MailboxWriter:
        """What writes into the mailbox over this world's backend (the same connection the engine uses)."""
        if self.graph is None:
            connection = EwsConnection(
                EwsSettings(
                    endpoint=self.ex.url,
                    auth="oauth",
                    oauth=self.oauth(),
                    server_version="ExchangeOnline",
                    timeout_seconds=10,
                )
            )
            self.closers.append(connection.close)
            return EwsWriter(address, connection.account)
        client = GraphClient(
            GraphSettings(
                base_url=self.graph.base_url,
                oauth=self.oauth("https://graph.microsoft.com"),
                ca_bundle=self.graph.ca_file,
                timeout_seconds=10,
                retry_base_seconds=0.01,
            ),
            sleep=self.waits.append,
        )
        self.closers.append(client.close)
        return GraphWriter(client, address)

    def backends(self) -> Backends:
        """The jobs' view of this world: every mailbox over this world's backend."""
        if self.graph is None:
            connection = EwsConnection(
                EwsSettings(
                    endpoint=self.ex.url,
                    auth="oauth",
                    oauth=self.oauth(),
                    server_version="ExchangeOnline",
                    timeout_seconds=10,
                )
            )
            self.closers.append(connection.close)
            return Backends(ews=connection)
        client = GraphClient(
            GraphSettings(
                base_url=self.graph.base_url,
                oauth=self.oauth("https://graph.microsoft.com"),
                ca_bundle=self.graph.ca_file,
                timeout_seconds=10,
                retry_base_seconds=0.01,
            ),
            sleep=self.waits.append,
        )
        self.closers.append(client.close)
        return Backends(graph=client, backend_of=lambda _address: "graph")

    def writes(self) -> int:
        """Writes the server this backend talks to has taken (its ``/_fake/stats`` counter)."""
        stats = (self.ex if self.graph is None else self.graph).stats.to_json()
        return int(stats["writes_total"])

    def sync(
        self,
        address: str = ALICE.email,
        folders: Sequence[FolderName] | None = None,
        *,
        full: bool = False,
        **settings: Any,
    ) -> MailboxReport:
        return self.engine(**settings).sync(address, list(folders or ALL_FOLDERS), full=full)

    def fault(self, kind: str, **kw: Any) -> None:
        """Inject a fault by its common name on the server this backend talks to."""
        (self.ex if self.graph is None else self.graph).faults.add(kind, **kw)

    def mb(self, address: str = ALICE.email) -> Any:
        return self.ex.mailboxes[address]

    # --- reading the store with plain SQL ------------------------------------------------------
    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.store.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def count(self, table: str, where: str = "1=1", **params: Any) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar() or 0)

    def subjects(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT subject FROM interactions")}

    def live_links(self, folder: str, address: str = ALICE.email) -> int:
        return self.count(
            "item_links l JOIN staff_mailboxes m ON m.id = l.mailbox_id",
            "l.folder = :f AND m.address = :a AND l.deleted_at IS NULL",
            f=folder,
            a=address,
        )


WorldFactory = Callable[..., World]
