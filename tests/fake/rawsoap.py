"""Hand-written SOAP requests for the tests that talk to the fake without exchangelib."""

from __future__ import annotations

from typing import Any

import requests

from connector.fake.ews.server import FakeExchange

ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
    'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
    '<s:Header><t:RequestServerVersion Version="Exchange2016"/>{impersonation}</s:Header>'
    "<s:Body>{body}</s:Body></s:Envelope>"
)
GET_INBOX = (
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>'
)


def envelope(body: str, mailbox: str | None = None) -> bytes:
    imp = (
        f"<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress>"
        "</t:ConnectingSID></t:ExchangeImpersonation>"
        if mailbox
        else ""
    )
    return ENVELOPE.format(impersonation=imp, body=body).encode()


def post(ex: FakeExchange, data: bytes, auth: tuple[str, str] | None = None, **kw: Any) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    headers.update(kw.pop("headers", {}))
    return requests.post(ex.url, data=data, auth=auth or (ex.username, ex.password), headers=headers, timeout=10, **kw)
