"""Malformed, unknown and oversized requests get the SOAP faults Exchange sends, never a traceback."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from connector.fake.ews import router
from connector.fake.ews.context import Ctx
from connector.fake.ews.server import FakeExchange

from .company import ALICE
from .rawsoap import GET_INBOX, envelope, post

FAULTCODE = "{http://schemas.xmlsoap.org/soap/envelope/}Body/{http://schemas.xmlsoap.org/soap/envelope/}Fault"


def faultcode(r: requests.Response) -> str:
    root = etree.fromstring(r.content)
    fault = root.find(FAULTCODE)
    assert fault is not None, r.content[:300]
    return str(fault.findtext("faultcode"))


def test_malformed_xml_is_a_schema_validation_fault(fake: FakeExchange) -> None:
    r = post(fake, b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body><oops>")
    assert r.status_code == 500 and r.headers["Content-Type"].startswith("text/xml")
    assert faultcode(r) == "a:ErrorSchemaValidation"
    assert b"<t:LineNumber>" in r.content
    assert post(fake, envelope(GET_INBOX, ALICE.email)).status_code == 200  # and it keeps serving


def test_a_body_that_is_not_soap_is_a_schema_validation_fault(fake: FakeExchange) -> None:
    r = post(fake, b"<hello/>")
    assert r.status_code == 500 and faultcode(r) == "a:ErrorSchemaValidation"


def test_unknown_operation_is_a_schema_validation_fault_and_the_fake_keeps_serving(fake: FakeExchange) -> None:
    """A Body child that is no EWS operation fails Exchange's schema validation
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode)."""
    r = post(fake, envelope("<m:PlayChess/>", ALICE.email))
    assert r.status_code == 500 and faultcode(r) == "a:ErrorSchemaValidation"
    assert b"ServerVersionInfo" in r.content and b"PlayChess" in r.content
    assert post(fake, envelope(GET_INBOX, ALICE.email)).status_code == 200


def test_oversized_request_is_refused_without_reading_it(make_server) -> None:  # type: ignore[no-untyped-def]
    ex: FakeExchange = make_server(max_request_bytes=1024)
    r = post(ex, envelope(GET_INBOX + "<!--" + "x" * 4096 + "-->", ALICE.email))
    assert r.status_code == 500 and faultcode(r) == "a:ErrorInvalidRequest"
    assert post(ex, envelope(GET_INBOX, ALICE.email)).status_code == 200


def test_handler_crash_is_an_internal_server_error_fault(
    fake: FakeExchange, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(ctx: Ctx) -> str:
        raise RuntimeError("bug in the fake")

    monkeypatch.setitem(router.HANDLERS, "GetFolder", boom)
    r = post(fake, envelope(GET_INBOX, ALICE.email))
    assert r.status_code == 500 and faultcode(r) == "a:ErrorInternalServerError"
    assert b"Traceback" not in r.content and b"bug in the fake" not in r.content
    assert "bug in the fake" in caplog.text


def test_other_paths_are_404(fake: FakeExchange) -> None:
    assert requests.post(f"{fake.base_url}/EWS/Other.asmx", data=b"", timeout=10).status_code == 404
    assert requests.get(f"{fake.base_url}/EWS/Other.asmx", timeout=10).status_code == 404


def test_an_unauthenticated_get_of_the_ews_url_is_challenged_as_iis_does(fake: FakeExchange) -> None:
    """IIS answers an anonymous request to /EWS/Exchange.asmx with 401 and its challenge (clients probe the
    URL this way: https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/authentication-and-ews-in-exchange)."""
    r = requests.get(fake.url, timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    r = requests.post(fake.url, data=envelope(GET_INBOX, ALICE.email), timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    assert requests.get(fake.url, auth=(fake.username, fake.password), timeout=10).status_code == 405


def test_mailbox_falls_back_to_the_anchor_header(fake: FakeExchange) -> None:
    r = post(fake, envelope(GET_INBOX), headers={"X-AnchorMailbox": ALICE.email})
    assert r.status_code == 200 and b"NoError" in r.content
    r = post(fake, envelope(GET_INBOX))  # the service account has no mailbox
    assert b"ErrorNonExistentMailbox" in r.content


def test_responses_name_the_exchange_2016_build(fake: FakeExchange) -> None:
    r = post(fake, envelope(GET_INBOX, ALICE.email))
    assert b'<t:ServerVersionInfo MajorVersion="15" MinorVersion="1"' in r.content
