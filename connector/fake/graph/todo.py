"""Microsoft To Do over the mailbox's Tasks folder: an EWS Task item and a To Do task are the same item.

The default list (``wellknownListName: defaultList``, "Tasks") is the Tasks folder; its id is the
folder's id. A task's ``linkedResources`` are kept in ``ItemSpec.extra["linked_resources"]`` (the EWS
side never serves ``extra``, so they stay a Graph-only property, as in Exchange Online where they are
not EWS properties either). Status changes keep PercentComplete / IsComplete / CompleteDate consistent
through the EWS fake's own ``task_rules``. Due and start dates are dates: stored as the midnight of
the given day in the given zone, served as that day's midnight "UTC".

Paths below ``/users/{u}/todo``: ``GET lists``, ``GET lists/{id}``, ``GET|POST lists/{id}/tasks``
(paged, ``$expand=linkedResources``), ``GET|PATCH|DELETE lists/{id}/tasks/{taskId}``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from connector.fake.graph.context import Ctx, parse_expand, parse_select
from connector.fake.graph.items import delta_reply, unquote_etag
from connector.fake.graph.odata import check_options
from connector.fake.graph.render import (
    IMPORTANCE_EWS,
    TASK_STATUS_EWS,
    apply_select,
    etag,
    ews_id,
    render_task,
    rest_id,
)
from connector.fake.graph.replies import GraphError, Reply, bad_request, not_found
from connector.fake.mailbox import FolderStore, InvalidId, ItemRef, MailboxStore
from connector.fake.model import ItemSpec
from connector.fake.recurrence import zone_for
from connector.fake.task_rules import task_rules

FOLDER = "tasks"
TASK_PROPS = frozenset(
    {
        "id",
        "title",
        "body",
        "importance",
        "status",
        "isReminderOn",
        "createdDateTime",
        "lastModifiedDateTime",
        "hasAttachments",
        "categories",
        "dueDateTime",
        "startDateTime",
        "reminderDateTime",
        "completedDateTime",
        "linkedResources",
    }
)
#: What the fake evaluates on To Do reads; any other option ($filter, $orderby, $top, ...) is refused.
TASK_READ_OPTIONS = frozenset({"$select", "$expand", "$skiptoken"})
_LINK_KEYS = ("applicationName", "displayName", "externalId", "webUrl")


def serves(method: str, rest: list[str]) -> bool:
    """Whether ``rest`` (lower-case segments after the mailbox, starting with "todo") is a To Do path."""
    n = len(rest)
    if n < 2 or rest[1] != "lists":
        return False
    if n == 2 or n == 3:
        return method == "GET"
    if rest[3] != "tasks":
        return False
    if n == 4:
        return method in ("GET", "POST")
    return n == 5 and method in ("GET", "PATCH", "DELETE")


def _delta(ctx: Ctx) -> Reply:
    """``lists/{id}/tasks/delta``: the Tasks folder's changes, paged like every delta of the fake
    (https://learn.microsoft.com/en-us/graph/api/todotask-delta); deleted tasks come as ``@removed``."""
    mb = ctx.mb
    expand = parse_expand(ctx.req.query.get("$expand"))

    def render(index: int, spec: ItemSpec, version: int) -> dict[str, Any]:
        return render_task(
            spec.fields,
            spec.extra,
            rest_id(mb.item_id(FOLDER, index)),
            mb.change_key(FOLDER, index, version),
            expand.linked_resources,
        )

    return delta_reply(ctx, FOLDER, render, lambda s: s.kind != "Task", "todoTask")


def _list_json(mb: MailboxStore) -> dict[str, Any]:
    return {
        "@odata.etag": etag(rest_id(mb.folder_id(FOLDER))),
        "id": rest_id(mb.folder_id(FOLDER)),
        "displayName": "Tasks",
        "isOwner": True,
        "isShared": False,
        "wellknownListName": "defaultList",
    }


def handle(ctx: Ctx) -> Reply:
    mb = ctx.mb
    seg = ctx.req.segments  # users, {u}, todo, lists, [listId, tasks, [taskId]]
    if len(seg) == 4:
        return Reply(
            200, {"@odata.context": f"{ctx.server.base_url}/$metadata#todoTaskLists", "value": [_list_json(mb)]}
        )
    if seg[4] != rest_id(mb.folder_id(FOLDER)):
        raise GraphError(404, "ErrorItemNotFound", "The specified list could not be found.")
    if len(seg) == 5:
        return Reply(200, _list_json(mb))
    method = ctx.req.method
    if method == "GET" and not (len(seg) == 7 and seg[6] == "delta"):
        check_options(ctx.req.query, TASK_READ_OPTIONS, "todoTask")
    if len(seg) == 6:
        return _list_tasks(ctx) if method == "GET" else _create(ctx)
    task_id = seg[6]
    if task_id == "delta" and method == "GET":
        return _delta(ctx)
    if method == "GET":
        ref, spec, version = _locate(mb, task_id)
        return Reply(200, _task_json(ctx, ref, spec, version))
    if method == "PATCH":
        return _patch(ctx, task_id)
    ref, _, _ = _locate(mb, task_id)
    mb.delete(mb.item_id(FOLDER, ref.index))
    ctx.server.stats.write(ctx.address, "delete")
    return Reply(204)


def _locate(mb: MailboxStore, task_id: str) -> tuple[ItemRef, ItemSpec, int]:
    try:
        fs, ref = mb.resolve(ews_id(task_id))
    except InvalidId:
        raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.") from None
    cur = fs.get(ref.index) if ref.folder == FOLDER and not ref.instance else None
    if cur is None or cur[0].kind != "Task":
        raise not_found()
    return ref, cur[0], cur[1]


def _task_json(ctx: Ctx, ref: ItemRef, spec: ItemSpec, version: int) -> dict[str, Any]:
    mb = ctx.mb
    expand = parse_expand(ctx.req.query.get("$expand"))
    select = parse_select(ctx.req.query.get("$select"), TASK_PROPS, "todoTask")
    out = render_task(
        spec.fields,
        spec.extra,
        rest_id(mb.item_id(FOLDER, ref.index)),
        mb.change_key(FOLDER, ref.index, version),
        expand.linked_resources,
    )
    return _select(out, select)


def _select(task: dict[str, Any], select: frozenset[str] | None) -> dict[str, Any]:
    """$select, keeping an expanded linkedResources (an $expand is wanted whatever $select says)."""
    return apply_select(task, None if select is None else select | {"linkedResources"})


def _list_tasks(ctx: Ctx) -> Reply:
    mb = ctx.mb
    fs: FolderStore = mb.folders[FOLDER]
    size = ctx.page_size()
    raw = ctx.req.query.get("$skiptoken")
    try:
        start = int(raw) if raw else 0
    except ValueError:
        raise bad_request(f"Invalid $skiptoken '{raw}'.") from None
    expand = parse_expand(ctx.req.query.get("$expand"))
    select = parse_select(ctx.req.query.get("$select"), TASK_PROPS, "todoTask")
    out: list[dict[str, Any]] = []
    next_index: int | None = None
    with mb.lock:
        for i in range(max(0, start), fs.next_index):
            cur = fs.get(i)
            if cur is None or cur[0].kind != "Task":
                continue
            if len(out) >= size:
                next_index = i
                break
            spec, version = cur
            out.append(
                _select(
                    render_task(
                        spec.fields,
                        spec.extra,
                        rest_id(mb.item_id(FOLDER, i)),
                        mb.change_key(FOLDER, i, version),
                        expand.linked_resources,
                    ),
                    select,
                )
            )
    body: dict[str, Any] = {"@odata.context": f"{ctx.server.base_url}/$metadata#Collection(todoTask)", "value": out}
    if next_index is not None:
        body["@odata.nextLink"] = ctx.link("$skiptoken", str(next_index)) + "".join(
            f"&{name}={ctx.req.query[name]}" for name in ("$expand", "$select") if name in ctx.req.query
        )
    return Reply(200, body)


def _date_time(value: Any, name: str) -> datetime | None:
    """A dateTimeTimeZone -> an aware datetime in its zone (IANA or Windows id); None clears."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise bad_request(f"'{name}' must be a dateTimeTimeZone object.")
    try:
        naive = datetime.fromisoformat(value["dateTime"].rstrip("Z")[:26])
    except ValueError:
        raise bad_request(f"'{name}.dateTime' is not a valid date and time.") from None
    zone = zone_for(str(value.get("timeZone") or "UTC"))
    return naive.replace(tzinfo=zone)


def _day(value: datetime | None) -> datetime | None:
    return value.replace(hour=0, minute=0, second=0, microsecond=0) if value is not None else None


def _apply(fields: dict[str, Any], extra: dict[str, Any], data: dict[str, Any]) -> None:
    """Apply a todoTask JSON (POST or PATCH) to EWS task fields; None values clear a property."""

    def put(key: str, value: Any) -> None:
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value

    for name, value in data.items():
        if name == "title":
            if not isinstance(value, str):
                raise bad_request("'title' must be a string.")
            fields["Subject"] = value
        elif name == "body":
            if value is not None and not (isinstance(value, dict) and isinstance(value.get("content", ""), str)):
                raise bad_request("'body' must be an itemBody object.")
            put("Body", value.get("content", "") if value else None)
        elif name == "importance":
            if value not in IMPORTANCE_EWS:
                raise bad_request(f"Invalid importance '{value}'.")
            fields["Importance"] = IMPORTANCE_EWS[value]
        elif name == "status":
            if value not in TASK_STATUS_EWS:
                raise bad_request(f"Invalid status '{value}'.")
            fields["Status"] = TASK_STATUS_EWS[value]
            task_rules(fields, "Status")
        elif name == "categories":
            if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                raise bad_request("'categories' must be an array of strings.")
            fields["Categories"] = tuple(value)
        elif name == "dueDateTime":
            put("DueDate", _day(_date_time(value, name)))
        elif name == "startDateTime":
            put("StartDate", _day(_date_time(value, name)))
        elif name == "reminderDateTime":
            put("ReminderDueBy", _date_time(value, name))
        elif name == "isReminderOn":
            if not isinstance(value, bool):
                raise bad_request("'isReminderOn' must be a boolean.")
            fields["ReminderIsSet"] = value
        elif name == "completedDateTime":
            put("CompleteDate", _date_time(value, name))
        elif name == "linkedResources":
            if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
                raise bad_request("'linkedResources' must be an array of linkedResource objects.")
            extra["linked_resources"] = [{"id": str(uuid.uuid4()), **{k: r.get(k) for k in _LINK_KEYS}} for r in value]
        elif name.startswith("@odata."):
            continue
        else:
            raise bad_request(f"The fake To Do does not support the property '{name}'.")


def _create(ctx: Ctx) -> Reply:
    data = ctx.json_object()
    fields: dict[str, Any] = {
        "ItemClass": "IPM.Task",
        "Subject": "",
        "Status": "NotStarted",
        "PercentComplete": 0.0,
        "IsComplete": False,
        "Importance": "Normal",
        "Sensitivity": "Normal",
    }
    extra: dict[str, Any] = {}
    _apply(fields, extra, data)
    mb = ctx.mb
    new_id = mb.create(FOLDER, ItemSpec("Task", fields, extra=extra))
    ctx.server.stats.write(ctx.address, "create")
    ref, spec, version = _locate(mb, rest_id(new_id))
    out = render_task(
        spec.fields, spec.extra, rest_id(new_id), mb.change_key(FOLDER, ref.index, version), "linkedResources" in data
    )
    return Reply(201, out, {"Location": f"{ctx.server.base_url}{ctx.req.path}/{rest_id(new_id)}"})


def _patch(ctx: Ctx, task_id: str) -> Reply:
    data = ctx.json_object()
    mb = ctx.mb
    if_match = ctx.req.headers.get("if-match")
    with mb.lock:
        ref, spec, version = _locate(mb, task_id)
        current = mb.change_key(FOLDER, ref.index, version)
        forced = ctx.server.faults.take({"conflict"}, ctx.op, ctx.address) is not None
        if forced:
            ctx.server.stats.fault("conflict")
        if forced or (if_match is not None and if_match.strip() != "*" and unquote_etag(if_match) != current):
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The update could not be performed because the change key does not match.",
            )
        fields = dict(spec.fields)
        extra = dict(spec.extra)
        _apply(fields, extra, data)
        fields["LastModifiedTime"] = datetime.now(UTC).replace(microsecond=0)
        version = mb.folders[FOLDER].replace(ref.index, replace(spec, fields=fields, extra=extra))
        ref, spec, version = _locate(mb, task_id)
    ctx.server.stats.write(ctx.address, "update")
    return Reply(200, _task_json(ctx, ref, spec, version))
