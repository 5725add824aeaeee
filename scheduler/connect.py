"""From the configuration to open connections: EWS settings, Graph settings, and the per-mailbox router.

Secrets are read here, at run time, from where the config says (environment variable or file), and
never logged (see :func:`scheduler.config.resolve_secret`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from connector.auth import OAuthSettings
from connector.backends import Backends
from connector.ews.client import EwsConnection
from connector.ews.settings import EwsSettings
from scheduler.config import ConfigError, ExchangeConfig, LoadedConfig, OAuthConfig, resolve_secret

if TYPE_CHECKING:  # imported where used: an EWS-only deployment never loads the Graph backend
    from connector.graph.client import GraphClient
    from connector.graph.settings import GraphSettings


def _exchange(loaded: LoadedConfig) -> ExchangeConfig:
    exchange = loaded.config.exchange
    if exchange is None:  # the config's validation requires it whenever a mailbox uses EWS
        raise ConfigError(loaded.path, [f"{loaded.path}: exchange: missing. Fix: add an [exchange] section"])
    return exchange


def ews_settings(loaded: LoadedConfig) -> EwsSettings:
    """The EWS connector's settings from ``[exchange]``, with the secret read from where the config says."""
    exchange = _exchange(loaded)
    if exchange.auth == "oauth":
        if exchange.endpoint.startswith("http://") and not os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"):
            raise ConfigError(
                loaded.path,
                [
                    f"{loaded.path}: exchange.endpoint: auth = 'oauth' sends access tokens, which must not travel "
                    "over plain http. Fix: use the https:// endpoint"
                ],
            )
        return EwsSettings(
            endpoint=exchange.endpoint,
            auth="oauth",
            oauth=oauth_settings(loaded),
            access_type=exchange.access_type,
            server_version=exchange.server_version,
            timeout_seconds=exchange.timeout_seconds,
            max_connections=exchange.max_connections,
            verify_tls=exchange.verify_tls,
        )
    assert exchange.username is not None  # guaranteed by the config's validation
    password = resolve_secret(
        exchange.password_env,
        exchange.password_file,
        "exchange.password_env" if exchange.password_env else "exchange.password_file",
    )
    return EwsSettings(
        endpoint=exchange.endpoint,
        username=exchange.username,
        password=password,
        auth=exchange.auth,
        access_type=exchange.access_type,
        server_version=exchange.server_version,
        timeout_seconds=exchange.timeout_seconds,
        max_connections=exchange.max_connections,
        verify_tls=exchange.verify_tls,
    )


def oauth_settings(loaded: LoadedConfig) -> OAuthSettings:
    """``[exchange.oauth]`` as the connector's OAuth settings, with the secret or key read in."""
    exchange = _exchange(loaded)
    assert exchange.oauth is not None  # guaranteed by the config's validation
    return _oauth(exchange.oauth, "exchange.oauth", min(exchange.timeout_seconds, 60.0))


def _oauth(oauth: OAuthConfig, where: str, timeout: float) -> OAuthSettings:
    secret = key = None
    if oauth.certificate_file is not None:
        key = resolve_secret(None, oauth.certificate_file, f"{where}.certificate_file")
    else:
        secret = resolve_secret(
            oauth.client_secret_env,
            oauth.client_secret_file,
            f"{where}.client_secret_env" if oauth.client_secret_env else f"{where}.client_secret_file",
        )
    return OAuthSettings(
        tenant_id=oauth.tenant_id,
        client_id=oauth.client_id,
        client_secret=secret,
        private_key=key,
        thumbprint=oauth.certificate_thumbprint,
        authority_host=oauth.authority_host,
        ca_bundle=oauth.ca_bundle,
        timeout_seconds=timeout,
    )


def graph_settings(loaded: LoadedConfig) -> GraphSettings:
    """``[graph]`` as the Graph client's settings, with the secret or key read in."""
    from connector.graph.settings import GraphSettings

    graph = loaded.config.graph
    if graph is None:  # the config's validation requires it whenever a mailbox uses Graph
        raise ConfigError(loaded.path, [f"{loaded.path}: graph: missing. Fix: add a [graph] section"])
    return GraphSettings(
        base_url=graph.base_url,
        # The client asks for Graph's tokens (connector.graph.settings.graph_oauth sets the resource).
        oauth=_oauth(graph, "graph", min(graph.timeout_seconds, 60.0)),
        ca_bundle=graph.ca_bundle,
        timeout_seconds=graph.timeout_seconds,
        max_concurrency_per_mailbox=graph.max_concurrency_per_mailbox,
        page_size=graph.page_size,
        batch_size=graph.batch_size,
    )


def as_backends(connection: Backends | EwsConnection) -> Backends:
    """The per-mailbox router; a bare EWS connection (older callers) reaches every mailbox over EWS."""
    return connection if isinstance(connection, Backends) else Backends(ews=connection)


def open_backends(loaded: LoadedConfig, *, caching: bool = False) -> Backends:
    """Open the connections the configured mailboxes need (only those: an EWS-only deployment never
    touches Graph). ``caching``: keep each mailbox's EWS Account between uses (the daemon)."""
    mailboxes = loaded.config.mailboxes
    graph_mailboxes = [a for a in mailboxes.addresses if mailboxes.backend_of(a) == "graph"]
    uses_ews = len(graph_mailboxes) < len(mailboxes.addresses)
    ews: EwsConnection | None = None
    graph: GraphClient | None = None
    try:
        if uses_ews:
            if caching:
                from connector.ews.account_cache import CachingConnection

                ews = CachingConnection(ews_settings(loaded))
            else:
                ews = EwsConnection(ews_settings(loaded))
        if graph_mailboxes:
            from connector.graph.client import GraphClient

            graph = GraphClient(graph_settings(loaded))
    except BaseException:
        if ews is not None:
            ews.close()
        raise
    return Backends(ews=ews, graph=graph, backend_of=mailboxes.backend_of)
