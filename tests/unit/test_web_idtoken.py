"""ID token validation, claim by claim, with tokens signed by the fake Entra ID's own key (or another)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.fake.oidc import OidcProvider, sign_jwt
from scheduler.web.idtoken import SignInRefused, validate_id_token

ISSUER = "https://localhost:1/contoso/v2.0"
AUDIENCE = "console-app"


@pytest.fixture(scope="module")
def idp() -> OidcProvider:
    return OidcProvider({}, {}, "contoso")


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "sub": "s",
        "nonce": "n-1",
        "preferred_username": "ada@contoso.example",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_genuine_token_for_us_now_is_accepted(idp: OidcProvider) -> None:
    token = sign_jwt(idp.key, idp.kid, claims())
    assert validate_id_token(token, idp.jwks(), ISSUER, AUDIENCE, "n-1")["preferred_username"] == "ada@contoso.example"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"aud": "another-app"}, "another application"),
        ({"iss": "https://login.example.invalid/x/v2.0"}, "another identity provider"),
        ({"nonce": "someone-elses"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"exp": None}, "exp"),
    ],
)
def test_a_token_wrong_in_one_claim_is_refused(idp: OidcProvider, change: dict[str, Any], reason: str) -> None:
    token = sign_jwt(idp.key, idp.kid, claims(**change))
    with pytest.raises(SignInRefused, match=reason):
        validate_id_token(token, idp.jwks(), ISSUER, AUDIENCE, "n-1")


def test_a_token_signed_by_another_key_is_refused(idp: OidcProvider) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignInRefused, match="signature"):
        validate_id_token(sign_jwt(stranger, idp.kid, claims()), idp.jwks(), ISSUER, AUDIENCE, "n-1")
    with pytest.raises(SignInRefused, match="does not publish"):
        validate_id_token(sign_jwt(stranger, "unknown-kid", claims()), idp.jwks(), ISSUER, AUDIENCE, "n-1")


def test_an_unsigned_or_garbled_token_is_refused(idp: OidcProvider) -> None:
    good = sign_jwt(idp.key, idp.kid, claims())
    head, body, _ = good.split(".")
    for bad in ("not-a-jwt", f"{head}.{body}.", "eyJhbGciOiJub25lIn0." + body + "."):
        with pytest.raises(SignInRefused):
            validate_id_token(bad, idp.jwks(), ISSUER, AUDIENCE, "n-1")
