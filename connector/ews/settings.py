"""What the EWS backend needs to reach Exchange (mirrors :mod:`connector.graph.settings`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from exchangelib.version import Build

from connector.auth import OAuthSettings

#: The build each pinned server version is presented as; exchangelib derives the API version from it.
SERVER_BUILDS: dict[str, Build] = {
    "Exchange2016": Build(15, 1, 2507, 6),
    "Exchange2019": Build(15, 2, 1544, 4),
    "ExchangeSE": Build(15, 2, 2562, 17),
    "ExchangeOnline": Build(15, 20, 0, 0),
}


@dataclass(frozen=True)
class EwsSettings:
    """What the connector needs to reach Exchange over EWS (built from the config by the scheduler).

    ``auth="oauth"`` (Exchange Online over EWS) takes app-only tokens from ``oauth`` and needs no
    username or password; app-only access reaches other mailboxes only through impersonation.
    """

    endpoint: str
    username: str = ""
    password: str = field(default="", repr=False)
    auth: Literal["ntlm", "basic", "oauth"] = "ntlm"
    access_type: Literal["impersonation", "delegate"] = "impersonation"
    server_version: str = "Exchange2016"
    timeout_seconds: float = 120.0
    max_connections: int = 4
    verify_tls: bool = True
    oauth: OAuthSettings | None = None

    def __post_init__(self) -> None:
        if self.auth == "oauth" and self.oauth is None:
            raise ValueError("auth='oauth' needs oauth settings")
