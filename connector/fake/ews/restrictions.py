"""FindItem's Restriction, SortOrder and QueryString, evaluated on plain item values (no I/O).

What the fake evaluates, it evaluates as Exchange documents; what it cannot, it refuses with the
response code Exchange uses, never ignoring part of a query:

* Restriction (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/restriction):
  ``And``/``Or``/``Not``, ``Exists``, ``IsEqualTo`` ... ``IsLessThanOrEqualTo`` and ``Contains``, on the
  ``FieldURI`` of every element of the item types the fake serves, ``IndexedFieldURI`` (contact
  e-mail addresses and phone numbers) and ``ExtendedFieldURI``. String comparisons ignore case, as
  Exchange's do. A mailbox-valued field (``message:Sender``, ``message:From``, ``calendar:Organizer``,
  recipients) compares by its SMTP address; ``Contains`` also looks at its display name.
  A path that is no property the fake models (``Size``, ``IsFromMe`` ... hold no value here), or a
  complex one (recurrence, attendees, attachments), is refused with ``ErrorUnsupportedPathForQuery``; ``Excludes``
  and comparing two fields with ``ErrorUnsupportedQueryFilter``; an unknown element with
  ``ErrorInvalidRestriction``.
* SortOrder (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/sortorder):
  every ``FieldOrder`` in turn, the first the primary key; an item without the field sorts first
  ascending (last descending), as an empty MAPI value does. A path it cannot sort on is refused with
  ``ErrorUnsupportedPathForSortGroup``; so is a SortOrder with a CalendarView (occurrences come by start).
* QueryString, AQS (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/querystring-querystringtype):
  only the simple forms: ``word``, ``"a phrase"`` and ``property:value`` with the properties
  ``subject``, ``body``, ``from``, ``to``, ``cc``, ``participants``, ``category``, terms joined by
  white space (all must match). A word matches a word of the property that starts with it, a phrase a
  substring, ignoring case. Anything else (``AND``/``OR``/``NOT``, parentheses, ranges, dates, other
  properties) is refused with ``ErrorUnsupportedQueryFilter`` naming the term.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from connector.fake.ews.xmlout import NS_T, ext_key
from connector.fake.model import ExtendedProp, ItemSpec, Mailbox

T = f"{{{NS_T}}}"


class QueryRefused(Exception):
    """A query the fake does not evaluate: answered with ``code`` as a FindItem error response message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: The properties the fake models (model.py's field table, the defaults and the derived ones), by element
#: name. Exchange can query more (Size, IsFromMe, ...), but the fake holds no value for those: a query
#: on one would silently match nothing, so it is refused instead.
_QUERYABLE = frozenset(
    {
        # item
        "ItemClass", "Subject", "Sensitivity", "DateTimeReceived", "Categories", "Importance", "InReplyTo",
        "IsSubmitted", "IsDraft", "DateTimeSent", "DateTimeCreated", "ReminderIsSet", "DisplayCc", "DisplayTo",
        "HasAttachments", "LastModifiedTime", "ConversationId",
        # message
        "Sender", "ToRecipients", "CcRecipients", "BccRecipients", "ConversationTopic", "From",
        "InternetMessageId", "IsRead", "References",
        # contact
        "FileAs", "DisplayName", "GivenName", "MiddleName", "Nickname", "CompanyName", "JobTitle", "Department",
        "Surname", "BusinessHomePage",
        # calendar
        "UID", "Start", "End", "IsAllDayEvent", "LegacyFreeBusyStatus", "Location", "IsMeeting", "IsCancelled",
        "IsRecurring", "CalendarItemType", "Organizer",
        # task
        "DueDate", "StartDate", "CompleteDate", "Status", "PercentComplete", "IsComplete", "Owner",
    }
)  # fmt: skip
_INDEXED = {"contacts:EmailAddress": "EmailAddresses", "contacts:PhoneNumber": "PhoneNumbers"}
#: Body may be searched with Contains (Exchange's content search), not compared.
_CONTAINS_ONLY = frozenset({"Body"})

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "IsEqualTo": lambda a, b: a == b,
    "IsNotEqualTo": lambda a, b: a != b,
    "IsGreaterThan": lambda a, b: a > b,
    "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
    "IsLessThan": lambda a, b: a < b,
    "IsLessThanOrEqualTo": lambda a, b: a <= b,
}


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _parse_dt(text: str) -> datetime:
    value = text.strip()
    if len(value) == 10:
        value += "T00:00:00Z"
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"date without a time zone: {text}")
    return dt


def master_is_recurring(spec: ItemSpec, owner: str) -> bool:
    """``IsRecurring`` of a recurring series' master item, as Exchange sets it.

    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isrecurring: a
    master is IsRecurring false in its organizer's calendar and true in an attendee's (the page calls the
    organizer's value incorrect, but it is what Exchange serves); a recurring task is true.
    """
    if spec.kind != "CalendarItem":
        return True
    organizer = spec.fields.get("Organizer")
    return not (isinstance(organizer, Mailbox) and organizer.email.lower() == owner.lower())


def item_values(spec: ItemSpec, defaults: dict[str, Any], owner: str) -> dict[str, Any]:
    """The values a restriction or a sort sees for one item of ``owner``'s mailbox: defaults, the stored
    fields, derived ones (as the item is rendered, see ``Renderer.values``)."""
    values = {**defaults, **spec.fields}
    for display, recipients in (("DisplayTo", "ToRecipients"), ("DisplayCc", "CcRecipients")):
        if spec.fields.get(recipients):
            values[display] = "; ".join(m.name for m in spec.fields[recipients])
    if spec.kind in ("CalendarItem", "Task") and spec.fields.get("Recurrence") is not None:
        values["IsRecurring"] = master_is_recurring(spec, owner)
        if spec.kind == "CalendarItem":
            values["CalendarItemType"] = "RecurringMaster"
    return values


def _ext_value(prop: ExtendedProp) -> Any:
    if prop.property_type in ("Integer", "Long", "Short"):
        try:
            return int(prop.value)
        except ValueError:
            return prop.value
    if prop.property_type == "Boolean":
        return prop.value.strip().lower() in ("true", "1")
    if prop.property_type == "SystemTime":
        try:
            return _parse_dt(prop.value)
        except ValueError:
            return prop.value
    return prop.value


def _path_name(path: etree._Element, *, contains: bool = False) -> str:
    """Check that a path can be queried; returns the element name (FieldURI) or "" for other paths."""
    kind = _local(path.tag)
    if kind == "FieldURI":
        uri = str(path.get("FieldURI", ""))
        name = uri.split(":", 1)[-1]
        if name in _QUERYABLE or (contains and name in _CONTAINS_ONLY):
            return name
        raise QueryRefused("ErrorUnsupportedPathForQuery", f"The property {uri} cannot be used in a query.")
    if kind == "IndexedFieldURI":
        if path.get("FieldURI", "") not in _INDEXED:
            raise QueryRefused(
                "ErrorUnsupportedPathForQuery", f"The property {path.get('FieldURI')} cannot be used in a query."
            )
        return ""
    if kind == "ExtendedFieldURI":
        return ""
    raise QueryRefused("ErrorInvalidRestriction", f"{kind} is not a property path.")


def _value(values: dict[str, Any], path: etree._Element) -> Any:
    kind = _local(path.tag)
    if kind == "FieldURI":
        return values.get(path.get("FieldURI", "").split(":", 1)[-1])
    if kind == "IndexedFieldURI":
        indexed = values.get(_INDEXED[path.get("FieldURI", "")]) or {}
        return indexed.get(path.get("FieldIndex", ""))
    wanted = _ext_key(path)
    for prop in values.get("ExtendedProperty", ()):
        if ext_key(prop) == wanted:
            return _ext_value(prop)
    return None


def _ext_key(uri: etree._Element) -> tuple[str | None, str | None, str | None, str]:
    name = uri.get("PropertyName") if uri.get("PropertyName") is not None else uri.get("PropertyId")
    return ext_key(
        ExtendedProp(
            property_type=uri.get("PropertyType", "String"),
            value="",
            property_set_id=uri.get("PropertySetId"),
            distinguished_set_id=uri.get("DistinguishedPropertySetId"),
            property_name=name,
            property_tag=uri.get("PropertyTag"),
        )
    )


def _scalar(value: Any) -> Any:
    """The comparable form of a stored value: a mailbox by its address; strings ignore case."""
    if isinstance(value, Mailbox):
        return value.email.casefold()
    if isinstance(value, str):
        return value.casefold()
    return value


def _constant(raw: str, sample: Any) -> Any:
    if isinstance(sample, bool):
        return raw.strip().lower() in ("true", "1")
    if isinstance(sample, datetime):
        return _parse_dt(raw)
    if isinstance(sample, int | float):
        return float(raw)
    return raw.casefold()


def _compare(op: str, value: Any, raw: str) -> bool:
    scalar = _scalar(value)
    try:
        return _COMPARE[op](scalar, _constant(raw, scalar))
    except (TypeError, ValueError):
        return False


def _texts(value: Any) -> Iterable[str]:
    for v in value if isinstance(value, tuple) else (value,):
        if isinstance(v, Mailbox):
            yield v.name
            yield v.email
        elif v is not None:
            yield str(v)


def validate(expr: etree._Element) -> None:
    """Refuse (raise :class:`QueryRefused`) a restriction the fake cannot evaluate, before any item is read."""
    name = _local(expr.tag)
    if name in ("And", "Or"):
        for child in expr:
            validate(child)
        return
    if name == "Not":
        if len(expr) != 1:
            raise QueryRefused("ErrorInvalidRestriction", "Not takes exactly one expression.")
        validate(expr[0])
        return
    if name == "Excludes":
        raise QueryRefused("ErrorUnsupportedQueryFilter", "The fake Exchange does not evaluate Excludes (bitmask).")
    if name not in _COMPARE and name not in ("Exists", "Contains"):
        raise QueryRefused("ErrorInvalidRestriction", f"{name} is not a search expression.")
    if not len(expr):
        raise QueryRefused("ErrorInvalidRestriction", f"{name} needs a property path.")
    _path_name(expr[0], contains=name == "Contains")
    if name in _COMPARE:
        other = expr.find(f"{T}FieldURIOrConstant")
        if other is None or other.find(f"{T}Constant") is None:
            raise QueryRefused(
                "ErrorUnsupportedQueryFilter", f"The fake Exchange compares {name} only with a Constant."
            )


def matches(expr: etree._Element, values: dict[str, Any]) -> bool:
    """Whether an item's values satisfy a validated search expression."""
    name = _local(expr.tag)
    if name == "And":
        return all(matches(e, values) for e in expr)
    if name == "Or":
        return any(matches(e, values) for e in expr)
    if name == "Not":
        return not matches(expr[0], values)
    value = _value(values, expr[0])
    if name == "Exists":
        return value is not None and value != ()
    if value is None:
        return False
    if name in _COMPARE:
        const = expr.find(f"{T}FieldURIOrConstant/{T}Constant")
        raw = const.get("Value", "") if const is not None else ""
        if isinstance(value, tuple):  # multi-valued (Categories, recipients): any element
            return any(_compare(name, v, raw) for v in value)
        return _compare(name, value, raw)
    const = expr.find(f"{T}Constant")
    needle = const.get("Value", "") if const is not None else ""
    mode = expr.get("ContainmentMode", "Substring")
    ignore_case = "IgnoreCase" in expr.get("ContainmentComparison", "Exact")
    n = needle.casefold() if ignore_case else needle
    for text in _texts(value):
        s = text.casefold() if ignore_case else text
        if mode == "FullString" and s == n:
            return True
        if mode == "Prefixed" and s.startswith(n):
            return True
        if mode == "PrefixOnWords" and any(w.startswith(n) for w in s.split()):
            return True
        if mode in ("Substring", "ExactPhrase") and n in s:
            return True
    return False


# --- SortOrder ----------------------------------------------------------------------------------------


def _sort_scalar(value: Any) -> Any:
    if isinstance(value, Mailbox):
        return value.name.casefold()  # Exchange sorts a mailbox column by its display name
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value).casefold()
    if isinstance(value, str):
        return value.casefold()
    return value


def sort_orders(sort_elem: etree._Element | None) -> list[tuple[etree._Element, bool]]:
    """(path, descending) per ``FieldOrder``, primary first; refuses a path it cannot sort on."""
    orders = []
    for fo in sort_elem if sort_elem is not None else ():
        if not isinstance(fo.tag, str) or not len(fo):
            continue
        try:
            _path_name(fo[0])
        except QueryRefused as refused:
            raise QueryRefused("ErrorUnsupportedPathForSortGroup", refused.message.replace("query", "sort")) from None
        orders.append((fo[0], fo.get("Order", "Ascending") == "Descending"))
    return orders


def sort(
    rows: Sequence[Any], orders: list[tuple[etree._Element, bool]], values_of: Callable[[Any], dict[str, Any]]
) -> list[Any]:
    """``rows`` sorted by ``orders`` (stable: items equal on every key keep folder order)."""
    out = list(rows)
    for path, descending in reversed(orders):
        # (has value, value): an item without the field sorts before every value, as Exchange's empty values do
        def key(row: Any, path: etree._Element = path) -> tuple[bool, Any]:
            v = _value(values_of(row), path)
            return (v is not None, _sort_scalar(v) if v is not None else 0)

        try:
            out.sort(key=key, reverse=descending)
        except TypeError as exc:  # mixed types in one column
            raise QueryRefused("ErrorInvalidRequest", f"The items cannot be sorted on that property: {exc}") from exc
    return out


# --- QueryString (AQS) --------------------------------------------------------------------------------

_AQS_PROPERTIES: dict[str, tuple[str, ...]] = {
    "subject": ("Subject",),
    "body": ("Body",),
    "from": ("From", "Sender"),
    "to": ("ToRecipients",),
    "cc": ("CcRecipients",),
    "participants": ("From", "Sender", "ToRecipients", "CcRecipients", "BccRecipients"),
    "category": ("Categories",),
}
_FREE_TEXT = ("Subject", "Body", "From", "Sender", "ToRecipients", "CcRecipients")
_TERM = re.compile(r'\s*(?:(?P<prop>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"():]+))\s*')
_OPERATORS = frozenset({"AND", "OR", "NOT"})

AqsTerm = tuple[tuple[str, ...], str, bool]  # (elements, text, is a phrase)


def parse_aqs(query: str) -> list[AqsTerm]:
    """The terms of a simple AQS query; refuses every form the fake does not evaluate."""
    terms: list[AqsTerm] = []
    pos = 0
    text = query.strip()
    if not text:
        raise QueryRefused("ErrorUnsupportedQueryFilter", "The QueryString is empty.")
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryRefused(
                "ErrorUnsupportedQueryFilter", f"The fake Exchange does not evaluate the AQS term at {text[pos:]!r}."
            )
        prop, phrase, word = m.group("prop"), m.group("phrase"), m.group("word")
        value = phrase if phrase is not None else word or ""
        if prop is None and word is not None and (word.upper() in _OPERATORS or word.startswith(("-", "+"))):
            raise QueryRefused(
                "ErrorUnsupportedQueryFilter", f"The fake Exchange does not evaluate AQS operator {word!r}."
            )
        if word is not None and (".." in word or any(c in word for c in "<>=*")):
            raise QueryRefused("ErrorUnsupportedQueryFilter", f"The fake Exchange does not evaluate AQS term {word!r}.")
        if prop is not None and prop.lower() not in _AQS_PROPERTIES:
            raise QueryRefused(
                "ErrorUnsupportedQueryFilter", f"The fake Exchange does not evaluate AQS property {prop!r}."
            )
        elements = _AQS_PROPERTIES[prop.lower()] if prop is not None else _FREE_TEXT
        terms.append((elements, value.casefold(), phrase is not None))
        pos = m.end()
    return terms


def aqs_matches(terms: list[AqsTerm], values: dict[str, Any]) -> bool:
    """Every term matches one of its properties (a word: a word prefix; a phrase: a substring)."""
    for elements, needle, phrase in terms:
        found = False
        for element in elements:
            for text in _texts(values.get(element)):
                s = text.casefold()
                if (phrase and needle in s) or (
                    not phrase and any(w.startswith(needle) for w in re.split(r"[\s,;]+", s))
                ):
                    found = True
                    break
            if found:
                break
        if not found:
            return False
    return True
