"""Fixtures for the end-to-end sync tests: a schema-validating fake Exchange and a migrated store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from exchangelib.protocol import close_connections
from lxml import etree

from connector.fake.ews.server import FakeExchange
from mapping.changes import SyncRules
from mapping.store.migrate import upgrade
from mapping.store.store import Store
from tests.e2e.syncenv import DOMAIN, EnvFactory, HandCompany, SyncEnv, connection_for


@pytest.fixture
def make_env(ews_schema: etree.XMLSchema, sqlite_url: str) -> Iterator[EnvFactory]:
    """``make_env(company, url=..., rules=...)``: start a fake (every response schema-checked) and a store.

    At teardown no response of the fake may have failed the EWS schema.
    """
    envs: list[SyncEnv] = []

    def make(company: Any = None, *, url: str | None = None, rules: SyncRules | None = None) -> SyncEnv:
        ex = FakeExchange(company or HandCompany(), validate=ews_schema).start()
        db = url or sqlite_url
        upgrade(db)
        env = SyncEnv(ex, Store(db), connection_for(ex), rules or SyncRules(internal_domains=frozenset({DOMAIN})))
        envs.append(env)
        return env

    yield make
    close_connections()
    for env in envs:
        env.connection.close()
        env.ex.stop()
        env.store.dispose()
    violations = [v for env in envs for v in env.ex.violations]
    assert violations == [], "the fake sent responses that fail the EWS schema"
