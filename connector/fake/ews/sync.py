"""SyncFolderItems: the changes of one folder since a sync state, in pages of at most 512."""

from __future__ import annotations

from connector.fake.ews import soap
from connector.fake.ews.context import MAX_SYNC_CHANGES, Ctx, M, SoapFault, T
from connector.fake.ews.folders import FOLDER_ERRORS, folder_target
from connector.fake.ews.render import Renderer, parse_shape
from connector.fake.ews.xmlout import xml_bool
from connector.fake.mailbox import Change, InvalidId, InvalidSyncState, MailboxStore, decode_item_id


def _sync_error(code: str, text: str) -> str:
    return soap.response("SyncFolderItems", soap.error_message("SyncFolderItems", code, text))


def sync_folder_items(ctx: Ctx) -> str:
    """SyncFolderItems: the changes of a folder since the request's sync state (or all items)."""
    mb = ctx.require_mailbox()
    elem = ctx.elem
    shape = parse_shape(elem.find(f"{M}ItemShape"))
    target = elem.find(f"{M}SyncFolderId")
    try:
        if target is None or not len(target):
            raise LookupError("ErrorFolderNotFound")
        mb, key = folder_target(ctx, target[0])
    except InvalidId:
        return _sync_error("ErrorInvalidIdMalformed", FOLDER_ERRORS["ErrorInvalidIdMalformed"])
    except LookupError as exc:
        code = str(exc.args[0])
        return _sync_error(code, FOLDER_ERRORS[code])
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
