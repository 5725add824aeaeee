"""One contract, two backends: every test here runs against EWS and against Microsoft Graph, each with
the store on SQLite and on PostgreSQL (``db_url``; the EWS side with the fast page reader, the default).

``make_world`` builds a world the test cannot tell apart by backend (see contractenv.py): one FakeExchange
holding the mailboxes, one fake Entra token service, and either exchangelib over EWS (OAuth, as Exchange
Online) or the Graph client against a FakeGraph serving the *same* mailboxes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.server import FakeGraph
from connector.fake.tokens import FakeTokenService
from mapping.store.migrate import upgrade
from mapping.store.store import Store
from tests.contract.contractenv import CLIENT_ID, SECRET, World, WorldFactory
from tests.e2e.syncenv import HandCompany


@pytest.fixture(params=["ews", "graph"])
def make_world(
    request: pytest.FixtureRequest, ews_schema: etree.XMLSchema, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WorldFactory]:
    """``make_world(company, url=...)``: the same company behind EWS or behind Graph (the test's param),
    its store at ``url`` or else on the test's database backend."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake EWS endpoint is plain http
    worlds: list[World] = []

    def make(company: Any = None, *, url: str | None = None) -> World:
        ex = FakeExchange(company or HandCompany(), validate=ews_schema).start()
        idp = FakeTokenService(exchange=ex, clients={CLIENT_ID: SECRET}).start()
        graph = FakeGraph(ex).start() if request.param == "graph" else None
        db = url or db_url
        upgrade(db)
        world = World(request.param, ex, idp, Store(db), graph)
        worlds.append(world)
        return world

    yield make
    close_connections()
    for world in worlds:
        for close in world.closers:
            close()
        if world.graph is not None:
            world.graph.stop()
        world.idp.stop()
        world.ex.stop()
        world.store.dispose()
    assert [v for w in worlds for v in w.ex.violations] == [], "the fake sent responses that fail the EWS schema"
    for world in worlds:
        if world.graph is None:
            continue
        # What every Graph test also shows: the mailboxes were read over Graph and never over EWS,
        # every call asked for immutable ids, and no mailbox saw more than 4 requests at once.
        stats = world.graph.stats
        assert sum(stats.operations.values()) > 0 and world.ex.stats.operations["SyncFolderItems"] == 0
        assert sum(stats.missing_immutable_id.values()) == 0
        assert max(stats.max_concurrent.values(), default=0) <= 4
