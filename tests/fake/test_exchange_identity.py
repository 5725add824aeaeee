"""The fake Exchange's identity tokens for Outlook add-ins and the auth metadata document they point to,
in the shape Microsoft documents ("Inside the Exchange identity token", "Validate an Exchange identity
token")."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.fake.company.generator import build_company
from connector.fake.ews.identity import exchange_user_id
from connector.fake.ews.server import FakeExchange


def _part(token: str, n: int) -> dict[str, object]:
    raw = token.split(".")[n]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    return decoded


def test_the_metadata_document_is_anonymous_and_its_certificate_verifies_the_token() -> None:
    with FakeExchange(build_company(7, 2, "tiny")) as fake:
        user = next(iter(fake.mailboxes))
        token = fake.identity_token(user, "https://relsync.example.com/addin/pane.html")
        doc = requests.get(fake.metadata_url, timeout=10).json()  # no credentials, as on Exchange
    header, claims = _part(token, 0), _part(token, 1)
    assert header["typ"] == "JWT" and header["alg"] == "RS256"
    key = next(k for k in doc["keys"] if k["keyinfo"]["x5t"] == header["x5t"])
    certificate = x509.load_der_x509_certificate(base64.b64decode(key["keyvalue"]["value"]))
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    verified = jwt.decode(
        token,
        public_key,
        algorithms=["RS256"],
        audience="https://relsync.example.com/addin/pane.html",
        options={"verify_exp": False, "verify_nbf": False},
    )
    appctx = json.loads(str(verified["appctx"]))
    assert appctx == {"msexchuid": exchange_user_id(user), "version": "ExIdTok.V1", "amurl": fake.metadata_url}
    assert isinstance(claims["exp"], str) and isinstance(claims["nbf"], str)  # strings, as documented
    assert str(claims["iss"]).startswith("00000002-0000-0ff1-ce00-000000000000@")
    assert doc["issuer"] == "00000002-0000-0ff1-ce00-000000000000@*"


def test_a_token_is_only_issued_for_a_mailbox_the_fake_has() -> None:
    fake = FakeExchange(build_company(7, 2, "tiny"))
    with pytest.raises(KeyError):
        fake.identity_token("nobody@nowhere.example", "https://relsync.example.com/addin/pane.html")
