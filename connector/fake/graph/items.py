"""Operations on mail items: contacts/messages/calendarView delta, contact GET/PATCH, event GET."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connector.fake.graph import calendar, delta
from connector.fake.graph.contact_write import contact_update
from connector.fake.graph.context import Ctx, Expand, parse_expand, parse_select
from connector.fake.graph.odata import check_options
from connector.fake.graph.render import (
    CONTACT_PROPS,
    EVENT_PROPS,
    MESSAGE_PROPS,
    apply_select,
    etag,
    ews_id,
    ext_props,
    render_contact,
    render_message,
    rest_id,
)
from connector.fake.graph.replies import GraphError, Reply, bad_request, not_found
from connector.fake.mailbox import (
    FolderStore,
    InvalidId,
    InvalidSyncState,
    ItemRef,
    MailboxStore,
    decode_folder_id,
)
from connector.fake.model import ItemSpec

SYNC_STATE_NOT_FOUND = "The sync state generation is not found."
#: Well-known mail folder names the fake serves messages delta for.
MAIL_FOLDERS = {"inbox": "inbox", "sentitems": "sentitems"}


def _gone() -> GraphError:
    return GraphError(410, "SyncStateNotFound", SYNC_STATE_NOT_FOUND)


#: The query options the fake's deltas evaluate; any other is refused (400), never ignored.
DELTA_OPTIONS = frozenset({"$select", "$expand", "$skiptoken", "$deltatoken"})


def _state(ctx: Ctx, folder: str, window: tuple[int, int] | None = None) -> delta.DeltaState:
    """The round's state: decoded from $skiptoken/$deltatoken, else a fresh round from the query."""
    q = ctx.req.query
    check_options(q, DELTA_OPTIONS, f"{ctx.op}")
    token = q.get("$skiptoken") or q.get("$deltatoken")
    mb = ctx.mb
    if token:
        if ctx.server.faults.take({"invalid_sync_state"}, ctx.op, ctx.address) is not None:
            ctx.server.stats.fault("invalid_sync_state")
            raise _gone()
        try:
            state = ctx.server.delta_codec.decode(token)
        except InvalidSyncState:
            raise _gone() from None
        if state.mailbox != mb.number or state.folder != folder:
            raise _gone()
        return state
    return delta.DeltaState(
        mb.number, folder, 0, mb.folders[folder].generation, q.get("$select"), q.get("$expand"), window
    )


def _page_reply(ctx: Ctx, page: delta.DeltaPage, entity: str) -> Reply:
    token = ctx.server.delta_codec.encode(page.state)
    body: dict[str, Any] = {
        "@odata.context": f"{ctx.server.base_url}/$metadata#Collection({entity})",
        "value": page.entries,
    }
    if page.done:
        body["@odata.deltaLink"] = ctx.link("$deltatoken", token)
    else:
        body["@odata.nextLink"] = ctx.link("$skiptoken", token)
    return Reply(200, body, {"Preference-Applied": f"odata.maxpagesize={ctx.page_size()}"})


def _with_ext(full: dict[str, Any], spec: ItemSpec, select: frozenset[str] | None, expand: Expand) -> dict[str, Any]:
    out = apply_select(full, select)
    if expand.ext is not None:
        out["singleValueExtendedProperties"] = ext_props(spec.kind, spec.fields, expand.ext)
    return out


def _run_item_delta(page: Callable[[], delta.DeltaPage]) -> delta.DeltaPage:
    """Run a page function; a state the store no longer honours is 410."""
    try:
        result: delta.DeltaPage = page()
    except InvalidSyncState:
        raise _gone() from None
    return result


def contacts_delta(ctx: Ctx) -> Reply:
    mb = ctx.mb
    state = _state(ctx, "contacts")
    select = parse_select(state.select, CONTACT_PROPS, "contact")
    expand = parse_expand(state.expand)
    parent = rest_id(mb.folder_id("contacts"))

    def render(index: int, spec: ItemSpec, version: int) -> dict[str, Any]:
        full = render_contact(
            spec.fields, rest_id(mb.item_id("contacts", index)), mb.change_key("contacts", index, version), parent
        )
        return _with_ext(full, spec, select, expand)

    size = ctx.page_size()
    # A distribution list is not a contact in Graph: it is left out of contacts delta.
    page = _run_item_delta(lambda: delta.item_page(mb, state, size, render, lambda s: s.kind != "Contact"))
    return _page_reply(ctx, page, "contact")


def messages_delta(ctx: Ctx) -> Reply:
    mb = ctx.mb
    folder = mail_folder(mb, ctx.req.segments[3])
    state = _state(ctx, folder)
    select = parse_select(state.select, MESSAGE_PROPS, "message")
    expand = parse_expand(state.expand)
    parent = rest_id(mb.folder_id(folder))

    def render(index: int, spec: ItemSpec, version: int) -> dict[str, Any]:
        full = render_message(
            spec.kind, spec.fields, rest_id(mb.item_id(folder, index)), mb.change_key(folder, index, version), parent
        )
        return _with_ext(full, spec, select, expand)

    size = ctx.page_size()
    page = _run_item_delta(
        lambda: delta.item_page(mb, state, size, render, lambda s: s.kind not in ("Message", "MeetingRequest")),
    )
    return _page_reply(ctx, page, "message")


def delta_reply(
    ctx: Ctx, folder: str, render: delta.ItemRenderer, leave_out: Callable[[ItemSpec], bool], entity: str
) -> Reply:
    """One page of a plain item delta over ``folder`` (To Do tasks)."""
    state = _state(ctx, folder)
    size = ctx.page_size()
    page = _run_item_delta(lambda: delta.item_page(ctx.mb, state, size, render, leave_out))
    return _page_reply(ctx, page, entity)


def mail_folder(mb: MailboxStore, name: str) -> str:
    """The mail folder a URL names (a well-known name or a folder id); 404 for one the fake does not serve."""
    folder = MAIL_FOLDERS.get(name.lower())
    if folder is not None:
        return folder
    try:
        number, key = _folder_of(name)
    except InvalidId:
        raise GraphError(404, "ErrorInvalidIdMalformed", "Id is malformed.") from None
    if number != mb.number or key not in MAIL_FOLDERS:
        raise GraphError(404, "ErrorItemNotFound", "The specified folder could not be found in the store.")
    return key


def _folder_of(rest: str) -> tuple[int, str]:
    return decode_folder_id(ews_id(rest))


def parse_instant(text: str | None, name: str) -> datetime:
    if not text:
        raise bad_request(
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime."
        )
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"The value '{text}' of parameter '{name}' is not a valid DateTime.") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def calendar_view_delta(ctx: Ctx) -> Reply:
    q = {k.lower(): v for k, v in ctx.req.query.items()}
    if ctx.req.query.get("$skiptoken") or ctx.req.query.get("$deltatoken"):
        state = _state(ctx, calendar.FOLDER)
    else:
        start = parse_instant(q.get("startdatetime"), "startDateTime")
        end = parse_instant(q.get("enddatetime"), "endDateTime")
        if end <= start:
            raise bad_request("The endDateTime must be later than the startDateTime.")
        state = _state(ctx, calendar.FOLDER, calendar.Window(start, end).key())
    if state.window is None:
        raise _gone()
    select = parse_select(state.select, EVENT_PROPS, "event")
    size = ctx.page_size()
    page = _run_item_delta(lambda: delta.calendar_page(ctx.mb, state, size))
    if select is not None:
        page.entries = [e if "@removed" in e else apply_select(e, select) for e in page.entries]
    return _page_reply(ctx, page, "event")


# --- single items ------------------------------------------------------------------------------------


def _locate(mb: MailboxStore, rest: str, folder: str) -> tuple[FolderStore, ItemRef, ItemSpec, int]:
    try:
        fs, ref = mb.resolve(ews_id(rest))
    except InvalidId:
        raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.") from None
    if ref.folder != folder:
        raise not_found()
    cur = fs.get(ref.index)
    if cur is None:
        raise not_found()
    return fs, ref, cur[0], cur[1]


def _contact_json(ctx: Ctx, ref: ItemRef, spec: ItemSpec, version: int) -> dict[str, Any]:
    mb = ctx.mb
    full = render_contact(
        spec.fields,
        rest_id(mb.item_id("contacts", ref.index)),
        mb.change_key("contacts", ref.index, version),
        rest_id(mb.folder_id("contacts")),
    )
    select = parse_select(ctx.req.query.get("$select"), CONTACT_PROPS, "contact")
    return _with_ext(full, spec, select, parse_expand(ctx.req.query.get("$expand")))


def contact_get(ctx: Ctx) -> Reply:
    check_options(ctx.req.query, frozenset({"$select", "$expand"}), "contact")
    _, ref, spec, version = _locate(ctx.mb, ctx.req.segments[3], "contacts")
    if spec.kind != "Contact":
        raise not_found()
    return Reply(200, _contact_json(ctx, ref, spec, version))


def unquote_etag(value: str) -> str:
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    return v.strip('"')


def contact_patch(ctx: Ctx) -> Reply:
    """Every writable property the fake stores (:mod:`contact_write`); If-Match is optional, a stale one is 412."""
    mb = ctx.mb
    data = ctx.json_object()
    rest = ctx.req.segments[3]
    if_match = ctx.req.headers.get("if-match")
    with mb.lock:
        _, ref, spec, version = _locate(mb, rest, "contacts")
        if spec.kind != "Contact":
            raise not_found()
        changes = contact_update(spec.fields, data)
        current = mb.change_key("contacts", ref.index, version)
        forced = ctx.server.faults.take({"conflict"}, ctx.op, ctx.address) is not None
        if forced:
            ctx.server.stats.fault("conflict")
        stale = if_match is not None and if_match.strip() != "*" and unquote_etag(if_match) != current
        if forced or stale:
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key passed "
                "in the request does not match the current change key for the item.",
            )
        if changes:
            mb.update(ews_id(rest), **changes)
        _, ref, spec, version = _locate(mb, rest, "contacts")
    ctx.server.stats.write(ctx.address, "update")
    out = _contact_json(ctx, ref, spec, version)
    return Reply(200, out, {"ETag": etag(mb.change_key("contacts", ref.index, version))})


def event_get(ctx: Ctx) -> Reply:
    """A series master, single item, occurrence or exception by id (``$select`` honoured)."""
    check_options(ctx.req.query, frozenset({"$select"}), "event")
    mb = ctx.mb
    _, ref, spec, version = _locate(mb, ctx.req.segments[3], calendar.FOLDER)
    if spec.kind != "CalendarItem":
        raise not_found()
    if ref.instance:
        found = calendar.render_instance(mb, ref.index, spec, version, ref.instance)
        if found is None:
            raise not_found()
    else:
        found = calendar.render_master(mb, ref.index, spec, version)
    select = parse_select(ctx.req.query.get("$select"), EVENT_PROPS, "event")
    return Reply(200, apply_select(found, select))
