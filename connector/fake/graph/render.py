"""ItemSpec -> Microsoft Graph v1.0 JSON (contact, message, event instance, todoTask). Pure: no I/O.

The shapes, names and casing follow docs graph_api.md (the contract with relsync's Graph client):
datetimes of messages and contacts as ``2026-11-23T09:00:00Z``, event times as
``{"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "UTC"}``, Windows zone ids kept as Exchange
keeps them in ``originalStartTimeZone``. Ids are the EWS ids in Graph's URL-safe alphabet
(``/`` -> ``-``, ``+`` -> ``_``), as ``translateExchangeIds`` maps EWS ids to REST ids, so a Graph id
and the EWS id of the same item convert into each other (:func:`rest_id`, :func:`ews_id`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from connector.fake.model import ITEM_CLASS, Attendee, ExtendedProp, ItemKind, Mailbox, PhysicalAddress
from connector.fake.recurrence import zone_for

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


# --- ids ------------------------------------------------------------------------------------------


def rest_id(ews: str) -> str:
    """The Graph (REST) form of an EWS id."""
    return ews.replace("/", "-").replace("+", "_")


def ews_id(rest: str) -> str:
    """The EWS form of a Graph (REST) id."""
    return rest.replace("-", "/").replace("_", "+")


def etag(change_key: str) -> str:
    return f'W/"{change_key}"'


# --- values ---------------------------------------------------------------------------------------


def iso_z(value: datetime | None) -> str | None:
    """An instant as Graph writes message and contact times: ``2026-11-23T09:00:00Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_time_tz(value: datetime) -> dict[str, str]:
    """A dateTimeTimeZone in UTC: ``{"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "UTC"}``."""
    return {"dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def midnight_tz(day: date) -> dict[str, str]:
    """A date as Graph writes all-day event bounds and To Do due dates: that day's midnight, "UTC"."""
    return {"dateTime": f"{day.isoformat()}T00:00:00.0000000", "timeZone": "UTC"}


def email_address(m: Mailbox | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"emailAddress": {"name": m.name or m.email, "address": m.email}}


def recipients(ms: Iterable[Mailbox] | None) -> list[dict[str, Any]]:
    return [r for r in (email_address(m) for m in ms or ()) if r is not None]


def _address(a: PhysicalAddress | None) -> dict[str, str]:
    if a is None:
        return {}
    return {
        "street": a.street,
        "city": a.city,
        "state": a.state,
        "countryOrRegion": a.country,
        "postalCode": a.postal_code,
    }


# --- extended properties (singleValueExtendedProperties) ------------------------------------------

#: GUIDs of the distinguished property sets EWS names (DistinguishedPropertySetId).
PROPERTY_SETS: dict[str, str] = {
    "PublicStrings": "00020329-0000-0000-c000-000000000046",
    "Common": "00062008-0000-0000-c000-000000000046",
    "Address": "00062004-0000-0000-c000-000000000046",
    "Appointment": "00062002-0000-0000-c000-000000000046",
    "Task": "00062003-0000-0000-c000-000000000046",
    "InternetHeaders": "00020386-0000-0000-c000-000000000046",
    "Meeting": "6ed8da90-450b-101b-98da-00aa003f1305",
}
PR_SENSITIVITY, PR_MESSAGE_SIZE, PR_MESSAGE_CLASS = 0x0036, 0x0E08, 0x001A
SENSITIVITY_VALUES = {"Normal": 0, "Personal": 1, "Private": 2, "Confidential": 3}
_PROP_TAG = re.compile(r"^(\w+)\s+0x([0-9a-fA-F]{1,4})$")
_PROP_NAMED = re.compile(r"^(\w+)\s+\{([0-9a-fA-F-]{36})\}\s+Name\s+(.+)$")


@dataclass(frozen=True, slots=True)
class PropId:
    """A parsed extended property id: a tag (``Integer 0x0036``) or a named one (``String {guid} Name X``)."""

    type: str  # as written, e.g. "Integer", "String"
    tag: int | None = None
    guid: str | None = None  # lower case
    name: str | None = None

    @property
    def text(self) -> str:
        """Graph's canonical spelling (tags in lower-case hex without leading zeros)."""
        if self.tag is not None:
            return f"{self.type} 0x{self.tag:x}"
        return f"{self.type} {{{self.guid}}} Name {self.name}"


def parse_prop_id(text: str) -> PropId:
    """Parse an extended property id; raises ValueError for a form the fake does not know."""
    text = text.strip()
    m = _PROP_TAG.match(text)
    if m:
        return PropId(m.group(1).capitalize(), tag=int(m.group(2), 16))
    m = _PROP_NAMED.match(text)
    if m:
        return PropId(m.group(1).capitalize(), guid=m.group(2).lower(), name=m.group(3))
    raise ValueError(f"Invalid extended property id '{text}'.")


def _ext_matches(p: ExtendedProp, pid: PropId) -> bool:
    if p.property_type.lower() != pid.type.lower():
        return False
    if pid.tag is not None:
        return p.property_tag is not None and int(p.property_tag, 16) == pid.tag
    guid = p.property_set_id.lower() if p.property_set_id else PROPERTY_SETS.get(p.distinguished_set_id or "")
    return guid == pid.guid and p.property_name == pid.name


def message_size(kind: ItemKind, fields: Mapping[str, Any]) -> int:
    """PR_MESSAGE_SIZE: the stored Size, else an estimate from the text (the fake keeps no MIME)."""
    size = fields.get("Size")
    if isinstance(size, int):
        return size
    text = sum(len(str(fields.get(k) or "")) for k in ("Subject", "Body"))
    return 2048 + 2 * text


def ext_value(kind: ItemKind, fields: Mapping[str, Any], pid: PropId) -> str | None:
    """The value of one extended property of an item, as Graph serialises it (a string), or None."""
    if pid.tag == PR_SENSITIVITY and pid.type == "Integer":
        return str(SENSITIVITY_VALUES.get(str(fields.get("Sensitivity") or "Normal"), 0))
    if pid.tag == PR_MESSAGE_SIZE and pid.type == "Integer":
        return str(message_size(kind, fields))
    if pid.tag == PR_MESSAGE_CLASS and pid.type == "String":
        return str(fields.get("ItemClass") or ITEM_CLASS[kind])
    props: tuple[ExtendedProp, ...] = fields.get("ExtendedProperty") or ()
    for p in props:
        if _ext_matches(p, pid):
            return p.value
    return None


def ext_props(kind: ItemKind, fields: Mapping[str, Any], wanted: Iterable[PropId]) -> list[dict[str, str]]:
    out = []
    for pid in wanted:
        value = ext_value(kind, fields, pid)
        if value is not None:
            out.append({"id": pid.text, "value": value})
    return out


# --- $select ------------------------------------------------------------------------------------------

#: Always present, whatever $select says (as in Graph).
ALWAYS = ("@odata.type", "@odata.etag", "id")


def apply_select(full: dict[str, Any], select: frozenset[str] | None) -> dict[str, Any]:
    if select is None:
        return full
    return {k: v for k, v in full.items() if k in select or k in ALWAYS}


# --- contacts -------------------------------------------------------------------------------------------

CONTACT_PROPS = frozenset(
    {
        "id",
        "changeKey",
        "parentFolderId",
        "createdDateTime",
        "lastModifiedDateTime",
        "categories",
        "displayName",
        "givenName",
        "middleName",
        "surname",
        "nickName",
        "fileAs",
        "companyName",
        "jobTitle",
        "department",
        "businessHomePage",
        "emailAddresses",
        "businessPhones",
        "homePhones",
        "mobilePhone",
        "businessAddress",
        "homeAddress",
        "otherAddress",
        "personalNotes",
        "title",
        "generation",
        "imAddresses",
        "manager",
        "assistantName",
        "officeLocation",
        "profession",
        "spouseName",
        "birthday",
        "initials",
        "yomiGivenName",
        "yomiSurname",
        "yomiCompanyName",
        "children",
    }
)


def _created(fields: Mapping[str, Any]) -> datetime:
    created = fields.get("DateTimeCreated") or fields.get("DateTimeReceived") or fields.get("Start")
    return created if isinstance(created, datetime) else _EPOCH


def _modified(fields: Mapping[str, Any]) -> datetime:
    modified = fields.get("LastModifiedTime")
    return modified if isinstance(modified, datetime) else _created(fields)


def render_contact(fields: Mapping[str, Any], item_id: str, change_key: str, parent_id: str) -> dict[str, Any]:
    """A contact (the item id, change key and folder id already in Graph form)."""
    emails: dict[str, str] = fields.get("EmailAddresses") or {}
    phones: dict[str, str] = fields.get("PhoneNumbers") or {}
    addresses: dict[str, PhysicalAddress] = fields.get("PhysicalAddresses") or {}
    display = fields.get("DisplayName")
    return {
        "@odata.etag": etag(change_key),
        "id": item_id,
        "createdDateTime": iso_z(_created(fields)),
        "lastModifiedDateTime": iso_z(_modified(fields)),
        "changeKey": change_key,
        "categories": list(fields.get("Categories") or ()),
        "parentFolderId": parent_id,
        "birthday": iso_z(fields.get("Birthday")),
        "fileAs": fields.get("FileAs") or "",
        "displayName": display,
        "givenName": fields.get("GivenName"),
        "initials": fields.get("Initials"),
        "middleName": fields.get("MiddleName"),
        "nickName": fields.get("Nickname"),
        "surname": fields.get("Surname"),
        "title": None,
        "yomiGivenName": None,
        "yomiSurname": None,
        "yomiCompanyName": None,
        "generation": fields.get("Generation"),
        "imAddresses": [],
        "jobTitle": fields.get("JobTitle"),
        "companyName": fields.get("CompanyName"),
        "department": fields.get("Department"),
        "officeLocation": fields.get("OfficeLocation"),
        "profession": fields.get("Profession"),
        "businessHomePage": fields.get("BusinessHomePage"),
        "assistantName": fields.get("AssistantName"),
        "manager": fields.get("Manager"),
        "homePhones": [phones[k] for k in ("HomePhone", "HomePhone2") if phones.get(k)],
        "mobilePhone": phones.get("MobilePhone"),
        "businessPhones": [phones[k] for k in ("BusinessPhone", "BusinessPhone2") if phones.get(k)],
        "spouseName": fields.get("SpouseName"),
        "personalNotes": fields.get("Body") or "",
        "children": [],
        "emailAddresses": [
            {"name": display or emails[k], "address": emails[k]}
            for k in ("EmailAddress1", "EmailAddress2", "EmailAddress3")
            if emails.get(k)
        ],
        "homeAddress": _address(addresses.get("Home")),
        "businessAddress": _address(addresses.get("Business")),
        "otherAddress": _address(addresses.get("Other")),
    }


# --- messages -------------------------------------------------------------------------------------------

MESSAGE_PROPS = frozenset(
    {
        "id",
        "changeKey",
        "subject",
        "internetMessageId",
        "conversationId",
        "sentDateTime",
        "receivedDateTime",
        "from",
        "sender",
        "toRecipients",
        "ccRecipients",
        "bccRecipients",
        "replyTo",
        "categories",
        "parentFolderId",
        "createdDateTime",
        "lastModifiedDateTime",
        "hasAttachments",
        "importance",
        "isRead",
        "isDraft",
        "bodyPreview",
        "body",
        "webLink",
        "inferenceClassification",
        "flag",
        "conversationIndex",
        "isDeliveryReceiptRequested",
        "isReadReceiptRequested",
        "internetMessageHeaders",
        "uniqueBody",
        "meetingMessageType",
    }
)


def render_message(
    kind: ItemKind, fields: Mapping[str, Any], item_id: str, change_key: str, parent_id: str
) -> dict[str, Any]:
    """A message; a meeting request is an ``eventMessage``."""
    body = str(fields.get("Body") or "")
    out: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.eventMessage" if kind == "MeetingRequest" else "#microsoft.graph.message",
        "@odata.etag": etag(change_key),
        "id": item_id,
        "createdDateTime": iso_z(_created(fields)),
        "lastModifiedDateTime": iso_z(_modified(fields)),
        "changeKey": change_key,
        "categories": list(fields.get("Categories") or ()),
        "receivedDateTime": iso_z(fields.get("DateTimeReceived")),
        "sentDateTime": iso_z(fields.get("DateTimeSent")),
        "hasAttachments": bool(fields.get("HasAttachments", False)),
        "internetMessageId": fields.get("InternetMessageId"),
        "subject": fields.get("Subject") or "",
        "bodyPreview": body[:255],
        "importance": str(fields.get("Importance") or "Normal").lower(),
        "parentFolderId": parent_id,
        "conversationId": fields.get("ConversationId"),
        "isDeliveryReceiptRequested": bool(fields.get("IsDeliveryReceiptRequested", False)),
        "isReadReceiptRequested": bool(fields.get("IsReadReceiptRequested", False)),
        "isRead": bool(fields.get("IsRead", False)),
        "isDraft": False,
        "inferenceClassification": "focused",
        "body": {"contentType": "text", "content": body},
        "sender": email_address(fields.get("Sender")),
        "from": email_address(fields.get("From")),
        "toRecipients": recipients(fields.get("ToRecipients")),
        "ccRecipients": recipients(fields.get("CcRecipients")),
        "bccRecipients": recipients(fields.get("BccRecipients")),
        "replyTo": recipients(fields.get("ReplyTo")),
        "flag": {"flagStatus": "notFlagged"},
    }
    if kind == "MeetingRequest":
        out["meetingMessageType"] = "meetingRequest"
    return out


# --- events ---------------------------------------------------------------------------------------------

EVENT_PROPS = frozenset(
    {
        "id",
        "changeKey",
        "iCalUId",
        "subject",
        "start",
        "end",
        "originalStartTimeZone",
        "originalEndTimeZone",
        "isAllDay",
        "isCancelled",
        "sensitivity",
        "showAs",
        "type",
        "seriesMasterId",
        "originalStart",
        "location",
        "organizer",
        "attendees",
        "categories",
        "createdDateTime",
        "lastModifiedDateTime",
        "isOrganizer",
        "bodyPreview",
        "body",
        "importance",
        "isReminderOn",
        "reminderMinutesBeforeStart",
        "responseStatus",
        "webLink",
        "isOnlineMeeting",
        "recurrence",
        "hasAttachments",
        "locations",
    }
)
_SHOW_AS = {
    "Free": "free",
    "Tentative": "tentative",
    "Busy": "busy",
    "OOF": "oof",
    "WorkingElsewhere": "workingElsewhere",
    "NoData": "unknown",
}
_RESPONSE = {
    "Unknown": "none",
    "Organizer": "organizer",
    "Tentative": "tentativelyAccepted",
    "Accept": "accepted",
    "Decline": "declined",
    "NoResponseReceived": "notResponded",
}
_ATTENDEE_TYPES = (("RequiredAttendees", "required"), ("OptionalAttendees", "optional"), ("Resources", "resource"))
EVENT_TYPES = {
    "Single": "singleInstance",
    "Occurrence": "occurrence",
    "Exception": "exception",
    "RecurringMaster": "seriesMaster",
}


def instance_uid(uid: str, original_start: datetime) -> str:
    """The iCalUId of an occurrence or exception: the series UID + "-" + its original start (UTC)."""
    return f"{uid}-{original_start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def _attendee(a: Attendee, kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": {"response": _RESPONSE.get(a.response, "none"), "time": "0001-01-01T00:00:00Z"},
        "emailAddress": {"name": a.mailbox.name or a.mailbox.email, "address": a.mailbox.email},
    }


def _event_time(value: datetime, all_day: bool, zone_id: str | None) -> dict[str, str]:
    if all_day:  # midnight of the event's own date (the date in its time zone)
        return midnight_tz(value.astimezone(zone_for(zone_id)).date())
    return date_time_tz(value)


@dataclass(frozen=True, slots=True)
class EventIds:
    """The ids of one rendered event (already in Graph form)."""

    id: str
    change_key: str
    parent_id: str
    series_master_id: str | None = None


def render_event(
    values: Mapping[str, Any],
    ids: EventIds,
    event_type: str,
    original_start: datetime | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """An event. ``values`` are the instance's fields (for an occurrence: the series' fields merged with
    its own, see ``recurrence.occurrence_values``); ``event_type`` is Graph's ``type``; ``owner`` the
    mailbox address (is it the organizer?)."""
    start: datetime = values.get("Start") or _EPOCH
    end: datetime = values.get("End") or start
    all_day = bool(values.get("IsAllDayEvent", False))
    start_zone = values.get("StartTimeZone") or "UTC"
    end_zone = values.get("EndTimeZone") or start_zone
    uid = str(values.get("UID") or ids.id)
    if event_type in ("occurrence", "exception") and original_start is not None:
        ical = instance_uid(uid, original_start)
    else:
        ical = uid
    attendees = [_attendee(a, kind) for key, kind in _ATTENDEE_TYPES for a in values.get(key) or ()]
    organizer = values.get("Organizer")
    body = str(values.get("Body") or "")
    location = str(values.get("Location") or "")
    is_organizer = organizer is None or (owner is not None and organizer.email.lower() == owner.lower())
    out: dict[str, Any] = {
        "@odata.etag": etag(ids.change_key),
        "id": ids.id,
        "createdDateTime": iso_z(_created(values)),
        "lastModifiedDateTime": iso_z(_modified(values)),
        "changeKey": ids.change_key,
        "categories": list(values.get("Categories") or ()),
        "originalStartTimeZone": start_zone,
        "originalEndTimeZone": end_zone,
        "iCalUId": ical,
        "reminderMinutesBeforeStart": int(values.get("ReminderMinutesBeforeStart") or 15),
        "isReminderOn": bool(values.get("ReminderIsSet", False)),
        "hasAttachments": bool(values.get("HasAttachments", False)),
        "subject": values.get("Subject") or "",
        "bodyPreview": body[:255],
        "importance": str(values.get("Importance") or "Normal").lower(),
        "sensitivity": str(values.get("Sensitivity") or "Normal").lower(),
        "isAllDay": all_day,
        "isCancelled": bool(values.get("IsCancelled", False)),
        "isOrganizer": is_organizer,
        "showAs": _SHOW_AS.get(str(values.get("LegacyFreeBusyStatus") or "Busy"), "busy"),
        "type": event_type,
        "seriesMasterId": ids.series_master_id,
        "isOnlineMeeting": bool(values.get("IsOnlineMeeting", False)),
        "responseStatus": {"response": "organizer" if is_organizer else "none", "time": "0001-01-01T00:00:00Z"},
        "body": {"contentType": "text", "content": body},
        "start": _event_time(start, all_day, start_zone),
        "end": _event_time(end, all_day, end_zone),
        "location": {"displayName": location},
        "locations": [{"displayName": location}] if location else [],
        "recurrence": None,
        "attendees": attendees,
        "organizer": email_address(organizer) or {"emailAddress": {"name": "", "address": ""}},
    }
    if original_start is not None:
        out["originalStart"] = iso_z(original_start)
    return out


def removed(item_id: str) -> dict[str, Any]:
    """A delta entry for an item that is gone (deleted, moved away, or out of the window)."""
    return {"id": item_id, "@removed": {"reason": "deleted"}}


# --- To Do tasks ----------------------------------------------------------------------------------------

TASK_STATUS = {
    "NotStarted": "notStarted",
    "InProgress": "inProgress",
    "Completed": "completed",
    "WaitingOnOthers": "waitingOnOthers",
    "Deferred": "deferred",
}
TASK_STATUS_EWS = {v: k for k, v in TASK_STATUS.items()}
IMPORTANCE_EWS = {"low": "Low", "normal": "Normal", "high": "High"}


def render_task(
    fields: Mapping[str, Any], extra: Mapping[str, Any], item_id: str, change_key: str, expand_links: bool
) -> dict[str, Any]:
    """A todoTask. A due date is a date in To Do: its midnight, "UTC" (the date as the owner sees it)."""
    out: dict[str, Any] = {
        "@odata.etag": etag(change_key),
        "id": item_id,
        "importance": str(fields.get("Importance") or "Normal").lower(),
        "isReminderOn": bool(fields.get("ReminderIsSet", False)),
        "status": TASK_STATUS.get(str(fields.get("Status") or "NotStarted"), "notStarted"),
        "title": fields.get("Subject") or "",
        "createdDateTime": iso_z(_created(fields)),
        "lastModifiedDateTime": iso_z(_modified(fields)),
        "hasAttachments": False,
        "categories": list(fields.get("Categories") or ()),
        "body": {"content": str(fields.get("Body") or ""), "contentType": "text"},
    }
    due = fields.get("DueDate")
    if isinstance(due, datetime):
        out["dueDateTime"] = midnight_tz(due.date())
    start = fields.get("StartDate")
    if isinstance(start, datetime):
        out["startDateTime"] = midnight_tz(start.date())
    reminder = fields.get("ReminderDueBy")
    if isinstance(reminder, datetime) and out["isReminderOn"]:
        out["reminderDateTime"] = date_time_tz(reminder)
    done = fields.get("CompleteDate")
    if isinstance(done, datetime) and out["status"] == "completed":
        out["completedDateTime"] = midnight_tz(done.astimezone(UTC).date())
    if expand_links:
        out["linkedResources"] = [dict(r) for r in extra.get("linked_resources") or ()]
    return out
