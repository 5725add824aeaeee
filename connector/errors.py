"""The connector's error tree: what can go wrong talking to Exchange, in words the service acts on.

Backend-neutral: each backend maps its client's errors onto this tree (EWS:
:func:`connector.ews.errors.translate`, exchangelib raises several hundred exception classes; Graph:
:meth:`connector.graph.client.GraphClient.error_for`). The service only needs to know what to *do*:

``ExchangeError``
    ``AuthenticationFailed``  credentials refused (HTTP 401): fix the config, retrying won't help.
    ``MailboxUnavailable``    the mailbox does not exist or we have no access: mark it, keep the others.
    ``Throttled``             the server asked us to wait ``back_off`` seconds.
    ``TransientError``        connection dropped, timeout, 503: retry with back-off.
    ``SyncStateInvalid``      the saved sync state was refused: resync the folder from scratch.
    ``ChangeConflict``        the item changed under us (stale ChangeKey): refetch, re-merge, retry.
    ``ExchangeProtocolError`` anything else the server said; carries its response code.

The CLI turns the tree into sentences.
"""

from __future__ import annotations

from mapping.errors import EXIT_EXCHANGE, RelsyncError


class ExchangeError(RelsyncError):
    """Base of everything the connector raises about Exchange."""

    exit_code = EXIT_EXCHANGE

    def __init__(self, message: str, *, mailbox: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.mailbox = mailbox
        self.code = code

    def sentences(self) -> list[str]:
        where = f" ({self.mailbox})" if self.mailbox else ""
        return [f"exchange{where}: {self}"]


class AuthenticationFailed(ExchangeError):
    pass


class MailboxUnavailable(ExchangeError):
    pass


class Throttled(ExchangeError):
    def __init__(self, message: str, *, back_off: float, mailbox: str | None = None) -> None:
        super().__init__(message, mailbox=mailbox, code="ErrorServerBusy")
        self.back_off = back_off


class TransientError(ExchangeError):
    pass


class SyncStateInvalid(ExchangeError):
    pass


class ChangeConflict(ExchangeError):
    pass


class ExchangeProtocolError(ExchangeError):
    pass
