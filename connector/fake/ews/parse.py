"""Parsing request items (CreateItem, SetItemField) into the fake's ItemSpec fields."""

from __future__ import annotations

from typing import Any

from lxml import etree

from connector.fake.ews.context import SoapFault, T, local_name, parse_bool, parse_datetime
from connector.fake.ews.elements import (
    ATTENDEES_ELEMENTS,
    BOOL_ELEMENTS,
    DATETIME_ELEMENTS,
    DOUBLE_ELEMENTS,
    INT_ELEMENTS,
    MAILBOX_ELEMENTS,
    MAILBOXES_ELEMENTS,
    STRINGS_ELEMENTS,
    TZ_ELEMENTS,
)
from connector.fake.ews.xmlout import (
    RawXml,
    xml_bool,
)
from connector.fake.model import Attendee, ExtendedProp, ItemKind, ItemSpec, Mailbox, PhysicalAddress, Recurrence


def _mailbox(elem: etree._Element | None) -> Mailbox | None:
    if elem is None:
        return None
    return Mailbox(
        name=elem.findtext(f"{T}Name") or "",
        email=elem.findtext(f"{T}EmailAddress") or "",
        routing_type=elem.findtext(f"{T}RoutingType") or "SMTP",
        mailbox_type=elem.findtext(f"{T}MailboxType") or "OneOff",
    )


def _recurrence(elem: etree._Element) -> Recurrence | RawXml:
    pattern = rng = None
    for child in elem:
        name = local_name(child.tag)
        if name.endswith("Recurrence") and name in ("DailyRecurrence", "WeeklyRecurrence", "AbsoluteMonthlyRecurrence"):
            pattern = child
        elif name in ("NoEndRecurrence", "EndDateRecurrence", "NumberedRecurrence"):
            rng = child
    if pattern is None or rng is None:
        return RawXml(_raw(elem))
    start = parse_datetime(rng.findtext(f"{T}StartDate", "")[:10]).date()
    end_text = rng.findtext(f"{T}EndDate")
    n_text = rng.findtext(f"{T}NumberOfOccurrences")
    pname = local_name(pattern.tag).removesuffix("Recurrence")
    dom = pattern.findtext(f"{T}DayOfMonth")
    return Recurrence(
        pattern=pname,  # type: ignore[arg-type]
        interval=int(pattern.findtext(f"{T}Interval") or 1),
        start=start,
        days_of_week=tuple((pattern.findtext(f"{T}DaysOfWeek") or "").split()),
        day_of_month=int(dom) if dom else None,
        end=parse_datetime(end_text[:10]).date() if end_text else None,
        occurrences=int(n_text) if n_text else None,
    )


def _raw(elem: etree._Element) -> str:
    return str(etree.tostring(elem, encoding="unicode", with_tail=False))


def _ext_prop(elem: etree._Element) -> ExtendedProp:
    uri = elem.find(f"{T}ExtendedFieldURI")
    if uri is None:
        raise SoapFault("ErrorSchemaValidation", "ExtendedProperty without ExtendedFieldURI")
    values = elem.find(f"{T}Values")
    value = (
        "\x1f".join(v.text or "" for v in values.findall(f"{T}Value"))
        if values is not None
        else elem.findtext(f"{T}Value") or ""
    )
    ptype = uri.get("PropertyType", "String")
    if ptype == "Boolean":
        value = xml_bool(parse_bool(value))
    name = uri.get("PropertyName")
    return ExtendedProp(
        property_type=ptype,
        value=value,
        property_set_id=uri.get("PropertySetId"),
        distinguished_set_id=uri.get("DistinguishedPropertySetId"),
        property_name=name if name is not None else uri.get("PropertyId"),
        property_tag=uri.get("PropertyTag"),
    )


def parse_field(elem: etree._Element) -> tuple[str, Any]:
    """One child element of an item in a request -> (element name, model value)."""
    name = local_name(elem.tag)
    text = elem.text
    if name in BOOL_ELEMENTS:
        return name, parse_bool(text)
    if name in DATETIME_ELEMENTS:
        return name, parse_datetime(text)
    if name in INT_ELEMENTS:
        return name, int((text or "0").strip())
    if name in DOUBLE_ELEMENTS:
        return name, float((text or "0").strip())
    if name in STRINGS_ELEMENTS:
        return name, tuple(s.text or "" for s in elem.findall(f"{T}String"))
    if name in MAILBOX_ELEMENTS:
        return name, _mailbox(elem.find(f"{T}Mailbox"))
    if name in MAILBOXES_ELEMENTS:
        return name, tuple(m for m in (_mailbox(x) for x in elem.findall(f"{T}Mailbox")) if m is not None)
    if name in ATTENDEES_ELEMENTS:
        atts = []
        for a in elem.findall(f"{T}Attendee"):
            mb = _mailbox(a.find(f"{T}Mailbox"))
            if mb is not None:
                atts.append(Attendee(mb, (a.findtext(f"{T}ResponseType") or "Unknown").strip()))
        return name, tuple(atts)
    if name in TZ_ELEMENTS:
        return name, elem.get("Id") or ""
    if name == "Body":
        body_type = elem.get("BodyType", "Text")
        return name, (text or "") if body_type == "Text" else (text or "", body_type)
    if name == "ConversationId":
        return name, elem.get("Id") or ""
    if name == "Recurrence":
        return name, _recurrence(elem)
    if name in ("EmailAddresses", "PhoneNumbers"):
        return name, {e.get("Key", ""): (e.text or "") for e in elem.findall(f"{T}Entry")}
    if name == "PhysicalAddresses":
        addrs = {}
        for e in elem.findall(f"{T}Entry"):
            addrs[e.get("Key", "Business")] = PhysicalAddress(
                street=e.findtext(f"{T}Street") or "",
                city=e.findtext(f"{T}City") or "",
                state=e.findtext(f"{T}State") or "",
                country=e.findtext(f"{T}CountryOrRegion") or "",
                postal_code=e.findtext(f"{T}PostalCode") or "",
            )
        return name, addrs
    if name == "ExtendedProperty":
        return name, (_ext_prop(elem),)
    if len(elem) == 0 and not elem.attrib:
        return name, text or ""
    return name, RawXml(_raw(elem))


_KINDS_BY_TAG: dict[str, ItemKind] = {
    "Message": "Message",
    "Contact": "Contact",
    "CalendarItem": "CalendarItem",
    "Task": "Task",
}


def parse_item(elem: etree._Element) -> ItemSpec:
    """A request item (``t:Message``, ``t:Contact``, ...) as an ItemSpec; an unmodelled kind is a SoapFault."""
    kind = _KINDS_BY_TAG.get(local_name(elem.tag))
    if kind is None:
        raise SoapFault("ErrorInvalidRequest", f"The fake does not store {local_name(elem.tag)} items.")
    fields: dict[str, Any] = {}
    ext: list[ExtendedProp] = []
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        name, value = parse_field(child)
        if name == "ExtendedProperty":
            ext.extend(value)
        else:
            fields[name] = value
    if ext:
        fields["ExtendedProperty"] = tuple(ext)
    return ItemSpec(kind=kind, fields=fields)
