"""The EWS backend: one pinned, shared connection to Exchange and an exchangelib Account per mailbox.

The account factory pins the endpoint and server version (no autodiscover, no version probe) and
passes ``access_type`` explicitly, because exchangelib's default silently depends on how the
credentials were handed over. All mailboxes share one exchangelib ``Protocol`` (one connection pool
and one back-off clock), which is what Exchange's throttling budget is counted against anyway.
"""

from __future__ import annotations

from exchangelib import BASIC, DELEGATE, IMPERSONATION, NTLM, OAUTH2, UTC, Account, Configuration, Credentials
from exchangelib.protocol import BaseProtocol, FailFast, NoVerifyHTTPAdapter, Protocol
from exchangelib.version import Version

from connector.auth import TokenSource
from connector.ews.auth import MsalCredentials, RenewOn401
from connector.ews.settings import SERVER_BUILDS, EwsSettings

FOLDER_ATTRIBUTES = {
    "contacts": "contacts",
    "inbox": "inbox",
    "sentitems": "sent",
    "calendar": "calendar",
    "tasks": "tasks",
}


class EwsConnection:
    """A pinned configuration shared by every mailbox account."""

    def __init__(self, settings: EwsSettings, token_source: TokenSource | None = None) -> None:
        """With ``auth="oauth"`` this fetches the first access token (or takes it from
        ``token_source``'s cache), so a refused app fails here, before any mailbox is touched."""
        self.settings = settings
        if not settings.verify_tls:
            BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
        BaseProtocol.TIMEOUT = int(settings.timeout_seconds)
        credentials: Credentials | MsalCredentials
        if settings.auth == "oauth":
            assert settings.oauth is not None  # checked by EwsSettings
            credentials = MsalCredentials(token_source or TokenSource(settings.oauth))
            auth_type, retry_policy = OAUTH2, RenewOn401(credentials)
        else:
            credentials = Credentials(settings.username, settings.password)
            auth_type, retry_policy = (NTLM if settings.auth == "ntlm" else BASIC), FailFast()
        self.credentials = credentials
        self._config = Configuration(
            service_endpoint=settings.endpoint,
            credentials=credentials,
            auth_type=auth_type,
            version=Version(build=SERVER_BUILDS[settings.server_version]),
            retry_policy=retry_policy,
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
