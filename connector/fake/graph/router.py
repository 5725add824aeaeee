"""The routes of the fake Graph: (method, path below /v1.0) -> (operation name, mailbox, handler)."""

from __future__ import annotations

from collections.abc import Callable

from connector.fake.graph import batch, categories, collections, contact_create, items, todo, translate_ids
from connector.fake.graph.context import Ctx, Request
from connector.fake.graph.replies import Reply, bad_request

Handler = Callable[[Ctx], Reply]


#: The forms a delta function is called in: ``delta`` as Graph's docs write it, ``delta()`` and the
#: namespace-qualified ``microsoft.graph.delta()`` as the SDKs (and OData) send it.
DELTA_FORMS = frozenset({"delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()"})


def route(req: Request) -> tuple[str, str | None, Handler]:
    """(operation name, mailbox address, handler) for a request; 400 for a path the fake does not serve."""
    seg = req.segments
    if seg and seg[-1].lower() in DELTA_FORMS:
        seg[-1] = "delta"
    low = [s.lower() for s in seg]
    m = req.method
    if low == ["$batch"] and m == "POST":
        return "batch", None, batch.handle
    if len(seg) == 2 and low[0] == "users" and m == "GET":
        return "users.get", seg[1], collections.user_get
    if len(seg) >= 3 and low[0] == "users":
        address, rest = seg[1], low[2:]
        if rest == ["contacts"] and m == "GET":
            return "contacts.list", address, collections.contacts_list
        if rest == ["contacts"] and m == "POST":
            return "contacts.create", address, contact_create.contact_create
        if rest == ["messages"] and m == "GET":
            return "messages.list", address, collections.messages_list
        if len(rest) == 2 and rest[0] == "mailfolders" and m == "GET":
            return "mailFolders.get", address, collections.mail_folder_get
        if len(rest) == 3 and rest[0] == "mailfolders" and rest[2] == "messages" and m == "GET":
            return "mailFolder.messages.list", address, collections.folder_messages_list
        if rest == ["calendarview"] and m == "GET":
            return "calendarView.list", address, collections.calendar_view_list
        if rest == ["contacts", "delta"] and m == "GET":
            return "contacts.delta", address, items.contacts_delta
        if len(rest) == 2 and rest[0] == "contacts" and m == "GET":
            return "contacts.get", address, items.contact_get
        if len(rest) == 2 and rest[0] == "contacts" and m == "PATCH":
            return "contacts.patch", address, items.contact_patch
        if len(rest) == 2 and rest[0] == "contacts" and m == "DELETE":
            return "contacts.delete", address, contact_create.contact_delete
        if len(rest) == 4 and rest[0] == "mailfolders" and rest[2:] == ["messages", "delta"] and m == "GET":
            return "messages.delta", address, items.messages_delta
        if rest == ["calendarview", "delta"] and m == "GET":
            return "calendarView.delta", address, items.calendar_view_delta
        if len(rest) == 2 and rest[0] == "events" and m == "GET":
            return "events.get", address, items.event_get
        if rest == ["outlook", "mastercategories"] and m in ("GET", "POST"):
            return "masterCategories", address, categories.handle
        if rest[0] == "todo" and todo.serves(m, rest):
            return "todo", address, todo.handle
        if rest == ["translateexchangeids"] and m == "POST":
            return "translateExchangeIds", address, translate_ids.handle
    raise bad_request(f"Resource not found for the segment '{seg[-1] if seg else ''}' ({m} /{'/'.join(seg)}).")
