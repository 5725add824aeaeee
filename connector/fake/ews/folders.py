"""GetFolder, FindFolder and SyncFolderHierarchy over the distinguished folders of a mailbox."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from connector.fake.ews import soap
from connector.fake.ews.context import Ctx, M, T, local_name
from connector.fake.ews.xmlout import xml_bool
from connector.fake.mailbox import (
    FOLDER_CLASSES,
    FOLDER_ORDER,
    FOLDER_PARENT,
    InvalidId,
    InvalidSyncState,
    MailboxStore,
    decode_folder_id,
    folder_change_key,
)


def folder_target(ctx: Ctx, elem: etree._Element) -> tuple[MailboxStore, str]:
    """A DistinguishedFolderId or FolderId -> (mailbox, folder key). Raises InvalidId/LookupError."""
    name = local_name(elem.tag)
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


FOLDER_ERRORS = {
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
    """GetFolder: the requested distinguished folders with the shape's properties."""
    fields = _folder_fields(ctx.elem.find(f"{M}FolderShape"))
    ids = ctx.elem.find(f"{M}FolderIds")
    messages = []
    for target in ids if ids is not None else []:
        try:
            mb, key = folder_target(ctx, target)
        except InvalidId:
            messages.append(
                soap.error_message("GetFolder", "ErrorInvalidIdMalformed", FOLDER_ERRORS["ErrorInvalidIdMalformed"])
            )
            continue
        except LookupError as exc:
            code = str(exc.args[0])
            messages.append(soap.error_message("GetFolder", code, FOLDER_ERRORS[code]))
            continue
        messages.append(soap.success("GetFolder", f"<m:Folders>{_folder_xml(mb, key, fields)}</m:Folders>"))
    return soap.response("GetFolder", messages)


def sync_folder_hierarchy(ctx: Ctx) -> str:
    """SyncFolderHierarchy: every folder of the mailbox on a first sync, nothing after."""
    mb = ctx.require_mailbox()
    fields = _folder_fields(ctx.elem.find(f"{M}FolderShape"))
    target = ctx.elem.find(f"{M}SyncFolderId")
    key = "root"
    if target is not None and len(target):
        try:
            mb, key = folder_target(ctx, target[0])
        except (InvalidId, LookupError):
            return soap.response(
                "SyncFolderHierarchy",
                soap.error_message("SyncFolderHierarchy", "ErrorFolderNotFound", FOLDER_ERRORS["ErrorFolderNotFound"]),
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
    """FindFolder: the folders below a parent folder (shallow or deep)."""
    fields = _folder_fields(ctx.elem.find(f"{M}FolderShape"))
    deep = ctx.elem.get("Traversal", "Shallow") == "Deep"
    view = ctx.elem.find(f"{M}IndexedPageFolderView")
    max_entries = int(view.get("MaxEntriesReturned", "1000") or 1000) if view is not None else 1000
    offset = int(view.get("Offset", "0") or 0) if view is not None else 0
    messages = []
    parents = ctx.elem.find(f"{M}ParentFolderIds")
    for target in parents if parents is not None else []:
        try:
            mb, key = folder_target(ctx, target)
        except InvalidId:
            messages.append(soap.error_message("FindFolder", "ErrorInvalidIdMalformed", "Id is malformed."))
            continue
        except LookupError as exc:
            code = str(exc.args[0])
            messages.append(soap.error_message("FindFolder", code, FOLDER_ERRORS[code]))
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
