"""One exchangelib Account per mailbox for a long-running process.

An Account caches its folders (``account.inbox`` costs two GetFolder requests the first time), so
keeping it means a no-change sync of a mailbox is one SyncFolderItems per folder and nothing else.
After a failure the daemon calls :meth:`CachingConnection.forget`, so the next attempt starts clean.
"""

from __future__ import annotations

import threading

from exchangelib import Account

from connector.auth import TokenSource
from connector.ews.client import EwsConnection
from connector.ews.settings import EwsSettings


class CachingConnection(EwsConnection):
    """An :class:`EwsConnection` that hands out the same Account for a mailbox every time."""

    def __init__(self, settings: EwsSettings, token_source: TokenSource | None = None) -> None:
        super().__init__(settings, token_source)
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()

    def account(self, address: str) -> Account:
        key = address.lower()
        with self._lock:
            cached = self._accounts.get(key)
        if cached is not None:
            return cached
        account = super().account(address)
        with self._lock:
            return self._accounts.setdefault(key, account)

    def forget(self, address: str) -> None:
        """Drop the cached Account (and its folders) of a mailbox."""
        with self._lock:
            self._accounts.pop(address.lower(), None)
