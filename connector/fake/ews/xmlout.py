"""EWS XML output for the fake Exchange: items and folders as strings, in the schema's element order.

Items are serialised by building strings directly (no lxml tree per item): a response page of 512
messages is a few hundred kilobytes and lxml would cost more than the rest of the server together.
Every value goes through :func:`esc` / :func:`esc_attr`; booleans are always ``true``/``false``.

This module holds the namespaces, escaping, scalar values and small fragments; ``elements`` the
schema's element orders and value types; ``itemxml`` the item writers.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from connector.fake.model import ExtendedProp, Mailbox, Recurrence

NS_S = "http://schemas.xmlsoap.org/soap/envelope/"
NS_M = "http://schemas.microsoft.com/exchange/services/2006/messages"
NS_T = "http://schemas.microsoft.com/exchange/services/2006/types"

_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Whether a text needs escaping (a fast check before :func:`esc`).
needs_escaping = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]").search


def esc(value: str) -> str:
    """Escape text content (and drop characters XML 1.0 cannot carry)."""
    if needs_escaping(value) is None:
        return value
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if _INVALID_XML_CHARS.search(value):
        value = _INVALID_XML_CHARS.sub("", value)
    return value


def esc_attr(value: str) -> str:
    value = esc(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\n" in value or "\r" in value or "\t" in value:
        value = value.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return value


def xml_bool(value: bool) -> str:
    return "true" if value else "false"


def xml_dt(value: datetime) -> str:
    """An instant as EWS sends it: UTC, whole seconds, with a ``Z``."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def xml_date(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def xml_double(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


class RawXml(str):
    """A field value kept as the XML the client sent (for elements the fake does not model)."""

    __slots__ = ()


# --- fragments ------------------------------------------------------------------------------------


def mailbox_xml(mb: Mailbox, tag: str = "Mailbox") -> str:
    return (
        f"<t:{tag}><t:Name>{esc(mb.name)}</t:Name><t:EmailAddress>{esc(mb.email)}</t:EmailAddress>"
        f"<t:RoutingType>{esc(mb.routing_type)}</t:RoutingType>"
        f"<t:MailboxType>{esc(mb.mailbox_type)}</t:MailboxType></t:{tag}>"
    )


def ext_uri_xml(p: ExtendedProp) -> str:
    attrs = []
    if p.distinguished_set_id:
        attrs.append(f' DistinguishedPropertySetId="{esc_attr(p.distinguished_set_id)}"')
    if p.property_set_id:
        attrs.append(f' PropertySetId="{esc_attr(p.property_set_id)}"')
    if p.property_tag:
        attrs.append(f' PropertyTag="{esc_attr(p.property_tag)}"')
    if p.property_name is not None:
        attrs.append(f' PropertyName="{esc_attr(p.property_name)}"')
    attrs.append(f' PropertyType="{esc_attr(p.property_type)}"')
    return f"<t:ExtendedFieldURI{''.join(attrs)}/>"


def ext_prop_xml(p: ExtendedProp) -> str:
    if p.property_type.endswith("Array"):
        values = "".join(f"<t:Value>{esc(v)}</t:Value>" for v in p.value.split("\x1f"))
        return f"<t:ExtendedProperty>{ext_uri_xml(p)}<t:Values>{values}</t:Values></t:ExtendedProperty>"
    return f"<t:ExtendedProperty>{ext_uri_xml(p)}<t:Value>{esc(p.value)}</t:Value></t:ExtendedProperty>"


def ext_key(p: ExtendedProp) -> tuple[str | None, str | None, str | None, str]:
    """The identity of an extended property (what a PathToExtendedField names)."""
    set_id = p.property_set_id.lower() if p.property_set_id else None
    tag = p.property_tag.lower() if p.property_tag else None
    return (set_id or p.distinguished_set_id, p.property_name, tag, p.property_type)


def recurrence_xml(r: Recurrence) -> str:
    if r.pattern == "Daily":
        pat = f"<t:DailyRecurrence><t:Interval>{r.interval}</t:Interval></t:DailyRecurrence>"
    elif r.pattern == "Weekly":
        days = " ".join(r.days_of_week) or "Monday"
        pat = (
            f"<t:WeeklyRecurrence><t:Interval>{r.interval}</t:Interval>"
            f"<t:DaysOfWeek>{days}</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek>"
            "</t:WeeklyRecurrence>"
        )
    else:
        pat = (
            f"<t:AbsoluteMonthlyRecurrence><t:Interval>{r.interval}</t:Interval>"
            f"<t:DayOfMonth>{r.day_of_month or r.start.day}</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>"
        )
    if r.end is not None:
        rng = (
            f"<t:EndDateRecurrence><t:StartDate>{xml_date(r.start)}</t:StartDate>"
            f"<t:EndDate>{xml_date(r.end)}</t:EndDate></t:EndDateRecurrence>"
        )
    elif r.occurrences is not None:
        rng = (
            f"<t:NumberedRecurrence><t:StartDate>{xml_date(r.start)}</t:StartDate>"
            f"<t:NumberOfOccurrences>{r.occurrences}</t:NumberOfOccurrences></t:NumberedRecurrence>"
        )
    else:
        rng = f"<t:NoEndRecurrence><t:StartDate>{xml_date(r.start)}</t:StartDate></t:NoEndRecurrence>"
    return f"<t:Recurrence>{pat}{rng}</t:Recurrence>"


def duration_xml(td: timedelta) -> str:
    secs = int(td.total_seconds())
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    d, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return f"{sign}P{d}DT{h}H{m}M{s}S"
