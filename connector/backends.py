"""Which backend reaches which mailbox: EWS for Exchange Server, Microsoft Graph for Exchange Online.

A hybrid organisation uses both at once. :class:`Backends` holds one shared connection per backend
(one exchangelib configuration, one Graph client: each with its own connection pool and throttling
clock) and hands out, per mailbox, the sync engine and the :class:`~connector.writer.MailboxWriter`
of the backend the configuration names for it. Jobs never ask which backend it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from connector.engine import MailboxReport, MailboxSync, Progress, SyncSettings
from connector.ews.client import EwsConnection
from connector.ews.reader import EwsMailboxSync
from connector.ews.writer import EwsWriter
from connector.writer import MailboxWriter
from mapping.changes import FolderName, SyncRules
from mapping.store.store import Store

if TYPE_CHECKING:  # imported where used: an EWS-only deployment never loads the Graph backend
    from connector.graph.client import GraphClient

BackendName = Literal["ews", "graph"]


class Backends:
    """The connections of a deployment and the backend of each mailbox."""

    def __init__(
        self,
        ews: EwsConnection | None = None,
        graph: GraphClient | None = None,
        backend_of: Callable[[str], BackendName] | None = None,
    ) -> None:
        """``backend_of`` names each mailbox's backend (default: EWS for every mailbox)."""
        self.ews = ews
        self.graph = graph
        self._backend_of = backend_of or (lambda _address: "ews")

    def backend(self, address: str) -> BackendName:
        return self._backend_of(address)

    def _ews(self) -> EwsConnection:
        if self.ews is None:
            raise ValueError("a mailbox is reached over EWS but no EWS connection is configured")
        return self.ews

    def _graph(self) -> GraphClient:
        if self.graph is None:
            raise ValueError("a mailbox is reached over Graph but no Graph client is configured")
        return self.graph

    def writer(self, address: str) -> MailboxWriter:
        """What writes categories and tasks into this mailbox."""
        if self.backend(address) == "graph":
            from connector.graph.writer import GraphWriter

            return GraphWriter(self._graph(), address)
        return EwsWriter(address, self._ews().account)

    def engine(
        self,
        store: Store,
        rules: SyncRules,
        settings: SyncSettings,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> RoutingSync:
        """A sync engine for every mailbox: each is synced by its own backend's engine."""
        return RoutingSync(self, store, rules, settings, sleep, should_stop)

    def forget(self, address: str) -> None:
        """Drop what is cached for a mailbox (its EWS account after a failure)."""
        forget = getattr(self.ews, "forget", None)
        if forget is not None:
            forget(address)

    def close(self) -> None:
        if self.ews is not None:
            self.ews.close()
        if self.graph is not None:
            self.graph.close()


class RoutingSync:
    """A :class:`~connector.engine.MailboxSource` handing each mailbox to its backend's engine.

    ``should_stop`` is read at every call, so a caller may swap it (the lease holder does)."""

    def __init__(
        self,
        backends: Backends,
        store: Store,
        rules: SyncRules,
        settings: SyncSettings,
        sleep: Callable[[float], None],
        should_stop: Callable[[], bool],
    ) -> None:
        self.backends = backends
        self.store = store
        self.rules = rules
        self.settings = settings
        self.should_stop = should_stop
        self._sleep = sleep
        self._engines: dict[BackendName, MailboxSync] = {}

    def _engine(self, kind: BackendName) -> MailboxSync:
        engine = self._engines.get(kind)
        if engine is None:
            stop = self._stop
            if kind == "graph":
                from connector.graph.reader import GraphMailboxSync

                # Graph's waits (Retry-After, back-off) happen inside its client.
                engine = GraphMailboxSync(
                    self.backends._graph(), self.store, self.rules, self.settings, should_stop=stop
                )
            else:
                engine = EwsMailboxSync(
                    self.backends._ews(), self.store, self.rules, self.settings, sleep=self._sleep, should_stop=stop
                )
            self._engines[kind] = engine
        return engine

    def _stop(self) -> bool:
        return self.should_stop()

    def sync(
        self, address: str, folders: list[FolderName], *, full: bool = False, progress: Progress | None = None
    ) -> MailboxReport:
        return self._engine(self.backends.backend(address)).sync(address, folders, full=full, progress=progress)

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
