"""Jobs: load the config, call the connector, which applies each page to the store in one transaction.

The main job syncs every configured mailbox's folders into the store. A mailbox that cannot be read
is recorded as needing attention (``relsync status`` shows it) and the others go on.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import structlog

from connector.auth import OAuthSettings
from connector.ews import EwsConnection, EwsSettings
from connector.sync import MailboxReport, MailboxSync, Progress, SyncSettings
from mapping.changes import FolderName, SyncRules
from mapping.policy import PrivacyRules
from mapping.store.store import Store
from scheduler.config import ConfigError, LoadedConfig, resolve_secret

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class MailboxResult:
    """What one mailbox's run produced, as the CLI prints it."""

    mailbox: str
    ok: bool
    folders: dict[str, int | None] = field(default_factory=dict)
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ews_settings(loaded: LoadedConfig) -> EwsSettings:
    """The connector's settings from the config, with the secret read from where the config says."""
    exchange = loaded.config.exchange
    if exchange.auth == "oauth":
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
    exchange = loaded.config.exchange
    oauth = exchange.oauth
    assert oauth is not None  # guaranteed by the config's validation
    if exchange.endpoint.startswith("http://") and not os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"):
        raise ConfigError(
            loaded.path,
            [f"{loaded.path}: exchange.endpoint: auth = 'oauth' sends access tokens, which must not travel "
             "over plain http. Fix: use the https:// endpoint"],
        )
    secret = key = None
    if oauth.certificate_file is not None:
        key = resolve_secret(None, oauth.certificate_file, "exchange.oauth.certificate_file")
    else:
        secret = resolve_secret(
            oauth.client_secret_env,
            oauth.client_secret_file,
            "exchange.oauth.client_secret_env" if oauth.client_secret_env else "exchange.oauth.client_secret_file",
        )
    return OAuthSettings(
        tenant_id=oauth.tenant_id,
        client_id=oauth.client_id,
        client_secret=secret,
        private_key=key,
        thumbprint=oauth.certificate_thumbprint,
        authority_host=oauth.authority_host,
        ca_bundle=oauth.ca_bundle,
        timeout_seconds=min(exchange.timeout_seconds, 60.0),
    )


def sync_rules(loaded: LoadedConfig) -> SyncRules:
    """The store-side decisions from the config."""
    config = loaded.config
    privacy = config.privacy
    return SyncRules(
        internal_domains=frozenset(config.organisation.internal_domains),
        privacy=PrivacyRules(
            skip_private=privacy.skip_private,
            skip_confidential=privacy.skip_confidential,
            skip_internal_only=privacy.skip_internal_only,
            blocklist=tuple(privacy.blocklist),
            snippet_chars=privacy.snippet_chars,
        ),
        person_policy=config.sync.create_people_from,
        keep_interactions_on_delete=config.sync.keep_interactions_on_delete,
    )


def sync_settings(loaded: LoadedConfig) -> SyncSettings:
    config = loaded.config
    return SyncSettings(
        page_size=config.sync.page_size,
        calendar_days_back=config.sync.calendar_days_back,
        calendar_days_ahead=config.sync.calendar_days_ahead,
        default_region=config.organisation.default_region,
        snippet_chars=config.privacy.snippet_chars,
    )


def selected_mailboxes(loaded: LoadedConfig, only: list[str] | None) -> list[str]:
    """The configured mailboxes, or the ``only`` ones, which must be configured."""
    addresses = loaded.config.mailboxes.addresses
    if not only:
        return list(addresses)
    wanted = {a.lower() for a in only}
    unknown = wanted - set(addresses)
    if unknown:
        raise ConfigError(
            loaded.path,
            [
                f"{loaded.path}: mailboxes.addresses: {', '.join(sorted(unknown))} is not configured. "
                "Fix: add it to mailboxes.addresses or check the spelling"
            ],
        )
    return [a for a in addresses if a in wanted]


def run_sync(
    loaded: LoadedConfig,
    only: list[str] | None = None,
    folders: list[FolderName] | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> list[MailboxReport]:
    """Sync every configured mailbox (or the ``only`` ones) into the store: the main job."""
    config = loaded.config
    addresses = selected_mailboxes(loaded, only)
    connection = EwsConnection(ews_settings(loaded))
    store = Store(config.store.url)
    engine = MailboxSync(connection, store, sync_rules(loaded), sync_settings(loaded))
    try:
        return [
            engine.sync(address, folders or list(config.sync.folders), full=full, progress=progress)
            for address in addresses
        ]
    finally:
        connection.close()
        store.dispose()


def run_main_job(loaded: LoadedConfig, only: list[str] | None = None) -> list[MailboxResult]:
    """Run the main job once (sync every mailbox) and summarise it per mailbox."""
    return [summarise(report) for report in run_sync(loaded, only)]


def summarise(report: MailboxReport) -> MailboxResult:
    folders: dict[str, int | None] = {f.folder: f.result.created + f.result.updated for f in report.folders}
    return MailboxResult(mailbox=report.mailbox, ok=report.ok, folders=folders, detail=report.error or "")
