"""Sign-in with Microsoft Entra ID: the authorization code flow with PKCE through msal, and full
validation of the ID token with PyJWT.

msal builds the authorize URL (``state``, ``nonce``, PKCE ``code_challenge`` S256) and redeems the code
(checking ``state``). msal decodes the ID token but does not check its signature, so
:func:`validate_id_token` does, as "Microsoft identity platform ID tokens"
(https://learn.microsoft.com/en-us/entra/identity-platform/id-tokens) asks of an app: the RS256
signature with the key the ``kid`` names in the authority's ``jwks_uri``, ``iss`` equal to the
OpenID configuration's issuer, ``aud`` our client id, ``exp``/``nbf``/``iat`` with a little leeway, and
``nonce`` the one this sign-in sent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
import msal
import requests

from connector.auth import PinnedCASession
from scheduler.config_web import OidcConfig

LEEWAY_SECONDS = 60
JWKS_REFRESH_SECONDS = 3600


class SignInRefused(Exception):
    """A sign-in that must not succeed; the message says why, without any token in it."""


@dataclass(frozen=True)
class SignedIn:
    user: str  # preferred_username (the e-mail address roles are given to)
    name: str
    object_id: str | None


def validate_id_token(
    token: str, jwks: dict[str, Any], issuer: str, audience: str, nonce: str | None
) -> dict[str, Any]:
    """The claims of ``token`` if it is genuine and meant for us now; :class:`SignInRefused` otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise SignInRefused("the ID token is not a JWT") from None
    if header.get("alg") != "RS256":
        raise SignInRefused(f"the ID token is signed with {header.get('alg')!r}, not RS256")
    keys = {k.get("kid"): k for k in jwks.get("keys", [])}
    jwk = keys.get(header.get("kid"))
    if jwk is None:
        raise SignInRefused("the ID token is signed with a key the identity provider does not publish")
    try:
        key = jwt.PyJWK.from_dict(jwk)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.InvalidSignatureError:
        raise SignInRefused("the ID token's signature does not verify against the identity provider's keys") from None
    except jwt.ExpiredSignatureError:
        raise SignInRefused("the ID token has expired") from None
    except jwt.InvalidAudienceError:
        raise SignInRefused("the ID token was issued for another application (audience)") from None
    except jwt.InvalidIssuerError:
        raise SignInRefused("the ID token was issued by another identity provider (issuer)") from None
    except jwt.PyJWTError as exc:
        raise SignInRefused(f"the ID token is not valid: {exc}") from None
    if nonce is not None and claims.get("nonce") != nonce:
        raise SignInRefused("the ID token's nonce is not the one this sign-in sent (a replayed token)")
    return claims


class EntraSignIn:
    """msal's confidential client for the console's sign-in, and the authority's keys."""

    def __init__(self, config: OidcConfig, client_secret: str) -> None:
        self.config = config
        self.authority = f"{config.authority_host.rstrip('/')}/{config.tenant_id}"
        # A private CA (the fake token service in tests) is trusted exactly, whatever REQUESTS_CA_BUNDLE says.
        self._http = PinnedCASession(config.ca_file) if config.ca_file else requests.Session()
        self._secret = client_secret
        self._app: msal.ConfidentialClientApplication | None = None
        self._issuer: str | None = None
        self._jwks_uri: str | None = None
        self._jwks: dict[str, Any] = {}
        self._jwks_at = 0.0
        self._lock = threading.Lock()

    def _application(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                host = urlsplit(self.config.authority_host).hostname or ""
                kwargs: dict[str, Any] = {}
                if host not in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS:
                    kwargs.update(validate_authority=False, instance_discovery=False)
                self._app = msal.ConfidentialClientApplication(
                    self.config.client_id,
                    client_credential=self._secret,
                    authority=self.authority,
                    http_client=self._http,
                    **kwargs,
                )
            return self._app

    def start(self) -> dict[str, Any]:
        """A new flow (state, nonce, PKCE verifier, ``auth_uri``) to keep in the session."""
        try:
            flow: dict[str, Any] = self._application().initiate_auth_code_flow(
                scopes=[], redirect_uri=self.config.redirect_uri
            )
        except (requests.RequestException, ValueError) as exc:
            raise SignInRefused(
                f"the identity provider at {self.authority} cannot be reached: {type(exc).__name__}"
            ) from None
        return flow

    def finish(self, flow: dict[str, Any], reply: dict[str, str]) -> SignedIn:
        """Redeem the reply's code and validate the ID token; :class:`SignInRefused` says why not."""
        if "error" in reply:
            raise SignInRefused(f"the identity provider refused the sign-in: {reply.get('error')}")
        try:
            result = self._application().acquire_token_by_auth_code_flow(flow, reply)
        except ValueError:
            raise SignInRefused("the sign-in reply does not belong to this browser's sign-in (state)") from None
        except Exception as exc:  # msal raises its own errors for a bad ID token (expired, wrong nonce...)
            raise SignInRefused(f"the ID token was refused: {str(exc).splitlines()[0][:200]}") from None
        if "error" in result:
            raise SignInRefused(f"the identity provider refused the code: {result.get('error')}")
        token = result.get("id_token")
        if not isinstance(token, str):
            raise SignInRefused("the identity provider sent no ID token")
        # msal keeps the nonce in the flow and sends its SHA-256 (hex) as the request's nonce (OpenID
        # Connect Core, "Nonce implementation notes"): that is what the ID token must carry.
        sent = flow.get("nonce")
        claims = self.validate(token, hashlib.sha256(sent.encode("ascii")).hexdigest() if sent else None)
        user = str(claims.get("preferred_username") or claims.get("email") or "")
        if not user:
            raise SignInRefused("the ID token names no user (preferred_username)")
        return SignedIn(user, str(claims.get("name") or user), claims.get("oid"))

    def validate(self, token: str, nonce: str | None) -> dict[str, Any]:
        self._discover()
        assert self._issuer is not None
        try:
            return validate_id_token(token, self._keys(), self._issuer, self.config.client_id, nonce)
        except SignInRefused as exc:
            if "does not publish" not in str(exc):
                raise
            # A key rotated since we last looked: fetch the keys once more, then decide.
            return validate_id_token(token, self._keys(force=True), self._issuer, self.config.client_id, nonce)

    def _discover(self) -> None:
        if self._issuer is not None:
            return
        url = f"{self.authority}/v2.0/.well-known/openid-configuration"
        try:
            doc = self._http.get(url, timeout=10).json()
        except (requests.RequestException, ValueError) as exc:
            raise SignInRefused(f"cannot read the OpenID configuration at {url}: {type(exc).__name__}") from None
        self._issuer, self._jwks_uri = doc.get("issuer"), doc.get("jwks_uri")
        if not self._issuer or not self._jwks_uri:
            raise SignInRefused(f"the OpenID configuration at {url} has no issuer or jwks_uri")

    def _keys(self, force: bool = False) -> dict[str, Any]:
        if force or not self._jwks or time.monotonic() - self._jwks_at > JWKS_REFRESH_SECONDS:
            assert self._jwks_uri is not None
            try:
                self._jwks = self._http.get(self._jwks_uri, timeout=10).json()
            except (requests.RequestException, ValueError) as exc:
                raise SignInRefused(f"cannot read the signing keys at {self._jwks_uri}: {type(exc).__name__}") from None
            self._jwks_at = time.monotonic()
        return self._jwks
