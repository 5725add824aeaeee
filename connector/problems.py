"""Exchange problems as one line an admin can act on: what is wrong, then ``Fix:`` what to do.

:func:`connector.errors.translate` words its errors with these, so the same sentence appears in the
logs, in ``relsync status`` and in the CLI's error line. The Exchange response code stays at the
front of mailbox problems (``ErrorNonExistentMailbox: ...``), for searching and for scripts.
"""

from __future__ import annotations

import re

#: Mailbox-level response codes and what to do about each.
MAILBOX_FIXES = {
    "ErrorNonExistentMailbox": (
        "the mailbox does not exist in Exchange",
        "check the address in mailboxes.addresses, or remove it",
    ),
    "ErrorImpersonateUserDenied": (
        "the service account may not impersonate this mailbox",
        "include the mailbox in the scope of the ApplicationImpersonation role assignment (Exchange Server) "
        "or of the app's RBAC for Applications assignment (Exchange Online)",
    ),
    "ErrorImpersonationDenied": (
        "the service account may not impersonate anyone",
        "assign it the ApplicationImpersonation role (Exchange Server) or grant the app full_access_as_app "
        "(Exchange Online)",
    ),
    "ErrorAccessDenied": (
        "access to the mailbox was denied",
        "grant the service account impersonation of (or full access to) this mailbox",
    ),
    "ErrorMailboxStoreUnavailable": (
        "the mailbox database is unavailable",
        "nothing, if it is maintenance: it is retried on the next run; else check the database in Exchange",
    ),
    "ErrorMailboxMoveInProgress": (
        "the mailbox is being moved",
        "nothing: it is retried on the next run",
    ),
}

_CONNECTION = (
    (
        re.compile(r"Connection refused|ConnectionRefused", re.I),
        "the connection was refused",
        "check exchange.endpoint (host and port) and that Exchange or its proxy listens there",
    ),
    (
        re.compile(
            r"Name or service not known|nodename nor servname|getaddrinfo|NameResolution|Temporary failure "
            r"in name resolution",
            re.I,
        ),
        "the host name does not resolve",
        "check the host in exchange.endpoint and this machine's DNS",
    ),
    (
        re.compile(r"CERTIFICATE_VERIFY_FAILED|SSLError|certificate", re.I),
        "the TLS handshake failed",
        "check the server's certificate chain, or trust its CA (verify_tls stays on)",
    ),
    (
        re.compile(r"No route to host|Network is unreachable", re.I),
        "there is no route to the host",
        "check the network and firewall between this machine and exchange.endpoint",
    ),
    (
        re.compile(r"RemoteDisconnected|Connection aborted|Connection reset|closed connection", re.I),
        "Exchange closed the connection",
        "nothing, if it passes: it is retried; else check a proxy or load balancer",
    ),
    # after the others: exchangelib wraps every connection failure in ErrorTimeoutExpired
    (
        re.compile(r"timed out|ReadTimeout|ConnectTimeout", re.I),
        "Exchange did not answer in time",
        "check the network path to exchange.endpoint, or raise exchange.timeout_seconds",
    ),
)
_HOST = re.compile(r"host='([^']+)', port=(\d+)")


def mailbox_problem(code: str, detail: str) -> str:
    """``CODE: what is wrong. Fix: what to do`` for a mailbox-level response code."""
    known = MAILBOX_FIXES.get(code)
    if known is None:
        return f"{code}: {detail}"
    what, fix = known
    return f"{code}: {what} ({detail.rstrip('.')}). Fix: {fix}"


def connection_problem(text: str) -> str | None:
    """A sentence for a failure to reach Exchange (refused, DNS, TLS, timeout), or None if ``text``
    is not one."""
    host = _HOST.search(text)
    where = f" at {host.group(1)}:{host.group(2)}" if host else ""
    for pattern, what, fix in _CONNECTION:
        if pattern.search(text):
            return f"cannot reach Exchange{where}: {what}. Fix: {fix}"
    return None


def credentials_problem(detail: str) -> str:
    """The sentence for refused credentials (HTTP 401)."""
    return (
        f"Exchange refused the credentials: {detail}. Fix: check exchange.username and the password that "
        "exchange.password_env or exchange.password_file points to (or the app's client secret or certificate)"
    )
