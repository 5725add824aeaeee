"""The ``[web]`` section: the web console (``relsync serve``), who may sign in and with which role.

Sign-in (``auth``):

- ``"oidc"``: Microsoft Entra ID, OpenID Connect authorization code flow with PKCE through msal
  (``[web.oidc]``: ``tenant_id``, ``client_id``, the client secret's environment variable, and the
  ``redirect_uri`` registered on the app, ``https://HOST/auth/callback``).
- ``"header"``: a company reverse proxy authenticates (Kerberos/NTLM) and passes the user in
  ``trusted_header``; the header is believed only from ``trusted_proxies`` addresses.
- ``"dev"``: pick a configured user on a sign-in page, no password: for the demo on loopback only
  (refused at load with any other ``listen`` address).

Roles come from ``[web.roles]``: lists of e-mail addresses or patterns (``*@contoso.com``) per role
``admin``, ``manager``, ``staff``; a user in several gets the highest.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["admin", "manager", "staff"]
ROLE_ORDER: tuple[Role, ...] = ("admin", "manager", "staff")
DEFAULT_LISTEN = "127.0.0.1:8080"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def split_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6) as (host, port); ValueError with the fix otherwise."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port (for example {DEFAULT_LISTEN})")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OidcConfig(_Section):
    """``[web.oidc]``: the Entra ID app registration the console signs users in with."""

    tenant_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret_env: str = Field("RELSYNC_WEB_CLIENT_SECRET", description="environment variable of the secret")
    redirect_uri: str = Field(description="https://HOST/auth/callback, as registered on the app")
    authority_host: str = Field("https://login.microsoftonline.com")
    ca_file: str | None = Field(None, description="CA bundle trusting a private authority host (tests)")

    @field_validator("redirect_uri")
    @classmethod
    def _callback(cls, value: str) -> str:
        if not value.endswith("/auth/callback"):
            raise ValueError("must end in /auth/callback (the console's sign-in reply path)")
        return value


class RolesConfig(_Section):
    """``[web.roles]``: who is what; e-mail addresses or shell patterns, compared case-insensitively."""

    admin: list[str] = Field(default_factory=list)
    manager: list[str] = Field(default_factory=list)
    staff: list[str] = Field(default_factory=list)

    def role_of(self, user: str) -> Role | None:
        """The highest role ``user`` (an e-mail address) has, or None."""
        folded = user.casefold()
        for role in ROLE_ORDER:
            if any(fnmatch.fnmatchcase(folded, pattern.casefold()) for pattern in getattr(self, role)):
                return role
        return None

    def users(self) -> list[str]:
        """Every plain address (no pattern) named in a role, for the demo sign-in page."""
        return sorted({u for r in ROLE_ORDER for u in getattr(self, r) if "*" not in u and "?" not in u})


class AddinConfig(_Section):
    """``[web.addin]``: the Outlook add-in's API (see README, "Outlook add-in") and who may call it.

    Users are the configured staff mailboxes (``[mailboxes] addresses``); a token is accepted from:

    - Microsoft 365 (nested app authentication): an Entra access token whose ``aud`` is
      ``entra_audience`` (the API's application ID URI or client id), from ``entra_tenant_id`` on
      ``entra_authority_host``, signed with a key the tenant publishes;
    - Exchange Server: an Exchange identity token whose ``amurl`` is one of
      ``exchange_metadata_urls`` (the servers' auth metadata documents) and whose ``aud`` is the pane's
      address; the Exchange user is linked to their mailbox once, signed in to the console.
    """

    entra_audience: str | None = Field(None, description="the relsync API's application ID URI or client id")
    entra_tenant_id: str | None = None
    entra_authority_host: str = Field("https://login.microsoftonline.com")
    entra_ca_file: str | None = Field(None, description="CA bundle trusting a private authority host (tests)")
    entra_client_id: str | None = Field(
        None, description="the add-in's app registration MSAL.js nested app authentication signs in with"
    )
    msal_browser_js: str | None = Field(
        None,
        description="absolute path of msal-browser.min.js (npm @azure/msal-browser), served at "
        "/addin/msal-browser.min.js for nested app authentication",
    )
    exchange_metadata_urls: list[str] = Field(
        default_factory=list, description="auth metadata documents of the trusted Exchange servers (amurl)"
    )
    pane_url: str | None = Field(
        None, description="the pane's public address (the identity token's aud), e.g. https://HOST/addin/pane.html"
    )
    office_js: str = Field(
        "https://appsforoffice.microsoft.com/lib/1/hosted/office.js",
        description="where the pane loads Office.js from (Microsoft's address)",
    )

    @model_validator(mode="after")
    def _pairs(self) -> AddinConfig:
        if (self.entra_audience is None) != (self.entra_tenant_id is None):
            raise ValueError("entra_audience and entra_tenant_id go together: set both (Microsoft 365) or neither")
        if self.msal_browser_js is not None and not self.msal_browser_js.startswith("/"):
            raise ValueError("msal_browser_js must be an absolute path (where msal-browser.min.js was unpacked)")
        if self.exchange_metadata_urls and self.pane_url is None:
            raise ValueError("exchange_metadata_urls needs pane_url (the address Exchange identity tokens are for)")
        return self


class WebConfig(_Section):
    """``[web]``: where the console listens, how people sign in, and their roles."""

    enabled: bool = Field(False, description="also serve the console inside `relsync daemon`")
    listen: str = Field(DEFAULT_LISTEN, description="host:port; loopback unless a proxy or TLS is in front")
    auth: Literal["oidc", "header", "dev"] = "oidc"
    trusted_header: str = Field("X-Remote-User", description="the proxy's header naming the signed-in user")
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    session_secret_env: str | None = Field(
        None, description="environment variable with the cookie signing key (else a new key each start)"
    )
    session_hours: float = Field(8.0, gt=0, le=168)
    cookie_secure: bool = Field(True, description="Secure cookies (browsers accept them on loopback http)")
    tls_certificate: str | None = Field(None, description="PEM certificate file: serve HTTPS directly")
    tls_key: str | None = Field(None, description="PEM private key file of tls_certificate")
    timeline_limit: int = Field(200, ge=10, le=5000, description="interactions shown on a relationship page")
    oidc: OidcConfig | None = None
    roles: RolesConfig = Field(default_factory=lambda: RolesConfig())
    addin: AddinConfig = Field(default_factory=lambda: AddinConfig())

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (for example 10.0.0.5)") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WebConfig:
        if self.auth == "oidc" and self.oidc is None:
            raise ValueError('auth = "oidc" needs a [web.oidc] section (tenant_id, client_id, redirect_uri)')
        if self.auth == "dev" and not is_loopback(split_listen(self.listen)[0]):
            raise ValueError(
                'auth = "dev" (sign-in without a password) is only allowed on a loopback listen '
                'address: use "oidc" or "header" for anything else'
            )
        if (self.tls_certificate is None) != (self.tls_key is None):
            raise ValueError("tls_certificate and tls_key go together: set both or neither")
        return self

    def proxy_allowed(self, address: str | None) -> bool:
        """Whether a request from ``address`` may name its user in :attr:`trusted_header`."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.trusted_proxies)
