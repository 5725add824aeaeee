"""ConvertId: an item or folder id between the formats of one mailbox's ids.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/convertid-operation

The fake's ids are base64 blobs (see ``mailbox.py``); as in Exchange, ``EwsId`` and ``EwsLegacyId`` are
the same text for it, ``EntryId`` and ``StoreId`` the same bytes in base64, ``HexEntryId`` those bytes
in upper-case hex. An id the fake never issued, or one of another mailbox, is ``ErrorInvalidIdMalformed``;
``OwaId`` and public folder ids, which the fake does not model, are ``ErrorUnsupportedTypeForConversion``.
Each source id gets its own response message, in request order.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from lxml import etree

from connector.fake.ews import soap
from connector.fake.ews.xmlout import NS_M, NS_T, esc_attr
from connector.fake.mailbox import InvalidId, decode_folder_id, decode_item_id

if TYPE_CHECKING:
    from connector.fake.ews.context import Ctx

M = f"{{{NS_M}}}"
T = f"{{{NS_T}}}"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_BASE64_FORMATS = frozenset({"EwsId", "EwsLegacyId", "EntryId", "StoreId"})


def _raw(fmt: str, text: str) -> bytes:
    try:
        if fmt == "HexEntryId":
            return bytes.fromhex(text)
        return base64.b64decode(text.encode(), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise InvalidId(text) from exc


def _render(fmt: str, raw: bytes) -> str:
    return raw.hex().upper() if fmt == "HexEntryId" else base64.b64encode(raw).decode()


def _check_issued(ctx: Ctx, raw: bytes, mailbox: str) -> None:
    """Raise InvalidId unless ``raw`` is an item or folder id the fake issued for ``mailbox``."""
    text = base64.b64encode(raw).decode()
    try:
        number = decode_item_id(text).mailbox
    except InvalidId:
        number = decode_folder_id(text)[0]
    mb = ctx.server.mailbox_for(mailbox)
    if mb is None or mb.number != number:
        raise InvalidId(text)


def convert_id(ctx: Ctx) -> str:
    """ConvertId: each source id in the requested format, or its error, in request order."""
    dest = ctx.elem.get("DestinationFormat", "")
    sources = ctx.elem.find(f"{M}SourceIds")
    messages = []
    for source in sources if sources is not None else ():
        if not isinstance(source.tag, str):
            continue
        fmt = source.get("Format", "")
        if etree.QName(source).localname != "AlternateId" or "OwaId" in (fmt, dest):
            messages.append(
                soap.error(
                    "ConvertId",
                    "ErrorUnsupportedTypeForConversion",
                    "The fake Exchange converts mailbox ids between EwsId, EwsLegacyId, EntryId, HexEntryId "
                    "and StoreId only.",
                )
            )
            continue
        mailbox = source.get("Mailbox", "")
        try:
            raw = _raw(fmt, source.get("Id", ""))
            _check_issued(ctx, raw, mailbox)
        except InvalidId:
            messages.append(soap.error("ConvertId", "ErrorInvalidIdMalformed", "Id is malformed."))
            continue
        converted = _render(dest, raw)
        messages.append(
            soap.success(
                "ConvertId",
                f'<m:AlternateId xmlns:xsi="{XSI}" xsi:type="t:AlternateIdType" Format="{dest}" '
                f'Id="{esc_attr(converted)}" Mailbox="{esc_attr(mailbox)}"/>',
            )
        )
    return soap.response("ConvertId", messages)
