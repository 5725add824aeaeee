"""Exchange identity tokens for Outlook add-ins on Exchange Server, and the auth metadata document.

What Exchange Server 2013-SE gives an add-in that calls ``Office.context.mailbox.getUserIdentityTokenAsync``,
as Microsoft documents it:

- "Inside the Exchange identity token"
  (https://learn.microsoft.com/en-us/office/dev/add-ins/outlook/inside-the-identity-token): a JWT with the
  header ``{"typ": "JWT", "alg": "RS256", "x5t": <thumbprint of the signing certificate>}`` and the claims
  ``aud`` (the add-in's page URL), ``iss`` and ``appctxsender``
  (``00000002-0000-0ff1-ce00-000000000000@<host>``), ``isbrowserhostedapp``, ``nbf`` and ``exp`` (strings of
  seconds since 1970, as the documented sample shows) and ``appctx``: a JSON *string* with ``msexchuid`` (the
  user's unique id at that server), ``version`` (``ExIdTok.V1``) and ``amurl`` (the auth metadata URL).
- "Validate an Exchange identity token"
  (https://learn.microsoft.com/en-us/office/dev/add-ins/outlook/validate-an-identity-token): the metadata
  document at ``amurl`` (``/autodiscover/metadata/json/1``) lists the signing certificate (base64 DER, with
  its ``x5t``) under ``keys``; the user's identity is ``msexchuid`` together with ``amurl``.

Legacy Exchange *Online* identity tokens are off since 2025; this models the on-premises server only.
Tests make tokens wrong on purpose with :class:`Tamper` values.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
import uuid
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

METADATA_PATH = "/autodiscover/metadata/json/1"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"  # Exchange's well-known service principal
TOKEN_LIFETIME_SECONDS = 8 * 3600  # the documented sample is valid for eight hours

Tamper = Literal["forged", "expired", "wrong_audience", "wrong_version", "other_metadata"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def exchange_user_id(address: str) -> str:
    """The ``msexchuid`` this fake gives a mailbox (stable per address; opaque, like the real one)."""
    return _b64url(hashlib.sha256(f"msexchuid:{address.casefold()}".encode()).digest()[:24])


class ExchangeIdentityIssuer:
    """The server's signing certificate, its metadata document and the identity tokens it signs."""

    def __init__(self, host: str = "mail.contoso.com") -> None:
        self.host = host
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Microsoft Exchange Server Auth Certificate")])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )
        self.der = self.certificate.public_bytes(serialization.Encoding.DER)
        self.x5t = _b64url(hashlib.sha1(self.der).digest())  # SHA-1 thumbprint: what Exchange sends
        self.issued = 0

    def metadata_document(self, amurl: str) -> dict[str, Any]:
        """The JSON at ``amurl`` (shape of the documented Exchange metadata document)."""
        return {
            "id": f"_{uuid.uuid5(uuid.NAMESPACE_URL, amurl)}",
            "version": "1.0",
            "name": "Exchange",
            "realm": "*",
            "serviceName": EXCHANGE_APP_ID,
            "issuer": f"{EXCHANGE_APP_ID}@*",
            "allowedAudiences": [f"{EXCHANGE_APP_ID}@*"],
            "keys": [
                {
                    "usage": "signing",
                    "keyinfo": {"x5t": self.x5t},
                    "keyvalue": {"type": "x509Certificate", "value": base64.b64encode(self.der).decode()},
                }
            ],
            "endpoints": [{"location": amurl, "protocol": "OAuth2", "usage": "metadata"}],
        }

    def identity_token(
        self,
        address: str,
        audience: str,
        amurl: str,
        tamper: Tamper | None = None,
        lifetime: int = TOKEN_LIFETIME_SECONDS,
    ) -> str:
        """What ``getUserIdentityTokenAsync`` returns to the add-in at ``audience`` for ``address``."""
        now = int(time.time())
        nbf, exp = (now - 2 * lifetime, now - lifetime) if tamper == "expired" else (now - 60, now + lifetime)
        appctx = {
            "msexchuid": exchange_user_id(address),
            "version": "ExIdTok.V2" if tamper == "wrong_version" else "ExIdTok.V1",
            "amurl": amurl.replace("/json/1", "/json/2") if tamper == "other_metadata" else amurl,
        }
        sender = f"{EXCHANGE_APP_ID}@{self.host}"
        claims = {
            "aud": "https://elsewhere.example.com/pane.html" if tamper == "wrong_audience" else audience,
            "iss": sender,
            "nbf": str(nbf),
            "exp": str(exp),
            "appctxsender": sender,
            "isbrowserhostedapp": "true",
            "appctx": json.dumps(appctx),
        }
        header = {"typ": "JWT", "alg": "RS256", "x5t": self.x5t}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        key = self._stranger if tamper == "forged" else self.key
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        self.issued += 1
        return f"{signing_input}.{_b64url(signature)}"
