"""CreateItem, UpdateItem and DeleteItem (every write gives the item a new ChangeKey and change number)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from connector.fake.ews import soap
from connector.fake.ews.context import Ctx, M, SoapFault, T, local_name
from connector.fake.ews.folders import FOLDER_ERRORS, folder_target
from connector.fake.ews.items import ItemNotFound, locate
from connector.fake.ews.parse import parse_field, parse_item
from connector.fake.ews.render import INDEXED_FIELDS, ext_from_uri
from connector.fake.ews.stamping import stamp_created
from connector.fake.ews.xmlout import ext_key
from connector.fake.mailbox import InvalidId
from connector.fake.model import MAILBOX_FOLDER_KINDS, ItemSpec, PhysicalAddress
from connector.fake.recurrence import item_duration
from connector.fake.task_rules import task_rules

#: The parts of a ``contacts:PhysicalAddress:<part>`` field URI -> the PhysicalAddress attribute.
ADDRESS_PART_ATTRS = {
    "Street": "street",
    "City": "city",
    "State": "state",
    "CountryOrRegion": "country",
    "PostalCode": "postal_code",
}


def _item_id_xml(tag: str, item_id: str, ck: str) -> str:
    return f'<t:{tag}><t:ItemId Id="{item_id}" ChangeKey="{ck}"/></t:{tag}>'


def create_item(ctx: Ctx) -> str:
    """CreateItem: store each item (stamped as Exchange does) and answer its new id."""
    mb = ctx.require_mailbox()
    elem = ctx.elem
    folder_key: str | None = None
    saved = elem.find(f"{M}SavedItemFolderId")
    messages = []
    items = elem.find(f"{M}Items")
    children = [c for c in (items if items is not None else []) if isinstance(c.tag, str)]
    if saved is not None and len(saved):
        try:
            mb2, folder_key = folder_target(ctx, saved[0])
        except (InvalidId, LookupError):
            return soap.response(
                "CreateItem",
                [
                    soap.error_message("CreateItem", "ErrorFolderNotFound", FOLDER_ERRORS["ErrorFolderNotFound"])
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
                f"<m:Items>{_item_id_xml(local_name(child.tag), item_id, ck)}</m:Items>",
            )
        )
    return soap.response("CreateItem", messages)


def _apply_set(fields: dict[str, Any], path: etree._Element, item_elem: etree._Element | None, append: bool) -> None:
    pname = local_name(path.tag)
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
            attr = ADDRESS_PART_ATTRS[uri.rsplit(":", 1)[-1]]
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


def _apply_delete(fields: dict[str, Any], path: etree._Element) -> None:
    pname = local_name(path.tag)
    if pname == "FieldURI":
        fields.pop(path.get("FieldURI", "").split(":", 1)[-1], None)
    elif pname == "ExtendedFieldURI":
        key = ext_from_uri(path)
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
                attr = ADDRESS_PART_ATTRS[uri.rsplit(":", 1)[-1]]
                addr = replace(addrs[index], **{attr: ""})
                if any((addr.street, addr.city, addr.state, addr.country, addr.postal_code)):
                    addrs[index] = addr
                else:
                    del addrs[index]
            fields["PhysicalAddresses"] = addrs
        elif uri in INDEXED_FIELDS:
            d = dict(fields.get(INDEXED_FIELDS[uri]) or {})
            d.pop(index, None)
            fields[INDEXED_FIELDS[uri]] = d


def update_item(ctx: Ctx) -> str:
    """UpdateItem: apply each item change (Set/Append/DeleteItemField) under the conflict rule asked."""
    mb = ctx.require_mailbox()
    elem = ctx.elem
    resolution = elem.get("ConflictResolution", "AutoResolve")
    messages = []
    changes = elem.find(f"{M}ItemChanges")
    for change in changes if changes is not None else []:
        id_elem = next(
            (c for c in change if local_name(c.tag) in ("ItemId", "OccurrenceItemId", "RecurringMasterItemId")), None
        )
        if id_elem is None:
            raise SoapFault("ErrorSchemaValidation", "ItemChange without an id")
        with mb.lock:
            try:
                loc = locate(mb, id_elem)
            except ItemNotFound as nf:
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
                    fields = {"Start": occ.original_start, "End": occ.original_start + item_duration(loc.spec)}
            else:
                fields = dict(loc.spec.fields)
            touched: set[str] = set()
            updates = change.find(f"{T}Updates")
            for upd in updates if updates is not None else []:
                uname = local_name(upd.tag)
                path = upd[0]
                if uname == "DeleteItemField":
                    _apply_delete(fields, path)
                    touched.add(local_name(path.tag) + path.get("FieldURI", ""))
                else:
                    item_elem = upd[1] if len(upd) > 1 else None
                    _apply_set(fields, path, item_elem, append=uname == "AppendToItemField")
                    if loc.spec.kind == "Task" and path.get("FieldURI") in ("task:Status", "task:PercentComplete"):
                        task_rules(fields, path.get("FieldURI", "").split(":")[1])
                    path_kind = local_name(path.tag)
                    touched.add(path.get("FieldURI", "") if path_kind == "FieldURI" else path_kind)
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


#: ``DeleteType`` -> where an item goes (https://learn.microsoft.com/en-us/exchange/client-developer/
#: exchange-web-services/deleting-items-by-using-ews-in-exchange, Table 1, and the DeleteMode enum,
#: https://learn.microsoft.com/en-us/dotnet/api/microsoft.exchange.webservices.data.deletemode):
#: MoveToDeletedItems to the Deleted Items folder (a new item id there; staff can move it back);
#: SoftDelete to the dumpster's Deletions folder; HardDelete to its Purges folder (Exchange 2013 and
#: later: kept only for a litigation hold, never shown to the user). The dumpster (Recoverable Items)
#: is no folder a client can list here, so those items leave every folder the fake serves and are
#: kept in ``MailboxStore.recoverable`` for tests to inspect.
DELETE_TYPES = ("HardDelete", "SoftDelete", "MoveToDeletedItems")


def delete_item(ctx: Ctx) -> str:
    """DeleteItem: delete each item as its ``DeleteType`` says (or an occurrence of a series)."""
    mb = ctx.require_mailbox()
    how = ctx.elem.get("DeleteType")
    if how not in DELETE_TYPES:  # a required attribute of DeleteItem (messages.xsd, DeleteItemType)
        raise SoapFault("ErrorSchemaValidation", f"The DeleteType attribute is invalid: {how!r}.")
    messages = []
    ids = ctx.elem.find(f"{M}ItemIds")
    for id_elem in ids if ids is not None else []:
        with mb.lock:
            try:
                loc = locate(mb, id_elem)
            except ItemNotFound as nf:
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
                mb.dispose(loc.ref.folder, loc.ref.index, how)
        ctx.server.stats.write(ctx.mailbox_address, "delete")
        messages.append(soap.success("DeleteItem"))
    return soap.response("DeleteItem", messages)
