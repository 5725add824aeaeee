"""One handler per EWS operation. Each takes the parsed request and returns the SOAP body content.

Handlers raise :class:`SoapFault` for request-level failures (served as ``s:Fault``, HTTP 500) and
return per-item error response messages for item-level failures, as Exchange does.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lxml import etree

from connector.fake import convertid, restrictions, soap
from connector.fake.mailbox import (
    FOLDER_CLASSES,
    FOLDER_ORDER,
    FOLDER_PARENT,
    Change,
    FolderStore,
    InvalidId,
    InvalidSyncState,
    ItemRef,
    MailboxStore,
    decode_folder_id,
    decode_item_id,
    folder_change_key,
)
from connector.fake.model import (
    MAILBOX_FOLDER_KINDS,
    Attendee,
    ExtendedProp,
    ItemKind,
    ItemSpec,
    Mailbox,
    PhysicalAddress,
    Recurrence,
)
from connector.fake.recurrence import occurrence_starts
from connector.fake.stamping import stamp_created
from connector.fake.userconfig import UserConfig
from connector.fake.xmlout import (
    ATTENDEES_ELEMENTS,
    BOOL_ELEMENTS,
    DATETIME_ELEMENTS,
    DOUBLE_ELEMENTS,
    INT_ELEMENTS,
    ITEM_CLASS,
    KIND_ORDER,
    MAILBOX_ELEMENTS,
    MAILBOXES_ELEMENTS,
    NS_M,
    NS_T,
    STRINGS_ELEMENTS,
    TZ_ELEMENTS,
    RawXml,
    Shape,
    element_plan,
    esc,
    esc_attr,
    ext_key,
    mailbox_xml,
    render_item,
    xml_bool,
)

if TYPE_CHECKING:
    from connector.fake.server import FakeExchange

T = f"{{{NS_T}}}"
M = f"{{{NS_M}}}"
MAX_SYNC_CHANGES = 512  # MaxSyncChangesReturnedType: 1..512
MAX_CALENDAR_VIEW = timedelta(days=731)  # Exchange expands a CalendarView over at most two years


class SoapFault(Exception):
    """A request-level failure, served as a SOAP Fault with HTTP 500."""

    def __init__(self, code: str, message: str, body: bytes | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.body = body if body is not None else soap.fault(code, message)


@dataclass
class Ctx:
    """One request: the operation element, the selected mailbox and the server."""

    op: str
    elem: etree._Element
    server: FakeExchange
    mailbox: MailboxStore | None
    mailbox_address: str | None

    def require_mailbox(self) -> MailboxStore:
        if self.mailbox is None:  # the server answers this before dispatching
            raise SoapFault("ErrorNonExistentMailbox", "No mailbox with such guid.")
        return self.mailbox


def _local(tag: Any) -> str:
    t = str(tag)
    return t.rsplit("}", 1)[-1]


def _bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1")


def _dt(text: str | None) -> datetime:
    value = (text or "").strip()
    if len(value) == 10:
        value += "T00:00:00Z"
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


# --- shapes ------------------------------------------------------------------------------------------

_DEFAULT_ITEM_ELEMENTS = frozenset(
    {
        "Subject",
        "HasAttachments",
        "IsRead",
        "From",
        "DateTimeReceived",
        "Start",
        "End",
        "Location",
        "CalendarItemType",
        "Organizer",
        "DisplayName",
        "FileAs",
        "Status",
        "DueDate",
        "PercentComplete",
        "Owner",
        "IsComplete",
        "ItemClass",
        "Sensitivity",
        "Importance",
        "Categories",
    }
)
_ALL_ITEM_ELEMENTS = frozenset(itertools.chain.from_iterable(KIND_ORDER.values())) - {"ExtendedProperty"}
_INDEXED = {
    "contacts:EmailAddress": "EmailAddresses",
    "contacts:PhoneNumber": "PhoneNumbers",
    "contacts:ImAddress": "ImAddresses",
}


def _ext_from_uri(uri: etree._Element) -> tuple[str | None, str | None, str | None, str]:
    prop = ExtendedProp(
        property_type=uri.get("PropertyType", "String"),
        value="",
        property_set_id=uri.get("PropertySetId"),
        distinguished_set_id=uri.get("DistinguishedPropertySetId"),
        property_name=uri.get("PropertyName") if uri.get("PropertyName") is not None else uri.get("PropertyId"),
        property_tag=uri.get("PropertyTag"),
    )
    return ext_key(prop)


def parse_shape(shape_elem: etree._Element | None) -> Shape:
    if shape_elem is None:
        return Shape(frozenset())
    base = (shape_elem.findtext(f"{T}BaseShape") or "IdOnly").strip()
    elements: set[str] = set()
    if base == "Default":
        elements |= _DEFAULT_ITEM_ELEMENTS
    elif base == "AllProperties":
        elements |= _ALL_ITEM_ELEMENTS
    indexed: dict[str, set[str] | None] = {}
    ext = []
    props = shape_elem.find(f"{T}AdditionalProperties")
    if props is not None:
        for p in props:
            name = _local(p.tag)
            if name == "FieldURI":
                uri = p.get("FieldURI", "")
                elements.add(uri.split(":", 1)[-1])
            elif name == "IndexedFieldURI":
                uri = p.get("FieldURI", "")
                index = p.get("FieldIndex", "")
                if uri.startswith("contacts:PhysicalAddress:"):
                    keys = indexed.setdefault("PhysicalAddresses", set())
                    if keys is not None:
                        keys.add(f"{index}:{uri.rsplit(':', 1)[-1]}")
                elif uri in _INDEXED:
                    keys = indexed.setdefault(_INDEXED[uri], set())
                    if keys is not None:
                        keys.add(index)
            elif name == "ExtendedFieldURI":
                ext.append(_ext_from_uri(p))
    body_type = (shape_elem.findtext(f"{T}BodyType") or "Best").strip()
    shape = Shape(frozenset(elements), indexed, ext, body_type)
    if base == "AllProperties":
        for el in ("EmailAddresses", "PhoneNumbers", "PhysicalAddresses"):
            shape.indexed.setdefault(el, None)
    return shape


# --- item values (the stored spec plus what Exchange computes) ----------------------------------------

_KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "Message": {
        "Sensitivity": "Normal",
        "Importance": "Normal",
        "HasAttachments": False,
        "IsRead": False,
        "ReminderIsSet": False,
        "IsDraft": False,
        "IsSubmitted": False,
    },
    "Contact": {"Sensitivity": "Normal", "Importance": "Normal", "HasAttachments": False, "ReminderIsSet": False},
    "DistributionList": {"Sensitivity": "Normal", "Importance": "Normal", "HasAttachments": False},
    "MeetingRequest": {"Sensitivity": "Normal", "Importance": "Normal", "HasAttachments": False, "IsRead": False},
    "CalendarItem": {
        "Sensitivity": "Normal",
        "Importance": "Normal",
        "HasAttachments": False,
        "ReminderIsSet": False,
        "IsAllDayEvent": False,
        "IsCancelled": False,
        "LegacyFreeBusyStatus": "Busy",
        "CalendarItemType": "Single",
        "IsRecurring": False,
        "IsMeeting": False,
    },
    "Task": {
        "Sensitivity": "Normal",
        "Importance": "Normal",
        "HasAttachments": False,
        "ReminderIsSet": False,
        "Status": "NotStarted",
        "PercentComplete": 0.0,
        "IsComplete": False,
        "IsRecurring": False,
    },
}
for _k, _d in _KIND_DEFAULTS.items():
    _d["ItemClass"] = ITEM_CLASS[_k]  # type: ignore[index]

_CALENDAR_SERIES = frozenset({"ModifiedOccurrences", "DeletedOccurrences", "FirstOccurrence", "LastOccurrence"})


@dataclass(frozen=True)
class Occurrence:
    instance: int  # 1-based InstanceIndex
    original_start: datetime
    deleted: bool
    exception: ItemSpec | None


def occurrences(master: ItemSpec) -> list[Occurrence]:
    deleted = {d.astimezone(UTC) for d in master.deleted_occurrences}
    exceptions = {e.original_start.astimezone(UTC): e for e in master.exceptions if e.original_start}
    return [Occurrence(n, s, s in deleted, exceptions.get(s)) for n, s in enumerate(occurrence_starts(master), 1)]


def _duration(spec: ItemSpec) -> timedelta:
    start, end = spec.fields.get("Start"), spec.fields.get("End")
    return (end - start) if start is not None and end is not None else timedelta(hours=1)


def occurrence_values(master: ItemSpec, occ: Occurrence) -> dict[str, Any]:
    values = {k: v for k, v in master.fields.items() if k != "Recurrence"}
    if occ.exception is not None:
        values.update(occ.exception.fields)
        values["CalendarItemType"] = "Exception"
    else:
        values["Start"] = occ.original_start
        values["End"] = occ.original_start + _duration(master)
        values["CalendarItemType"] = "Occurrence"
    values["OriginalStart"] = occ.original_start
    values["IsRecurring"] = True
    return values


class Renderer:
    """Renders items of one mailbox for one request shape (plans cached per kind)."""

    def __init__(self, mb: MailboxStore, shape: Shape) -> None:
        self.mb = mb
        self.shape = shape
        self.plans: dict[str, tuple[str, ...]] = {}
        self.parent_ids: dict[str, RawXml] = {}
        self.shape_token = mb.render_cache.shape_token(shape.key)

    def plan(self, kind: ItemKind) -> tuple[str, ...]:
        p = self.plans.get(kind)
        if p is None:
            p = self.plans[kind] = element_plan(kind, self.shape)
        return p

    def _parent(self, folder: str) -> RawXml:
        p = self.parent_ids.get(folder)
        if p is None:
            p = self.parent_ids[folder] = RawXml(
                f'<t:ParentFolderId Id="{self.mb.folder_id(folder)}" '
                f'ChangeKey="{folder_change_key(self.mb.number, folder)}"/>'
            )
        return p

    def values(self, folder: str, index: int, spec: ItemSpec) -> dict[str, Any]:
        values = {**_KIND_DEFAULTS[spec.kind], **spec.fields, "ParentFolderId": self._parent(folder)}
        if spec.kind == "Message":
            if "DisplayTo" in self.shape.elements and spec.fields.get("ToRecipients"):
                values["DisplayTo"] = "; ".join(m.name for m in spec.fields["ToRecipients"])
            if "DisplayCc" in self.shape.elements and spec.fields.get("CcRecipients"):
                values["DisplayCc"] = "; ".join(m.name for m in spec.fields["CcRecipients"])
        elif spec.kind == "CalendarItem" and spec.fields.get("Recurrence") is not None:
            values["CalendarItemType"] = "RecurringMaster"
            values["IsRecurring"] = restrictions.master_is_recurring(spec, self.mb.address)
            if self.shape.elements & _CALENDAR_SERIES:
                self._series(folder, index, spec, values)
        elif spec.kind == "Task" and spec.fields.get("Recurrence") is not None:
            values["IsRecurring"] = True
        if "Duration" in self.shape.elements and spec.kind == "CalendarItem" and "Start" in spec.fields:
            values["Duration"] = _duration(spec)
        return values

    def _series(self, folder: str, index: int, spec: ItemSpec, values: dict[str, Any]) -> None:
        occs = occurrences(spec)
        mb = self.mb
        dur = _duration(spec)

        def info(o: Occurrence) -> tuple[str, str, datetime, datetime, datetime]:
            v = occurrence_values(spec, o) if o.exception is not None else None
            start = v["Start"] if v else o.original_start
            end = v["End"] if v else o.original_start + dur
            return (
                mb.item_id(folder, index, o.instance),
                mb.change_key(folder, index, 0, o.instance),
                start,
                end,
                o.original_start,
            )

        live = [o for o in occs if not o.deleted]
        if live:
            values["FirstOccurrence"] = info(live[0])
            rec: Recurrence = spec.fields["Recurrence"]
            if rec.end is not None or rec.occurrences is not None:
                values["LastOccurrence"] = info(live[-1])
        values["ModifiedOccurrences"] = [info(o) for o in occs if o.exception is not None and not o.deleted]
        values["DeletedOccurrences"] = [o.original_start for o in occs if o.deleted]

    def item(self, folder: str, index: int, spec: ItemSpec, version: int) -> str:
        mb = self.mb
        return render_item(
            spec.kind,
            self.values(folder, index, spec),
            self.plan(spec.kind),
            self.shape,
            mb.item_id(folder, index),
            mb.change_key(folder, index, version),
        )

    def occurrence(self, folder: str, index: int, master: ItemSpec, occ: Occurrence, version: int) -> str:
        mb = self.mb
        values = {
            **_KIND_DEFAULTS["CalendarItem"],
            **occurrence_values(master, occ),
            "ParentFolderId": self._parent(folder),
        }
        return render_item(
            "CalendarItem",
            values,
            self.plan("CalendarItem"),
            self.shape,
            mb.item_id(folder, index, occ.instance),
            mb.change_key(folder, index, version, occ.instance),
        )


# --- request item parsing (CreateItem, SetItemField) ----------------------------------------------


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
        name = _local(child.tag)
        if name.endswith("Recurrence") and name in ("DailyRecurrence", "WeeklyRecurrence", "AbsoluteMonthlyRecurrence"):
            pattern = child
        elif name in ("NoEndRecurrence", "EndDateRecurrence", "NumberedRecurrence"):
            rng = child
    if pattern is None or rng is None:
        return RawXml(_raw(elem))
    start = _dt(rng.findtext(f"{T}StartDate", "")[:10]).date()
    end_text = rng.findtext(f"{T}EndDate")
    n_text = rng.findtext(f"{T}NumberOfOccurrences")
    pname = _local(pattern.tag).removesuffix("Recurrence")
    dom = pattern.findtext(f"{T}DayOfMonth")
    return Recurrence(
        pattern=pname,  # type: ignore[arg-type]
        interval=int(pattern.findtext(f"{T}Interval") or 1),
        start=start,
        days_of_week=tuple((pattern.findtext(f"{T}DaysOfWeek") or "").split()),
        day_of_month=int(dom) if dom else None,
        end=_dt(end_text[:10]).date() if end_text else None,
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
        value = xml_bool(_bool(value))
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
    name = _local(elem.tag)
    text = elem.text
    if name in BOOL_ELEMENTS:
        return name, _bool(text)
    if name in DATETIME_ELEMENTS:
        return name, _dt(text)
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
    kind = _KINDS_BY_TAG.get(_local(elem.tag))
    if kind is None:
        raise SoapFault("ErrorInvalidRequest", f"The fake does not store {_local(elem.tag)} items.")
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


# --- folders ------------------------------------------------------------------------------------------


def _folder_target(ctx: Ctx, elem: etree._Element) -> tuple[MailboxStore, str]:
    """A DistinguishedFolderId or FolderId -> (mailbox, folder key). Raises InvalidId/LookupError."""
    name = _local(elem.tag)
    if name == "DistinguishedFolderId":
        key = elem.get("Id", "")
        mb = ctx.mailbox
        address = elem.findtext(f"{T}Mailbox/{T}EmailAddress")
        if address:
            mb = ctx.server.mailbox_for(address)
            if mb is None:
                raise LookupError("ErrorNonExistentMailbox")
        if mb is None:
            raise LookupError("ErrorNonExistentMailbox")
        if key not in FOLDER_CLASSES:
            raise LookupError("ErrorFolderNotFound")
        return mb, key
    number, key = decode_folder_id(elem.get("Id", ""))
    mb = ctx.server.mailbox_by_number(number)
    if mb is None or (ctx.mailbox is not None and mb is not ctx.mailbox):
        raise LookupError("ErrorFolderNotFound")
    return mb, key


_FOLDER_ERRORS = {
    "ErrorNonExistentMailbox": "No mailbox with such guid.",
    "ErrorFolderNotFound": "The specified folder could not be found in the store.",
    "ErrorInvalidIdMalformed": "Id is malformed.",
}


def _folder_xml(mb: MailboxStore, key: str, fields: set[str] | None) -> str:
    tag, klass, display = FOLDER_CLASSES[key]
    parts = [f'<t:{tag}><t:FolderId Id="{mb.folder_id(key)}" ChangeKey="{folder_change_key(mb.number, key)}"/>']

    def want(name: str) -> bool:
        return fields is None or name in fields

    parent = FOLDER_PARENT[key]
    if parent is not None and want("ParentFolderId"):
        parts.append(
            f'<t:ParentFolderId Id="{mb.folder_id(parent)}" ChangeKey="{folder_change_key(mb.number, parent)}"/>'
        )
    if klass and want("FolderClass"):
        parts.append(f"<t:FolderClass>{klass}</t:FolderClass>")
    if want("DisplayName"):
        parts.append(f"<t:DisplayName>{display}</t:DisplayName>")
    fs = mb.folders.get(key)
    if want("TotalCount"):
        parts.append(f"<t:TotalCount>{fs.count() if fs else 0}</t:TotalCount>")
    if want("ChildFolderCount"):
        children = sum(1 for k, p in FOLDER_PARENT.items() if p == key)
        parts.append(f"<t:ChildFolderCount>{children}</t:ChildFolderCount>")
    if tag in ("Folder", "TasksFolder") and want("UnreadCount"):
        parts.append(f"<t:UnreadCount>{fs.unread_count() if fs else 0}</t:UnreadCount>")
    parts.append(f"</t:{tag}>")
    return "".join(parts)


def _folder_fields(shape: etree._Element | None) -> set[str] | None:
    if shape is None:
        return set()
    base = (shape.findtext(f"{T}BaseShape") or "IdOnly").strip()
    if base == "AllProperties":
        return None
    fields = {"DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"} if base == "Default" else set()
    for uri in shape.iterfind(f"{T}AdditionalProperties/{T}FieldURI"):
        fields.add(uri.get("FieldURI", "").split(":", 1)[-1])
    return fields


def get_folder(ctx: Ctx) -> str:
    fields = _folder_fields(ctx.elem.find(f"{M}FolderShape"))
    ids = ctx.elem.find(f"{M}FolderIds")
    messages = []
    for target in ids if ids is not None else []:
        try:
            mb, key = _folder_target(ctx, target)
        except InvalidId:
            messages.append(
                soap.error_message("GetFolder", "ErrorInvalidIdMalformed", _FOLDER_ERRORS["ErrorInvalidIdMalformed"])
            )
            continue
        except LookupError as exc:
            code = str(exc.args[0])
            messages.append(soap.error_message("GetFolder", code, _FOLDER_ERRORS[code]))
            continue
        messages.append(soap.success("GetFolder", f"<m:Folders>{_folder_xml(mb, key, fields)}</m:Folders>"))
    return soap.response("GetFolder", messages)


def sync_folder_hierarchy(ctx: Ctx) -> str:
    mb = ctx.require_mailbox()
    fields = _folder_fields(ctx.elem.find(f"{M}FolderShape"))
    target = ctx.elem.find(f"{M}SyncFolderId")
    key = "root"
    if target is not None and len(target):
        try:
            mb, key = _folder_target(ctx, target[0])
        except (InvalidId, LookupError):
            return soap.response(
                "SyncFolderHierarchy",
                soap.error_message("SyncFolderHierarchy", "ErrorFolderNotFound", _FOLDER_ERRORS["ErrorFolderNotFound"]),
            )
    state = (ctx.elem.findtext(f"{M}SyncState") or "").strip()
    codec = ctx.server.sync_codec
    invalid = ctx.server.faults.take({"invalid_sync_state"}, ctx.op, ctx.mailbox_address) is not None
    seen = 0
    if state:
        try:
            seen, _gen = codec.decode(state, mb.number, f"h:{key}")
        except InvalidSyncState:
            invalid = True
    if invalid:
        return soap.response(
            "SyncFolderHierarchy",
            soap.error_message(
                "SyncFolderHierarchy",
                "ErrorInvalidSyncStateData",
                "Synchronization state data is corrupt or otherwise invalid.",
            ),
        )
    changes = []
    if not seen:

        def descendants(k: str) -> Iterator[str]:
            for child in FOLDER_ORDER:
                if FOLDER_PARENT[child] == k:
                    yield child
                    yield from descendants(child)

        changes = [f"<t:Create>{_folder_xml(mb, k, fields)}</t:Create>" for k in descendants(key)]
    new_state = codec.encode(mb.number, f"h:{key}", 1, 0)
    return soap.response(
        "SyncFolderHierarchy",
        soap.success(
            "SyncFolderHierarchy",
            f"<m:SyncState>{new_state}</m:SyncState><m:IncludesLastFolderInRange>true</m:IncludesLastFolderInRange>"
            f"<m:Changes>{''.join(changes)}</m:Changes>",
        ),
    )


def find_folder(ctx: Ctx) -> str:
    fields = _folder_fields(ctx.elem.find(f"{M}FolderShape"))
    deep = ctx.elem.get("Traversal", "Shallow") == "Deep"
    view = ctx.elem.find(f"{M}IndexedPageFolderView")
    max_entries = int(view.get("MaxEntriesReturned", "1000") or 1000) if view is not None else 1000
    offset = int(view.get("Offset", "0") or 0) if view is not None else 0
    messages = []
    parents = ctx.elem.find(f"{M}ParentFolderIds")
    for target in parents if parents is not None else []:
        try:
            mb, key = _folder_target(ctx, target)
        except InvalidId:
            messages.append(soap.error_message("FindFolder", "ErrorInvalidIdMalformed", "Id is malformed."))
            continue
        except LookupError as exc:
            code = str(exc.args[0])
            messages.append(soap.error_message("FindFolder", code, _FOLDER_ERRORS[code]))
            continue
        found = [k for k in FOLDER_ORDER if FOLDER_PARENT[k] == key]
        if deep:
            found = [k for k in FOLDER_ORDER if _is_below(k, key)]
        page = found[offset : offset + max_entries]
        folders = "".join(_folder_xml(mb, k, fields) for k in page)
        end = offset + len(page)
        messages.append(
            soap.success(
                "FindFolder",
                f'<m:RootFolder IndexedPagingOffset="{end}" TotalItemsInView="{len(found)}" '
                f'IncludesLastItemInRange="{xml_bool(end >= len(found))}">'
                f"<t:Folders>{folders}</t:Folders></m:RootFolder>",
            )
        )
    return soap.response("FindFolder", messages)


def _is_below(key: str, ancestor: str) -> bool:
    parent = FOLDER_PARENT[key]
    while parent is not None:
        if parent == ancestor:
            return True
        parent = FOLDER_PARENT[parent]
    return False


# --- SyncFolderItems ------------------------------------------------------------------------------------


def _sync_error(code: str, text: str) -> str:
    return soap.response("SyncFolderItems", soap.error_message("SyncFolderItems", code, text))


def sync_folder_items(ctx: Ctx) -> str:
    mb = ctx.require_mailbox()
    elem = ctx.elem
    shape = parse_shape(elem.find(f"{M}ItemShape"))
    target = elem.find(f"{M}SyncFolderId")
    try:
        if target is None or not len(target):
            raise LookupError("ErrorFolderNotFound")
        mb, key = _folder_target(ctx, target[0])
    except InvalidId:
        return _sync_error("ErrorInvalidIdMalformed", _FOLDER_ERRORS["ErrorInvalidIdMalformed"])
    except LookupError as exc:
        code = str(exc.args[0])
        return _sync_error(code, _FOLDER_ERRORS[code])
    fs = mb.folders.get(key)
    if fs is None:
        return _sync_error("ErrorSyncFolderNotFound", "The folder doesn't support synchronization of items.")
    max_text = (elem.findtext(f"{M}MaxChangesReturned") or "").strip()
    try:
        max_changes = int(max_text)
    except ValueError:
        max_changes = 0
    if not 1 <= max_changes <= MAX_SYNC_CHANGES:
        # MaxSyncChangesReturnedType is xs:int 1..512: Exchange rejects the request at schema validation
        raise SoapFault(
            "ErrorSchemaValidation",
            "",
            soap.schema_validation_fault(
                f"The 'MaxChangesReturned' element is invalid - The value '{max_text}' is invalid according to "
                "its datatype 'MaxSyncChangesReturnedType'",
                1,
                1,
            ),
        )
    ignore: set[int] = set()
    for iid in elem.iterfind(f"{M}Ignore/{T}ItemId"):
        try:
            ref = decode_item_id(iid.get("Id", ""))
        except InvalidId:
            continue
        if ref.mailbox == mb.number and ref.folder == key:
            ignore.add(ref.index)
    state = (elem.findtext(f"{M}SyncState") or "").strip()
    codec = ctx.server.sync_codec
    if ctx.server.faults.take({"invalid_sync_state"}, ctx.op, ctx.mailbox_address) is not None:
        return _sync_error("ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid.")
    with mb.lock:
        watermark = 0
        if state:
            try:
                watermark, gen = codec.decode(state, mb.number, key)
            except InvalidSyncState:
                gen = -1
            # a state from another generation, or from beyond this store's history (a fake restarted
            # without the edits the state had seen), cannot be continued
            if gen != fs.generation or watermark > fs.counter:
                return _sync_error(
                    "ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid."
                )
        page = fs.sync(watermark, max_changes, ignore)
        generation = fs.generation
    renderer = Renderer(mb, shape)
    out = []
    for ch in page.changes:
        out.append(_change_xml(renderer, mb, key, ch))
    new_state = codec.encode(mb.number, key, page.watermark, generation)
    return soap.response(
        "SyncFolderItems",
        soap.success(
            "SyncFolderItems",
            f"<m:SyncState>{new_state}</m:SyncState>"
            f"<m:IncludesLastItemInRange>{xml_bool(page.includes_last)}</m:IncludesLastItemInRange>"
            f"<m:Changes>{''.join(out)}</m:Changes>",
        ),
    )


def _change_xml(renderer: Renderer, mb: MailboxStore, key: str, ch: Change) -> str:
    if ch.spec is None and ch.type == "Create":  # an unmodified base item: cached, or read from the base
        cache = mb.render_cache
        ckey = (key, ch.index, renderer.shape_token)
        xml = cache.get(ckey)
        if xml is None:
            xml = renderer.item(key, ch.index, mb.folders[key].base[ch.index], 0)
            cache.put(ckey, xml)
        return f"<t:Create>{xml}</t:Create>"
    if ch.type in ("Create", "Update"):
        assert ch.spec is not None
        return f"<t:{ch.type}>{renderer.item(key, ch.index, ch.spec, ch.version)}</t:{ch.type}>"
    item_id = f'<t:ItemId Id="{mb.item_id(key, ch.index)}" ChangeKey="{mb.change_key(key, ch.index, ch.version)}"/>'
    if ch.type == "Delete":
        return f"<t:Delete>{item_id}</t:Delete>"
    assert ch.spec is not None
    is_read = bool(ch.spec.fields.get("IsRead", False))
    return f"<t:ReadFlagChange>{item_id}<t:IsRead>{xml_bool(is_read)}</t:IsRead></t:ReadFlagChange>"


# --- GetItem ----------------------------------------------------------------------------------------------


class _NotFound(Exception):
    def __init__(
        self, code: str = "ErrorItemNotFound", text: str = "The specified object was not found in the store."
    ) -> None:
        super().__init__(code)
        self.code = code
        self.text = text


@dataclass
class Located:
    fs: FolderStore
    ref: ItemRef
    spec: ItemSpec
    version: int
    occurrence: Occurrence | None = None


def _locate_ref(mb: MailboxStore, ref: ItemRef) -> Located:
    if ref.mailbox != mb.number:
        raise _NotFound()
    fs = mb.folders[ref.folder]
    cur = fs.get(ref.index)
    if cur is None:
        raise _NotFound()
    spec, version = cur
    if ref.instance:
        return _locate_occurrence(fs, ItemRef(ref.mailbox, ref.folder, ref.index), spec, version, ref.instance)
    return Located(fs, ref, spec, version)


#: Expanded series by (id, version, exceptions, deletions) of the master: a GetItem of a page's exception
#: ids names the same few series again and again, and expanding a long series per id costs the fake
#: more than the client it serves (real Exchange looks an occurrence up by index).
_OCCURRENCES: dict[tuple[int, int, int, int], tuple[ItemSpec, list[Occurrence]]] = {}


def _cached_occurrences(spec: ItemSpec, version: int) -> list[Occurrence]:
    key = (id(spec), version, len(spec.exceptions), len(spec.deleted_occurrences))
    hit = _OCCURRENCES.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    occs = occurrences(spec)
    if len(_OCCURRENCES) >= 4096:
        _OCCURRENCES.clear()
    _OCCURRENCES[key] = (spec, occs)
    return occs


def _locate_occurrence(fs: FolderStore, ref: ItemRef, spec: ItemSpec, version: int, instance: int) -> Located:
    if spec.kind != "CalendarItem" or spec.fields.get("Recurrence") is None:
        raise _NotFound(
            "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Occurrence index is out of recurrence range."
        )
    occs = _cached_occurrences(spec, version)
    if not 1 <= instance <= len(occs):
        raise _NotFound(
            "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Occurrence index is out of recurrence range."
        )
    occ = occs[instance - 1]
    if occ.deleted:
        raise _NotFound(
            "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
            "Occurrence with this index was previously deleted from the recurrence.",
        )
    return Located(fs, ItemRef(ref.mailbox, ref.folder, ref.index, instance), spec, version, occ)


def locate(mb: MailboxStore, id_elem: etree._Element) -> Located:
    """Resolve an ItemId / OccurrenceItemId / RecurringMasterItemId element."""
    name = _local(id_elem.tag)
    try:
        if name == "ItemId":
            return _locate_ref(mb, decode_item_id(id_elem.get("Id", "")))
        if name == "OccurrenceItemId":
            master = _locate_ref(mb, decode_item_id(id_elem.get("RecurringMasterId", "")))
            if master.occurrence is not None:
                raise _NotFound()
            instance = int(id_elem.get("InstanceIndex", "0"))
            return _locate_occurrence(master.fs, master.ref, master.spec, master.version, instance)
        if name == "RecurringMasterItemId":
            ref = decode_item_id(id_elem.get("OccurrenceId", ""))
            found = _locate_ref(mb, ItemRef(ref.mailbox, ref.folder, ref.index))
            if found.spec.fields.get("Recurrence") is None:
                raise _NotFound("ErrorItemNotFound", "The specified object was not found in the store.")
            return found
    except InvalidId:
        raise _NotFound("ErrorInvalidIdMalformed", "Id is malformed.") from None
    except ValueError:
        raise _NotFound("ErrorInvalidIdMalformed", "Id is malformed.") from None
    raise _NotFound("ErrorInvalidIdMalformed", "Id is malformed.")


def _render_located(r: Renderer, loc: Located) -> str:
    if loc.occurrence is not None:
        return r.occurrence(loc.ref.folder, loc.ref.index, loc.spec, loc.occurrence, loc.version)
    return r.item(loc.ref.folder, loc.ref.index, loc.spec, loc.version)


def get_item(ctx: Ctx) -> str:
    mb = ctx.require_mailbox()
    r = Renderer(mb, parse_shape(ctx.elem.find(f"{M}ItemShape")))
    messages = []
    ids = ctx.elem.find(f"{M}ItemIds")
    for id_elem in ids if ids is not None else []:
        try:
            loc = locate(mb, id_elem)
        except _NotFound as nf:
            messages.append(soap.error_message("GetItem", nf.code, nf.text))
            continue
        messages.append(soap.success("GetItem", f"<m:Items>{_render_located(r, loc)}</m:Items>"))
    return soap.response("GetItem", messages)


# --- FindItem -----------------------------------------------------------------------------------------------


def find_item(ctx: Ctx) -> str:
    mb = ctx.require_mailbox()
    elem = ctx.elem
    r = Renderer(mb, parse_shape(elem.find(f"{M}ItemShape")))
    parents = elem.find(f"{M}ParentFolderIds")
    if parents is None or not len(parents):
        raise SoapFault("ErrorInvalidRequest", "ParentFolderIds is required.")
    try:
        mb2, key = _folder_target(ctx, parents[0])
    except InvalidId:
        return soap.response("FindItem", soap.error_message("FindItem", "ErrorInvalidIdMalformed", "Id is malformed."))
    except LookupError as exc:
        code = str(exc.args[0])
        return soap.response("FindItem", soap.error_message("FindItem", code, _FOLDER_ERRORS[code]))
    fs = mb2.folders.get(key)
    restriction = elem.find(f"{M}Restriction")
    if restriction is not None and not len(restriction):
        restriction = None
    cal_view = elem.find(f"{M}CalendarView")
    paged = elem.find(f"{M}IndexedPageItemView")
    query = elem.find(f"{M}QueryString")
    for unsupported in (
        "GroupBy",
        "DistinguishedGroupBy",
        "ContactsView",
        "FractionalPageItemView",
        "SeekToConditionPageItemView",
    ):
        if elem.find(f"{M}{unsupported}") is not None:
            return soap.response(
                "FindItem",
                soap.error_message(
                    "FindItem", "ErrorInvalidOperation", f"The fake Exchange does not support FindItem {unsupported}."
                ),
            )
    try:
        if restriction is not None:
            restrictions.validate(restriction[0])
        orders = restrictions.sort_orders(elem.find(f"{M}SortOrder"))
        aqs = restrictions.parse_aqs(query.text or "") if query is not None else None
    except restrictions.QueryRefused as refused:
        return soap.response("FindItem", soap.error_message("FindItem", refused.code, refused.message))

    def candidates() -> Iterator[tuple[int, ItemSpec, int]]:
        if fs is None:
            return
        for i in fs.live_indices():
            cur = fs.get(i)
            if cur is None:
                continue
            if restriction is not None or aqs is not None:
                values = restrictions.item_values(cur[0], _KIND_DEFAULTS[cur[0].kind], mb2.address)
                if restriction is not None and not restrictions.matches(restriction[0], values):
                    continue
                if aqs is not None and not restrictions.aqs_matches(aqs, values):
                    continue
            yield i, cur[0], cur[1]

    if cal_view is not None and orders:
        return soap.response(
            "FindItem",
            soap.error_message(
                "FindItem", "ErrorUnsupportedPathForSortGroup", "A CalendarView comes sorted by start; no SortOrder."
            ),
        )
    if cal_view is not None:
        start, end = _dt(cal_view.get("StartDate")), _dt(cal_view.get("EndDate"))
        if end < start:
            return soap.response(
                "FindItem",
                soap.error_message(
                    "FindItem", "ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate"
                ),
            )
        if end - start > MAX_CALENDAR_VIEW:
            return soap.response(
                "FindItem",
                soap.error_message("FindItem", "ErrorCalendarViewRangeTooBig", "The calendar view range is too big."),
            )
        max_entries = int(cal_view.get("MaxEntriesReturned", "0") or 0)
        hits: list[tuple[datetime, str]] = []
        for i, spec, version in candidates():
            if spec.kind != "CalendarItem":
                continue
            if spec.fields.get("Recurrence") is None:
                s, e = spec.fields.get("Start"), spec.fields.get("End")
                if s is not None and e is not None and s < end and e > start:
                    hits.append((s, r.item(key, i, spec, version)))
                continue
            for occ in occurrences(spec):
                if occ.deleted:
                    continue
                v = occurrence_values(spec, occ)
                if v["Start"] < end and v["End"] > start:
                    hits.append((v["Start"], r.occurrence(key, i, spec, occ, version)))
        hits.sort(key=lambda h: h[0])
        total = len(hits)
        shown = hits[:max_entries] if max_entries else hits  # a CalendarView cannot page: the rest is cut off
        items = "".join(h[1] for h in shown)
        return soap.response(
            "FindItem",
            soap.success(
                "FindItem",
                f'<m:RootFolder TotalItemsInView="{total}" IncludesLastItemInRange="{xml_bool(len(shown) == total)}">'
                f"<t:Items>{items}</t:Items></m:RootFolder>",
            ),
        )
    max_entries = int(paged.get("MaxEntriesReturned", "100") or 100) if paged is not None else 1000
    offset = int(paged.get("Offset", "0") or 0) if paged is not None else 0
    from_end = paged is not None and paged.get("BasePoint", "Beginning") == "End"
    filtered = restriction is not None or aqs is not None or orders
    all_hits = list(candidates()) if (filtered or from_end) else None
    if all_hits is not None:
        if orders:
            try:
                all_hits = restrictions.sort(
                    all_hits, orders, lambda h: restrictions.item_values(h[1], _KIND_DEFAULTS[h[1].kind], mb2.address)
                )
            except restrictions.QueryRefused as refused:
                return soap.response("FindItem", soap.error_message("FindItem", refused.code, refused.message))
        total = len(all_hits)
        seq = all_hits[::-1] if from_end else all_hits
        page = seq[offset : offset + max_entries]
    else:
        total = fs.count() if fs is not None else 0
        page = []
        if fs is not None:  # page by index: only the items on the page are read from the lazy base
            for i in itertools.islice(fs.live_indices(), offset, offset + max_entries):
                cur = fs.get(i)
                if cur is not None:
                    page.append((i, cur[0], cur[1]))
    items = "".join(r.item(key, i, spec, version) for i, spec, version in page)
    next_offset = offset + len(page)
    last = next_offset >= total
    return soap.response(
        "FindItem",
        soap.success(
            "FindItem",
            f'<m:RootFolder IndexedPagingOffset="{next_offset}" TotalItemsInView="{total}" '
            f'IncludesLastItemInRange="{xml_bool(last)}"><t:Items>{items}</t:Items></m:RootFolder>',
        ),
    )


# --- writes ------------------------------------------------------------------------------------------------


def _item_id_xml(tag: str, item_id: str, ck: str) -> str:
    return f'<t:{tag}><t:ItemId Id="{item_id}" ChangeKey="{ck}"/></t:{tag}>'


def create_item(ctx: Ctx) -> str:
    mb = ctx.require_mailbox()
    elem = ctx.elem
    folder_key: str | None = None
    saved = elem.find(f"{M}SavedItemFolderId")
    messages = []
    items = elem.find(f"{M}Items")
    children = [c for c in (items if items is not None else []) if isinstance(c.tag, str)]
    if saved is not None and len(saved):
        try:
            mb2, folder_key = _folder_target(ctx, saved[0])
        except (InvalidId, LookupError):
            return soap.response(
                "CreateItem",
                [
                    soap.error_message("CreateItem", "ErrorFolderNotFound", _FOLDER_ERRORS["ErrorFolderNotFound"])
                    for _ in children
                ],
            )
        mb = mb2
    for child in children:
        spec = parse_item(child)
        # Exchange saves a message created without SavedItemFolderId in Drafts (MessageDisposition SaveOnly)
        key = (
            folder_key
            or {"Message": "drafts", "Contact": "contacts", "CalendarItem": "calendar", "Task": "tasks"}[spec.kind]
        )
        if key not in MAILBOX_FOLDER_KINDS or MAILBOX_FOLDER_KINDS[key] not in (spec.kind, None):
            messages.append(
                soap.error_message(
                    "CreateItem",
                    "ErrorCannotCreateContactInNonContactFolder"
                    if spec.kind == "Contact"
                    else "ErrorInvalidItemForOperationCreateItem",
                    f"A {spec.kind} cannot be created in folder {key}.",
                )
            )
            continue
        stamp_created(spec, mb.address.rpartition("@")[2])
        if spec.kind == "Task":
            if "PercentComplete" in spec.fields:
                task_rules(spec.fields, "PercentComplete")
            if "Status" in spec.fields:
                task_rules(spec.fields, "Status")
        if spec.kind == "CalendarItem":
            spec.fields.setdefault("UID", f"{mb.number}-{datetime.now(UTC).timestamp()}-{len(messages)}")
        item_id = mb.create(key, spec)
        ctx.server.stats.write(ctx.mailbox_address, "create")
        ck = mb.current_change_key(item_id) or ""
        messages.append(
            soap.success(
                "CreateItem",
                f"<m:Items>{_item_id_xml(_local(child.tag), item_id, ck)}</m:Items>",
            )
        )
    return soap.response("CreateItem", messages)


def _apply_set(fields: dict[str, Any], path: etree._Element, item_elem: etree._Element | None, append: bool) -> None:
    pname = _local(path.tag)
    if item_elem is None or not len(item_elem):
        raise SoapFault("ErrorSchemaValidation", "SetItemField without an item element")
    name, value = parse_field(item_elem[0])
    if pname == "ExtendedFieldURI":
        new = value[0]
        rest = tuple(p for p in fields.get("ExtendedProperty", ()) if ext_key(p) != ext_key(new))
        fields["ExtendedProperty"] = (*rest, new)
        return
    if pname == "IndexedFieldURI" and isinstance(value, dict):
        merged = dict(fields.get(name) or {})
        uri = path.get("FieldURI", "")
        if name == "PhysicalAddresses" and uri.startswith("contacts:PhysicalAddress:"):
            index = path.get("FieldIndex", "Business")
            old = merged.get(index) or PhysicalAddress()
            new_addr = value.get(index) or PhysicalAddress()
            attr = {
                "Street": "street",
                "City": "city",
                "State": "state",
                "CountryOrRegion": "country",
                "PostalCode": "postal_code",
            }[uri.rsplit(":", 1)[-1]]
            merged[index] = replace(old, **{attr: getattr(new_addr, attr)})
        else:
            merged.update(value)
        fields[name] = merged
        return
    if append and name in fields:
        old = fields[name]
        if isinstance(old, tuple) and isinstance(value, tuple):
            value = (*old, *value)
        elif isinstance(old, str) and isinstance(value, str):
            value = old + value
    fields[name] = value


def task_rules(fields: dict[str, Any], changed: str) -> None:
    """Keep Status, PercentComplete, IsComplete and CompleteDate consistent, as the Exchange store does."""
    if changed == "Status":
        status = fields.get("Status")
        if status == "Completed":
            fields["PercentComplete"] = 100.0
            fields["IsComplete"] = True
            fields.setdefault("CompleteDate", datetime.now(UTC).replace(microsecond=0))
        else:
            fields["IsComplete"] = False
            fields.pop("CompleteDate", None)
            if status == "NotStarted" or float(fields.get("PercentComplete") or 0) >= 100:
                fields["PercentComplete"] = 0.0
    elif changed == "PercentComplete":
        pc = float(fields.get("PercentComplete") or 0)
        if pc >= 100:
            fields["Status"] = "Completed"
            fields["IsComplete"] = True
            fields.setdefault("CompleteDate", datetime.now(UTC).replace(microsecond=0))
        else:
            fields["IsComplete"] = False
            fields.pop("CompleteDate", None)
            if pc <= 0:
                fields["Status"] = "NotStarted" if fields.get("Status") in (None, "Completed") else fields["Status"]
            elif fields.get("Status") in (None, "NotStarted", "Completed"):
                fields["Status"] = "InProgress"


def _apply_delete(fields: dict[str, Any], path: etree._Element) -> None:
    pname = _local(path.tag)
    if pname == "FieldURI":
        fields.pop(path.get("FieldURI", "").split(":", 1)[-1], None)
    elif pname == "ExtendedFieldURI":
        key = _ext_from_uri(path)
        props = tuple(p for p in fields.get("ExtendedProperty", ()) if ext_key(p) != key)
        if props:
            fields["ExtendedProperty"] = props
        else:
            fields.pop("ExtendedProperty", None)
    elif pname == "IndexedFieldURI":
        uri, index = path.get("FieldURI", ""), path.get("FieldIndex", "")
        if uri.startswith("contacts:PhysicalAddress:"):
            addrs = dict(fields.get("PhysicalAddresses") or {})
            if index in addrs:
                attr = {
                    "Street": "street",
                    "City": "city",
                    "State": "state",
                    "CountryOrRegion": "country",
                    "PostalCode": "postal_code",
                }[uri.rsplit(":", 1)[-1]]
                addr = replace(addrs[index], **{attr: ""})
                if any((addr.street, addr.city, addr.state, addr.country, addr.postal_code)):
                    addrs[index] = addr
                else:
                    del addrs[index]
            fields["PhysicalAddresses"] = addrs
        elif uri in _INDEXED:
            d = dict(fields.get(_INDEXED[uri]) or {})
            d.pop(index, None)
            fields[_INDEXED[uri]] = d


def update_item(ctx: Ctx) -> str:
    mb = ctx.require_mailbox()
    elem = ctx.elem
    resolution = elem.get("ConflictResolution", "AutoResolve")
    messages = []
    changes = elem.find(f"{M}ItemChanges")
    for change in changes if changes is not None else []:
        id_elem = next(
            (c for c in change if _local(c.tag) in ("ItemId", "OccurrenceItemId", "RecurringMasterItemId")), None
        )
        if id_elem is None:
            raise SoapFault("ErrorSchemaValidation", "ItemChange without an id")
        with mb.lock:
            try:
                loc = locate(mb, id_elem)
            except _NotFound as nf:
                messages.append(soap.error_message("UpdateItem", nf.code, nf.text))
                continue
            current_ck = mb.change_key(loc.ref.folder, loc.ref.index, loc.version, loc.ref.instance)
            sent_ck = id_elem.get("ChangeKey")
            forced = ctx.server.faults.take({"conflict"}, ctx.op, ctx.mailbox_address) is not None
            stale = sent_ck is not None and sent_ck != current_ck
            if (stale or forced) and resolution != "AlwaysOverwrite":
                messages.append(
                    soap.error_message(
                        "UpdateItem",
                        "ErrorIrresolvableConflict",
                        "An update failed because of an irresolvable conflict.",
                    )
                )
                continue
            occ = loc.occurrence
            if occ is not None:  # modifying one occurrence makes (or changes) an exception of the series
                if occ.exception is not None:
                    fields = dict(occ.exception.fields)
                else:
                    fields = {"Start": occ.original_start, "End": occ.original_start + _duration(loc.spec)}
            else:
                fields = dict(loc.spec.fields)
            touched: set[str] = set()
            updates = change.find(f"{T}Updates")
            for upd in updates if updates is not None else []:
                uname = _local(upd.tag)
                path = upd[0]
                if uname == "DeleteItemField":
                    _apply_delete(fields, path)
                    touched.add(_local(path.tag) + path.get("FieldURI", ""))
                else:
                    item_elem = upd[1] if len(upd) > 1 else None
                    _apply_set(fields, path, item_elem, append=uname == "AppendToItemField")
                    if loc.spec.kind == "Task" and path.get("FieldURI") in ("task:Status", "task:PercentComplete"):
                        task_rules(fields, path.get("FieldURI", "").split(":")[1])
                    touched.add(path.get("FieldURI", "") if _local(path.tag) == "FieldURI" else _local(path.tag))
            fields["LastModifiedTime"] = datetime.now(UTC).replace(microsecond=0)
            if occ is not None:
                fields["CalendarItemType"] = "Exception"
                exc = ItemSpec("CalendarItem", fields, original_start=occ.original_start)
                others = tuple(e for e in loc.spec.exceptions if e.original_start != occ.original_start)
                master = replace(loc.spec, exceptions=(*others, exc))
                version = loc.fs.replace(loc.ref.index, master)
            else:
                master = replace(loc.spec, fields=fields)
                version = loc.fs.replace(loc.ref.index, master, read_flag_only=touched == {"message:IsRead"})
        ctx.server.stats.write(ctx.mailbox_address, "update")
        ref = loc.ref
        new_ck = mb.change_key(ref.folder, ref.index, version, ref.instance)
        tag = "Contact" if loc.spec.kind == "Contact" else loc.spec.kind
        messages.append(
            soap.success(
                "UpdateItem",
                f"<m:Items>{_item_id_xml(tag, mb.item_id(ref.folder, ref.index, ref.instance), new_ck)}</m:Items>"
                "<m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>",
            )
        )
    return soap.response("UpdateItem", messages)


def delete_item(ctx: Ctx) -> str:
    mb = ctx.require_mailbox()
    messages = []
    ids = ctx.elem.find(f"{M}ItemIds")
    for id_elem in ids if ids is not None else []:
        with mb.lock:
            try:
                loc = locate(mb, id_elem)
            except _NotFound as nf:
                messages.append(soap.error_message("DeleteItem", nf.code, nf.text))
                continue
            if loc.occurrence is not None:  # deleting one occurrence changes the master
                occ = loc.occurrence
                spec = replace(
                    loc.spec,
                    deleted_occurrences=(*loc.spec.deleted_occurrences, occ.original_start),
                    exceptions=tuple(e for e in loc.spec.exceptions if e.original_start != occ.original_start),
                )
                loc.fs.replace(loc.ref.index, spec)
            else:
                loc.fs.delete(loc.ref.index)
        ctx.server.stats.write(ctx.mailbox_address, "delete")
        messages.append(soap.success("DeleteItem"))
    return soap.response("DeleteItem", messages)


# --- ResolveNames ---------------------------------------------------------------------------------------


def _name_matches(query: str, name: str, email: str) -> bool:
    q = query.lower()
    if email.lower().startswith(q) or name.lower().startswith(q):
        return True
    return any(part.startswith(q) for part in name.lower().split())


def resolve_names(ctx: Ctx) -> str:
    query = (ctx.elem.findtext(f"{M}UnresolvedEntry") or "").strip()
    if query.lower().startswith("smtp:"):
        query = query[5:]
    full = _bool(ctx.elem.get("ReturnFullContactData", "false"))
    scope = ctx.elem.get("SearchScope", "ActiveDirectoryContacts")
    results: list[str] = []
    if query and scope != "Contacts":
        for owner in ctx.server.company.mailboxes():
            if _name_matches(query, owner.name, owner.email):
                mb = Mailbox(owner.name, owner.email, "SMTP", "Mailbox")
                contact = f"<t:Contact><t:DisplayName>{esc(owner.name)}</t:DisplayName></t:Contact>" if full else ""
                results.append(f"<t:Resolution>{mailbox_xml(mb)}{contact}</t:Resolution>")
    mbx = ctx.mailbox
    if query and mbx is not None and scope != "ActiveDirectory":
        fs = mbx.folders["contacts"]
        for i in itertools.islice(fs.live_indices(), 20000):
            cur = fs.get(i)
            if cur is None:
                continue
            f = cur[0].fields
            name = str(f.get("DisplayName") or "")
            emails = [e for e in (f.get("EmailAddresses") or {}).values() if e]
            email = next((e for e in emails if _name_matches(query, name, e)), emails[0] if emails else "")
            if not _name_matches(query, name, email):
                continue
            item_id = mbx.item_id("contacts", i)
            results.append(
                "<t:Resolution><t:Mailbox>"
                f"<t:Name>{esc(name)}</t:Name><t:EmailAddress>{esc(email)}</t:EmailAddress>"
                "<t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Contact</t:MailboxType>"
                f'<t:ItemId Id="{esc_attr(item_id)}" ChangeKey="{mbx.change_key("contacts", i, cur[1])}"/>'
                "</t:Mailbox>"
                + (f"<t:Contact><t:DisplayName>{esc(name)}</t:DisplayName></t:Contact>" if full else "")
                + "</t:Resolution>"
            )
            if len(results) > 100:
                break
    if not results:
        return soap.response(
            "ResolveNames", soap.error_message("ResolveNames", "ErrorNameResolutionNoResults", "No results were found.")
        )
    total = len(results)
    shown = results[:100]
    rs = (
        f'<m:ResolutionSet TotalItemsInView="{total}" IncludesLastItemInRange="{xml_bool(total <= 100)}">'
        f"{''.join(shown)}</m:ResolutionSet>"
    )
    if total == 1:
        return soap.response("ResolveNames", soap.success("ResolveNames", rs))
    return soap.response(
        "ResolveNames",
        soap.error(
            "ResolveNames",
            "ErrorNameResolutionMultipleResults",
            "Multiple results were found.",
            rs,
            response_class="Warning",
        ),
    )


# --- user configurations (Outlook's CategoryList and friends) ---------------------------------------

_NOT_FOUND = "The specified object was not found in the store."


def _user_config_target(ctx: Ctx, name_elem: etree._Element | None) -> tuple[MailboxStore, str, str]:
    """A UserConfigurationName -> (mailbox, folder key, name); LookupError carries the response code."""
    if name_elem is None or not name_elem.get("Name"):
        raise SoapFault("ErrorSchemaValidation", "UserConfigurationName is required.")
    folder = next((c for c in name_elem if isinstance(c.tag, str)), None)
    if folder is None or _local(folder.tag) not in ("FolderId", "DistinguishedFolderId"):
        raise LookupError("ErrorFolderNotFound")
    try:
        mb, key = _folder_target(ctx, folder)
    except InvalidId as exc:
        raise LookupError("ErrorInvalidIdMalformed") from exc
    return mb, key, name_elem.get("Name", "")


def _user_config_error(op: str, exc: LookupError) -> str:
    code = str(exc.args[0])
    return soap.error(op, code, _FOLDER_ERRORS.get(code, _NOT_FOUND))


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def get_user_configuration(ctx: Ctx) -> str:
    op = "GetUserConfiguration"
    try:
        mb, key, name = _user_config_target(ctx, ctx.elem.find(f"{M}UserConfigurationName"))
    except LookupError as exc:
        return soap.response(op, _user_config_error(op, exc))
    config = ctx.server.user_configs.get(mb.number, key, name)
    if config is None:
        return soap.response(op, soap.error(op, "ErrorItemNotFound", _NOT_FOUND))
    wanted = set((ctx.elem.findtext(f"{M}UserConfigurationProperties") or "").split())
    everything = "All" in wanted
    item_id = _b64encode(f"UCfg:{mb.number}:{key}:{name}".encode())
    change_key = _b64encode(f"UCck:{mb.number}:{key}:{name}:{config.version}".encode())
    parts = [
        f'<m:UserConfiguration><t:UserConfigurationName Name="{esc_attr(name)}">'
        f'<t:FolderId Id="{mb.folder_id(key)}" ChangeKey="{folder_change_key(mb.number, key)}"/>'
        "</t:UserConfigurationName>"
    ]
    if everything or "Id" in wanted:
        parts.append(f'<t:ItemId Id="{item_id}" ChangeKey="{change_key}"/>')
    if (everything or "Dictionary" in wanted) and config.dictionary_xml is not None:
        parts.append(config.dictionary_xml)
    if (everything or "XmlData" in wanted) and config.xml_data is not None:
        parts.append(f"<t:XmlData>{_b64encode(config.xml_data)}</t:XmlData>")
    if (everything or "BinaryData" in wanted) and config.binary_data is not None:
        parts.append(f"<t:BinaryData>{_b64encode(config.binary_data)}</t:BinaryData>")
    parts.append("</m:UserConfiguration>")
    return soap.response(op, soap.success(op, "".join(parts)))


def _user_config_parts(elem: etree._Element) -> dict[str, Any]:
    """The parts a UserConfiguration element carries (absent parts are left out of the dict)."""
    parts: dict[str, Any] = {}
    dictionary = elem.find(f"{T}Dictionary")
    if dictionary is not None:
        parts["dictionary_xml"] = etree.tostring(dictionary, encoding="unicode")
    for tag, attr in (("XmlData", "xml_data"), ("BinaryData", "binary_data")):
        text = elem.findtext(f"{T}{tag}")
        if text is not None:
            parts[attr] = base64.b64decode(text)
    return parts


def _write_user_configuration(ctx: Ctx, create: bool) -> str:
    op = "CreateUserConfiguration" if create else "UpdateUserConfiguration"
    config_elem = ctx.elem.find(f"{M}UserConfiguration")
    if config_elem is None:
        raise SoapFault("ErrorSchemaValidation", "UserConfiguration is required.")
    try:
        mb, key, name = _user_config_target(ctx, config_elem.find(f"{T}UserConfigurationName"))
    except LookupError as exc:
        return soap.response(op, _user_config_error(op, exc))
    store = ctx.server.user_configs
    with mb.lock:
        old = store.get(mb.number, key, name)
        if create and old is not None:
            return soap.response(op, soap.error(op, "ErrorItemSave", "The user configuration already exists."))
        if not create and old is None:
            return soap.response(op, soap.error(op, "ErrorItemNotFound", _NOT_FOUND))
        store.put(mb.number, key, name, replace(old or UserConfig(), **_user_config_parts(config_elem)))
    ctx.server.stats.write(ctx.mailbox_address, "create" if create else "update")
    return soap.response(op, soap.success(op))


def create_user_configuration(ctx: Ctx) -> str:
    return _write_user_configuration(ctx, create=True)


def update_user_configuration(ctx: Ctx) -> str:
    return _write_user_configuration(ctx, create=False)


def delete_user_configuration(ctx: Ctx) -> str:
    op = "DeleteUserConfiguration"
    try:
        mb, key, name = _user_config_target(ctx, ctx.elem.find(f"{M}UserConfigurationName"))
    except LookupError as exc:
        return soap.response(op, _user_config_error(op, exc))
    if not ctx.server.user_configs.delete(mb.number, key, name):
        return soap.response(op, soap.error(op, "ErrorItemNotFound", _NOT_FOUND))
    ctx.server.stats.write(ctx.mailbox_address, "delete")
    return soap.response(op, soap.success(op))


HANDLERS: dict[str, Callable[[Ctx], str]] = {
    "GetFolder": get_folder,
    "FindFolder": find_folder,
    "SyncFolderHierarchy": sync_folder_hierarchy,
    "SyncFolderItems": sync_folder_items,
    "GetItem": get_item,
    "FindItem": find_item,
    "CreateItem": create_item,
    "UpdateItem": update_item,
    "DeleteItem": delete_item,
    "ResolveNames": resolve_names,
    "GetUserConfiguration": get_user_configuration,
    "CreateUserConfiguration": create_user_configuration,
    "UpdateUserConfiguration": update_user_configuration,
    "DeleteUserConfiguration": delete_user_configuration,
    "ConvertId": convertid.convert_id,
}
#: Operations that act on a mailbox (the others, like ResolveNames, work without one; ConvertId names it).
MAILBOX_OPERATIONS = frozenset(HANDLERS) - {"ResolveNames", "ConvertId"}


def request_units(op: str, elem: etree._Element) -> int:
    """How many response messages the request asks for (one per id / item / change)."""
    container = {
        "GetItem": "ItemIds",
        "DeleteItem": "ItemIds",
        "GetFolder": "FolderIds",
        "FindFolder": "ParentFolderIds",
        "CreateItem": "Items",
        "UpdateItem": "ItemChanges",
    }.get(op)
    if container is None:
        return 1
    c = elem.find(f"{M}{container}")
    return max(1, len([x for x in c if isinstance(x.tag, str)])) if c is not None else 1


def unknown_mailbox_response(op: str, elem: etree._Element) -> str:
    msg = soap.error_message(op, "ErrorNonExistentMailbox", "No mailbox with such guid.")
    return soap.response(op, [msg] * request_units(op, elem))
