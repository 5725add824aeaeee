"""The fast EWS page reader: ``SyncFolderItems`` change elements (and the ``GetItem`` responses for the
exceptions of recurring series) parsed with lxml straight into records.

exchangelib keeps everything it is good at: the requests go through its service classes
(:class:`RawSyncFolderItems`, a ``SyncFolderItems`` whose only difference is that it hands back the
response's change elements instead of building item objects; :class:`RawGetItem` the same for
``GetItem``), so transport, NTLM/OAuth, the connection pool, version negotiation, error responses
(``ErrorInvalidSyncStateData``, ``ErrorItemNotFound`` ...) and the sync state are exchangelib's. What it
no longer does on this path is build an exchangelib ``Contact``/``Message``/``CalendarItem`` per item only
for :mod:`connector.ews.translate` to read a dozen attributes off it: the readers of this package read
those fields from the XML and apply the very same rules (:mod:`connector.translate_rules`,
:mod:`mapping.hygiene`), so the records are equal field by field (tests/property/test_fast_reader_equality.py).

What this reader does not read itself it hands back as :data:`FALLBACK`, and the caller parses that item
with exchangelib and translates it as before (counted): distribution lists and other item classes, items
carrying extended properties (user-defined contact fields), bodies, and any value in a form this reader
does not parse exactly as exchangelib does (a date-time that is not ``YYYY-MM-DDTHH:MM:SSZ``, an e-mail
entry without its ``Key``, an all-day event without a known time zone, a recurrence pattern it does not
know). Field semantics follow Microsoft's EWS reference
(https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation)
and exchangelib 5's field parsing (``get_xml_attr``: an empty element is ``None``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from exchangelib.folders import BaseFolder
from exchangelib.services import GetItem, SyncFolderItems

from connector.translate_rules import participant_of
from mapping.records import Participant, Role

T = "{http://schemas.microsoft.com/exchange/services/2006/types}"
ITEM_ID = T + "ItemId"


class FallbackMarker:
    """The marker the fast readers return for an item exchangelib must parse."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "FALLBACK"


FALLBACK: Final = FallbackMarker()


class Unreadable(Exception):
    """A value this reader does not parse exactly as exchangelib does: the item goes to exchangelib."""


class _WholeBody:
    """A read response's body as exchangelib's ``to_xml`` takes it whole (bytes, not a generator)."""

    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content = content

    def iter_content(self) -> bytes:
        return self._content


def _soap_parts(cls: Any, response: Any) -> Any:
    # exchangelib feeds lxml from ``response.iter_content()``: on a response already read (these
    # services do not stream) that is one byte per call, a third of raw exchangelib's time in a
    # profile. The same parser over the same bytes, given whole: the same tree.
    content = getattr(response, "content", None)
    parts = super(cls, cls)._get_soap_parts
    return parts(_WholeBody(content)) if isinstance(content, bytes) else parts(response)


class RawSyncFolderItems(SyncFolderItems):  # type: ignore[misc]  # exchangelib is untyped
    """exchangelib's ``SyncFolderItems`` returning the response's change elements (``t:Create``,
    ``t:Update``, ``t:Delete``, ``t:ReadFlagChange``) instead of item objects; everything else (the
    request, retries on the session, error responses, ``sync_state``, ``includes_last_item_in_range``)
    is exchangelib's own."""

    def _elem_to_obj(self, elem: Any) -> Any:
        return elem

    @classmethod
    def _get_soap_parts(cls, response: Any) -> Any:
        return _soap_parts(cls, response)


class RawGetItem(GetItem):  # type: ignore[misc]  # exchangelib is untyped
    """exchangelib's ``GetItem`` returning the response's item elements (``t:CalendarItem`` ...) instead of
    item objects; an item's error response stays exchangelib's exception instance, in its place."""

    def _elem_to_obj(self, elem: Any) -> Any:
        return elem

    @classmethod
    def _get_soap_parts(cls, response: Any) -> Any:
        return _soap_parts(cls, response)


def exchangelib_change(service: SyncFolderItems, elem: Any) -> tuple[str, Any]:
    """The ``(change_type, item)`` exchangelib's own parse makes of a change element (the fallback)."""
    return SyncFolderItems._elem_to_obj(service, elem)  # type: ignore[no-any-return]


def exchangelib_item(elem: Any, account: Any) -> Any:
    """The item object exchangelib's ``GetItem`` makes of an item element (the fallback)."""
    return BaseFolder.item_model_from_tag(elem.tag).from_xml(elem=elem, account=account)


# --- small readers, each exactly as exchangelib 5 reads the field ------------------------------------


class Children:
    """An item's child elements by tag (the first of each, as ``find`` gives it): one pass over the item
    instead of a ``find`` per field."""

    __slots__ = ("_by_tag",)

    def __init__(self, item: Any) -> None:
        by_tag: dict[Any, Any] = {}
        for child in item:
            by_tag.setdefault(child.tag, child)
        self._by_tag = by_tag

    def find(self, tag: str) -> Any:
        return self._by_tag.get(tag)


def text(elem: Any, tag: str) -> str | None:
    found = elem.find(tag)
    return None if found is None else (found.text or None)


def texts(elem: Any, tag: str, child: str) -> list[str] | None:
    found = elem.find(tag)
    if found is None:
        return None
    return [e.text for e in found.findall(child) if e.text is not None]


def utc_text(value: str, tag: str) -> datetime:
    """A ``YYYY-MM-DDTHH:MM:SSZ`` text as exchangelib's ``EWSDateTime.from_string`` reads it."""
    # "...Z" is parsed with "%Y-%m-%dT%H:%M:%SZ"; any other form (offsets, fractions, naive) takes paths
    # of its own: leave those to it. On exactly that form fromisoformat gives the same value, many
    # times faster than strptime.
    if (
        len(value) != 20
        or value[-1] != "Z"
        or value[10] != "T"
        or value[13] != ":"
        or value[16] != ":"
        or not value[:4].isdigit()
    ):
        raise Unreadable(tag)
    try:
        return datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)
    except ValueError:
        raise Unreadable(tag) from None


def datetime_of(elem: Any, tag: str) -> datetime | None:
    value = text(elem, tag)
    return None if value is None else utc_text(value, tag)


def flag(item: Any, tag: str) -> bool:
    value = text(item, tag)
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise Unreadable(tag)


def categories_of(item: Any) -> tuple[str, ...]:
    return tuple(texts(item, T + "Categories", T + "String") or ())


class MailboxView:
    """What :func:`connector.translate_rules.participant_of` reads of an exchangelib ``Mailbox``."""

    __slots__ = ("email_address", "name")

    def __init__(self, elem: Any) -> None:
        self.name = text(elem, T + "Name")
        self.email_address = text(elem, T + "EmailAddress")


def mailbox(elem: Any, tag: str) -> MailboxView | None:
    """A single-mailbox field (``From``, ``Sender``, ``Organizer``): its ``t:Mailbox`` child."""
    found = elem.find(tag)
    if found is None:
        return None
    box = found.find(T + "Mailbox")
    if box is None:
        raise Unreadable(tag)
    return MailboxView(box)


def mailboxes(elem: Any, tag: str, role: Role) -> list[Participant | None]:
    found = elem.find(tag)
    if found is None:
        return []
    result: list[Participant | None] = []
    for child in found:
        if child.tag != T + "Mailbox":
            raise Unreadable(tag)
        result.append(participant_of(MailboxView(child), role))
    return result


def id_of(item: Any) -> tuple[str, str | None]:
    found = item.find(ITEM_ID)
    value = None if found is None else found.get("Id")
    if not value:
        raise Unreadable("ItemId")  # exchangelib's item_id_of gives the skip reason
    return value, found.get("ChangeKey") or None
