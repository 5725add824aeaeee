"""A fake Microsoft identity platform (Entra ID) token service for tests and the demo.

    with FakeTokenService(exchange=fake_exchange, clients={"app-id": "app-secret"}) as idp:
        settings = OAuthSettings(tenant_id=idp.tenant, client_id="app-id", client_secret="app-secret",
                                 authority_host=idp.authority_host, ca_bundle=idp.ca_file)

msal refuses an ``http://`` authority, so this is an HTTPS server on loopback with a self-signed
certificate made at start (SAN ``localhost`` and ``127.0.0.1``; trust it through ``ca_file``). It serves

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (the OpenID configuration msal reads), and
- ``POST /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``, authenticated by
  ``client_secret`` or by a certificate's signed ``client_assertion`` (RS256, ``x5t`` = SHA-1
  thumbprint, as msal sends for ``{"private_key", "thumbprint"}``), and
- with ``users`` and ``redirect_uris``, user sign-in: the authorization code flow with PKCE and signed
  ID tokens (``/authorize``, ``grant_type=authorization_code``, ``/discovery/v2.0/keys``), see
  :mod:`connector.fake.oidc`.

Tokens are opaque strings with an ``expires_in`` of :attr:`FakeTokenService.expires_in`. Each one
is registered with the attached :class:`~connector.fake.ews.server.FakeExchange`, which accepts it until it
expires or is revoked (:meth:`FakeTokenService.revoke`, :meth:`FakeTokenService.expire`); set
:attr:`FakeTokenService.register` to False to issue tokens Exchange refuses (an app without the EWS
permission). Errors use Entra's shapes and AADSTS codes; no answer ever contains a secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from connector.fake.ews.server import FakeExchange
from connector.fake.httpserver import LoopbackHandler, LoopbackServer
from connector.fake.oidc import OidcProvider

log = logging.getLogger(__name__)

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class AcceptedTokens(set[str]):
    """The bearer tokens a FakeExchange accepts: a set whose membership also checks expiry."""

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        super().__init__(tokens)
        self.expires_at: dict[str, float] = {}

    def add_until(self, token: str, expires_at: float) -> None:
        self.add(token)
        self.expires_at[token] = expires_at

    def __contains__(self, token: object) -> bool:
        if not super().__contains__(token):
            return False
        expires = self.expires_at.get(token) if isinstance(token, str) else None
        return expires is None or time.time() < expires


def sha1_thumbprint(certificate_pem: bytes) -> str:
    """The SHA-1 thumbprint (upper-case hex) of a PEM certificate, as the Entra portal shows it."""
    cert = x509.load_pem_x509_certificate(certificate_pem)
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # SHA-1: what Entra shows


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class FakeTokenService(LoopbackServer):
    """An HTTPS loopback server speaking the client-credentials part of Entra ID's v2.0 endpoints."""

    name = "fake token service"

    def __init__(
        self,
        exchange: FakeExchange | None = None,
        clients: Mapping[str, str] | None = None,
        certificates: Mapping[str, bytes] | None = None,
        tenant: str = "contoso-tenant",
        expires_in: int = 3599,
        host: str = "127.0.0.1",
        port: int = 0,
        users: Mapping[str, str] | None = None,
        redirect_uris: Mapping[str, list[str]] | None = None,
    ) -> None:
        """``clients`` maps client ids to secrets; ``certificates`` maps client ids to PEM certificates;
        ``users`` maps test users' sign-in names to passwords, ``redirect_uris`` client ids to the reply
        URLs their app registration lists (both for the user sign-in of :mod:`connector.fake.oidc`)."""
        #: The user sign-in (authorization code flow), tests set its ``tamper`` and read ``sign_ins``.
        self.oidc = OidcProvider(users or {}, redirect_uris or {}, tenant)
        self.exchange = exchange
        self.clients = dict(clients or {})
        self.certificates = {cid: x509.load_pem_x509_certificate(pem) for cid, pem in (certificates or {}).items()}
        self.tenant = tenant
        self.expires_in = expires_in
        #: False: issue tokens, but do not tell Exchange about them (it answers 401).
        self.register = True
        super().__init__(host, port, tls_name="relsync fake token service")
        self.issued: list[str] = []
        self.token_requests = 0
        self.refused_requests = 0
        self.discovery_requests = 0
        self.accepted = AcceptedTokens()
        if exchange is not None:
            self.accepted.update(exchange.tokens)
            exchange.tokens = self.accepted
        self._lock = threading.Lock()

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"service": self})

    @property
    def authority_host(self) -> str:
        """Use ``localhost``: the certificate names it, and msal wants a host name."""
        return f"https://localhost:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority}/oauth2/v2.0/token"

    def user_access_token(self, user: str, audience: str, **kwargs: Any) -> str:
        """An access token for ``user`` to call the API ``audience`` (nested app authentication in an
        Outlook add-in), signed with the key this tenant publishes; see
        :meth:`connector.fake.oidc.OidcProvider.access_token` (``tamper=`` makes it wrong on purpose)."""
        return self.oidc.access_token(user, audience, f"{self.authority}/v2.0", **kwargs)

    # --- control ---------------------------------------------------------------------------------
    def revoke(self, token: str | None = None) -> None:
        """Exchange stops accepting ``token`` (every token issued so far if None)."""
        with self._lock:
            for t in [token] if token else list(self.issued):
                self.accepted.discard(t)

    def expire(self, token: str | None = None) -> None:
        """``token`` (every token issued so far if None) expires now, whatever its ``expires_in`` said."""
        now = time.time()
        with self._lock:
            for t in [token] if token else list(self.issued):
                if t in self.accepted.expires_at:
                    self.accepted.expires_at[t] = now

    # --- the token endpoint ----------------------------------------------------------------------
    def issue(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer one token request: (HTTP status, JSON body)."""
        with self._lock:
            self.token_requests += 1
        if form.get("grant_type") == "authorization_code":
            return self._redeem(form)
        status, body = self._check(form)
        if status != 200:
            with self._lock:
                self.refused_requests += 1
            return status, body
        token = "fake-at-" + secrets.token_urlsafe(32)
        with self._lock:
            self.issued.append(token)
            if self.register:
                self.accepted.add_until(token, time.time() + self.expires_in)
        return 200, {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": token,
        }

    def _redeem(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """A user's authorization code for tokens; the web app authenticates with its client secret."""
        client_id = form.get("client_id", "")
        secret = self.clients.get(client_id)
        if secret is None or not secrets.compare_digest(form.get("client_secret", ""), secret):
            with self._lock:
                self.refused_requests += 1
            return _error(401, "invalid_client", "AADSTS7000215", "Invalid client secret provided.")
        answer = self.oidc.redeem(form, f"{self.authority}/v2.0")
        if isinstance(answer, str):
            with self._lock:
                self.refused_requests += 1
            code, _, text = answer.partition(": ")
            return _error(400, "invalid_grant", code, text)
        return answer

    def _check(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "AADSTS70003", "The app requested an unsupported grant type.")
        scope = form.get("scope", "")
        if not scope.endswith("/.default") or " " in scope.strip():
            return _error(
                400,
                "invalid_scope",
                "AADSTS1002012",
                "The provided value for scope is not valid. Client credential flows must have a scope "
                "value with /.default suffixed to the resource identifier (application ID URI).",
            )
        client_id = form.get("client_id", "")
        if client_id not in self.clients and client_id not in self.certificates:
            return _error(
                400,
                "unauthorized_client",
                "AADSTS700016",
                f"Application with identifier '{client_id}' was not found in the directory '{self.tenant}'.",
            )
        if "client_secret" in form:
            if client_id in self.clients and secrets.compare_digest(form["client_secret"], self.clients[client_id]):
                return 200, {}
            return _error(
                401,
                "invalid_client",
                "AADSTS7000215",
                "Invalid client secret provided. Ensure the secret being sent in the request is the "
                "client secret value, not the client secret ID, for a secret added to app "
                f"'{client_id}'.",
            )
        if form.get("client_assertion_type") == CLIENT_ASSERTION_TYPE and "client_assertion" in form:
            problem = self._assertion_problem(client_id, form["client_assertion"])
            if problem is None:
                return 200, {}
            return _error(401, "invalid_client", "AADSTS700027", f"Client assertion failed validation: {problem}.")
        return _error(
            401,
            "invalid_client",
            "AADSTS7000218",
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )

    def _assertion_problem(self, client_id: str, assertion: str) -> str | None:
        """Why a client assertion (a JWT signed with the app's certificate key) is refused, or None."""
        cert = self.certificates.get(client_id)
        if cert is None:
            return "no certificate is registered for the app"
        try:
            head_b64, claims_b64, sig_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(head_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            signature = _b64url_decode(sig_b64)
        except ValueError:
            return "the assertion is not a JWT"
        thumbprint = cert.fingerprint(hashes.SHA1())
        x5t = header.get("x5t")
        x5t256 = header.get("x5t#S256")
        if x5t256 is not None:
            if _b64url_decode(x5t256) != cert.fingerprint(hashes.SHA256()):
                return "the key identifier (x5t#S256) names no registered certificate"
        elif x5t is None or _b64url_decode(x5t) != thumbprint:
            return "the key identifier (x5t) names no registered certificate"
        public_key = cert.public_key()
        signed = f"{head_b64}.{claims_b64}".encode()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return "only RSA certificates are supported"
        algorithm = header.get("alg")
        pad: padding.AsymmetricPadding
        if algorithm == "RS256":
            pad = padding.PKCS1v15()
        elif algorithm == "PS256":
            pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
        else:
            return f"unsupported algorithm {algorithm!r}"
        try:
            public_key.verify(signature, signed, pad, hashes.SHA256())
        except InvalidSignature:
            return "the signature does not match the registered certificate"
        if claims.get("aud") != self.token_endpoint:
            return "the audience is not this token endpoint"
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return "the issuer and subject must be the client id"
        if float(claims.get("exp", 0)) < time.time():
            return "the assertion has expired"
        return None

    def openid_configuration(self) -> dict[str, Any]:
        base = self.authority
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{base}/v2.0",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nbf",
                "nonce",
                "name",
                "oid",
                "tid",
                "preferred_username",
                "email",
                "ver",
            ],
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "tenant_region_scope": "EU",
        }


def _error(status: int, error: str, code: str, text: str) -> tuple[int, dict[str, Any]]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace = secrets.token_hex(16)
    return status, {
        "error": error,
        "error_description": f"{code}: {text} Trace ID: {trace} Correlation ID: {trace} Timestamp: {now}",
        "error_codes": [int(code.removeprefix("AADSTS"))],
        "timestamp": now,
        "trace_id": trace,
    }


class _Handler(LoopbackHandler):
    service: FakeTokenService

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake token service: " + format, *args)

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store, no-cache")
        self.end_headers()
        self.wfile.write(body)

    def _html(self, status: int, page: str) -> None:
        body = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store, no-cache")
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _authorize(self, params: dict[str, str], posted: bool) -> None:
        """The authorize endpoint: errors before the redirect URI is trusted are shown, later ones are
        sent to the app (as Entra does); a GET shows the sign-in form, its POST signs in."""
        oidc = self.service.oidc
        redirect_uri, problem = oidc.check_request(params)
        if redirect_uri is None:
            self._html(400, f"<!doctype html><title>Sign in</title><p role='alert'>{html.escape(problem)}</p>")
            return
        if problem:
            query = {"error": problem, "error_description": f"AADSTS900144: {problem}"}
            if "state" in params:
                query["state"] = params["state"]
            self._redirect(f"{redirect_uri}?{urlencode(query)}")
            return
        if not posted:
            self._html(200, oidc.sign_in_form(params))
            return
        location, problem = oidc.sign_in(params)
        if location is None:
            self._html(200, oidc.sign_in_form(params, problem))
        else:
            self._redirect(location)

    def _tenant_path(self) -> tuple[str, str] | None:
        tenant, _, rest = self.path.split("?")[0].lstrip("/").partition("/")
        # Entra answers for a tenant by its name and by its id (the GUID a token's ``tid`` carries).
        if tenant not in (self.service.tenant, self.service.oidc.tenant_id):
            self._json(*_error(400, "invalid_tenant", "AADSTS90002", f"Tenant '{tenant}' not found."))
            return None
        return tenant, "/" + rest

    def do_GET(self) -> None:
        where = self._tenant_path()
        if where is None:
            return
        if where[1] == "/v2.0/.well-known/openid-configuration":
            with self.service._lock:
                self.service.discovery_requests += 1
            self._json(200, self.service.openid_configuration())
        elif where[1] == "/discovery/v2.0/keys":
            self._json(200, self.service.oidc.jwks())
        elif where[1] == "/oauth2/v2.0/authorize":
            query = self.path.partition("?")[2]
            self._authorize({k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}, posted=False)
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        where = self._tenant_path()
        if where is None:
            return
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        if where[1] == "/oauth2/v2.0/authorize":
            self._authorize(form, posted=True)
            return
        if where[1] != "/oauth2/v2.0/token":
            self._json(404, {"error": "not_found"})
            return
        self._json(*self.service.issue(form))
