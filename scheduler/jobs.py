"""Jobs: load, call the connector, apply the result to the store in one transaction.

The main job for now checks every configured mailbox end to end (EWS reachable, impersonation
allowed, sync folders present) and records the outcome on the mailbox's row, so a mailbox that
cannot be read shows up as needing attention instead of failing silently. Item sync builds on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog

from connector.errors import AuthenticationFailed, ExchangeError
from connector.ews import EwsConnection, EwsSettings
from mapping.store.models import StaffMailbox
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
        raise ConfigError(
            loaded.path,
            [
                f"{loaded.path}: exchange.auth: 'oauth' (Exchange Online) is not available in this "
                "version yet. Fix: use a service account with auth = 'ntlm' or 'basic' for now"
            ],
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


def run_main_job(loaded: LoadedConfig, only: list[str] | None = None) -> list[MailboxResult]:
    """Run the main job once for every configured mailbox (or the ``only`` ones)."""
    config = loaded.config
    addresses = config.mailboxes.addresses
    if only:
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
        addresses = [a for a in addresses if a in wanted]
    connection = EwsConnection(ews_settings(loaded))
    store = Store(config.store.url)
    try:
        return [_check_mailbox(store, connection, address, config.sync.folders) for address in addresses]
    finally:
        connection.close()
        store.dispose()


def _check_mailbox(store: Store, connection: EwsConnection, address: str, folders: Sequence[str]) -> MailboxResult:
    bound = log.bind(mailbox=address)
    mailbox = store.ensure_mailbox(address, display_name=address)
    now = datetime.now(UTC)
    try:
        probe = connection.probe(address, list(folders))
    except AuthenticationFailed:
        raise  # the same for every mailbox: a configuration problem, not this mailbox's
    except ExchangeError as exc:
        bound.warning("mailbox unreachable", error=str(exc), code=exc.code)
        with store.session() as s:
            row = s.get_one(StaffMailbox, mailbox.id)
            row.needs_attention = True
            row.attention_reason = str(exc)
            row.last_error = str(exc)
            row.last_error_at = now
        return MailboxResult(mailbox=address, ok=False, detail=str(exc))
    with store.session() as s:
        s.execute(
            sa.update(StaffMailbox)
            .where(StaffMailbox.id == mailbox.id)
            .values(needs_attention=False, attention_reason=None, last_success_at=now)
        )
    counts = {f.name: f.total_count for f in probe.folders}
    bound.info("mailbox checked", folders=counts)
    return MailboxResult(mailbox=address, ok=True, folders=counts)
