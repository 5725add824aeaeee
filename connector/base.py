"""The seam between the scheduler and a mailbox backend: EWS (:class:`connector.sync.MailboxSync`) or
Microsoft Graph (:class:`connector.graph.sync.GraphMailboxSync`), chosen per mailbox.

Both translate their server's items into the same records (:mod:`mapping.records`) and hand them to
the store page by page with the state that follows each page, so the store cannot tell which backend
synced a mailbox.
"""

from __future__ import annotations

from typing import Protocol

from connector.sync import MailboxReport, Progress
from mapping.changes import FolderName


class MailboxSource(Protocol):
    """Syncs mailboxes' folders into a store and reports what it did."""

    def sync(
        self, address: str, folders: list[FolderName], *, full: bool = False, progress: Progress | None = None
    ) -> MailboxReport:
        """Sync ``folders`` of the mailbox ``address``. Server errors end up in the report (``error``),
        except refused credentials (:class:`connector.errors.AuthenticationFailed`), which are raised:
        they are the same for every mailbox."""
        ...

    def close(self) -> None:
        """Release connections and worker processes held between sync calls."""
        ...
