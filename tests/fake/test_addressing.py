"""The fake EWS finds the mailbox in every form clients address it.

ConnectingSID: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/connectingsid
X-AnchorMailbox: https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
"""

from __future__ import annotations

import pytest
from lxml import etree

from connector.fake.ews.server import FakeExchange

from .company import ALICE, BOB
from .rawsoap import ENVELOPE, GET_INBOX, post

NS = {
    "m": "http://schemas.microsoft.com/exchange/services/2006/messages",
    "t": "http://schemas.microsoft.com/exchange/services/2006/types",
}


def impersonating(element: str, value: str) -> bytes:
    imp = (
        f"<t:ExchangeImpersonation><t:ConnectingSID><t:{element}>{value}</t:{element}></t:ConnectingSID>"
        "</t:ExchangeImpersonation>"
    )
    return ENVELOPE.format(impersonation=imp, body=GET_INBOX).encode()


def inbox_id(fake: FakeExchange, data: bytes, headers: dict[str, str] | None = None) -> str | None:
    r = post(fake, data, headers=headers or {})
    assert r.status_code == 200, r.content[:300]
    el = etree.fromstring(r.content).find(".//t:FolderId", NS)
    return None if el is None else el.get("Id")


@pytest.mark.parametrize("element", ["PrimarySmtpAddress", "SmtpAddress", "PrincipalName"])
def test_connecting_sid_by_address_or_principal_name(fake: FakeExchange, element: str) -> None:
    assert inbox_id(fake, impersonating(element, BOB.email)) == fake.mailboxes[BOB.email].folder_id("inbox")


def test_connecting_sid_by_security_identifier(fake: FakeExchange) -> None:
    bob = fake.mailboxes[BOB.email]
    assert inbox_id(fake, impersonating("SID", fake.sid_of(bob))) == bob.folder_id("inbox")


def test_an_unknown_sid_is_a_non_existent_mailbox(fake: FakeExchange) -> None:
    r = post(fake, impersonating("SID", "S-1-5-21-1-2-3-999999"))
    assert b"ErrorNonExistentMailbox" in r.content


@pytest.mark.parametrize("anchor", [ALICE.email, f"SMTP:{ALICE.email}", f"UPN:{ALICE.email}"])
def test_the_anchor_mailbox_header_in_its_plain_and_prefixed_forms(fake: FakeExchange, anchor: str) -> None:
    data = ENVELOPE.format(impersonation="", body=GET_INBOX).encode()
    assert inbox_id(fake, data, {"X-AnchorMailbox": anchor}) == fake.mailboxes[ALICE.email].folder_id("inbox")
