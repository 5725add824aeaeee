"""The plain collections beside the deltas: ``/users/{id}``, ``/users/{id}/contacts``, ``/users/{id}/messages``,
``/users/{id}/mailFolders/{id}/messages`` and ``/users/{id}/calendarView``.

Each answers as Microsoft Graph v1.0 documents it:

* user: https://learn.microsoft.com/en-us/graph/api/user-get (the default property set; ``$select``);
* contacts: https://learn.microsoft.com/en-us/graph/api/user-list-contacts;
* messages: https://learn.microsoft.com/en-us/graph/api/user-list-messages (every mail folder of the
  mailbox) and https://learn.microsoft.com/en-us/graph/api/mailfolder-list-messages;
* calendarView: https://learn.microsoft.com/en-us/graph/api/user-list-calendarview (occurrences,
  exceptions and single instances overlapping ``startDateTime``..``endDateTime``, both required);
* a mail folder: https://learn.microsoft.com/en-us/graph/api/mailfolder-get (the mailFolder resource's
  properties, ``totalItemCount`` among them; ``$select`` only);

with ``$select``, ``$filter`` (the simple forms, :mod:`connector.fake.graph.odata`), ``$top`` (the page
size, default 10, at most 1000; else ``Prefer: odata.maxpagesize``), ``$skip`` and ``$count=true``, and
paging by ``@odata.nextLink`` (``$skip``, as Outlook's collections page:
https://learn.microsoft.com/en-us/graph/paging). Any other query option (``$search``, ``$expand``,
``$orderby``, ...) is refused with 400 ``ErrorInvalidUrlQuery``: the fake never ignores an option it
does not evaluate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

from connector.fake.graph import calendar
from connector.fake.graph.context import Ctx, parse_select
from connector.fake.graph.items import MAIL_FOLDERS, mail_folder, parse_instant
from connector.fake.graph.odata import MAX_TOP, check_options, matches, non_negative, parse_filter
from connector.fake.graph.render import (
    CONTACT_PROPS,
    EVENT_PROPS,
    MESSAGE_PROPS,
    apply_select,
    render_contact,
    render_message,
    rest_id,
)
from connector.fake.graph.replies import Reply, bad_request
from connector.fake.mailbox import Change, MailboxStore

#: Outlook collections answer 10 entities a page unless ``$top`` or ``odata.maxpagesize`` says otherwise.
DEFAULT_TOP = 10
LIST_OPTIONS = frozenset({"$select", "$filter", "$top", "$skip", "$count"})
USER_PROPS = frozenset(
    {
        "id",
        "displayName",
        "givenName",
        "surname",
        "mail",
        "userPrincipalName",
        "jobTitle",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "businessPhones",
    }
)
_USER_NAMESPACE = uuid.UUID("4b1c2a5e-6f0d-4f7e-9a39-0f2d0b7e1a11")


def user_id(mb: MailboxStore) -> str:
    """The mailbox user's object id: a GUID, stable for an address (as a directory keeps it)."""
    return str(uuid.uuid5(_USER_NAMESPACE, mb.address))


def user_get(ctx: Ctx) -> Reply:
    check_options(ctx.req.query, frozenset({"$select"}), "user")
    mb = ctx.mb
    name = mb.owner.name or mb.address
    given, _, surname = name.partition(" ")
    full: dict[str, Any] = {
        "@odata.context": f"{ctx.server.base_url}/$metadata#users/$entity",
        "businessPhones": [],
        "displayName": name,
        "givenName": given or None,
        "jobTitle": None,
        "mail": mb.owner.email,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": surname or None,
        "userPrincipalName": mb.owner.email,
        "id": user_id(mb),
    }
    select = parse_select(ctx.req.query.get("$select"), USER_PROPS, "user")
    out = apply_select(full, select)
    if select is not None:
        out["@odata.context"] = full["@odata.context"]
    return Reply(200, out)


MAIL_FOLDER_PROPS = frozenset(
    {"id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount", "isHidden"}
)
_MAIL_FOLDER_NAMES = {"inbox": "Inbox", "sentitems": "Sent Items"}


def mail_folder_get(ctx: Ctx) -> Reply:
    """``GET /users/{id}/mailFolders/{id}``: the folder with its item counts (the fake's folders have no
    child folders). ``unreadItemCount`` reads every item's read flag, so only when it is asked for."""
    check_options(ctx.req.query, frozenset({"$select"}), "mailFolder")
    select = parse_select(ctx.req.query.get("$select"), MAIL_FOLDER_PROPS, "mailFolder")
    mb = ctx.mb
    folder = mail_folder(mb, ctx.req.segments[3])
    fs = mb.folders[folder]
    body: dict[str, Any] = {
        "@odata.context": f"{ctx.server.base_url}/$metadata#users('{quote(mb.address)}')/mailFolders/$entity",
        "id": rest_id(mb.folder_id(folder)),
        "displayName": _MAIL_FOLDER_NAMES.get(folder, folder),
        "parentFolderId": rest_id(mb.folder_id("msgfolderroot")),
        "childFolderCount": 0,
        "isHidden": False,
    }
    with mb.lock:
        body["totalItemCount"] = fs.count()
        if select is None or "unreadItemCount" in select:
            live = (cur for i in fs.live_indices() if (cur := fs.get(i)) is not None)
            body["unreadItemCount"] = sum(1 for spec, _ in live if not spec.fields.get("IsRead", False))
    if select is not None:
        body = {k: v for k, v in body.items() if k in select or k in ("@odata.context", "id")}
    return Reply(200, body)


def _page(
    ctx: Ctx,
    entities: Iterable[dict[str, Any]],
    known: frozenset[str],
    type_name: str,
    resource: str,
    extra_params: dict[str, str] | None = None,
) -> Reply:
    """Filter, page and select a collection (``entities`` fully rendered, in the collection's order)."""
    q = ctx.req.query
    check_options(q, LIST_OPTIONS, resource)
    select = parse_select(q.get("$select"), known, type_name)
    node = parse_filter(q["$filter"], known.__contains__) if "$filter" in q else None
    count = q.get("$count")
    if count is not None and count.lower() not in ("true", "false"):
        raise bad_request(f"Invalid value '{count}' for the query option '$count': true or false expected.")
    if "$top" in q:
        top = non_negative(q, "$top", DEFAULT_TOP, MAX_TOP)
    else:
        top = ctx.page_size() if "odata.maxpagesize" in ctx.req.prefer else DEFAULT_TOP
    skip = non_negative(q, "$skip", 0)
    found = [e for e in entities if node is None or matches(node, e)]
    body: dict[str, Any] = {"@odata.context": f"{ctx.server.base_url}/$metadata#Collection({type_name})"}
    if count is not None and count.lower() == "true":
        body["@odata.count"] = len(found)
    body["value"] = [apply_select(e, select) for e in found[skip : skip + top]]
    if top > 0 and skip + top < len(found):
        params = {k: v for k, v in q.items() if k not in ("$skip", "$top")}
        params.update(extra_params or {})
        params.update({"$top": str(top), "$skip": str(skip + top)})
        body["@odata.nextLink"] = f"{ctx.server.base_url}{ctx.req.path}?" + urlencode(
            params, quote_via=quote, safe="$,()'/:@"
        )
    return Reply(200, body)


def contacts_list(ctx: Ctx) -> Reply:
    mb = ctx.mb
    parent = rest_id(mb.folder_id("contacts"))
    fs = mb.folders["contacts"]
    with mb.lock:
        rows = [(i, cur) for i in fs.live_indices() if (cur := fs.get(i)) is not None]
    # A distribution list is not a contact in Graph (as in contacts delta).
    entities = [
        render_contact(spec.fields, rest_id(mb.item_id("contacts", i)), mb.change_key("contacts", i, version), parent)
        for i, (spec, version) in rows
        if spec.kind == "Contact"
    ]
    return _page(ctx, entities, CONTACT_PROPS, "contact", "contacts")


def _messages(mb: MailboxStore, folder: str) -> list[dict[str, Any]]:
    fs = mb.folders[folder]
    parent = rest_id(mb.folder_id(folder))
    with mb.lock:
        rows = [(i, cur) for i in fs.live_indices() if (cur := fs.get(i)) is not None]
    return [
        render_message(
            spec.kind, spec.fields, rest_id(mb.item_id(folder, i)), mb.change_key(folder, i, version), parent
        )
        for i, (spec, version) in rows
        if spec.kind in ("Message", "MeetingRequest")
    ]


def _newest_first(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outlook lists messages newest first (receivedDateTime descending) when no $orderby is given."""
    return sorted(entities, key=lambda e: e.get("receivedDateTime") or e.get("createdDateTime") or "", reverse=True)


def messages_list(ctx: Ctx) -> Reply:
    """Every message of the mailbox (all its mail folders)."""
    entities = [e for folder in MAIL_FOLDERS.values() for e in _messages(ctx.mb, folder)]
    return _page(ctx, _newest_first(entities), MESSAGE_PROPS, "message", "messages")


def folder_messages_list(ctx: Ctx) -> Reply:
    folder = mail_folder(ctx.mb, ctx.req.segments[3])
    return _page(ctx, _newest_first(_messages(ctx.mb, folder)), MESSAGE_PROPS, "message", "mailFolder messages")


def calendar_view_list(ctx: Ctx) -> Reply:
    q = {k.lower(): v for k, v in ctx.req.query.items()}
    start = parse_instant(q.get("startdatetime"), "startDateTime")
    end = parse_instant(q.get("enddatetime"), "endDateTime")
    if end <= start:
        raise bad_request("The endDateTime must be later than the startDateTime.")
    window = calendar.Window(start, end)
    mb = ctx.mb
    fs = mb.folders[calendar.FOLDER]
    entities: list[dict[str, Any]] = []
    with mb.lock:
        for i in fs.live_indices():
            cur = fs.get(i)
            if cur is None:
                continue
            # a live item rendered as a fresh change: its instances in the window, nothing removed
            entities.extend(calendar.change_entries(mb, fs, Change("Create", i, cur[1], cur[0], 0), window))
    entities = [e for e in entities if "@removed" not in e]
    entities.sort(key=lambda e: (e["start"]["dateTime"], e["id"]))
    keep = {k: v for k, v in ctx.req.query.items() if k.lower() in ("startdatetime", "enddatetime")}
    return _page(ctx, entities, EVENT_PROPS, "event", "calendarView", keep)


def mailbox_by_user_id(mailboxes: Iterable[MailboxStore], value: str) -> MailboxStore | None:
    """The mailbox whose user object id is ``value`` (a GUID), if any."""
    try:
        wanted = str(uuid.UUID(value))
    except ValueError:
        return None
    return next((mb for mb in mailboxes if user_id(mb) == wanted), None)
