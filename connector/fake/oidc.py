"""The sign-in half of the fake Entra ID: OpenID Connect authorization code flow with PKCE.

:class:`~connector.fake.tokens.FakeTokenService` serves these endpoints when it is given ``users``
(sign-in names and passwords of test users) and ``redirect_uris`` (per client id, as an app
registration lists them). It follows Microsoft's documentation:

- "Microsoft identity platform and OAuth 2.0 authorization code flow"
  (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow): ``GET
  /{tenant}/oauth2/v2.0/authorize`` with ``client_id``, ``response_type=code``, ``redirect_uri``,
  ``scope``, ``state``, ``nonce``, ``code_challenge`` and ``code_challenge_method=S256``; the user
  signs in; the browser is redirected to ``redirect_uri?code=...&state=...``; the app redeems the code at
  the token endpoint (``grant_type=authorization_code`` with ``code_verifier``) once, within minutes.
- "OpenID Connect on the Microsoft identity platform"
  (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc): the ID token is a JWT
  signed RS256 with a key published at ``jwks_uri`` (``/{tenant}/discovery/v2.0/keys``) and named by
  ``kid``; the OpenID configuration names the issuer ``https://{host}/{tenant}/v2.0``.
- "ID token claims reference" (https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference):
  ``aud`` (the client id), ``iss``, ``iat``, ``nbf``, ``exp``, ``nonce``, ``sub``, ``oid``, ``tid``,
  ``name``, ``preferred_username``, ``ver`` 2.0.

Errors use the documented AADSTS codes (50011 redirect URI mismatch, 50126 wrong password, 70008 code
expired or redeemed, 501481 code verifier mismatch). What it does not implement (implicit flow, the
``form_post`` response mode, refresh tokens, consent) it refuses as ``unsupported_response_type`` /
``unsupported_grant_type``. Tests make it misbehave on purpose with :attr:`OidcProvider.tamper`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: How a test makes the next ID tokens wrong: signed by a key not in the JWKS, already expired, for
#: another audience, with another nonce, or from another issuer.
Tamper = Literal["forged", "expired", "wrong_audience", "wrong_nonce", "wrong_issuer", "wrong_tenant"]

CODE_LIFETIME_SECONDS = 600  # "Authorization codes are short lived, typically expiring after about 10 minutes"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_jwt(key: rsa.RSAPrivateKey, kid: str, claims: Mapping[str, Any]) -> str:
    """A compact RS256 JWS of ``claims`` with ``kid`` in its header."""
    header = {"typ": "JWT", "alg": "RS256", "kid": kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(dict(claims)).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()

    def _int(n: int) -> str:
        return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    return {"kty": "RSA", "use": "sig", "kid": kid, "alg": "RS256", "n": _int(numbers.n), "e": _int(numbers.e)}


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    user: str
    nonce: str | None
    challenge: str | None
    method: str
    scope: str
    issued_at: float


class OidcProvider:
    """Users, issued codes and the signing key of the fake identity platform's sign-in."""

    def __init__(self, users: Mapping[str, str], redirect_uris: Mapping[str, list[str]], tenant: str) -> None:
        self.users = {name.casefold(): password for name, password in users.items()}
        self.redirect_uris = {cid: list(uris) for cid, uris in redirect_uris.items()}
        self.tenant = tenant
        self.tenant_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, tenant))
        self.kid = secrets.token_hex(8)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.id_token_lifetime = 3600
        #: Set by tests: the next ID tokens are wrong in this way (see :data:`Tamper`).
        self.tamper: Tamper | None = None
        self.sign_ins = 0
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key, self.kid)]}

    def private_key_pem(self) -> bytes:
        """The signing key (tests sign their own tokens with it to check the validator claim by claim)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    # --- authorize -------------------------------------------------------------------------------
    def check_request(self, q: Mapping[str, str]) -> tuple[str | None, str]:
        """(redirect URI to send errors to or None, problem or "") for an authorize request."""
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        if client_id not in self.redirect_uris:
            return None, f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory."
        if redirect_uri not in self.redirect_uris[client_id]:
            return None, (
                "AADSTS50011: The redirect URI specified in the request does not match the redirect "
                f"URIs configured for the application '{client_id}'."
            )
        if q.get("response_type") != "code":
            return redirect_uri, "unsupported_response_type"
        if "openid" not in q.get("scope", "").split():
            return redirect_uri, "invalid_scope"
        if q.get("code_challenge") and q.get("code_challenge_method", "plain") not in ("S256", "plain"):
            return redirect_uri, "invalid_request"
        if q.get("response_mode", "query") != "query":
            return redirect_uri, "unsupported_response_mode"
        return redirect_uri, ""

    def sign_in_form(self, q: Mapping[str, str], problem: str = "") -> str:
        """The page a user signs in on (the real one is Microsoft's; this one is for test users)."""
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in q.items()
            if k not in ("login", "password")
        )
        error = f'<p role="alert">{html.escape(problem)}</p>' if problem else ""
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Sign in to your account</title></head>"
            f"<body><h1>Sign in</h1>{error}<form method='post'>{hidden}"
            "<label>Email <input name='login' type='email' autocomplete='username'></label>"
            "<label>Password <input name='password' type='password'></label>"
            "<button type='submit'>Sign in</button></form></body></html>"
        )

    def sign_in(self, form: Mapping[str, str]) -> tuple[str | None, str]:
        """(redirect location, "") after a good sign-in, or (None, problem) to show the form again."""
        login, password = form.get("login", "").strip().casefold(), form.get("password", "")
        known = self.users.get(login)
        if known is None or not secrets.compare_digest(known.encode(), password.encode()):
            return None, "AADSTS50126: Error validating credentials due to invalid username or password."
        code = secrets.token_urlsafe(32)
        grant = _Grant(
            form["client_id"],
            form["redirect_uri"],
            login,
            form.get("nonce"),
            form.get("code_challenge"),
            form.get("code_challenge_method", "plain"),
            form.get("scope", ""),
            time.time(),
        )
        with self._lock:
            self._codes[code] = grant
            self.sign_ins += 1
        query = {"code": code, "session_state": str(uuid.uuid4())}
        if "state" in form:
            query["state"] = form["state"]
        return f"{grant.redirect_uri}?{urlencode(query)}", ""

    # --- token -----------------------------------------------------------------------------------
    def redeem(self, form: Mapping[str, str], issuer: str) -> tuple[int, dict[str, Any]] | str:
        """The token answer for an authorization code, or an ``AADSTSnnn: text`` problem."""
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # one use only
        if grant is None or time.time() - grant.issued_at > CODE_LIFETIME_SECONDS:
            return "AADSTS70008: The provided authorization code or refresh token has expired or was already used."
        if form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return "AADSTS50011: The redirect URI or client does not match the authorization request."
        if grant.challenge:
            verifier = form.get("code_verifier", "")
            computed = b64url(hashlib.sha256(verifier.encode()).digest()) if grant.method == "S256" else verifier
            if not secrets.compare_digest(computed, grant.challenge):
                return (
                    "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the "
                    "authorization request."
                )
        now = int(time.time())
        name = grant.user.split("@")[0].replace(".", " ").title()
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": issuer,
            "aud": grant.client_id,
            "iat": now,
            "nbf": now,
            "exp": now + self.id_token_lifetime,
            "sub": b64url(hashlib.sha256(grant.user.encode()).digest()),
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, grant.user)),
            "tid": self.tenant_id,
            "name": name,
            "preferred_username": grant.user,
            "email": grant.user,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        key = self.key
        if self.tamper == "forged":
            key = self._stranger
        elif self.tamper == "expired":
            claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
        elif self.tamper == "wrong_audience":
            claims["aud"] = "some-other-app"
        elif self.tamper == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-you-sent"
        elif self.tamper == "wrong_issuer":
            claims["iss"] = "https://login.example.invalid/other-tenant/v2.0"
        token = sign_jwt(key, self.kid, claims)
        client_info = b64url(json.dumps({"uid": claims["oid"], "utid": self.tenant_id}).encode())
        return 200, {
            "token_type": "Bearer",
            "scope": grant.scope,
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": "fake-user-at-" + secrets.token_urlsafe(24),
            "id_token": token,
            "client_info": client_info,
        }

    # --- access tokens for an API (nested app authentication) -------------------------------------
    def access_token(
        self,
        user: str,
        audience: str,
        issuer: str,
        client_id: str = "outlook-addin",
        scope: str = "access_as_user",
        tamper: Tamper | None = None,
    ) -> str:
        """A v2.0 access token for ``user`` to call the API ``audience``, as Entra gives a nested app
        (MSAL.js ``createNestablePublicClientApplication`` in an Outlook add-in, brokered by Outlook).

        Claims as "Access token claims reference"
        (https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference): ``aud``,
        ``iss``, ``iat``, ``nbf``, ``exp``, ``azp`` (the client app), ``scp``, ``tid``, ``oid``, ``sub``,
        ``preferred_username``, ``name``, ``ver`` 2.0; RS256 with the key the tenant publishes. Only a
        known test user gets one (KeyError otherwise)."""
        folded = user.casefold()
        if folded not in self.users:
            raise KeyError(f"{user} is not a user of the fake tenant")
        now = int(time.time())
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": issuer,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "azp": client_id,
            "azpacr": "0",
            "scp": scope,
            "tid": self.tenant_id,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, folded)),
            "sub": b64url(hashlib.sha256(f"{client_id}:{folded}".encode()).digest()),
            "preferred_username": folded,
            "name": folded.split("@")[0].replace(".", " ").title(),
        }
        key = self.key
        if tamper == "forged":
            key = self._stranger
        elif tamper == "expired":
            claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
        elif tamper == "wrong_audience":
            claims["aud"] = "api://some-other-api"
        elif tamper == "wrong_issuer":
            claims["iss"] = "https://login.example.invalid/other-tenant/v2.0"
        elif tamper == "wrong_tenant":
            claims["tid"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, "fabrikam-tenant"))
        return sign_jwt(key, self.kid, claims)
