"""Item rendering for one request shape: the response shape parsed, the values Exchange computes, the XML."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from lxml import etree

from connector.fake.ews import restrictions
from connector.fake.ews.context import T, local_name
from connector.fake.ews.elements import KIND_ORDER
from connector.fake.ews.itemxml import Shape, element_plan, render_item
from connector.fake.ews.xmlout import RawXml, ext_key
from connector.fake.mailbox import MailboxStore, folder_change_key
from connector.fake.model import ITEM_CLASS, ExtendedProp, ItemKind, ItemSpec, Recurrence
from connector.fake.recurrence import Occurrence, item_duration, occurrence_values, occurrences

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
INDEXED_FIELDS = {
    "contacts:EmailAddress": "EmailAddresses",
    "contacts:PhoneNumber": "PhoneNumbers",
    "contacts:ImAddress": "ImAddresses",
}


def ext_from_uri(uri: etree._Element) -> tuple[str | None, str | None, str | None, str]:
    """The key of the extended property an ``ExtendedFieldURI`` names (see ``xmlout.ext_key``)."""
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
    """The response shape (``ItemShape``) of a request: base shape plus additional properties."""
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
            name = local_name(p.tag)
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
                elif uri in INDEXED_FIELDS:
                    keys = indexed.setdefault(INDEXED_FIELDS[uri], set())
                    if keys is not None:
                        keys.add(index)
            elif name == "ExtendedFieldURI":
                ext.append(ext_from_uri(p))
    body_type = (shape_elem.findtext(f"{T}BodyType") or "Best").strip()
    shape = Shape(frozenset(elements), indexed, ext, body_type)
    if base == "AllProperties":
        for el in ("EmailAddresses", "PhoneNumbers", "PhysicalAddresses"):
            shape.indexed.setdefault(el, None)
    return shape


# --- item values (the stored spec plus what Exchange computes) ----------------------------------------

KIND_DEFAULTS: dict[str, dict[str, Any]] = {
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
for _k, _d in KIND_DEFAULTS.items():
    _d["ItemClass"] = ITEM_CLASS[_k]  # type: ignore[index]

_CALENDAR_SERIES = frozenset({"ModifiedOccurrences", "DeletedOccurrences", "FirstOccurrence", "LastOccurrence"})


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
        values = {**KIND_DEFAULTS[spec.kind], **spec.fields, "ParentFolderId": self._parent(folder)}
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
            values["Duration"] = item_duration(spec)
        return values

    def _series(self, folder: str, index: int, spec: ItemSpec, values: dict[str, Any]) -> None:
        occs = occurrences(spec)
        mb = self.mb
        dur = item_duration(spec)

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
            **KIND_DEFAULTS["CalendarItem"],
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
