"""Follow-up tasks in an owner's Tasks folder: create in batches, find by our id, update, complete, delete.

Every task relsync creates carries our follow-up id as an extended property (``relsync_follow_up_id``),
so a task whose creation reached Exchange but not the store (a crash in between) is found again by
:func:`find_by_our_ids` instead of being created twice. Writes touch only the fields relsync owns;
reading a task's state (:func:`read_states`) tells whether staff completed or deleted it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from exchangelib import Account, ExtendedProperty, Task
from exchangelib import errors as ews
from exchangelib.ewsdatetime import EWSDateTime
from exchangelib.items import ALWAYS_OVERWRITE, HARD_DELETE, MOVE_TO_DELETED_ITEMS
from exchangelib.properties import ItemId

from connector.errors import ExchangeError
from connector.ews.errors import translate
from connector.writer import Created, NewTask, TaskChange, TaskState
from mapping.followups_adopt import FoundTask

#: Tasks per CreateItem / UpdateItem / GetItem request.
BATCH = 100
#: Our ids per FindItem restriction (an OR of equalities; kept small so the request stays small).
FIND_BATCH = 50
FIELD = "relsync_follow_up_id"


class RelsyncFollowUpId(ExtendedProperty):  # type: ignore[misc]
    """Our follow-up id on a task (a named property in relsync's own property set)."""

    property_set_id = "5f0c6a52-1d1e-4a53-9b43-2f6b8f4c7a1d"
    property_name = "relsync-follow-up-id"
    property_type = "String"


def register() -> None:
    """Register the property on ``Task`` once per process (exchangelib's registry is class-global)."""
    if FIELD not in {f.name for f in Task.FIELDS}:
        Task.register(FIELD, RelsyncFollowUpId)


register()


def _ews(value: datetime) -> EWSDateTime:
    return EWSDateTime.from_datetime(value)


def _plain(value: datetime) -> datetime:
    """An aware stdlib datetime in UTC (exchangelib's EWSDateTime refuses stdlib time zones later)."""
    return datetime.fromtimestamp(value.timestamp(), tz=UTC)


def find_by_our_ids(account: Account, our_ids: Sequence[str]) -> dict[str, Created]:
    """Tasks in the Tasks folder carrying one of ``our_ids``: our id -> item id and ChangeKey."""
    return find_stamped(account, account.tasks, FIELD, our_ids)


def find_stamped(account: Account, folder: Any, field: str, our_ids: Sequence[str]) -> dict[str, Created]:
    """Items of ``folder`` whose stamp property ``field`` holds one of ``our_ids`` (asked in batches of
    FIND_BATCH, a restriction Exchange evaluates): our id -> item id and ChangeKey."""
    found: dict[str, Created] = {}
    try:
        for start in range(0, len(our_ids), FIND_BATCH):
            chunk = list(our_ids[start : start + FIND_BATCH])
            for item in folder.filter(**{f"{field}__in": chunk}).only(field):
                value = getattr(item, field, None)
                if isinstance(value, str) and item.id:
                    found[value] = Created(value, item.id, item.changekey)
    except ExchangeError:
        raise
    except Exception as exc:
        raise translate(exc, mailbox=account.primary_smtp_address) from exc
    return found


def list_ours(account: Account) -> list[FoundTask]:
    """Every open task in the Tasks folder that carries one of our ids (whatever the id), paged by FindItem.

    A rebuilt store adopts the ones it has no record of (:mod:`mapping.followups_adopt`) instead of
    creating them again. Completed tasks are left out (they are done with); EWS cannot restrict on a
    task's status, so they are dropped here."""
    found: list[FoundTask] = []
    try:
        query = account.tasks.filter(**{f"{FIELD}__exists": True}).only(FIELD, "subject", "due_date", "status")
        for item in query:
            value = getattr(item, FIELD, None)
            if isinstance(value, str) and value and item.id and item.status != "Completed":
                due = item.due_date
                found.append(
                    FoundTask(
                        value, item.id, item.changekey, str(item.subject or ""), due if isinstance(due, date) else None
                    )
                )
    except ExchangeError:
        raise
    except Exception as exc:
        raise translate(exc, mailbox=account.primary_smtp_address) from exc
    return found


def create_tasks(account: Account, tasks: Sequence[NewTask]) -> list[Created | ExchangeError]:
    """Create tasks in batches (one CreateItem per :data:`BATCH`); per task its ids or its error."""
    out: list[Created | ExchangeError] = []
    for start in range(0, len(tasks), BATCH):
        chunk = tasks[start : start + BATCH]
        items = [_task(account, t) for t in chunk]
        try:
            results = account.bulk_create(folder=account.tasks, items=items)
        except Exception as exc:
            raise translate(exc, mailbox=account.primary_smtp_address) from exc
        for t, r in zip(chunk, results, strict=True):
            if isinstance(r, Exception):
                out.append(translate(r, mailbox=account.primary_smtp_address))
            else:
                out.append(Created(t.our_id, str(r.id), r.changekey))
    return out


def _task(account: Account, t: NewTask) -> Task:
    fields: dict[str, Any] = {
        "subject": t.subject,
        "body": t.body,
        "due_date": t.due,
        "start_date": None,
        "status": "NotStarted",
        "importance": t.importance,
        "categories": list(t.categories) or None,
        "reminder_is_set": t.reminder_at is not None,
        FIELD: t.our_id,
    }
    if t.reminder_at is not None:
        fields["reminder_due_by"] = _ews(t.reminder_at)
    return Task(account=account, folder=account.tasks, **fields)


def update_tasks(account: Account, changes: Sequence[TaskChange]) -> list[str | ExchangeError | None]:
    """Apply changes in batches; per change the new ChangeKey (None: the task is gone) or its error."""
    out: list[str | ExchangeError | None] = []
    for start in range(0, len(changes), BATCH):
        chunk = changes[start : start + BATCH]
        try:
            bodies = _bodies(account, [c.item_id for c in chunk if c.complete_note is not None])
            pairs: list[tuple[Task, list[str]]] = []
            index: list[int] = []
            for n, c in enumerate(chunk):
                if c.complete_note is not None and bodies.get(c.item_id, "") is None:
                    continue  # gone: nothing to complete
                task, fields = _changed(account, c, bodies.get(c.item_id))
                pairs.append((task, fields))
                index.append(n)
            results: list[Any] = list(account.bulk_update(pairs, conflict_resolution=ALWAYS_OVERWRITE)) if pairs else []
        except Exception as exc:
            raise translate(exc, mailbox=account.primary_smtp_address) from exc
        outcome: list[str | ExchangeError | None] = [None] * len(chunk)
        for n, r in zip(index, results, strict=True):
            if isinstance(r, ews.ErrorItemNotFound):
                outcome[n] = None
            elif isinstance(r, Exception):
                outcome[n] = translate(r, mailbox=account.primary_smtp_address)
            else:
                outcome[n] = r[1]
        out.extend(outcome)
    return out


def _bodies(account: Account, item_ids: Sequence[str]) -> dict[str, str | None]:
    """Current bodies (None: the task is gone), so a completion note is added, not written over."""
    if not item_ids:
        return {}
    out: dict[str, str | None] = {}
    for item_id, item in zip(
        item_ids, account.fetch(ids=[ItemId(id=i) for i in item_ids], only_fields=["body"]), strict=True
    ):
        out[item_id] = None if isinstance(item, Exception) else str(item.body or "")
    return out


def _changed(account: Account, c: TaskChange, body: str | None) -> tuple[Task, list[str]]:
    task = Task(account=account, folder=account.tasks, id=c.item_id, changekey=c.change_key)
    fields: list[str] = []
    if c.subject is not None:
        task.subject = c.subject
        fields.append("subject")
    if c.due is not None:
        task.due_date = c.due
        fields.append("due_date")
    if c.reminder_at is not None:
        task.reminder_is_set, task.reminder_due_by = True, _ews(c.reminder_at)
        fields += ["reminder_is_set", "reminder_due_by"]
    if c.importance is not None:
        task.importance = c.importance
        fields.append("importance")
    if c.body is not None and c.complete_note is None:
        task.body = c.body
        fields.append("body")
    if c.complete_note is not None:
        task.status, task.percent_complete = "Completed", Decimal(100)
        task.body = f"{body}\n\n{c.complete_note}".strip() if body else c.complete_note
        task.reminder_is_set = False
        fields += ["status", "percent_complete", "body", "reminder_is_set"]
    return task, fields


def delete_tasks(account: Account, item_ids: Sequence[str], *, hard: bool = False) -> list[ExchangeError | None]:
    """Move tasks to Deleted Items (recoverable by staff), or with ``hard`` delete them for good
    (``DeleteType="HardDelete"``: not in Deleted Items, not recoverable from Outlook); a task already
    gone is not an error."""
    out: list[ExchangeError | None] = []
    for start in range(0, len(item_ids), BATCH):
        chunk = item_ids[start : start + BATCH]
        try:
            results = account.bulk_delete(
                ids=[ItemId(id=i) for i in chunk], delete_type=HARD_DELETE if hard else MOVE_TO_DELETED_ITEMS
            )
        except Exception as exc:
            raise translate(exc, mailbox=account.primary_smtp_address) from exc
        for r in results:
            if isinstance(r, ews.ErrorItemNotFound) or r is True:
                out.append(None)
            elif isinstance(r, Exception):
                out.append(translate(r, mailbox=account.primary_smtp_address))
            else:
                out.append(None)
    return out


def read_states(account: Account, item_ids: Sequence[str]) -> list[TaskState]:
    """How staff left each task: one GetItem per :data:`BATCH` ids."""
    out: list[TaskState] = []
    tasks_folder: str | None = None
    try:
        for start in range(0, len(item_ids), BATCH):
            chunk = item_ids[start : start + BATCH]
            items = account.fetch(
                ids=[ItemId(id=i) for i in chunk],
                only_fields=["status", "is_complete", "complete_date", "parent_folder_id"],
            )
            for item_id, item in zip(chunk, items, strict=True):
                if isinstance(item, ews.ErrorItemNotFound):
                    out.append(TaskState(item_id, "gone"))
                    continue
                if isinstance(item, Exception):
                    raise item
                parent = getattr(item.parent_folder_id, "id", None)
                if parent is not None:
                    tasks_folder = tasks_folder or account.tasks.id
                    if parent != tasks_folder:  # Outlook moves a deleted task to Deleted Items
                        out.append(TaskState(item_id, "gone"))
                        continue
                if item.is_complete or item.status == "Completed":
                    done = item.complete_date
                    out.append(TaskState(item_id, "completed", _plain(done) if isinstance(done, datetime) else None))
                else:
                    out.append(TaskState(item_id, "open"))
    except ExchangeError:
        raise
    except Exception as exc:
        raise translate(exc, mailbox=account.primary_smtp_address) from exc
    return out
