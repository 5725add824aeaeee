"""Each request the fake EWS does not evaluate gets the error Exchange documents for it, never a partial answer.

Response codes: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode
"""

from __future__ import annotations

import pytest
from exchangelib import Account
from exchangelib.errors import ErrorInvalidOperation, ErrorUnsupportedQueryFilter
from lxml import etree

from connector.fake.ews.server import FakeExchange

from .company import ALICE
from .rawsoap import GET_INBOX, envelope, post

NS = {
    "s": "http://schemas.xmlsoap.org/soap/envelope/",
    "m": "http://schemas.microsoft.com/exchange/services/2006/messages",
    "t": "http://schemas.microsoft.com/exchange/services/2006/types",
}


def find_inbox(inner: str) -> str:
    return (
        '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
        f'{inner}<m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>'
    )


def find_item_code(fake: FakeExchange, inner: str) -> str:
    r = post(fake, envelope(find_inbox(inner), ALICE.email))
    assert r.status_code == 200, r.content[:400]
    root = etree.fromstring(r.content)
    assert root.find("s:Header/t:ServerVersionInfo", NS) is not None
    assert root.find(".//m:RootFolder", NS) is None  # no partial answer
    return str(root.findtext(".//m:FindItemResponseMessage/m:ResponseCode", namespaces=NS))


def fault_code(r: object) -> str:
    root = etree.fromstring(r.content)  # type: ignore[attr-defined]
    return str(root.findtext("s:Body/s:Fault/faultcode", namespaces=NS))


@pytest.mark.parametrize("uri", ["item:Attachments", "item:Size", "item:IsFromMe", "calendar:Recurrence"])
def test_a_restriction_on_a_property_the_fake_cannot_query_is_unsupported_path(fake: FakeExchange, uri: str) -> None:
    """ErrorUnsupportedPathForQuery: "the property path is not supported for the restriction"
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/restriction).
    Size and IsFromMe have no value in the fake: refused rather than silently matching nothing."""
    restriction = (
        f'<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="{uri}"/>'
        '<t:FieldURIOrConstant><t:Constant Value="1"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>'
    )
    assert find_item_code(fake, restriction) == "ErrorUnsupportedPathForQuery"


def test_a_bitmask_excludes_restriction_is_refused(fake: FakeExchange) -> None:
    """Excludes (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/excludes)
    is not evaluated by the fake: ErrorUnsupportedQueryFilter."""
    restriction = (
        '<m:Restriction><t:Excludes><t:FieldURI FieldURI="item:Size"/>'
        '<t:Bitmask Value="0x1"/></t:Excludes></m:Restriction>'
    )
    assert find_item_code(fake, restriction) == "ErrorUnsupportedQueryFilter"


def test_comparing_two_properties_is_refused(fake: FakeExchange) -> None:
    """FieldURIOrConstant holding a FieldURI (property against property,
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/fielduriorconstant)."""
    restriction = (
        '<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="item:DateTimeSent"/>'
        '<t:FieldURIOrConstant><t:FieldURI FieldURI="item:DateTimeReceived"/></t:FieldURIOrConstant>'
        "</t:IsEqualTo></m:Restriction>"
    )
    assert find_item_code(fake, restriction) == "ErrorUnsupportedQueryFilter"


def test_sorting_on_a_property_that_cannot_be_sorted_is_refused(fake: FakeExchange) -> None:
    """SortOrder on a complex property (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/sortorder)."""
    order = (
        '<m:SortOrder><t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:Body"/></t:FieldOrder></m:SortOrder>'
    )
    assert find_item_code(fake, order) == "ErrorUnsupportedPathForSortGroup"


def test_sorting_a_calendar_view_is_refused(fake: FakeExchange) -> None:
    """A CalendarView's occurrences come by start
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview);
    the fake refuses a SortOrder with it rather than ignore it."""
    order = (
        '<m:CalendarView StartDate="2026-03-01T00:00:00Z" EndDate="2026-04-01T00:00:00Z"/>'
        '<m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI FieldURI="item:Subject"/></t:FieldOrder>'
        "</m:SortOrder>"
    )
    body = (
        '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
        f'{order}<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>'
    )
    r = post(fake, envelope(body, ALICE.email))
    assert b"ErrorUnsupportedPathForSortGroup" in r.content and b"RootFolder" not in r.content


def test_grouping_is_refused(fake: FakeExchange) -> None:
    """GroupBy (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/groupby)
    is not modelled: ErrorInvalidOperation rather than ungrouped items."""
    group = (
        '<m:GroupBy Order="Ascending"><t:FieldURI FieldURI="item:Subject"/>'
        '<t:AggregateOn Aggregate="Maximum"><t:FieldURI FieldURI="item:DateTimeReceived"/></t:AggregateOn></m:GroupBy>'
    )
    assert find_item_code(fake, group) == "ErrorInvalidOperation"


@pytest.mark.parametrize(
    "query",
    ["subject:offer OR subject:lunch", "received:>2026-01-01", "NOT offer", "(offer)", "size:big"],
)
def test_an_aqs_query_beyond_the_simple_forms_is_refused(alice: Account, query: str) -> None:
    """QueryString (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/querystring-querystringtype):
    the fake evaluates word, "phrase" and property:value terms only; anything else is refused, not ignored."""
    with pytest.raises(ErrorUnsupportedQueryFilter):
        list(alice.inbox.filter(query))


def test_out_of_office_settings_are_an_unsupported_operation(alice: Account) -> None:
    """GetUserOofSettings (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuseroofsettings-operation)
    is not served: the ErrorInvalidOperation fault, with ServerVersionInfo."""
    with pytest.raises(ErrorInvalidOperation, match="GetUserOofSettings"):
        _ = alice.oof_settings


def test_pull_subscriptions_are_an_unsupported_operation(alice: Account) -> None:
    """Subscribe (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/subscribe-operation)."""
    with pytest.raises(ErrorInvalidOperation, match="Subscribe"):
        alice.inbox.subscribe_to_pull()


def test_delegates_are_an_unsupported_operation(alice: Account) -> None:
    """GetDelegate (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getdelegate-operation)."""
    with pytest.raises(ErrorInvalidOperation, match="GetDelegate"):
        _ = alice.delegates


@pytest.mark.parametrize(
    "body",
    [
        "<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>abc</t:SubscriptionId></m:SubscriptionIds>"
        "<m:ConnectionTimeout>1</m:ConnectionTimeout></m:GetStreamingEvents>",
        "<m:GetEvents><m:SubscriptionId>abc</m:SubscriptionId><m:Watermark>w</m:Watermark></m:GetEvents>",
    ],
)
def test_streaming_and_pull_events_are_refused_with_the_server_version(fake: FakeExchange, body: str) -> None:
    """The fault carries ServerVersionInfo, so a client does not retry with every older schema version
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/serverversioninfo)."""
    r = post(fake, envelope(body, ALICE.email))
    assert r.status_code == 500 and fault_code(r) == "a:ErrorInvalidOperation"
    root = etree.fromstring(r.content)
    assert root.find("s:Header/t:ServerVersionInfo", NS).get("MajorVersion") == "15"
    assert post(fake, envelope(GET_INBOX, ALICE.email)).status_code == 200  # and it keeps serving


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ('<t:AlternateId Format="EwsId" Id="bm90LWFuLWlk" Mailbox="alice@contoso.test"/>', "ErrorInvalidIdMalformed"),
        ('<t:AlternateId Format="OwaId" Id="abc" Mailbox="alice@contoso.test"/>', "ErrorUnsupportedTypeForConversion"),
        ('<t:AlternatePublicFolderId Format="EwsId" FolderId="abc"/>', "ErrorUnsupportedTypeForConversion"),
    ],
)
def test_convert_id_refuses_what_it_cannot_convert(fake: FakeExchange, source: str, code: str) -> None:
    """ConvertId (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/convertid-operation):
    a foreign id is malformed; OwaId and public folder ids are not modelled."""
    body = f'<m:ConvertId DestinationFormat="HexEntryId"><m:SourceIds>{source}</m:SourceIds></m:ConvertId>'
    r = post(fake, envelope(body, ALICE.email))
    root = etree.fromstring(r.content)
    assert root.findtext(".//m:ConvertIdResponseMessage/m:ResponseCode", namespaces=NS) == code
    assert root.find(".//m:AlternateId", NS) is None
