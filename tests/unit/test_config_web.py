"""The [web] section: roles by address or pattern, loopback-only demo sign-in, proxy addresses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from scheduler.config_web import RolesConfig, WebConfig


def test_the_highest_role_wins_and_patterns_match_case_insensitively() -> None:
    roles = RolesConfig(admin=["Ada@Contoso.example"], manager=["*@contoso.example"], staff=["*"])
    assert roles.role_of("ada@contoso.example") == "admin"
    assert roles.role_of("max@CONTOSO.example") == "manager"
    assert roles.role_of("eve@elsewhere.example") == "staff"
    assert RolesConfig(admin=["a@x.example"]).role_of("b@x.example") is None
    assert roles.users() == ["Ada@Contoso.example"]


def test_the_password_free_demo_sign_in_only_listens_on_loopback() -> None:
    assert WebConfig(auth="dev", listen="127.0.0.1:8080").auth == "dev"
    with pytest.raises(ValidationError, match="only allowed on a loopback"):
        WebConfig(auth="dev", listen="0.0.0.0:8080")


def test_oidc_needs_its_section_and_tls_needs_both_files() -> None:
    with pytest.raises(ValidationError, match=r"needs a \[web.oidc\] section"):
        WebConfig(auth="oidc")
    with pytest.raises(ValidationError, match="go together"):
        WebConfig(auth="header", tls_certificate="cert.pem")
    with pytest.raises(ValidationError, match="not host:port"):
        WebConfig(auth="header", listen="8080")


def test_the_user_header_is_believed_only_from_the_configured_proxies() -> None:
    web = WebConfig(auth="header", trusted_proxies=["10.0.0.0/24", "::1"])
    assert web.proxy_allowed("10.0.0.7") and web.proxy_allowed("::1")
    assert not web.proxy_allowed("127.0.0.1") and not web.proxy_allowed(None) and not web.proxy_allowed("junk")
    with pytest.raises(ValidationError, match="not an IP address"):
        WebConfig(auth="header", trusted_proxies=["proxy.local"])
