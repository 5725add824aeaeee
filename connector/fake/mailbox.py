"""In-memory mailboxes of the fake Exchange: folders over a lazy generated base, plus an overlay.

Scale: a generated folder may hold 100,000+ items. The store never materialises them; it keeps

* the lazy base sequence from the :class:`~connector.fake.model.CompanySource` (item ``i`` on demand),
* an overlay ``index -> _Entry`` for every item created, modified or deleted since the server started,
* a change log ``[(seq, index)]`` in increasing ``seq`` order.

Every item has a *change sequence number*: base item ``i`` has ``seq = i + 1``; every later change
takes the next number of the folder's counter (which starts at ``len(base)``). A sync state is a signed
watermark: "the client has seen every change with ``seq <= W``". The next changes are the base items
from index ``W`` on (unless overlaid) followed by the change log after ``W``; that is all a
SyncFolderItems page needs, in ``O(page)``.

Item ids and change keys are derived from (mailbox, folder, index[, occurrence]) and the item's version,
so nothing per item is stored for unmodified base items. Ids look like Exchange's: base64 blobs.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from connector.fake.model import MAILBOX_FOLDER_KINDS, ItemKind, ItemSpec, Mailbox

FOLDER_CLASSES: dict[str, tuple[str, str, str]] = {
    # key: (XSD element, FolderClass, DisplayName)
    "root": ("Folder", "", "Root"),
    "msgfolderroot": ("Folder", "IPF.Note", "Top of Information Store"),
    "inbox": ("Folder", "IPF.Note", "Inbox"),
    "sentitems": ("Folder", "IPF.Note", "Sent Items"),
    "contacts": ("ContactsFolder", "IPF.Contact", "Contacts"),
    "calendar": ("CalendarFolder", "IPF.Appointment", "Calendar"),
    "tasks": ("TasksFolder", "IPF.Task", "Tasks"),
    "drafts": ("Folder", "IPF.Note", "Drafts"),
    "deleteditems": ("Folder", "IPF.Note", "Deleted Items"),
    "junkemail": ("Folder", "IPF.Note", "Junk Email"),
    "outbox": ("Folder", "IPF.Note", "Outbox"),
}
FOLDER_ORDER: tuple[str, ...] = tuple(FOLDER_CLASSES)
FOLDER_PARENT: dict[str, str | None] = {
    "root": None,
    "msgfolderroot": "root",
    **{k: "msgfolderroot" for k in MAILBOX_FOLDER_KINDS},
}

ChangeType = Literal["Create", "Update", "Delete", "ReadFlagChange"]


class InvalidId(ValueError):
    """An id the server never issued (or for another mailbox)."""


class InvalidSyncState(ValueError):
    """A sync state that is corrupt, forged, or from an earlier generation."""


def _b64(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def _unb64(text: str) -> str:
    try:
        return base64.b64decode(text.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidId(text) from exc


@dataclass(frozen=True, slots=True)
class ItemRef:
    """A decoded item id: which item (and occurrence of a series) it names."""

    mailbox: int
    folder: str
    index: int
    instance: int = 0  # 1-based occurrence of a recurring master; 0 for the item itself


def encode_item_id(ref: ItemRef) -> str:
    tail = f":{ref.instance}" if ref.instance else ""
    return _b64(f"AAMk:{ref.mailbox}:{ref.folder}:{ref.index}{tail}")


def decode_item_id(text: str) -> ItemRef:
    parts = _unb64(text).split(":")
    if len(parts) not in (4, 5) or parts[0] != "AAMk" or parts[2] not in MAILBOX_FOLDER_KINDS:
        raise InvalidId(text)
    try:
        return ItemRef(int(parts[1]), parts[2], int(parts[3]), int(parts[4]) if len(parts) == 5 else 0)
    except ValueError as exc:
        raise InvalidId(text) from exc


def change_key(ref: ItemRef, version: int) -> str:
    return _b64(f"CQAA:{ref.mailbox}:{ref.folder}:{ref.index}:{ref.instance}:{version}")


def encode_folder_id(mailbox: int, key: str) -> str:
    return _b64(f"AQMk:{mailbox}:{key}")


def decode_folder_id(text: str) -> tuple[int, str]:
    parts = _unb64(text).split(":")
    if len(parts) != 3 or parts[0] != "AQMk" or parts[2] not in FOLDER_CLASSES:
        raise InvalidId(text)
    try:
        return int(parts[1]), parts[2]
    except ValueError as exc:
        raise InvalidId(text) from exc


def folder_change_key(mailbox: int, key: str) -> str:
    return _b64(f"AQAA:{mailbox}:{key}:0")


@dataclass(slots=True)
class _Entry:
    spec: ItemSpec | None  # None: deleted (a tombstone)
    version: int
    seq: int
    created_seq: int
    content_seq: int  # seq of the last change other than a read-flag change
    last: ItemSpec | None = None  # for a tombstone: the item as it was when deleted


@dataclass(frozen=True, slots=True)
class Change:
    """One change a SyncFolderItems page reports."""

    type: ChangeType
    index: int
    version: int
    spec: ItemSpec | None  # None for a Delete, and for an unmodified base item (read it from the base)
    seq: int


@dataclass(slots=True)
class SyncPage:
    changes: list[Change]
    watermark: int
    includes_last: bool


def _unread(spec: ItemSpec) -> bool:
    return spec.kind in ("Message", "MeetingRequest") and not spec.fields.get("IsRead", False)


@dataclass
class FolderStore:
    """One folder: the lazy base plus the overlay and change log."""

    mailbox_no: int
    key: str
    kind: ItemKind | None
    base: Sequence[ItemSpec]
    base_len: int = 0
    overlay: dict[int, _Entry] = field(default_factory=dict)
    log: list[int] = field(default_factory=list)  # seqs, increasing
    log_index: list[int] = field(default_factory=list)  # item index per log seq
    counter: int = 0
    next_index: int = 0
    generation: int = 0
    deleted_count: int = 0

    _base_unread: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_len = len(self.base)
        self.counter = self.base_len
        self.next_index = self.base_len

    def unread_count(self) -> int:
        """Live unread messages (``IsRead`` false), as a folder's ``UnreadCount`` reports them.

        The immutable base is counted once; the overlay (every item written since) is counted each time.
        """
        if self._base_unread is None:
            self._base_unread = sum(1 for spec in self.base if _unread(spec))
        n = self._base_unread
        for index, entry in list(self.overlay.items()):
            if index < self.base_len and _unread(self.base[index]):
                n -= 1
            if entry.spec is not None and _unread(entry.spec):
                n += 1
        return n

    # --- reading ---------------------------------------------------------------------------------

    def get(self, index: int) -> tuple[ItemSpec, int] | None:
        """The live item at ``index`` and its version, or None."""
        e = self.overlay.get(index)
        if e is not None:
            return (e.spec, e.version) if e.spec is not None else None
        if 0 <= index < self.base_len:
            return self.base[index], 0
        return None

    def deleted_spec(self, index: int) -> ItemSpec | None:
        """The item at ``index`` as it was when deleted (None unless it is deleted).

        A Graph calendar delta needs it to report every instance of a deleted series as removed.
        """
        e = self.overlay.get(index)
        return e.last if e is not None and e.spec is None else None

    def count(self) -> int:
        return self.next_index - self.deleted_count

    def live_indices(self) -> Iterator[int]:
        overlay = self.overlay
        for i in range(self.next_index):
            e = overlay.get(i)
            if e is None:
                if i < self.base_len:
                    yield i
            elif e.spec is not None:
                yield i

    def sync(self, watermark: int, max_changes: int, ignore: set[int]) -> SyncPage:
        changes: list[Change] = []
        w = watermark
        overlay = self.overlay
        # 1. base items not yet seen (seq = index + 1 > W  <=>  index >= W)
        i = max(w, 0)
        while i < self.base_len:
            if i in overlay:  # its current state is in the change log
                i += 1
                w = i
                continue
            if len(changes) >= max_changes:
                return SyncPage(changes, w, False)
            if i not in ignore:
                changes.append(Change("Create", i, 0, None, i + 1))
            i += 1
            w = i
        # 2. the change log
        pos = bisect.bisect_right(self.log, w)
        log, log_index = self.log, self.log_index
        while pos < len(log):
            seq, idx = log[pos], log_index[pos]
            e = overlay[idx]
            pos += 1
            if e.seq != seq:  # superseded by a later change of the same item
                w = seq
                continue
            if e.spec is None:
                ctype: ChangeType | None = "Delete" if e.created_seq <= watermark else None
            elif e.created_seq > watermark:
                ctype = "Create"
            elif e.content_seq <= watermark:
                ctype = "ReadFlagChange"
            else:
                ctype = "Update"
            if ctype is None or idx in ignore:
                w = seq
                continue
            if len(changes) >= max_changes:
                return SyncPage(changes, w, False)
            changes.append(Change(ctype, idx, e.version, e.spec, seq))
            w = seq
        return SyncPage(changes, max(w, self.counter), True)

    # --- writing (caller holds the mailbox lock) ------------------------------------------------

    def _log(self, index: int) -> int:
        self.counter += 1
        self.log.append(self.counter)
        self.log_index.append(index)
        return self.counter

    def create(self, spec: ItemSpec) -> tuple[int, int]:
        index = self.next_index
        self.next_index += 1
        seq = self._log(index)
        self.overlay[index] = _Entry(spec, 0, seq, seq, seq)
        return index, 0

    def replace(self, index: int, spec: ItemSpec, read_flag_only: bool = False) -> int:
        cur = self.get(index)
        if cur is None:
            raise KeyError(index)
        old = self.overlay.get(index)
        created_seq = old.created_seq if old is not None else index + 1
        content_seq = old.content_seq if old is not None else index + 1
        version = cur[1] + 1
        seq = self._log(index)
        self.overlay[index] = _Entry(spec, version, seq, created_seq, content_seq if read_flag_only else seq)
        return version

    def delete(self, index: int) -> None:
        cur = self.get(index)
        if cur is None:
            raise KeyError(index)
        old = self.overlay.get(index)
        created_seq = old.created_seq if old is not None else index + 1
        seq = self._log(index)
        self.overlay[index] = _Entry(None, cur[1] + 1, seq, created_seq, seq, last=cur[0])
        self.deleted_count += 1


class SyncStateCodec:
    """Opaque, signed sync states: ``base64(folder|watermark|generation|mac)``."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:24]

    def encode(self, mailbox: int, folder: str, watermark: int, generation: int) -> str:
        payload = f"{mailbox}|{folder}|{watermark}|{generation}"
        return base64.b64encode(f"{payload}|{self._mac(payload)}".encode()).decode()

    def decode(self, state: str, mailbox: int, folder: str) -> tuple[int, int]:
        try:
            raw = base64.b64decode(state.encode(), validate=True).decode()
            payload, mac = raw.rsplit("|", 1)
            mb, fk, wm, gen = payload.split("|")
            ok = hmac.compare_digest(mac, self._mac(payload))
            if not ok or int(mb) != mailbox or fk != folder:
                raise InvalidSyncState(state)
            return int(wm), int(gen)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise InvalidSyncState(state) from exc


class RenderCache:
    """A bounded LRU of rendered XML for unmodified base items: (folder, index, shape) -> fragment.

    Base items never change (a modification moves the item into the overlay), so a fragment stays
    valid for the life of the server; the bound keeps memory flat however large the folders are.
    """

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._data: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self._shapes: dict[Any, int] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def shape_token(self, key: Any) -> int:
        with self._lock:
            token = self._shapes.get(key)
            if token is None:
                token = self._shapes[key] = len(self._shapes)
            return token

    def get(self, key: tuple[str, int, int]) -> str | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[str, int, int], value: str) -> None:
        if self.max_items <= 0:
            return
        with self._lock:
            self._data[key] = value
            if len(self._data) > self.max_items:
                self._data.popitem(last=False)


class MailboxStore:
    """One mailbox: its folders, and the test API to simulate staff edits in Outlook.

    ``create``/``update``/``delete`` behave like a change made in Outlook: the item gets a new
    ChangeKey and shows up in the next SyncFolderItems of every client.
    """

    def __init__(
        self, number: int, owner: Mailbox, folders: dict[str, Sequence[ItemSpec]], cache_items: int = 20_000
    ) -> None:
        self.number = number
        self.render_cache = RenderCache(cache_items)
        self.owner = owner
        self.address = owner.email.lower()
        self.lock = threading.RLock()
        self.folders: dict[str, FolderStore] = {
            key: FolderStore(number, key, kind, folders.get(key, ())) for key, kind in MAILBOX_FOLDER_KINDS.items()
        }
        #: The dumpster (Recoverable Items): (``Deletions`` or ``Purges``, folder it left, the item).
        self.recoverable: list[tuple[str, str, ItemSpec]] = []

    # ids ------------------------------------------------------------------------------------------

    def item_id(self, folder: str, index: int, instance: int = 0) -> str:
        return encode_item_id(ItemRef(self.number, folder, index, instance))

    def change_key(self, folder: str, index: int, version: int, instance: int = 0) -> str:
        return change_key(ItemRef(self.number, folder, index, instance), version)

    def folder_id(self, key: str) -> str:
        return encode_folder_id(self.number, key)

    def resolve(self, item_id: str) -> tuple[FolderStore, ItemRef]:
        ref = decode_item_id(item_id)
        if ref.mailbox != self.number:
            raise InvalidId(item_id)
        return self.folders[ref.folder], ref

    # test API ---------------------------------------------------------------------------------------

    def items(self, folder: str) -> Iterator[tuple[str, ItemSpec]]:
        """(item id, spec) of every live item of a folder (walks the lazy base: mind the size)."""
        fs = self.folders[folder]
        for i in fs.live_indices():
            cur = fs.get(i)
            if cur is not None:
                yield self.item_id(folder, i), cur[0]

    def get(self, item_id: str) -> ItemSpec | None:
        fs, ref = self.resolve(item_id)
        cur = fs.get(ref.index)
        return cur[0] if cur is not None else None

    def current_change_key(self, item_id: str) -> str | None:
        fs, ref = self.resolve(item_id)
        cur = fs.get(ref.index)
        return self.change_key(ref.folder, ref.index, cur[1]) if cur is not None else None

    def create(self, folder: str, spec: ItemSpec) -> str:
        now = datetime.now(UTC).replace(microsecond=0)
        fields = {"DateTimeCreated": now, "LastModifiedTime": now, **spec.fields}
        with self.lock:
            index, _ = self.folders[folder].create(replace(spec, fields=fields))
        return self.item_id(folder, index)

    def update(self, item_id: str, **fields: Any) -> str:
        """Set (or, with value None, remove) fields of an item; returns the new ChangeKey."""
        fs, ref = self.resolve(item_id)
        with self.lock:
            cur = fs.get(ref.index)
            if cur is None:
                raise KeyError(item_id)
            new = dict(cur[0].fields)
            for k, v in fields.items():
                if v is None:
                    new.pop(k, None)
                else:
                    new[k] = v
            new["LastModifiedTime"] = datetime.now(UTC).replace(microsecond=0)
            version = fs.replace(ref.index, replace(cur[0], fields=new), read_flag_only=set(fields) == {"IsRead"})
        return self.change_key(ref.folder, ref.index, version)

    def delete(self, item_id: str) -> None:
        fs, ref = self.resolve(item_id)
        with self.lock:
            fs.delete(ref.index)

    def dispose(self, folder: str, index: int, how: str) -> None:
        """Delete an item as EWS DeleteItem's ``DeleteType`` says (see ``connector.fake.ews.writes``):
        ``MoveToDeletedItems`` moves it to Deleted Items (from Deleted Items itself on to the
        dumpster's Deletions, as deleting there does in Outlook: the documentation is silent);
        ``SoftDelete`` and ``HardDelete`` put it in the dumpster's Deletions or Purges, which no client
        lists (:attr:`recoverable`). Call under :attr:`lock`."""
        fs = self.folders[folder]
        cur = fs.get(index)
        if cur is None:
            raise KeyError((folder, index))
        fs.delete(index)
        if how == "MoveToDeletedItems" and folder != "deleteditems":
            self.folders["deleteditems"].create(cur[0])
        else:
            self.recoverable.append(("Purges" if how == "HardDelete" else "Deletions", folder, cur[0]))

    def invalidate_sync_states(self, folder: str) -> None:
        """Make every sync state issued so far for this folder invalid (as after a mailbox move)."""
        with self.lock:
            self.folders[folder].generation += 1
