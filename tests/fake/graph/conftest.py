"""Fixtures for the fake Graph suite: a FakeExchange over the tiny company and a FakeGraph serving it,
driven with plain ``requests`` over HTTPS (trusting the fake's certificate)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.server import FakeGraph
from connector.fake.model import CompanySource

from ..company import ALICE, TinyCompany

TOKEN = "static-test-token"
IMMUTABLE = 'IdType="ImmutableId"'
GraphFactory = Callable[..., tuple[FakeExchange, FakeGraph]]


@dataclass
class Client:
    """A Graph caller: the session, the token and the default Prefer header."""

    graph: FakeGraph
    token: str = TOKEN
    prefer: str = IMMUTABLE
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.session.verify = str(self.graph.ca_file)

    def headers(self, extra: dict[str, str] | None = None, page: int | None = None) -> dict[str, str]:
        prefer = self.prefer + (f", odata.maxpagesize={page}" if page else "")
        h = {"Authorization": f"Bearer {self.token}", "Prefer": prefer}
        h.update(extra or {})
        return h

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.graph.base_url}{path}"

    def call(
        self, method: str, path: str, *, page: int | None = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> requests.Response:
        return self.session.request(method, self.url(path), headers=self.headers(headers, page), timeout=30, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def user(self, address: str = ALICE.email) -> str:
        return f"/users/{address}"

    def delta(self, url: str, page: int | None = None, **kw: Any) -> tuple[list[dict[str, Any]], str, int]:
        """Follow a delta to its end: (every entry, the deltaLink, pages)."""
        entries: list[dict[str, Any]] = []
        pages = 0
        while True:
            r = self.get(url, page=page, **kw)
            assert r.status_code == 200, r.text
            body = r.json()
            pages += 1
            entries.extend(body["value"])
            if "@odata.deltaLink" in body:
                return entries, body["@odata.deltaLink"], pages
            url = body["@odata.nextLink"]
            kw.pop("params", None)  # links carry everything


@pytest.fixture
def make_graph() -> Iterator[GraphFactory]:
    started: list[Any] = []

    def make(company: CompanySource | None = None, **kw: Any) -> tuple[FakeExchange, FakeGraph]:
        ex = FakeExchange(company or TinyCompany()).start()
        started.append(ex)
        graph = FakeGraph(ex, tokens={TOKEN}, **kw).start()
        started.append(graph)
        return ex, graph

    yield make
    for server in reversed(started):
        server.stop()


@pytest.fixture
def served(make_graph: GraphFactory) -> tuple[FakeExchange, FakeGraph]:
    return make_graph()


@pytest.fixture
def exchange(served: tuple[FakeExchange, FakeGraph]) -> FakeExchange:
    return served[0]


@pytest.fixture
def graph(served: tuple[FakeExchange, FakeGraph]) -> FakeGraph:
    return served[1]


@pytest.fixture
def client(graph: FakeGraph) -> Iterator[Client]:
    c = Client(graph)
    yield c
    c.session.close()
