"""Exchange problems worded for admins: what is wrong, then the fix; the response code kept in front."""

from __future__ import annotations

import pytest

from connector.problems import MAILBOX_FIXES, connection_problem, credentials_problem, mailbox_problem

WRAPPED = "ErrorTimeoutExpired: Reraised from ConnectionError(HTTPConnectionPool(host='mail.contoso.com', port=443): {}"


@pytest.mark.parametrize(
    ("cause", "what"),
    [
        ("Failed to establish a new connection: [Errno 111] Connection refused", "the connection was refused"),
        ("NameResolutionError: [Errno -2] Name or service not known", "the host name does not resolve"),
        ("SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED]'))", "the TLS handshake failed"),
        ("ReadTimeoutError: Read timed out. (read timeout=120)", "Exchange did not answer in time"),
        (
            "('Connection aborted.', RemoteDisconnected('Remote end closed connection'))",
            "Exchange closed the connection",
        ),
        ("[Errno 113] No route to host", "there is no route to the host"),
    ],
)
def test_connection_failures_name_the_host_the_cause_and_the_fix(cause: str, what: str) -> None:
    line = connection_problem(WRAPPED.format(cause))
    assert line is not None
    assert line.startswith(f"cannot reach Exchange at mail.contoso.com:443: {what}. Fix: ")
    assert "\n" not in line


def test_other_errors_are_not_mistaken_for_connection_failures() -> None:
    assert connection_problem("ErrorInternalServerTransientError: try again") is None


@pytest.mark.parametrize("code", sorted(MAILBOX_FIXES))
def test_mailbox_problems_keep_the_code_and_give_a_fix(code: str) -> None:
    line = mailbox_problem(code, "No mailbox with such guid.")
    assert line.startswith(f"{code}: ") and "(No mailbox with such guid)" in line and ". Fix: " in line


def test_an_unknown_code_is_passed_through_as_exchange_said_it() -> None:
    assert mailbox_problem("ErrorSomethingNew", "detail") == "ErrorSomethingNew: detail"


def test_refused_credentials_say_where_the_password_comes_from() -> None:
    line = credentials_problem("401 Unauthorized")
    assert line.startswith("Exchange refused the credentials: 401 Unauthorized. Fix: ")
    assert "password_env" in line and "password_file" in line
