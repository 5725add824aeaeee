"""Fixtures for the fake Exchange suite: a running server whose every response is schema-checked."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from exchangelib import (
    BASIC,
    IMPERSONATION,
    UTC,
    Account,
    Build,
    Configuration,
    Credentials,
    FailFast,
    Version,
)
from exchangelib.protocol import BaseProtocol, RetryPolicy, close_connections
from lxml import etree

from connector.fake.ews.server import FakeExchange
from connector.fake.model import CompanySource

from . import extprops
from .company import ALICE, TinyCompany

extprops.register()

AccountFactory = Callable[..., Account]
ServerFactory = Callable[..., FakeExchange]


@pytest.fixture
def make_server(ews_schema: etree.XMLSchema) -> Iterator[ServerFactory]:
    """Start fake servers (validating every response); at teardown, no response may have been invalid."""
    servers: list[FakeExchange] = []

    def make(company: CompanySource | None = None, **kw: object) -> FakeExchange:
        ex = FakeExchange(company or TinyCompany(), validate=ews_schema, **kw)  # type: ignore[arg-type]
        servers.append(ex.start())
        return ex

    yield make
    close_connections()
    for ex in servers:
        ex.stop()
    violations = [v for ex in servers for v in ex.violations]
    assert violations == [], "the fake sent responses that fail the EWS schema"
    refused = [v for ex in servers for v in ex.request_violations]
    assert refused == [], "a request failed the EWS schema (tests that mean to send one clear the list)"


@pytest.fixture
def fake(make_server: ServerFactory) -> FakeExchange:
    return make_server()


def config_for(ex: FakeExchange, retry_policy: RetryPolicy | None = None, **kw: object) -> Configuration:
    return Configuration(
        service_endpoint=ex.url,
        credentials=Credentials(ex.username, ex.password),
        auth_type=BASIC,
        version=Version(build=Build(15, 1, 2507, 6)),
        retry_policy=retry_policy or FailFast(),
        **kw,
    )


@pytest.fixture
def account_for() -> Iterator[AccountFactory]:
    """Accounts on a fake server: ``account_for(server, email=..., retry_policy=...)``."""

    def make(ex: FakeExchange, email: str = ALICE.email, retry_policy: RetryPolicy | None = None) -> Account:
        return Account(email, config=config_for(ex, retry_policy), access_type=IMPERSONATION, default_timezone=UTC)

    yield make
    BaseProtocol.RETRY_WAIT = 10


@pytest.fixture
def alice(fake: FakeExchange, account_for: AccountFactory) -> Account:
    return account_for(fake)
