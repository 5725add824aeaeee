"""The JSON the Graph writer sends and reads, as plain functions tested without I/O: master category
colours, etags, To Do task bodies and patches, our follow-up id on a task's linked resource
(graph_api.md sections 4-7). :mod:`connector.graph.writer` sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.writer import (
    MAX_COLOUR,
    MIN_COLOUR,
    NewTask,
    TaskChange,
    TaskState,
)
from mapping.followups_adopt import FoundTask

#: ``applicationName`` and ``displayName`` of the linked resource carrying our follow-up id.
APPLICATION_NAME = "relsync"
LINK_DISPLAY_NAME = "relsync follow-up"


def colour_name(index: int) -> str:
    """Graph's ``categoryColor`` of an Outlook colour index: ``-1`` -> ``"none"``, ``n`` -> ``"preset{n}"``."""
    if not MIN_COLOUR <= index <= MAX_COLOUR:
        raise ValueError(f"colour {index} is not an Outlook colour index ({MIN_COLOUR}..{MAX_COLOUR})")
    return "none" if index < 0 else f"preset{index}"


def missing_master_categories(existing: Iterable[str], wanted: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """The ``wanted`` (name, colour index) entries whose names are not in ``existing`` (case-insensitively),
    each name once, in ``wanted``'s order. Empty names and bad colours raise ``ValueError``."""
    for name, colour in wanted:
        if not name.strip():
            raise ValueError("a category name must not be empty")
        colour_name(colour)
    present = {name.casefold() for name in existing}
    out: list[tuple[str, int]] = []
    for name, colour in wanted:
        if name.casefold() not in present:
            present.add(name.casefold())
            out.append((name, colour))
    return out


def etag(change_key: str | None) -> str | None:
    """The ``If-Match`` value of an item whose ChangeKey is ``change_key`` (Graph's weak etag)."""
    if not change_key:
        return None
    return change_key if change_key.startswith('W/"') else f'W/"{change_key}"'


def change_key_of(item: Mapping[str, Any]) -> str | None:
    """A contact's ChangeKey from its JSON: ``changeKey``, else taken out of ``@odata.etag``."""
    key = item.get("changeKey")
    if isinstance(key, str) and key:
        return key
    tag = item.get("@odata.etag")
    if isinstance(tag, str) and tag:
        return tag.removeprefix("W/").strip('"') or None
    return None


def categories_of(item: Mapping[str, Any]) -> list[str]:
    value = item.get("categories")
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def graph_date(day: date) -> dict[str, str]:
    """A date as To Do keeps a due date: that day's midnight, ``"UTC"``."""
    return {"dateTime": f"{day.isoformat()}T00:00:00.0000000", "timeZone": "UTC"}


def graph_instant(value: datetime) -> dict[str, str]:
    """An instant as a dateTimeTimeZone in UTC (a naive datetime is taken as UTC)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return {"dateTime": aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def parse_graph_datetime(value: Any) -> datetime | None:
    """A dateTimeTimeZone (``{"dateTime": "...0000000", "timeZone": "UTC"}``) as an aware UTC datetime.

    Graph writes seven fractional digits (Python reads six); an unknown zone is taken as UTC. None for
    anything that is not such a value."""
    if not isinstance(value, Mapping):
        return None
    text = value.get("dateTime")
    if not isinstance(text, str) or not text:
        return None
    text = text.removesuffix("Z")
    head, dot, fraction = text.partition(".")
    try:
        parsed = datetime.fromisoformat(f"{head}.{fraction[:6]}" if dot and fraction else head)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        zone_name = value.get("timeZone")
        zone: Any = UTC
        if isinstance(zone_name, str) and zone_name and zone_name.upper() != "UTC":
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                zone = UTC
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def new_task_body(task: NewTask) -> dict[str, Any]:
    """The todoTask JSON POSTed for a new follow-up task."""
    body: dict[str, Any] = {
        "title": task.subject,
        "body": {"content": task.body, "contentType": "text"},
        "importance": task.importance.lower(),
        "status": "notStarted",
        "categories": list(task.categories),
        "dueDateTime": graph_date(task.due),
        "isReminderOn": task.reminder_at is not None,
        "linkedResources": [
            {"applicationName": APPLICATION_NAME, "displayName": LINK_DISPLAY_NAME, "externalId": task.our_id}
        ],
    }
    if task.reminder_at is not None:
        body["reminderDateTime"] = graph_instant(task.reminder_at)
    return body


def completed_body(current: str, note: str) -> str:
    """The task's body with the completion note added below it (as the EWS writer does)."""
    return f"{current}\n\n{note}".strip() if current else note


def task_patch(change: TaskChange, current_body: str | None = None) -> dict[str, Any]:
    """The PATCH body of one :class:`TaskChange`; ``current_body`` is the task's body (completions)."""
    body: dict[str, Any] = {}
    if change.subject is not None:
        body["title"] = change.subject
    if change.due is not None:
        body["dueDateTime"] = graph_date(change.due)
    if change.reminder_at is not None:
        body["isReminderOn"] = True
        body["reminderDateTime"] = graph_instant(change.reminder_at)
    if change.importance is not None:
        body["importance"] = change.importance.lower()
    if change.body is not None and change.complete_note is None:
        body["body"] = {"content": change.body, "contentType": "text"}
    if change.complete_note is not None:
        body["status"] = "completed"
        body["body"] = {"content": completed_body(current_body or "", change.complete_note), "contentType": "text"}
        body["isReminderOn"] = False
        body.pop("reminderDateTime", None)
    return body


def our_id_of(task: Mapping[str, Any]) -> str | None:
    """Our follow-up id on a todoTask read with ``$expand=linkedResources``, or None."""
    links = task.get("linkedResources")
    if not isinstance(links, list):
        return None
    for link in links:
        if not isinstance(link, Mapping):
            continue
        external = link.get("externalId")
        if link.get("applicationName") == APPLICATION_NAME and isinstance(external, str) and external:
            return external
    return None


def found_task(task: Mapping[str, Any]) -> FoundTask | None:
    """An open todoTask carrying our id (read with ``$expand=linkedResources``) as a record, else None."""
    our_id, item_id = our_id_of(task), task.get("id")
    if our_id is None or not isinstance(item_id, str) or not item_id or task.get("status") == "completed":
        return None
    due = task.get("dueDateTime")
    text = due.get("dateTime") if isinstance(due, Mapping) else None
    try:
        day = date.fromisoformat(text[:10]) if isinstance(text, str) else None
    except ValueError:
        day = None
    title = task.get("title")
    return FoundTask(our_id, item_id, task_etag(task), title if isinstance(title, str) else "", day)


def task_state(item_id: str, task: Mapping[str, Any]) -> TaskState:
    """How staff left a task that is still there: completed (when) or open."""
    if task.get("status") == "completed":
        return TaskState(item_id, "completed", parse_graph_datetime(task.get("completedDateTime")))
    return TaskState(item_id, "open")


def task_etag(task: Any) -> str | None:
    tag = task.get("@odata.etag") if isinstance(task, Mapping) else None
    return tag if isinstance(tag, str) and tag else None
