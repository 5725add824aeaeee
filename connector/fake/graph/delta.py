"""Graph delta paging over a FolderStore's change log, with signed ``$skiptoken`` / ``$deltatoken`` values.

A token is the EWS fake's sync state in Graph clothes: mailbox, folder, watermark (every change with
``seq <= W`` has been sent) and the folder's generation (so ``invalidate_sync_states`` turns every
older link into ``410 SyncStateNotFound``), plus what the first request asked for ($select, $expand,
and for calendarView the window), because Graph's links carry only the token. A calendar page can
end inside one series (its instances outnumber the page): the token then also names that change
(its seq) and how many of its instances were sent.

Tokens are URL-safe base64 of a small JSON document plus an HMAC (as ``SyncStateCodec`` signs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from connector.fake.graph import calendar
from connector.fake.graph.render import removed, rest_id
from connector.fake.mailbox import FolderStore, InvalidSyncState, MailboxStore
from connector.fake.model import ItemSpec


@dataclass(frozen=True, slots=True)
class DeltaState:
    """Where a delta round stands (what a token encodes)."""

    mailbox: int
    folder: str  # contacts | inbox | sentitems | calendar
    watermark: int = 0
    generation: int = 0
    select: str | None = None
    expand: str | None = None
    window: tuple[int, int] | None = None  # calendarView: epoch seconds [start, end)
    skip_seq: int = 0  # calendar: the change a page ended inside ...
    skip: int = 0  # ... and how many of its instances were sent


class DeltaTokenCodec:
    """Opaque, signed delta tokens."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:24]

    def encode(self, s: DeltaState) -> str:
        doc = [
            s.mailbox,
            s.folder,
            s.watermark,
            s.generation,
            s.select,
            s.expand,
            list(s.window) if s.window else None,
            s.skip_seq,
            s.skip,
        ]
        payload = json.dumps(doc, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._mac(payload)

    def decode(self, token: str) -> DeltaState:
        try:
            body, mac = token.rsplit(".", 1)
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if not hmac.compare_digest(mac, self._mac(payload)):
                raise InvalidSyncState(token)
            mb, folder, wm, gen, select, expand, window, skip_seq, skip = json.loads(payload)
            return DeltaState(
                int(mb),
                str(folder),
                int(wm),
                int(gen),
                select,
                expand,
                (int(window[0]), int(window[1])) if window else None,
                int(skip_seq),
                int(skip),
            )
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise InvalidSyncState(token) from exc


@dataclass
class DeltaPage:
    entries: list[dict[str, Any]]
    state: DeltaState  # where the next page (or the next round) starts
    done: bool  # True: this is the round's last page (deltaLink)


#: Renders one live item (folder index, spec, version) to Graph JSON, or None to leave it out.
ItemRenderer = Callable[[int, ItemSpec, int], dict[str, Any] | None]


def check_state(fs: FolderStore, state: DeltaState) -> None:
    """Refuse a token of an older generation, or from beyond this store's history."""
    if state.generation != fs.generation or state.watermark > fs.counter:
        raise InvalidSyncState(state.folder)


def item_page(
    mb: MailboxStore, state: DeltaState, page_size: int, render: ItemRenderer, leave_out: Callable[[ItemSpec], bool]
) -> DeltaPage:
    """One page of a contacts or messages delta: changed items rendered, deleted ones ``@removed``."""
    fs = mb.folders[state.folder]
    with mb.lock:
        check_state(fs, state)
        page = fs.sync(state.watermark, page_size, set())
        generation = fs.generation
        gone = {ch.index: fs.deleted_spec(ch.index) for ch in page.changes if ch.type == "Delete"}
    entries: list[dict[str, Any]] = []
    for ch in page.changes:
        if ch.type == "Delete":
            old = gone.get(ch.index) or (fs.base[ch.index] if ch.index < fs.base_len else None)
            if old is None or not leave_out(old):
                entries.append(removed(rest_id(mb.item_id(state.folder, ch.index))))
            continue
        spec = ch.spec if ch.spec is not None else fs.base[ch.index]
        if leave_out(spec):
            continue
        rendered = render(ch.index, spec, ch.version)
        if rendered is not None:
            entries.append(rendered)
    nxt = replace(state, watermark=page.watermark, generation=generation, skip_seq=0, skip=0)
    return DeltaPage(entries, nxt, page.includes_last)


def calendar_page(mb: MailboxStore, state: DeltaState, page_size: int) -> DeltaPage:
    """One page of a calendarView delta: item changes expanded into instances inside the window."""
    assert state.window is not None
    window = calendar.Window.from_key(state.window)
    fs = mb.folders[calendar.FOLDER]
    entries: list[dict[str, Any]] = []
    w, skip_seq, skip = state.watermark, state.skip_seq, state.skip
    done = False
    with mb.lock:
        check_state(fs, state)
        generation = fs.generation
    while len(entries) < page_size:
        with mb.lock:  # one change at a time: the item's state is read with its change
            page = fs.sync(w, 1, set())
            if not page.changes:
                w, done = page.watermark, True
                break
            ch = page.changes[0]
            items = calendar.change_entries(mb, fs, ch, window)
        if ch.seq != skip_seq:
            skip = 0
        rest = items[skip:]
        room = page_size - len(entries)
        if len(rest) > room:  # the page ends inside this change
            entries.extend(rest[:room])
            skip_seq, skip = ch.seq, skip + room
            break
        entries.extend(rest)
        w, skip_seq, skip = page.watermark, 0, 0
        if page.includes_last:
            done = True
            break
    nxt = replace(state, watermark=w, generation=generation, skip_seq=skip_seq, skip=skip)
    return DeltaPage(entries, nxt, done)
