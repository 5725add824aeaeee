"""exchangelib's exceptions mapped onto the connector's error tree (:mod:`connector.errors`)."""

from __future__ import annotations

from exchangelib import errors as ews

from connector.errors import (
    AuthenticationFailed,
    ChangeConflict,
    ExchangeError,
    ExchangeProtocolError,
    MailboxUnavailable,
    SyncStateInvalid,
    Throttled,
    TransientError,
)
from connector.problems import connection_problem, credentials_problem, mailbox_problem


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
