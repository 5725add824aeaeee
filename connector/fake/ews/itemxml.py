"""Items as EWS XML strings: the elements one request asked for (a :class:`Shape`), in schema order.

Items are serialised by building strings directly (no lxml tree per item): a response page of 512
messages is a few hundred kilobytes and lxml would cost more than the rest of the server together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from connector.fake.ews.elements import (
    ATTENDEES_ELEMENTS,
    BOOL_ELEMENTS,
    DATETIME_ELEMENTS,
    DOUBLE_ELEMENTS,
    INT_ELEMENTS,
    KIND_ORDER,
    MAILBOX_ELEMENTS,
    MAILBOXES_ELEMENTS,
    STRINGS_ELEMENTS,
    TZ_ELEMENTS,
)
from connector.fake.ews.xmlout import (
    RawXml,
    duration_xml,
    esc,
    esc_attr,
    ext_key,
    ext_prop_xml,
    mailbox_xml,
    needs_escaping,
    recurrence_xml,
    xml_bool,
    xml_date,
    xml_double,
    xml_dt,
)
from connector.fake.model import Attendee, ItemKind, PhysicalAddress

# --- a "plan": which elements one request asked for ---------------------------------------------

Indexed = Mapping[str, frozenset[str] | None]  # element -> requested keys (None = all)


class Shape:
    """What the client asked for: element names, indexed keys, extended properties, body type."""

    __slots__ = ("body_type", "elements", "ext", "include_all_ext", "indexed", "key")

    def __init__(
        self,
        elements: frozenset[str],
        indexed: dict[str, set[str] | None] | None = None,
        ext: Iterable[tuple[str | None, str | None, str | None, str]] = (),
        body_type: str = "Best",
    ) -> None:
        self.elements = elements
        self.indexed: dict[str, frozenset[str] | None] = {
            k: (frozenset(v) if v is not None else None) for k, v in (indexed or {}).items()
        }
        self.ext = frozenset(ext)
        self.include_all_ext = False
        self.body_type = body_type
        self.key = (
            elements,
            tuple(sorted((k, tuple(sorted(v)) if v else ()) for k, v in self.indexed.items())),
            self.ext,
            body_type,
        )


_BOUND: dict[tuple[str, ...], tuple[tuple[str, Writer, str, str], ...]] = {}


def _bound_plan(plan: tuple[str, ...]) -> tuple[tuple[str, Writer, str, str], ...]:
    bound = _BOUND.get(plan)
    if bound is None:
        bound = tuple((n, writer_for(n), f"<t:{n}>", f"</t:{n}>") for n in plan if n != "ItemId")
        if len(_BOUND) < 1024:
            _BOUND[plan] = bound
    return bound


def element_plan(kind: ItemKind, shape: Shape) -> tuple[str, ...]:
    """The elements of an item of ``kind`` that ``shape`` asks for, in schema order."""
    wanted = shape.elements | frozenset(shape.indexed)
    if shape.ext:
        wanted = wanted | {"ExtendedProperty"}
    return tuple(name for name in KIND_ORDER[kind] if name in wanted or name == "ItemId")


Writer = Callable[[list[str], str, Any, Shape], None]


def _w_default(out: list[str], name: str, value: Any, shape: Shape) -> None:
    if isinstance(value, RawXml):
        out.append(value)
    elif isinstance(value, bool):
        out.append(f"<t:{name}>{xml_bool(value)}</t:{name}>")
    elif isinstance(value, datetime):
        out.append(f"<t:{name}>{xml_dt(value)}</t:{name}>")
    elif isinstance(value, date):
        out.append(f"<t:{name}>{xml_date(value)}T00:00:00Z</t:{name}>")
    elif isinstance(value, float):
        out.append(f"<t:{name}>{xml_double(value)}</t:{name}>")
    elif isinstance(value, int):
        out.append(f"<t:{name}>{value}</t:{name}>")
    elif isinstance(value, str):
        out.append(f"<t:{name}>{esc(value)}</t:{name}>")
    else:
        raise TypeError(f"cannot serialise {name}={value!r}")


def _w_strings(out: list[str], name: str, value: Any, shape: Shape) -> None:
    if not value:
        return
    inner = "".join(f"<t:String>{esc(v)}</t:String>" for v in value)
    out.append(f"<t:{name}>{inner}</t:{name}>")


def _w_mailbox(out: list[str], name: str, value: Any, shape: Shape) -> None:
    out.append(f"<t:{name}>{mailbox_xml(value)}</t:{name}>")


def _w_mailboxes(out: list[str], name: str, value: Any, shape: Shape) -> None:
    if value:
        out.append(f"<t:{name}>{''.join(mailbox_xml(m) for m in value)}</t:{name}>")


def _w_attendees(out: list[str], name: str, value: Any, shape: Shape) -> None:
    if not value:
        return
    parts = []
    for a in value:
        att: Attendee = a
        parts.append(
            f"<t:Attendee>{mailbox_xml(att.mailbox)}<t:ResponseType>{esc(att.response)}</t:ResponseType></t:Attendee>"
        )
    out.append(f"<t:{name}>{''.join(parts)}</t:{name}>")


def _w_body(out: list[str], name: str, value: Any, shape: Shape) -> None:
    body_type = "Text"
    if isinstance(value, tuple):  # (text, "HTML"|"Text") as stored from a client write
        value, body_type = value
    out.append(f'<t:Body BodyType="{body_type}">{esc(value)}</t:Body>')


def _w_conversation(out: list[str], name: str, value: Any, shape: Shape) -> None:
    out.append(f'<t:ConversationId Id="{esc_attr(value)}"/>')


def _w_tz(out: list[str], name: str, value: Any, shape: Shape) -> None:
    out.append(f'<t:{name} Id="{esc_attr(value)}" Name="{esc_attr(value)}"/>')


def _w_recurrence(out: list[str], name: str, value: Any, shape: Shape) -> None:
    out.append(recurrence_xml(value))


def _w_duration(out: list[str], name: str, value: Any, shape: Shape) -> None:
    out.append(f"<t:{name}>{duration_xml(value)}</t:{name}>")


def _w_emails(out: list[str], name: str, value: Any, shape: Shape) -> None:
    keys = shape.indexed.get(name) if name in shape.indexed else None
    entries = [
        f'<t:Entry Key="{k}">{esc(v)}</t:Entry>' for k, v in sorted(value.items()) if v and (keys is None or k in keys)
    ]
    if entries:
        out.append(f"<t:{name}>{''.join(entries)}</t:{name}>")


_ADDRESS_PARTS = (
    ("Street", "street"),
    ("City", "city"),
    ("State", "state"),
    ("CountryOrRegion", "country"),
    ("PostalCode", "postal_code"),
)


def _w_addresses(out: list[str], name: str, value: Any, shape: Shape) -> None:
    keys = shape.indexed.get(name) if name in shape.indexed else None
    entries = []
    for k in ("Business", "Home", "Other"):
        addr: PhysicalAddress | None = value.get(k)
        if addr is None:
            continue
        parts = []
        for el, attr in _ADDRESS_PARTS:
            if keys is not None and f"{k}:{el}" not in keys and k not in keys:
                continue
            v = getattr(addr, attr)
            if v:
                parts.append(f"<t:{el}>{esc(v)}</t:{el}>")
        if parts:
            entries.append(f'<t:Entry Key="{k}">{"".join(parts)}</t:Entry>')
    if entries:
        out.append(f"<t:{name}>{''.join(entries)}</t:{name}>")


def _w_ext(out: list[str], name: str, value: Any, shape: Shape) -> None:
    for p in value:
        if shape.include_all_ext or ext_key(p) in shape.ext:
            out.append(ext_prop_xml(p))


def _w_occurrences(out: list[str], name: str, value: Any, shape: Shape) -> None:
    # value: list of (item_id, changekey, start, end, original_start)
    if not value:
        return
    parts = [
        f'<t:Occurrence><t:ItemId Id="{i}" ChangeKey="{ck}"/><t:Start>{xml_dt(s)}</t:Start>'
        f"<t:End>{xml_dt(e)}</t:End><t:OriginalStart>{xml_dt(o)}</t:OriginalStart></t:Occurrence>"
        for i, ck, s, e, o in value
    ]
    out.append(f"<t:{name}>{''.join(parts)}</t:{name}>")


def _w_occurrence_info(out: list[str], name: str, value: Any, shape: Shape) -> None:
    i, ck, s, e, o = value
    out.append(
        f'<t:{name}><t:ItemId Id="{i}" ChangeKey="{ck}"/><t:Start>{xml_dt(s)}</t:Start>'
        f"<t:End>{xml_dt(e)}</t:End><t:OriginalStart>{xml_dt(o)}</t:OriginalStart></t:{name}>"
    )


def _w_deleted(out: list[str], name: str, value: Any, shape: Shape) -> None:
    if value:
        parts = "".join(f"<t:DeletedOccurrence><t:Start>{xml_dt(s)}</t:Start></t:DeletedOccurrence>" for s in value)
        out.append(f"<t:{name}>{parts}</t:{name}>")


WRITERS: dict[str, Writer] = {}
for _n in STRINGS_ELEMENTS:
    WRITERS[_n] = _w_strings
for _n in MAILBOX_ELEMENTS:
    WRITERS[_n] = _w_mailbox
for _n in MAILBOXES_ELEMENTS:
    WRITERS[_n] = _w_mailboxes
for _n in ATTENDEES_ELEMENTS:
    WRITERS[_n] = _w_attendees
for _n in TZ_ELEMENTS:
    WRITERS[_n] = _w_tz
WRITERS.update(
    {
        "Body": _w_body,
        "ConversationId": _w_conversation,
        "Recurrence": _w_recurrence,
        "Duration": _w_duration,
        "EmailAddresses": _w_emails,
        "PhoneNumbers": _w_emails,
        "PhysicalAddresses": _w_addresses,
        "ExtendedProperty": _w_ext,
        "ModifiedOccurrences": _w_occurrences,
        "FirstOccurrence": _w_occurrence_info,
        "LastOccurrence": _w_occurrence_info,
        "DeletedOccurrences": _w_deleted,
    }
)


def _w_str(out: list[str], name: str, value: Any, shape: Shape) -> None:
    if isinstance(value, str) and not isinstance(value, RawXml):
        out.append(f"<t:{name}>{esc(value)}</t:{name}>")
    else:
        _w_default(out, name, value, shape)


def _w_bool(out: list[str], name: str, value: Any, shape: Shape) -> None:
    out.append(f"<t:{name}>true</t:{name}>" if value else f"<t:{name}>false</t:{name}>")


def _w_dt(out: list[str], name: str, value: Any, shape: Shape) -> None:
    if isinstance(value, datetime):
        out.append(f"<t:{name}>{xml_dt(value)}</t:{name}>")
    else:
        _w_default(out, name, value, shape)


def writer_for(name: str) -> Writer:
    """The writer of one element: by its value type, else the plain-text writer."""
    w = WRITERS.get(name)
    if w is not None:
        return w
    if name in BOOL_ELEMENTS:
        return _w_bool
    if name in DATETIME_ELEMENTS:
        return _w_dt
    if name in INT_ELEMENTS or name in DOUBLE_ELEMENTS:
        return _w_default
    return _w_str


def render_item(
    kind: ItemKind,
    values: Mapping[str, Any],
    plan: tuple[str, ...],
    shape: Shape,
    item_id: str,
    change_key: str,
) -> str:
    """One ``t:Message``/``t:Contact``/``t:CalendarItem``/``t:Task`` element.

    ``values`` maps element names to model values; elements of ``plan`` missing from it are left out.
    """
    tag = "Contact" if kind == "Contact" else kind
    out = [f'<t:{tag}><t:ItemId Id="{item_id}" ChangeKey="{change_key}"/>']
    get = values.get
    append = out.append
    for name, w, open_tag, close_tag in _bound_plan(plan):
        value = get(name)
        if value is None:
            continue
        # fast paths for the commonest values; everything else goes through the element's writer
        if w is _w_str and type(value) is str:
            append(open_tag + (value if needs_escaping(value) is None else esc(value)) + close_tag)
        elif w is _w_dt and type(value) is datetime:
            append(open_tag + xml_dt(value) + close_tag)
        elif w is _w_bool:
            append(open_tag + ("true" if value else "false") + close_tag)
        else:
            w(out, name, value, shape)
    append(f"</t:{tag}>")
    return "".join(out)
