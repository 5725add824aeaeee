"""Settings of the Microsoft Graph backend (built from the config by the scheduler)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from connector.auth import DEFAULT_RESOURCE, OAuthSettings

DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
#: Graph's resource: app-only tokens ask for ``https://graph.microsoft.com/.default``.
GRAPH_RESOURCE = "https://graph.microsoft.com"


@dataclass(frozen=True)
class GraphSettings:
    """Where Graph is and how the client talks to it.

    ``oauth`` is the app registration (the same one EWS uses may serve, with the Graph application
    permissions ``Contacts.Read``, ``Mail.Read``, ``Calendars.Read`` granted). Its ``resource`` is
    set to Graph's when it was left at the EWS default (see :func:`graph_oauth`). ``ca_bundle`` is the
    CA file to trust for Graph (private PKI, or the fake in tests); ``None``: the system's.
    """

    base_url: str = DEFAULT_BASE_URL
    oauth: OAuthSettings | None = None
    ca_bundle: Path | None = None
    timeout_seconds: float = 30.0
    #: Graph throttles a mailbox at four concurrent requests from one app (MailboxConcurrency).
    max_concurrency_per_mailbox: int = 4
    #: ``Prefer: odata.maxpagesize``. Graph may send fewer: a Microsoft Q&A answer says contacts delta caps
    #: at 200; for message and event deltas Microsoft documents no maximum. Pages of 1000 cost relsync
    #: about 2 CPU s less per 27,220 items (benchmarks/graph_sync_throughput.py), where Graph honours them.
    page_size: int = 200
    #: Requests per ``$batch`` call (Graph accepts at most 20).
    batch_size: int = 20
    max_attempts: int = 6
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    #: A Retry-After longer than this is waited for this long only (then the request is tried again).
    max_retry_after_seconds: float = 300.0
    #: Mailboxes synced at the same time through one client: sizes the connection pool.
    mailbox_workers: int = 4
    #: Whether a backlog's pages may be applied by the writer process (mapping.store.page_writer), as
    #: over EWS, rather than in the syncing process (see ``SyncSettings.parallel_apply_min_changes``).
    #: On: since a page is applied as sets and pickled as tuples, moving the store's work off the
    #: syncing process pays over Graph too (``benchmarks/graph_sync_throughput.py --graph-apply both``,
    #: 27,220 items, load about 2: 9.32 s inline against 7.67 s with the writer). Before those changes
    #: the writer's start and the pickling cost more than they saved (13.5 s inline against 18.7 s).
    #: Small folders stay in the syncing process (``SyncSettings.parallel_apply_min_changes``).
    parallel_apply: bool = True

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an https:// URL")
        if not 1 <= self.batch_size <= 20:
            raise ValueError("batch_size must be 1..20 (Graph's $batch limit)")
        if not 1 <= self.page_size <= 1000:
            raise ValueError("page_size must be 1..1000")
        if self.max_concurrency_per_mailbox < 1:
            raise ValueError("max_concurrency_per_mailbox must be at least 1")


def graph_oauth(oauth: OAuthSettings) -> OAuthSettings:
    """``oauth`` asking for Graph tokens: its resource becomes Graph's unless one was chosen on purpose
    (a national cloud's Graph, ``https://graph.microsoft.us``)."""
    if oauth.resource.rstrip("/") == DEFAULT_RESOURCE:
        return dataclasses.replace(oauth, resource=GRAPH_RESOURCE)
    return oauth
