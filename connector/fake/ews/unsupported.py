"""How the fake Exchange answers an operation it does not serve, and a Body child that is no operation.

Exchange answers an EWS operation it cannot carry out for this request with a SOAP fault whose
ResponseCode is ``ErrorInvalidOperation`` ("an attempted operation is not valid"), and a request
that is not an EWS operation at all with ``ErrorSchemaValidation``; see
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode.
Both carry the ``ServerVersionInfo`` header every EWS response carries
(https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/serverversioninfo),
so a client that reads the server's version from it (exchangelib's version guess) stops there instead
of retrying the request with every older schema version.

The fake serves the operations in :data:`connector.fake.ews.router.HANDLERS`; everything else
(streaming/pull/push subscriptions, OOF settings, delegates, attachments, sending, moving, ...) is refused
this way, never half-answered.
"""

from __future__ import annotations

from lxml import etree

from connector.fake.ews.soap import NS_E, ServerBuild
from connector.fake.ews.xmlout import NS_M, NS_S, NS_T, esc


def _fault(code: str, message: str, build: ServerBuild | None, detail_xml: str = "") -> bytes:
    header = f"<s:Header>{build.header()}</s:Header>" if build is not None else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{NS_S}" xmlns:t="{NS_T}">{header}<s:Body><s:Fault>'
        f'<faultcode xmlns:a="{NS_T}">a:{code}</faultcode>'
        f'<faultstring xml:lang="en-US">{esc(message)}</faultstring>'
        f'<detail><e:ResponseCode xmlns:e="{NS_E}">{code}</e:ResponseCode>'
        f'<e:Message xmlns:e="{NS_E}">{esc(message)}</e:Message>{detail_xml}</detail>'
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()


def is_ews_operation(op_el: etree._Element, schema: etree.XMLSchema | None) -> bool:
    """Whether ``op_el`` is an EWS operation request (by the schema when we have it, else by namespace)."""
    if schema is not None:
        valid: bool = schema.validate(op_el)
        return valid
    namespace: str | None = etree.QName(op_el).namespace
    return namespace == NS_M


def unsupported_operation(op: str, build: ServerBuild | None) -> bytes:
    """The fault for an EWS operation the fake does not serve (HTTP 500)."""
    return _fault("ErrorInvalidOperation", f"The operation {op} is not supported by this server.", build)


def not_an_operation(op: str, build: ServerBuild | None) -> bytes:
    """The fault for a Body child that is not an EWS operation request (HTTP 500)."""
    return _fault(
        "ErrorSchemaValidation",
        "The request failed schema validation.",
        build,
        f"<t:LineNumber>0</t:LineNumber><t:LinePosition>0</t:LinePosition>"
        f"<t:Violation>The element '{esc(op)}' is not an EWS operation.</t:Violation>",
    )
