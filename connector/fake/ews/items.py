"""GetItem, and locating an item (or an occurrence of a series) from an ItemId / OccurrenceItemId."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from connector.fake.ews import soap
from connector.fake.ews.context import Ctx, M, local_name
from connector.fake.ews.render import Renderer, parse_shape
from connector.fake.mailbox import FolderStore, InvalidId, ItemRef, MailboxStore, decode_item_id
from connector.fake.model import ItemSpec
from connector.fake.recurrence import Occurrence, occurrences


class ItemNotFound(Exception):
    """An ItemId or OccurrenceItemId that names no item: the response code and text to answer with."""

    def __init__(
        self, code: str = "ErrorItemNotFound", text: str = "The specified object was not found in the store."
    ) -> None:
        super().__init__(code)
        self.code = code
        self.text = text


@dataclass
class Located:
    """An item found by its id: folder, reference, stored spec and version (and, for an occurrence, its series)."""

    fs: FolderStore
    ref: ItemRef
    spec: ItemSpec
    version: int
    occurrence: Occurrence | None = None


def _locate_ref(mb: MailboxStore, ref: ItemRef) -> Located:
    if ref.mailbox != mb.number:
        raise ItemNotFound()
    fs = mb.folders[ref.folder]
    cur = fs.get(ref.index)
    if cur is None:
        raise ItemNotFound()
    spec, version = cur
    if ref.instance:
        return _locate_occurrence(fs, ItemRef(ref.mailbox, ref.folder, ref.index), spec, version, ref.instance)
    return Located(fs, ref, spec, version)


#: Expanded series by (mailbox, folder, index, version, exceptions, deletions) of the master: a GetItem of
#: a page's exception ids names the same few series again and again, and expanding a long series per id
#: costs the fake more than the client it serves (real Exchange looks an occurrence up by index). Keyed
#: by the master's place, not by the object: a generated company's folder makes a new (equal) spec per
#: lookup, so an identity key never hit and every exception id expanded its series again.
_OCCURRENCES: dict[tuple[int, str, int, int, int, int], tuple[ItemSpec, list[Occurrence]]] = {}


def _cached_occurrences(ref: ItemRef, spec: ItemSpec, version: int) -> list[Occurrence]:
    key = (ref.mailbox, ref.folder, ref.index, version, len(spec.exceptions), len(spec.deleted_occurrences))
    hit = _OCCURRENCES.get(key)
    if hit is not None and (hit[0] is spec or hit[0] == spec):
        return hit[1]
    occs = occurrences(spec)
    if len(_OCCURRENCES) >= 4096:
        _OCCURRENCES.clear()
    _OCCURRENCES[key] = (spec, occs)
    return occs


def _locate_occurrence(fs: FolderStore, ref: ItemRef, spec: ItemSpec, version: int, instance: int) -> Located:
    if spec.kind != "CalendarItem" or spec.fields.get("Recurrence") is None:
        raise ItemNotFound(
            "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Occurrence index is out of recurrence range."
        )
    occs = _cached_occurrences(ref, spec, version)
    if not 1 <= instance <= len(occs):
        raise ItemNotFound(
            "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Occurrence index is out of recurrence range."
        )
    occ = occs[instance - 1]
    if occ.deleted:
        raise ItemNotFound(
            "ErrorCalendarOccurrenceIsDeletedFromRecurrence",
            "Occurrence with this index was previously deleted from the recurrence.",
        )
    return Located(fs, ItemRef(ref.mailbox, ref.folder, ref.index, instance), spec, version, occ)


def locate(mb: MailboxStore, id_elem: etree._Element) -> Located:
    """Resolve an ItemId / OccurrenceItemId / RecurringMasterItemId element."""
    name = local_name(id_elem.tag)
    try:
        if name == "ItemId":
            return _locate_ref(mb, decode_item_id(id_elem.get("Id", "")))
        if name == "OccurrenceItemId":
            master = _locate_ref(mb, decode_item_id(id_elem.get("RecurringMasterId", "")))
            if master.occurrence is not None:
                raise ItemNotFound()
            instance = int(id_elem.get("InstanceIndex", "0"))
            return _locate_occurrence(master.fs, master.ref, master.spec, master.version, instance)
        if name == "RecurringMasterItemId":
            ref = decode_item_id(id_elem.get("OccurrenceId", ""))
            found = _locate_ref(mb, ItemRef(ref.mailbox, ref.folder, ref.index))
            if found.spec.fields.get("Recurrence") is None:
                raise ItemNotFound("ErrorItemNotFound", "The specified object was not found in the store.")
            return found
    except InvalidId:
        raise ItemNotFound("ErrorInvalidIdMalformed", "Id is malformed.") from None
    except ValueError:
        raise ItemNotFound("ErrorInvalidIdMalformed", "Id is malformed.") from None
    raise ItemNotFound("ErrorInvalidIdMalformed", "Id is malformed.")


def _render_located(r: Renderer, loc: Located) -> str:
    if loc.occurrence is not None:
        return r.occurrence(loc.ref.folder, loc.ref.index, loc.spec, loc.occurrence, loc.version)
    return r.item(loc.ref.folder, loc.ref.index, loc.spec, loc.version)


def get_item(ctx: Ctx) -> str:
    """GetItem: each requested item (or occurrence) in the response shape, or its error."""
    mb = ctx.require_mailbox()
    r = Renderer(mb, parse_shape(ctx.elem.find(f"{M}ItemShape")))
    messages = []
    ids = ctx.elem.find(f"{M}ItemIds")
    for id_elem in ids if ids is not None else []:
        try:
            loc = locate(mb, id_elem)
        except ItemNotFound as nf:
            messages.append(soap.error_message("GetItem", nf.code, nf.text))
            continue
        messages.append(soap.success("GetItem", f"<m:Items>{_render_located(r, loc)}</m:Items>"))
    return soap.response("GetItem", messages)
