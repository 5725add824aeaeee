"""OAuth app-only (client-credentials) tokens from msal, for every backend (EWS and Graph).

exchangelib's own ``OAuth2Credentials`` mishandles expiring client-credentials tokens (it asks for a
``refresh_token`` grant it has no refresh token for, and wipes the token after any error), so the
tokens are managed by msal instead (``shared/notes/exchangelib.md`` §2.3):

- :class:`TokenSource` wraps one ``msal.ConfidentialClientApplication`` (client secret, or certificate
  private key + SHA-1 thumbprint). msal keeps app tokens in its **in-memory** cache and serves them
  while more than five minutes remain; nothing is written to disk (an app token costs one request to
  get again, and a token file would be one more secret at rest).
- :class:`connector.ews.auth.MsalCredentials` is what exchangelib holds. It starts with a valid token
  and, when oauthlib finds the token expired, exchangelib calls its ``refresh``, which asks msal again.
- :class:`connector.ews.auth.RenewOn401` is exchangelib's ``FailFast`` policy plus one rule: a 401 for a
  bearer token msal
  still considers valid (revoked, or expired early) drops that token from msal's cache, fetches a fresh
  one and has exchangelib retry the request at once. A token that was itself just forced and is
  refused too is not retried again: the app lacks permission, and that is an ``UnauthorizedError``
  (:class:`connector.errors.AuthenticationFailed`) with a sentence saying what to check.

Nothing here logs or ``repr``s a secret or a token. Never set ``OAUTHLIB_INSECURE_TRANSPORT`` outside
tests: it lets bearer tokens travel over plain http.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msal
import requests
import structlog

from connector.errors import AuthenticationFailed, TransientError

log = structlog.get_logger(__name__)

#: Exchange Online's EWS resource; app-only tokens always ask for ``<resource>/.default``.
DEFAULT_RESOURCE = "https://outlook.office365.com"
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
#: msal serves a cached app token only while more than five minutes remain; telling oauthlib the
#: token ends that much earlier makes exchangelib ask for a new one just when msal will fetch one.
EXPIRY_MARGIN_SECONDS = 300
#: A token obtained *because* the previous one was refused, and refused itself before Exchange ever
#: accepted it, within this many seconds: the app is not allowed in; give up instead of looping.
FORCED_TOKEN_GRACE_SECONDS = 120.0
#: Token-service errors that mean "the app's credentials or registration are wrong".
_CREDENTIAL_ERRORS = frozenset(
    {
        "invalid_client",
        "unauthorized_client",
        "invalid_request",
        "invalid_scope",
        "invalid_tenant",
        "invalid_grant",
        "access_denied",
    }
)


@dataclass(frozen=True)
class OAuthSettings:
    """An app registration's client credentials (built from ``[exchange.oauth]`` by the scheduler).

    Exactly one of ``client_secret`` or ``private_key`` (PEM, with ``thumbprint``: the certificate's
    SHA-1 thumbprint in hex, as the Entra portal shows it). ``ca_bundle`` is the CA file to trust for
    the token service (private PKI, or the fake token service in tests); ``None`` means the system's.
    """

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    thumbprint: str | None = None
    authority_host: str = DEFAULT_AUTHORITY_HOST
    resource: str = DEFAULT_RESOURCE
    ca_bundle: Path | None = None
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if (self.client_secret is None) == (self.private_key is None):
            raise ValueError("give exactly one of client_secret or private_key")
        if self.private_key is not None and not self.thumbprint:
            raise ValueError("a certificate private_key needs its thumbprint")
        if not self.authority_host.startswith("https://"):
            raise ValueError("authority_host must be an https:// URL")

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def scopes(self) -> list[str]:
        return [f"{self.resource.rstrip('/')}/.default"]

    @property
    def is_microsoft_authority(self) -> bool:
        return (urlsplit(self.authority_host).hostname or "") in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS


class PinnedCASession(requests.Session):
    """A requests session that trusts exactly ``ca_bundle``.

    requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` from the environment override a session's
    ``verify``; this session puts its own back after the environment is merged, and keeps the rest of
    the environment (proxies, ``NO_PROXY``) as it is.
    """

    def __init__(self, ca_bundle: Path | str) -> None:
        super().__init__()
        self.verify = str(ca_bundle)

    def merge_environment_settings(  # type: ignore[override]
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["verify"] = self.verify
        return dict(settings)


class TokenSource:
    """App-only tokens for one app registration, from msal and its in-memory cache. Thread-safe."""

    def __init__(self, settings: OAuthSettings, http_client: requests.Session | None = None) -> None:
        self.settings = settings
        if http_client is None and settings.ca_bundle is not None:
            http_client = PinnedCASession(settings.ca_bundle)
        self._http_client = http_client
        self._lock = threading.RLock()
        self._app: msal.ConfidentialClientApplication | None = None
        #: The token fetched because its predecessor was refused, and when (monotonic), until
        #: Exchange accepts it once.
        self._forced: tuple[str, float] | None = None

    def __repr__(self) -> str:
        s = self.settings
        kind = "secret" if s.client_secret is not None else "certificate"
        return f"TokenSource(tenant={s.tenant_id!r}, client_id={s.client_id!r}, credential={kind})"

    # ------------------------------------------------------------------------------------ msal
    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is not None:
            return self._app
        s = self.settings
        credential: str | dict[str, str]
        if s.client_secret is not None:
            credential = s.client_secret
        else:
            assert s.private_key is not None and s.thumbprint is not None  # checked in OAuthSettings
            credential = {"private_key": s.private_key, "thumbprint": s.thumbprint.replace(":", "").upper()}
        kwargs: dict[str, Any] = {}
        if not s.is_microsoft_authority:
            # A private or test authority (ADFS-style hosts, the fake token service): the admin named the
            # host, so do not ask login.microsoftonline.com to validate or discover it.
            kwargs.update(validate_authority=False, instance_discovery=False)
        if self._http_client is not None:
            kwargs["http_client"] = self._http_client
        try:
            # Fetches the authority's OpenID configuration: the first network request.
            self._app = msal.ConfidentialClientApplication(
                s.client_id,
                client_credential=credential,
                authority=s.authority,
                timeout=s.timeout_seconds,
                **kwargs,
            )
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(exc) from None
        except requests.RequestException as exc:
            raise TransientError(
                f"cannot reach the token service at {s.authority}: {type(exc).__name__}", code=type(exc).__name__
            ) from None
        except ValueError as exc:
            # msal: "Unable to get authority configuration for ..." (unknown tenant, wrong host) or a
            # private key it cannot read.
            raise AuthenticationFailed(
                f"the token service at {s.authority} cannot be used for client {s.client_id}: "
                f"{self._scrub(str(exc)).splitlines()[0]}. Fix: check exchange.oauth.tenant_id, "
                "authority_host and the certificate file",
                code="TokenServiceConfig",
            ) from None
        return self._app

    def acquire(self) -> dict[str, Any]:
        """A token dict for oauthlib (``access_token``, ``token_type``, ``expires_in``), from msal's
        cache when it still has one. Raises :class:`AuthenticationFailed` (wrong tenant, client or
        credential: retrying will not help) or :class:`TransientError` (network)."""
        s = self.settings
        with self._lock:
            app = self._application()
            try:
                result = app.acquire_token_for_client(scopes=s.scopes)
            except requests.exceptions.SSLError as exc:
                raise self._tls_error(exc) from None
            except requests.RequestException as exc:
                raise TransientError(
                    f"cannot reach the token service at {s.authority}: {type(exc).__name__}",
                    code=type(exc).__name__,
                ) from None
        if not isinstance(result, dict) or "access_token" not in result:
            raise self._token_error(result if isinstance(result, dict) else {})
        source = result.get("token_source", "?")
        log.debug("access token acquired", client_id=s.client_id, source=source)
        remaining = int(result.get("expires_in") or 0)
        expires_in = remaining - EXPIRY_MARGIN_SECONDS if remaining > 2 * EXPIRY_MARGIN_SECONDS else remaining
        expires_in = max(expires_in, 1)
        # expires_at too: oauthlib counts a bare expires_in from whenever a session is built with the
        # token, which may be much later (a renewed session) than when the token was issued.
        return {
            "access_token": result["access_token"],
            "token_type": result.get("token_type", "Bearer"),
            "expires_in": expires_in,
            "expires_at": int(time.time()) + expires_in,
        }

    def drop(self, token: str) -> None:
        """Forget ``token`` in msal's cache, so the next :meth:`acquire` fetches a new one."""
        with self._lock:
            if self._app is None:
                return
            cache = self._app.token_cache
            for entry in list(
                cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query={"client_id": self.settings.client_id})
            ):
                if entry.get("secret") == token:
                    cache.remove_at(entry)

    def accepted(self, token: str) -> None:
        """Exchange answered a request carrying ``token`` with something other than 401."""
        forced = self._forced
        if forced is not None and forced[0] == token:
            with self._lock:
                self._forced = None

    def renew_refused(self, token: str) -> dict[str, Any] | None:
        """Exchange refused ``token``: a fresh token, or None if ``token`` was itself forced moments
        ago and never accepted (then the app is not allowed in; another token will not change that)."""
        with self._lock:
            forced = self._forced
            if forced is not None and forced[0] == token and time.monotonic() - forced[1] < FORCED_TOKEN_GRACE_SECONDS:
                return None
            self.drop(token)
            fresh = self.acquire()
            self._forced = (fresh["access_token"], time.monotonic())
            return fresh

    # ---------------------------------------------------------------------------------- errors
    def _scrub(self, text: str) -> str:
        """Defence in depth: whatever a token service echoes, the secret never reaches a message."""
        for secret in (self.settings.client_secret, self.settings.private_key):
            if secret:
                text = text.replace(secret, "********")
        return text

    def _token_error(self, result: dict[str, Any]) -> Exception:
        s = self.settings
        error = str(result.get("error") or "no access_token in the answer")
        description = self._scrub(str(result.get("error_description") or "")).strip().splitlines()
        detail = f" ({description[0]})" if description else ""
        what = "client secret" if s.client_secret is not None else "certificate"
        if error in _CREDENTIAL_ERRORS:
            return AuthenticationFailed(
                f"the token service at {s.authority} refused app {s.client_id}: {error}{detail}. "
                f"Fix: check exchange.oauth.tenant_id, client_id and the {what} (has it expired?)",
                code=error,
            )
        return TransientError(f"the token service at {s.authority} failed: {error}{detail}", code=error)

    def _tls_error(self, exc: Exception) -> AuthenticationFailed:
        s = self.settings
        return AuthenticationFailed(
            f"cannot verify the TLS certificate of the token service at {s.authority} "
            f"({type(exc).__name__}). Fix: set exchange.oauth.ca_bundle to the CA file that signed it",
            code="SSLError",
        )
