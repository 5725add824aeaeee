"""The EWS backend: one pinned, shared connection to Exchange and an exchangelib Account per mailbox.

The account factory pins the endpoint and server version (no autodiscover, no version probe) and
passes ``access_type`` explicitly, because exchangelib's default silently depends on how the
credentials were handed over. All mailboxes share one exchangelib ``Protocol`` (one connection pool
and one back-off clock), which is what Exchange's throttling budget is counted against anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from exchangelib import BASIC, DELEGATE, IMPERSONATION, NTLM, UTC, Account, Configuration, Credentials
from exchangelib.protocol import BaseProtocol, FailFast, NoVerifyHTTPAdapter, Protocol
from exchangelib.version import Build, Version

#: The build each pinned server version is presented as; exchangelib derives the API version from it.
SERVER_BUILDS: dict[str, Build] = {
    "Exchange2016": Build(15, 1, 2507, 6),
    "Exchange2019": Build(15, 2, 1544, 4),
    "ExchangeSE": Build(15, 2, 2562, 17),
    "ExchangeOnline": Build(15, 20, 0, 0),
}

FOLDER_ATTRIBUTES = {
    "contacts": "contacts",
    "inbox": "inbox",
    "sentitems": "sent",
    "calendar": "calendar",
    "tasks": "tasks",
}


@dataclass(frozen=True)
class EwsSettings:
    """What the connector needs to reach Exchange over EWS (built from the config by the scheduler)."""

    endpoint: str
    username: str
    password: str = field(repr=False)
    auth: Literal["ntlm", "basic"] = "ntlm"
    access_type: Literal["impersonation", "delegate"] = "impersonation"
    server_version: str = "Exchange2016"
    timeout_seconds: float = 120.0
    max_connections: int = 4
    verify_tls: bool = True


class EwsConnection:
    """A pinned configuration shared by every mailbox account."""

    def __init__(self, settings: EwsSettings) -> None:
        self.settings = settings
        if not settings.verify_tls:
            BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
        BaseProtocol.TIMEOUT = int(settings.timeout_seconds)
        self._config = Configuration(
            service_endpoint=settings.endpoint,
            credentials=Credentials(settings.username, settings.password),
            auth_type=NTLM if settings.auth == "ntlm" else BASIC,
            version=Version(build=SERVER_BUILDS[settings.server_version]),
            retry_policy=FailFast(),
            max_connections=settings.max_connections,
        )

    def account(self, address: str) -> Account:
        """An exchangelib Account for one mailbox; no request is sent until it is used."""
        return Account(
            primary_smtp_address=address,
            config=self._config,
            autodiscover=False,
            access_type=IMPERSONATION if self.settings.access_type == "impersonation" else DELEGATE,
            default_timezone=UTC,
        )

    def close(self) -> None:
        """Close the pooled HTTP sessions (the Protocol is cached per endpoint and credentials)."""
        Protocol(config=self._config).close()
