"""A sync that hands every page to the writer process, as a process the crash test can SIGKILL.

    python tests/e2e/backlog_sync_run.py URL ENDPOINT USERNAME PASSWORD DOMAIN PAGE_SIZE MAILBOX...

Reads the password from the arguments because the fake's throwaway credentials are not secrets.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connector.engine import SyncSettings
from connector.ews.client import EwsConnection
from connector.ews.reader import EwsMailboxSync
from connector.ews.settings import EwsSettings
from mapping.changes import SyncRules
from mapping.store.store import Store

FOLDERS = ["contacts", "inbox", "sentitems", "calendar"]


def run(
    url: str, endpoint: str, username: str, password: str, domain: str, page_size: int, mailboxes: list[str]
) -> bool:
    """Sync every mailbox's folders; True when all synced."""
    connection = EwsConnection(
        EwsSettings(endpoint=endpoint, username=username, password=password, auth="basic", timeout_seconds=10)
    )
    store = Store(url)
    engine = EwsMailboxSync(
        connection,
        store,
        SyncRules(internal_domains=frozenset({domain})),
        SyncSettings(page_size=page_size, parallel_apply_min_changes=1, retry_base_seconds=0.01),
    )
    try:
        return all(engine.sync(address, list(FOLDERS)).ok for address in mailboxes)  # type: ignore[arg-type]
    finally:
        connection.close()
        store.dispose()


if __name__ == "__main__":
    url, endpoint, username, password, domain, page, *boxes = sys.argv[1:]
    sys.exit(0 if run(url, endpoint, username, password, domain, int(page), boxes) else 1)
