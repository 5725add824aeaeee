"""exchangelib's side of OAuth: credentials whose app token comes from msal (:class:`connector.auth.TokenSource`),
and the retry policy that answers a refused bearer token once with a fresh one (see :mod:`connector.auth`)."""

from __future__ import annotations

import time
from typing import Any

import requests
import structlog
from exchangelib.credentials import OAuth2AuthorizationCodeCredentials
from exchangelib.errors import UnauthorizedError
from exchangelib.protocol import FailFast
from oauthlib.oauth2 import TokenExpiredError

from connector.auth import TokenSource
from connector.errors import ExchangeError

log = structlog.get_logger(__name__)

#: How long a token that could not be renewed is used before the token service is asked again.
STALE_TOKEN_SECONDS = 30


class MsalCredentials(OAuth2AuthorizationCodeCredentials):  # type: ignore[misc]
    """exchangelib credentials whose token comes from a :class:`TokenSource`.

    A subclass of the *authorization-code* credentials on purpose: exchangelib wipes the token of
    client-credentials (``BackendApplicationClient``) credentials whenever it closes a session, and
    with no client secret set it never tries to refresh on its own; it calls :meth:`refresh` instead.
    Use one object for every mailbox: exchangelib shares one connection pool per credentials object.
    """

    def __init__(self, source: TokenSource) -> None:
        super().__init__(
            client_id=source.settings.client_id,
            tenant_id=source.settings.tenant_id,
            access_token=source.acquire(),  # start valid: with None, exchangelib would fetch it itself
        )
        self._source = source

    @property
    def source(self) -> TokenSource:
        return self._source

    @property
    def token(self) -> str | None:
        return self.access_token["access_token"] if self.access_token else None

    def refresh(self, session: Any = None) -> None:
        """Called by exchangelib (under :attr:`lock`) when oauthlib finds the token expired.

        If the token service cannot give a new token, this does not raise: exchangelib hands the
        pooled session back only when ``refresh`` returns, so raising would leak one connection per
        failure until every mailbox hangs waiting for one. The current token is kept for another
        :data:`STALE_TOKEN_SECONDS` instead. Exchange may well still accept it (msal renews five minutes
        early); when it does not, its 401 asks the token service again through :class:`RenewOn401`,
        which raises the failure cleanly.
        """
        try:
            self.access_token = self._source.acquire()
        except ExchangeError as exc:
            if self.access_token is None:
                raise
            log.warning(
                "access token not renewed; using the current one while Exchange accepts it",
                client_id=self.client_id,
                error=str(exc),
            )
            self.access_token = {
                **self.access_token,
                "expires_in": STALE_TOKEN_SECONDS,
                "expires_at": int(time.time()) + STALE_TOKEN_SECONDS,
            }

    def renew_after_refusal(self, refused: str) -> bool:
        """Exchange answered 401 to a request carrying ``refused``: True if the request is worth
        sending again (with the token now held), False if not."""
        with self.lock:
            if refused != self.token:
                return True  # another thread renewed it already
            fresh = self._source.renew_refused(refused)
            if fresh is None:
                return False
            log.info("Exchange refused the access token; using a fresh one", client_id=self.client_id)
            self.access_token = fresh
            return True

    # One object per app: identity, not attribute equality (exchangelib's default hash would change
    # once its cached ``client`` property appears, splitting the shared connection pool).
    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return id(self)

    def sig(self) -> int:
        return hash((id(self), self.token))

    def __repr__(self) -> str:
        return f"MsalCredentials({self._source!r})"

    def __str__(self) -> str:
        return str(self.client_id)


def _bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


class RenewOn401(FailFast):  # type: ignore[misc]
    """exchangelib's ``FailFast`` plus: a 401 for our bearer token is answered once with a fresh token.

    exchangelib checks every response with ``raise_response_errors``; raising oauthlib's
    ``TokenExpiredError`` there makes exchangelib retire the session and send the request again at
    once (``EWSService._get_elements``), with a new session built on the renewed token.
    """

    def __init__(self, credentials: MsalCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def raise_response_errors(self, response: requests.Response) -> None:
        token = _bearer(response.request.headers.get("Authorization"))
        if token is not None and response.status_code != 401:
            self._credentials.source.accepted(token)
        if response.status_code == 401 and token is not None:
            if self._credentials.renew_after_refusal(token):
                raise TokenExpiredError(description="Exchange refused the access token; retrying with a new one")
            raise UnauthorizedError(
                f"Exchange refused a freshly issued access token for app {self._credentials.client_id} "
                f"at {response.url}. Fix: grant the app the full_access_as_app (EWS) application permission "
                "with admin consent, and check that the mailbox is in the app's scope"
            )
        super().raise_response_errors(response)
