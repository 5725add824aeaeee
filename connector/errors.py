"""The connector's error tree: what can go wrong talking to Exchange, in words the service acts on.

exchangelib raises several hundred exception classes; the service only needs to know what to *do*:

``ExchangeError``
    ``AuthenticationFailed``  credentials refused (HTTP 401): fix the config, retrying won't help.
    ``MailboxUnavailable``    the mailbox does not exist or we have no access: mark it, keep the others.
    ``Throttled``             the server asked us to wait ``back_off`` seconds.
    ``TransientError``        connection dropped, timeout, 503: retry with back-off.
    ``SyncStateInvalid``      the saved sync state was refused: resync the folder from scratch.
    ``ChangeConflict``        the item changed under us (stale ChangeKey): refetch, re-merge, retry.
    ``ExchangeProtocolError`` anything else the server said; carries its response code.

:func:`translate` maps an exchangelib exception onto this tree; the CLI turns the tree into sentences.
"""

from __future__ import annotations

from exchangelib import errors as ews

from connector.problems import connection_problem, credentials_problem, mailbox_problem
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


def translate(exc: BaseException, mailbox: str | None = None) -> ExchangeError:
    """Map an exchangelib (or requests) exception onto the connector's error tree."""
    if isinstance(exc, ExchangeError):
        return exc
    code = type(exc).__name__
    text = str(exc) or code
    if isinstance(exc, ews.UnauthorizedError):
        return AuthenticationFailed(credentials_problem(text), mailbox=mailbox, code=code)
    if isinstance(exc, ews.ErrorServerBusy):
        back_off = float(exc.back_off or 0.0) if hasattr(exc, "back_off") else 0.0
        return Throttled(f"Exchange is busy, back off {back_off:.1f} s", back_off=back_off, mailbox=mailbox)
    if isinstance(exc, ews.RateLimitError):
        return Throttled(f"Exchange throttled us: {text}", back_off=float(exc.wait), mailbox=mailbox)
    if isinstance(
        exc,
        ews.ErrorNonExistentMailbox
        | ews.ErrorMailboxStoreUnavailable
        | ews.ErrorImpersonateUserDenied
        | ews.ErrorImpersonationDenied
        | ews.ErrorAccessDenied
        | ews.ErrorMailboxMoveInProgress,
    ):
        return MailboxUnavailable(mailbox_problem(code, text), mailbox=mailbox, code=code)
    if isinstance(exc, ews.ErrorInvalidSyncStateData):
        return SyncStateInvalid(f"{code}: {text}", mailbox=mailbox, code=code)
    if isinstance(exc, ews.ErrorIrresolvableConflict):
        return ChangeConflict(f"{code}: {text}", mailbox=mailbox, code=code)
    if isinstance(
        exc,
        ews.ErrorTimeoutExpired
        | ews.ErrorInternalServerTransientError
        | ews.ErrorTooManyObjectsOpened
        | ews.ErrorExceededConnectionCount
        | ews.ErrorConnectionFailed
        | ews.CASError
        | ConnectionError
        | TimeoutError,
    ):
        return TransientError(connection_problem(text) or f"{code}: {text}", mailbox=mailbox, code=code)
    import requests

    if isinstance(exc, requests.RequestException):
        return TransientError(connection_problem(text) or f"{code}: {text}", mailbox=mailbox, code=code)
    return ExchangeProtocolError(f"{code}: {text}", mailbox=mailbox, code=code)
