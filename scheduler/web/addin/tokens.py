"""Who calls the add-in's API: full validation of the pane's Bearer token with PyJWT.

Two kinds of token, told apart by their shape (an Exchange identity token carries ``appctx``):

- **Entra access token** (Microsoft 365, nested app authentication: MSAL.js in the pane, brokered by
  Outlook), validated as "Protected web API: validate tokens" asks
  (https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-tokens): RS256 with
  the key its ``kid`` names in the tenant's ``jwks_uri`` (from the OpenID configuration), ``iss`` that
  configuration's issuer, ``aud`` the API (``web.addin.entra_audience``), ``tid`` the configured tenant,
  ``exp``/``nbf`` with a minute of leeway, the ``access_as_user`` scope; the user is
  ``preferred_username``.
- **Exchange identity token** (Exchange Server's ``getUserIdentityTokenAsync``), validated as "Validate an
  Exchange identity token" (https://learn.microsoft.com/en-us/office/dev/add-ins/outlook/validate-an-identity-token):
  ``typ`` JWT, ``alg`` RS256, an ``x5t``; ``appctx.version`` ``ExIdTok.V1``; ``appctx.amurl`` one of the
  configured servers' metadata documents (never a URL the token chooses); ``aud`` the pane's address;
  ``nbf`` <= now <= ``exp`` (five minutes' skew); the signature with the certificate the metadata document
  lists under that ``x5t``. The user is ``msexchuid`` at that server, linked once to a staff mailbox
  (:mod:`mapping.store.models_addin`).

Then the user must be a configured staff mailbox. Every refusal is :class:`TokenRefused`: its reason is
logged for the administrator (never the token), and the caller gets a bare 401.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import jwt
import requests
from cryptography import x509

from connector.auth import PinnedCASession
from mapping.store.addin import identity_hash, linked_mailbox
from mapping.store.store import Store
from scheduler.config_web import AddinConfig

LEEWAY_SECONDS = 60
EXCHANGE_SKEW_SECONDS = 300  # Microsoft: "consider clock differences between servers"
KEYS_REFRESH_SECONDS = 3600
MAX_TOKEN_LENGTH = 16_384
SCOPE = "access_as_user"
EXCHANGE_APP = "00000002-0000-0ff1-ce00-000000000000"


class TokenRefused(Exception):
    """The token does not let anyone in; the message (for the log) says why, without the token."""


@dataclass(frozen=True)
class Caller:
    address: str  # the staff mailbox the API answers for
    via: Literal["entra", "exchange"]


@dataclass(frozen=True)
class ExchangeIdentity:
    key: str  # identity_hash(amurl, msexchuid)
    amurl: str


def _session(ca_file: str | None) -> requests.Session:
    return PinnedCASession(ca_file) if ca_file else requests.Session()


class _Cached:
    """A JSON document fetched at most once an hour (or again on demand when a key is missing)."""

    def __init__(self, http: requests.Session) -> None:
        self._http = http
        self._docs: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, force: bool = False) -> dict[str, Any]:
        with self._lock:
            hit = self._docs.get(url)
        if hit is not None and not force and time.monotonic() - hit[0] < KEYS_REFRESH_SECONDS:
            return hit[1]
        try:
            answer = self._http.get(url, timeout=10)
            answer.raise_for_status()
            doc = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise TokenRefused(f"cannot read {url}: {type(exc).__name__}") from None
        if not isinstance(doc, dict):
            raise TokenRefused(f"{url} is not a JSON object")
        with self._lock:
            self._docs[url] = (time.monotonic(), doc)
        return doc


class AddinTokens:
    """Validates the pane's tokens for one configuration (keys and metadata cached per process)."""

    def __init__(self, config: AddinConfig, staff: Iterable[str], store: Store) -> None:
        self.config = config
        self.staff = frozenset(a.casefold() for a in staff)
        self.store = store
        self._entra = _Cached(_session(config.entra_ca_file))
        self._exchange = _Cached(requests.Session())

    # --- entry point ---------------------------------------------------------------------------------
    def caller(self, authorization: str | None) -> Caller:
        """The staff mailbox a request's ``Authorization: Bearer ...`` header stands for."""
        token = self.bearer(authorization)
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenRefused("the bearer token is not a JWT") from None
        if "appctx" in claims:
            identity = self.exchange_identity(token)
            address = linked_mailbox(self.store, identity.key)
            if address is None:
                raise TokenRefused("the Exchange user is not linked to a staff mailbox yet (/addin/link)")
            via: Literal["entra", "exchange"] = "exchange"
        else:
            address, via = self.entra_user(token), "entra"
        if address.casefold() not in self.staff:
            raise TokenRefused(f"{address} is not a configured staff mailbox ([mailboxes] addresses)")
        return Caller(address.casefold(), via)

    @staticmethod
    def bearer(authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise TokenRefused("no Bearer token")
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenRefused("the bearer token is too long to be one")
        return token

    # --- Microsoft 365 --------------------------------------------------------------------------------
    def entra_user(self, token: str) -> str:
        c = self.config
        if c.entra_audience is None or c.entra_tenant_id is None:
            raise TokenRefused("an Entra token, but web.addin.entra_audience is not configured")
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise TokenRefused(f"the Entra token is signed with {header.get('alg')!r}, not RS256")
        discovery = f"{c.entra_authority_host.rstrip('/')}/{c.entra_tenant_id}/v2.0/.well-known/openid-configuration"
        doc = self._entra.get(discovery)
        issuer, jwks_uri = doc.get("issuer"), doc.get("jwks_uri")
        if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
            raise TokenRefused(f"the OpenID configuration at {discovery} has no issuer or jwks_uri")
        jwk = self._key(jwks_uri, header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                jwt.PyJWK.from_dict(jwk).key,
                algorithms=["RS256"],
                audience=c.entra_audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "tid"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"the Entra token is not valid: {type(exc).__name__}") from None
        if claims.get("tid") != c.entra_tenant_id:
            raise TokenRefused("the Entra token is from another tenant")
        if SCOPE not in str(claims.get("scp", "")).split():
            raise TokenRefused(f"the Entra token lacks the {SCOPE} scope")
        user = claims.get("preferred_username") or claims.get("upn")
        if not isinstance(user, str) or "@" not in user:
            raise TokenRefused("the Entra token names no user")
        return user

    def _key(self, jwks_uri: str, kid: object) -> dict[str, Any]:
        for force in (False, True):  # a key rotated since we looked: fetch the keys once more
            keys = {
                k.get("kid"): k for k in self._entra.get(jwks_uri, force=force).get("keys", []) if isinstance(k, dict)
            }
            if kid in keys:
                return dict(keys[kid])
        raise TokenRefused("the Entra token is signed with a key the tenant does not publish")

    # --- Exchange Server ------------------------------------------------------------------------------
    def exchange_identity(self, token: str) -> ExchangeIdentity:
        """The validated identity of an Exchange identity token (not yet linked to a mailbox)."""
        c = self.config
        if not c.exchange_metadata_urls or c.pane_url is None:
            raise TokenRefused("an Exchange identity token, but web.addin.exchange_metadata_urls is not configured")
        header = jwt.get_unverified_header(token)
        if header.get("typ") != "JWT" or header.get("alg") != "RS256" or not header.get("x5t"):
            raise TokenRefused("the Exchange identity token's header is not typ JWT, alg RS256 with an x5t")
        claims = jwt.decode(token, options={"verify_signature": False})
        try:
            appctx = json.loads(claims.get("appctx", ""))
        except (TypeError, ValueError):
            raise TokenRefused("the Exchange identity token's appctx is not JSON") from None
        if not isinstance(appctx, dict) or appctx.get("version") != "ExIdTok.V1":
            raise TokenRefused("the Exchange identity token is not version ExIdTok.V1")
        amurl, uid = appctx.get("amurl"), appctx.get("msexchuid")
        if amurl not in c.exchange_metadata_urls or not isinstance(uid, str) or not uid:
            raise TokenRefused("the Exchange identity token is from a server not in web.addin.exchange_metadata_urls")
        certificate = self._certificate(str(amurl), str(header["x5t"]))
        try:
            jwt.decode(
                token,
                certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=c.pane_url,
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["aud", "exp", "nbf", "iss"],
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"the Exchange identity token is not valid: {type(exc).__name__}") from None
        now = time.time()
        try:  # strings of seconds in Exchange's tokens; numbers in case a server sends those
            nbf, exp = float(claims["nbf"]), float(claims["exp"])
        except (TypeError, ValueError):
            raise TokenRefused("the Exchange identity token's nbf/exp are not times") from None
        if not nbf - EXCHANGE_SKEW_SECONDS <= now <= exp + EXCHANGE_SKEW_SECONDS:
            raise TokenRefused("the Exchange identity token has expired or is not valid yet")
        issuer = str(self._exchange.get(str(amurl)).get("issuer", f"{EXCHANGE_APP}@*"))
        if not str(claims.get("iss", "")).startswith(f"{EXCHANGE_APP}@") or not fnmatch.fnmatchcase(
            str(claims.get("iss")), issuer
        ):
            raise TokenRefused("the Exchange identity token's issuer is not Exchange")
        return ExchangeIdentity(identity_hash(str(amurl), uid), str(amurl))

    def _certificate(self, amurl: str, x5t: str) -> x509.Certificate:
        for force in (False, True):
            doc = self._exchange.get(amurl, force=force)
            for key in doc.get("keys", []):
                if not isinstance(key, dict) or key.get("usage") != "signing":
                    continue
                if (key.get("keyinfo") or {}).get("x5t") != x5t:
                    continue
                value = (key.get("keyvalue") or {}).get("value")
                try:
                    return x509.load_der_x509_certificate(base64.b64decode(str(value)))
                except ValueError:
                    raise TokenRefused(f"the metadata document at {amurl} has a certificate that is not one") from None
        raise TokenRefused("the Exchange identity token is signed with a certificate its server does not publish")
