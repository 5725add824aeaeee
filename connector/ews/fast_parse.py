"""The fast EWS page reader: ``SyncFolderItems`` change elements parsed with lxml straight into records.

exchangelib keeps everything it is good at: the request goes through its service class
(:class:`RawSyncFolderItems`, a ``SyncFolderItems`` whose only difference is that it hands back the
response's change elements instead of building item objects), so transport, NTLM/OAuth, the connection
pool, version negotiation, error responses (``ErrorInvalidSyncStateData`` ...) and the sync state are
exchangelib's. What it no longer does on this path is build an exchangelib ``Contact``/``Message`` per
item only for :mod:`connector.ews.translate` to read a dozen attributes off it: :func:`fast_change` reads
those fields from the XML and applies the very same rules (:mod:`connector.translate_rules`,
:mod:`mapping.hygiene`), so the records are equal field by field (tests/property/test_fast_reader_equality.py).

What this reader does not read itself it hands back as :data:`FALLBACK`, and the caller parses that item
with exchangelib and translates it as before (counted): calendar items (time zones, all-day dates,
recurrences and exceptions stay exchangelib's), distribution lists and other item classes, items carrying
extended properties (user-defined contact fields), bodies, and any value in a form this reader does not
parse exactly as exchangelib does (a date-time that is not ``YYYY-MM-DDTHH:MM:SSZ``, an e-mail entry
without its ``Key``). Field semantics follow Microsoft's EWS reference
(https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation)
and exchangelib 5's field parsing (``get_xml_attr``: an empty element is ``None``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from exchangelib.errors import UnknownTimeZone
from exchangelib.ewsdatetime import EWSTimeZone
from exchangelib.services import SyncFolderItems
from lxml import etree

from connector.ews.translate.zones import zone_name
from connector.translate_rules import (
    ADDRESS_KINDS,
    BadItem,
    accepted_message_class,
    dedupe_participants,
    participant_of,
    sensitivity_of,
    text_field,
    utc_datetime,
)
from mapping.changes import ItemChange, MeetingSeries, SkippedItem
from mapping.hygiene import normalise_email, normalise_phone
from mapping.records import (
    ContactRecord,
    EmailRecord,
    MeetingRecord,
    MessageRecord,
    Participant,
    PhoneRecord,
    PostalRecord,
    Response,
    Role,
)

T = "{http://schemas.microsoft.com/exchange/services/2006/types}"
_CREATE, _UPDATE, _DELETE, _READ_FLAG = (T + "Create", T + "Update", T + "Delete", T + "ReadFlagChange")
_ITEM_ID = T + "ItemId"


class _Fallback:
    """The marker :func:`fast_change` returns for an item exchangelib must parse."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "FALLBACK"


FALLBACK: Final = _Fallback()


class _Unreadable(Exception):
    """A value this reader does not parse exactly as exchangelib does: the item goes to exchangelib."""


class RawSyncFolderItems(SyncFolderItems):  # type: ignore[misc]  # exchangelib is untyped
    """exchangelib's ``SyncFolderItems`` returning the response's change elements (``t:Create``,
    ``t:Update``, ``t:Delete``, ``t:ReadFlagChange``) instead of item objects; everything else (the
    request, retries on the session, error responses, ``sync_state``, ``includes_last_item_in_range``)
    is exchangelib's own."""

    def _elem_to_obj(self, elem: Any) -> Any:
        return elem

    @classmethod
    def _get_soap_parts(cls, response: Any) -> Any:
        # exchangelib feeds lxml from ``response.iter_content()``: on a response already read (this
        # service does not stream) that is one byte per call, a third of raw exchangelib's time in a
        # profile. The same parser over the same bytes, given whole: the same tree.
        content = getattr(response, "content", None)
        if isinstance(content, bytes):
            return super()._get_soap_parts(_WholeBody(content))
        return super()._get_soap_parts(response)


class _WholeBody:
    """A read response's body as exchangelib's ``to_xml`` takes it whole (bytes, not a generator)."""

    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content = content

    def iter_content(self) -> bytes:
        return self._content


def exchangelib_change(service: SyncFolderItems, elem: Any) -> tuple[str, Any]:
    """The ``(change_type, item)`` exchangelib's own parse makes of a change element (the fallback)."""
    return SyncFolderItems._elem_to_obj(service, elem)  # type: ignore[no-any-return]


# --- small readers, each exactly as exchangelib 5 reads the field ------------------------------------


def _text(elem: Any, tag: str) -> str | None:
    found = elem.find(tag)
    return None if found is None else (found.text or None)


def _texts(elem: Any, tag: str, child: str) -> list[str] | None:
    found = elem.find(tag)
    if found is None:
        return None
    return [e.text for e in found.findall(child) if e.text is not None]


def _datetime(elem: Any, tag: str) -> datetime | None:
    text = _text(elem, tag)
    if text is None:
        return None
    # exchangelib's EWSDateTime.from_string: "...Z" is parsed with "%Y-%m-%dT%H:%M:%SZ"; any other form
    # (offsets, fractions, naive) takes paths of its own: leave those to it. On exactly that form
    # fromisoformat gives the same value, many times faster than strptime.
    if (
        len(text) != 20
        or text[-1] != "Z"
        or text[10] != "T"
        or text[13] != ":"
        or text[16] != ":"
        or not text[:4].isdigit()
    ):
        raise _Unreadable(tag)
    try:
        return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
    except ValueError:
        raise _Unreadable(tag) from None


class _Mailbox:
    """What :func:`connector.translate_rules.participant_of` reads of an exchangelib ``Mailbox``."""

    __slots__ = ("email_address", "name")

    def __init__(self, elem: Any) -> None:
        self.name = _text(elem, T + "Name")
        self.email_address = _text(elem, T + "EmailAddress")


def _mailbox(elem: Any, tag: str) -> _Mailbox | None:
    """A single-mailbox field (``From``, ``Sender``): its ``t:Mailbox`` child."""
    found = elem.find(tag)
    if found is None:
        return None
    box = found.find(T + "Mailbox")
    if box is None:
        raise _Unreadable(tag)
    return _Mailbox(box)


def _mailboxes(elem: Any, tag: str, role: Role) -> list[Participant | None]:
    found = elem.find(tag)
    if found is None:
        return []
    result: list[Participant | None] = []
    for child in found:
        if child.tag != T + "Mailbox":
            raise _Unreadable(tag)
        result.append(participant_of(_Mailbox(child), role))
    return result


def _item_id(item: Any) -> tuple[str, str | None]:
    found = item.find(_ITEM_ID)
    item_id = None if found is None else found.get("Id")
    if not item_id:
        raise _Unreadable("ItemId")  # exchangelib's item_id_of gives the skip reason
    return item_id, found.get("ChangeKey") or None


# --- contacts ----------------------------------------------------------------------------------------


def _contact(item: Any, default_region: str | None) -> tuple[ContactRecord, tuple[str, ...]]:
    """As :func:`connector.ews.translate.contacts.contact_record` reads an exchangelib ``Contact``."""
    item_id, change_key = _item_id(item)
    if item.find(T + "ExtendedProperty") is not None:
        raise _Unreadable("ExtendedProperty")  # user-defined fields: exchangelib's registered properties

    emails: list[EmailRecord] = []
    found = item.find(T + "EmailAddresses")
    for entry in () if found is None else found:
        label = entry.get("Key")
        if not label:
            raise _Unreadable("EmailAddresses")
        email = normalise_email(entry.text or entry.get("Name"), label=label)
        if email is not None and email.address not in {e.address for e in emails}:
            emails.append(email)
    phones: list[PhoneRecord] = []
    found = item.find(T + "PhoneNumbers")
    for entry in () if found is None else found:
        label = entry.get("Key")
        raw = entry.text
        if not label:
            raise _Unreadable("PhoneNumbers")
        if raw and raw.strip():
            phone = normalise_phone(raw, default_region, label=label)
            if all((p.e164 or p.raw) != (phone.e164 or phone.raw) for p in phones):
                phones.append(phone)
    postal: list[PostalRecord] = []
    found = item.find(T + "PhysicalAddresses")
    for entry in () if found is None else found:
        label = entry.get("Key")
        if not label:
            raise _Unreadable("PhysicalAddresses")
        parts = {
            key: text_field(item_id, f"address {key}", _text(entry, T + tag))
            for key, tag in (
                ("street", "Street"),
                ("city", "City"),
                ("state", "State"),
                ("postal_code", "PostalCode"),
                ("country", "CountryOrRegion"),
            )
        }
        if any(parts.values()):
            postal.append(PostalRecord(kind=ADDRESS_KINDS.get(label, "other"), label=label, **parts))

    given = text_field(item_id, "given name", _text(item, T + "GivenName"))
    surname = text_field(item_id, "surname", _text(item, T + "Surname"))
    company = text_field(item_id, "company name", _text(item, T + "CompanyName"))
    display = (
        text_field(item_id, "display name", _text(item, T + "DisplayName"))
        or " ".join(p for p in (given, surname) if p)
        or company
        or next((e.address for e in emails if e.is_valid), None)
    )
    if not display:
        if not phones:
            raise BadItem(item_id, "no address: contact without name, e-mail or phone")
        display = phones[0].e164 or phones[0].raw
    categories = tuple(_texts(item, T + "Categories", T + "String") or ())
    record = ContactRecord(
        item_id=item_id,
        change_key=change_key,
        display_name=display,
        given_name=given,
        middle_name=text_field(item_id, "middle name", _text(item, T + "MiddleName")),
        surname=surname,
        nickname=text_field(item_id, "nickname", _text(item, T + "Nickname")),
        company_name=company,
        job_title=text_field(item_id, "job title", _text(item, T + "JobTitle")),
        department=text_field(item_id, "department", _text(item, T + "Department")),
        website=text_field(item_id, "website", _text(item, T + "BusinessHomePage")),
        emails=tuple(emails),
        phones=tuple(phones),
        postal_addresses=tuple(postal),
        categories=tuple(c for c in categories if c),
        sensitivity=sensitivity_of(_text(item, T + "Sensitivity")),
        user_fields={},
    )
    return record, categories


# --- messages ----------------------------------------------------------------------------------------


class _Owner:
    __slots__ = ("email_address", "name")

    def __init__(self, address: str) -> None:
        self.email_address = address
        self.name: str | None = None


def _message(item: Any, folder: str, owner: str | None) -> tuple[MessageRecord, tuple[str, ...]]:
    """As :func:`connector.ews.translate.messages.message_record` reads an exchangelib ``Message``."""
    item_id, change_key = _item_id(item)
    if item.find(T + "Body") is not None or item.find(T + "TextBody") is not None:
        raise _Unreadable("Body")  # snippets stay exchangelib's path
    item_class = _text(item, T + "ItemClass")
    if not accepted_message_class(item_class):
        raise BadItem(item_id, f"unsupported item class: {item_class}")
    sent_at = utc_datetime(item_id, "sent time", _datetime(item, T + "DateTimeSent"))
    received_at = utc_datetime(item_id, "received time", _datetime(item, T + "DateTimeReceived"))
    if sent_at is None and received_at is None:
        received_at = utc_datetime(item_id, "creation time", _datetime(item, T + "DateTimeCreated"))
    if sent_at is None and received_at is None:
        raise BadItem(item_id, "no date: neither sent, received nor creation time")

    sender = participant_of(_mailbox(item, T + "From"), "from") or participant_of(_mailbox(item, T + "Sender"), "from")
    if sender is None and owner and folder == "sentitems":
        sender = participant_of(_Owner(owner), "from")
    participants = dedupe_participants(
        [
            sender,
            *_mailboxes(item, T + "ToRecipients", "to"),
            *_mailboxes(item, T + "CcRecipients", "cc"),
            *_mailboxes(item, T + "BccRecipients", "bcc"),
        ]
    )
    if not participants:
        raise BadItem(item_id, "no address: no participant with a valid e-mail address")

    message_id = text_field(item_id, "Internet-Message-ID", _text(item, T + "InternetMessageId"))
    conversation_elem = item.find(T + "ConversationId")
    conversation = None if conversation_elem is None else conversation_elem.get("Id") or None
    size_text = _text(item, T + "Size")
    size: int | None = None
    if size_text is not None:
        try:
            size = int(size_text)
        except ValueError:
            raise _Unreadable("Size") from None
        size = size if size >= 0 else None
    record = MessageRecord(
        item_id=item_id,
        change_key=change_key,
        folder=folder,
        internet_message_id=message_id,
        conversation_id=conversation,
        subject=text_field(item_id, "subject", _text(item, T + "Subject")),
        sent_at=sent_at,
        received_at=received_at,
        participants=participants,
        size=size,
        sensitivity=sensitivity_of(_text(item, T + "Sensitivity")),
        item_class=item_class,
        snippet=None,
    )
    return record, tuple(_texts(item, T + "Categories", T + "String") or ())


# --- meetings ----------------------------------------------------------------------------------------

_RESPONSES: dict[str, Response] = {
    "Unknown": "unknown",
    "Organizer": "organizer",
    "Tentative": "tentative",
    "Accept": "accepted",
    "Decline": "declined",
    "NoResponseReceived": "no_response",
}
#: Windows time zone id -> the zone name exchangelib's EWSTimeZone.from_ms_id and zone_name make of it.
_ZONES: dict[str, str | None] = {}


def _zone(item: Any) -> str:
    """As :func:`connector.ews.translate.zones.meeting_zone` for a meeting whose start is UTC."""
    if item.find(T + "MeetingTimeZone") is not None:
        raise _Unreadable("MeetingTimeZone")
    found = item.find(T + "StartTimeZone")
    if found is not None:
        tz_id = found.get("Id") or found.get("Name")
        if not tz_id:
            raise _Unreadable("StartTimeZone")
        if tz_id not in _ZONES:
            try:
                _ZONES[tz_id] = zone_name(EWSTimeZone.from_ms_id(tz_id))
            except UnknownTimeZone:
                _ZONES[tz_id] = None  # exchangelib reads an unknown zone as no zone
        name = _ZONES[tz_id]
        if name:
            return name
    return "UTC"  # the start's own zone: every start this reader reads is UTC ("...Z")


def _flag(item: Any, tag: str) -> bool:
    text = _text(item, tag)
    if text is None or text == "false":
        return False
    if text == "true":
        return True
    raise _Unreadable(tag)


def _attendees(item: Any, tag: str, role: Role) -> list[Participant | None]:
    found = item.find(tag)
    result: list[Participant | None] = []
    for attendee in () if found is None else found:
        box = attendee.find(T + "Mailbox")
        response = _RESPONSES.get(_text(attendee, T + "ResponseType") or "Unknown", "unknown")
        result.append(None if box is None else participant_of(_Mailbox(box), role, response))
    return result


def _meeting(item: Any) -> tuple[MeetingSeries, tuple[str, ...]]:
    """As :func:`connector.ews.translate.meetings.meeting_record` reads a single (not recurring, not
    all-day) exchangelib ``CalendarItem``; series, occurrences and all-day events are exchangelib's."""
    item_id, change_key = _item_id(item)
    kind = _text(item, T + "CalendarItemType")
    if kind not in (None, "Single") or _flag(item, T + "IsAllDayEvent"):
        raise _Unreadable("CalendarItemType")
    for tag in ("Recurrence", "ModifiedOccurrences", "DeletedOccurrences"):
        if item.find(T + tag) is not None:
            raise _Unreadable(tag)
    zone = _zone(item)
    start = utc_datetime(item_id, "start", _datetime(item, T + "Start"))
    if start is None:
        raise BadItem(item_id, "no start")
    end = utc_datetime(item_id, "end", _datetime(item, T + "End")) or start
    if end < start:
        raise BadItem(item_id, "ends before it starts")
    participants = dedupe_participants(
        [
            participant_of(_mailbox(item, T + "Organizer"), "organizer", "organizer"),
            *_attendees(item, T + "RequiredAttendees", "required"),
            *_attendees(item, T + "OptionalAttendees", "optional"),
        ]
    )
    if not participants:
        raise BadItem(item_id, "no address: no organiser or attendee with a valid e-mail address")
    record = MeetingRecord(
        item_id=item_id,
        change_key=change_key,
        uid=text_field(item_id, "UID", _text(item, T + "UID")),
        occurrence_start=None,
        start=start,
        end=end,
        is_all_day=False,
        time_zone=zone,
        subject=text_field(item_id, "subject", _text(item, T + "Subject")),
        location=text_field(item_id, "location", _text(item, T + "Location")),
        participants=participants,
        is_cancelled=_flag(item, T + "IsCancelled"),
        sensitivity=sensitivity_of(_text(item, T + "Sensitivity")),
        calendar_item_type="single",
        start_date=None,
        end_date=None,
    )
    return MeetingSeries(item=record, occurrences=(record,)), tuple(_texts(item, T + "Categories", T + "String") or ())


# --- one change ----------------------------------------------------------------------------------------


def fast_change(
    elem: Any, folder: str, *, owner: str | None = None, default_region: str | None = None
) -> ItemChange | SkippedItem | _Fallback | None:
    """One ``SyncFolderItems`` change element as the EWS reader's translation would give it: a change
    (a deletion with ``record=None``), a skipped item with its reason, ``None`` (nothing to apply: a
    ``ReadFlagChange``), or :data:`FALLBACK` when exchangelib must parse the item."""
    tag = elem.tag
    if tag == _READ_FLAG:
        return None
    if tag == _DELETE:
        found = elem.find(_ITEM_ID)
        item_id = None if found is None else found.get("Id")
        return ItemChange(item_id=item_id, change_key=None, record=None) if item_id else None
    if tag not in (_CREATE, _UPDATE) or len(elem) != 1:
        return FALLBACK
    item = elem[0]
    kind = etree.QName(item).localname if isinstance(item.tag, str) else ""
    try:
        record: ContactRecord | MessageRecord | MeetingSeries
        if folder == "contacts" and kind == "Contact":
            record, categories = _contact(item, default_region)
        elif folder in ("inbox", "sentitems") and kind == "Message":
            record, categories = _message(item, folder, owner)
        elif folder == "calendar" and kind == "CalendarItem":
            record, categories = _meeting(item)
        else:
            return FALLBACK
    except BadItem as exc:
        found = item.find(_ITEM_ID)
        return SkippedItem(item_id=exc.item_id or (None if found is None else found.get("Id")), reason=exc.reason)
    except Exception:  # _Unreadable, or anything unexpected: exchangelib's parse decides, nothing is dropped
        return FALLBACK
    head = record.item if isinstance(record, MeetingSeries) else record
    return ItemChange(item_id=head.item_id, change_key=head.change_key, record=record, categories=categories)
