"""What relsync writes into a mailbox over Microsoft Graph: the :class:`~connector.writer.MailboxWriter`
of the Graph backend (graph_api.md sections 4-7).

Same semantics and records as :class:`connector.writer.EwsWriter`:

- categories on contacts: only ``categories`` is PATCHed, only the managed ones change (the user's
  own stay), each PATCH carries the contact's ``If-Match`` etag; a ``412`` (the user edited the
  contact meanwhile) re-reads it, re-merges and writes again (:data:`MAX_CONFLICT_RETRIES` tries).
  Writes go out 20 to a ``$batch``; an error is reported per contact and never raised for one;
- the master category list: missing names (compared case-insensitively) are POSTed with their
  colour (Outlook index ``n`` -> ``"preset{n}"``, ``-1`` -> ``"none"``); existing entries stay as they are;
- follow-up tasks live in the mailbox's default Microsoft To Do list (found once per writer). Our
  follow-up id is the ``externalId`` of a ``linkedResource`` (``applicationName`` "relsync"), so a
  task whose creation reached Graph but not the store is found again instead of created twice.
  A task's "change key" is its ``@odata.etag``.

The pure pieces (request bodies, answers -> records) are plain functions, tested without I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import structlog

from connector.errors import (
    ChangeConflict,
    ExchangeError,
    ExchangeProtocolError,
    MailboxUnavailable,
    TransientError,
)
from connector.graph.client import BatchRequest, BatchResponse, GraphClient
from connector.graph.write_bodies import (
    categories_of,
    change_key_of,
    colour_name,
    etag,
    found_task,
    missing_master_categories,
    new_task_body,
    our_id_of,
    task_etag,
    task_patch,
    task_state,
)
from connector.writer import (
    MAX_CONFLICT_RETRIES,
    BatchWrite,
    CategoryWrite,
    ContactRemoval,
    Created,
    NewContact,
    NewTask,
    PlannedCategories,
    TaskChange,
    TaskState,
    merge_managed,
    merged_categories,
)
from mapping.followups_adopt import FoundTask

log = structlog.get_logger(__name__)

DEFAULT_LIST = "defaultList"
_CONTACT_FIELDS = "categories,changeKey"
#: Error codes of a POST of a master category whose name is there already (Graph's and the fake's).
_DUPLICATE_CODES = frozenset({"ErrorDuplicateCategory", "Conflict", "409"})


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------------------------- writer
class GraphWriter:
    """A :class:`~connector.writer.MailboxWriter` over Microsoft Graph for one mailbox."""

    def __init__(self, client: GraphClient, address: str) -> None:
        self._client = client
        self._address = address
        self._user = client.user_path(address)
        self._list_id: str | None = None

    @property
    def address(self) -> str:
        return self._address

    # ----------------------------------------------------------------------------- plumbing
    # (public names for :mod:`connector.graph.contacts_write`, which writes contacts through them)
    @property
    def client(self) -> GraphClient:
        return self._client

    @property
    def user_path(self) -> str:
        return self._user

    def item(self, kind: str, item_id: str) -> str:
        return self._item(kind, item_id)

    def batch(self, requests: Sequence[BatchRequest]) -> list[BatchResponse]:
        return self._batch(requests)

    def error(self, response: BatchResponse, request: BatchRequest) -> ExchangeError:
        return self._error(response, request)

    def item_gone(self, response: BatchResponse, request: BatchRequest) -> bool:
        return self._item_gone(response, request)

    def _item(self, kind: str, item_id: str) -> str:
        return f"{self._user}/{kind}/{quote(item_id, safe='=')}"

    def _batch(self, requests: Sequence[BatchRequest]) -> list[BatchResponse]:
        """The answers to ``requests`` in their order (an unanswered one has status 0)."""
        if not requests:
            return []
        answers = self._client.batch(requests)
        return [answers.get(r.id) or BatchResponse(r.id, 0, None) for r in requests]

    def _error(self, response: BatchResponse, request: BatchRequest) -> ExchangeError:
        if response.status == 0:
            return TransientError(
                f"Graph gave no answer to {request.method} in a $batch; will retry", mailbox=self._address
            )
        return self._client.error_for(response, f"{request.method} {request.url.split('?')[0]}")

    def _item_gone(self, response: BatchResponse, request: BatchRequest) -> bool:
        """A 404 for the item itself (not for the mailbox: that is an error, never "deleted")."""
        return response.status == 404 and not isinstance(self._error(response, request), MailboxUnavailable)

    # --------------------------------------------------------------------------- categories
    def ensure_master_categories(self, wanted: Sequence[tuple[str, int]]) -> list[str]:
        """Add the missing (name, colour index) categories to the master list; returns the names added.

        One GET; one POST per missing name, none when nothing is missing. A name someone added
        between our GET and our POST (409) counts as there."""
        path = f"{self._user}/outlook/masterCategories"
        answer = self._client.get(path)
        existing = [
            str(c.get("displayName") or "") for c in (answer or {}).get("value") or () if isinstance(c, Mapping)
        ]
        added: list[str] = []
        for name, colour in missing_master_categories(existing, wanted):
            try:
                self._client.post(path, {"displayName": name, "color": colour_name(colour)})
            except ExchangeProtocolError as exc:
                if exc.code in _DUPLICATE_CODES:
                    continue
                raise
            added.append(name)
        return added

    def update_categories(self, item_id: str, add: Collection[str], remove: Collection[str]) -> CategoryWrite:
        """Add and remove categories on one contact, read fresh first; a 412 reads and merges again."""
        path = self._item("contacts", item_id)
        for _ in range(MAX_CONFLICT_RETRIES):
            item = self._client.get(path, {"$select": _CONTACT_FIELDS}) or {}
            current = categories_of(item)
            wanted = merged_categories(current, add, remove)
            if wanted == current:
                return CategoryWrite(item_id, tuple(current), change_key_of(item), changed=False)
            match = etag(change_key_of(item))
            try:
                answer = (
                    self._client.patch(path, {"categories": wanted}, headers={"If-Match": match} if match else None)
                    or {}
                )
            except ChangeConflict:
                continue  # the user changed the contact meanwhile: read it again and re-apply
            return CategoryWrite(
                item_id,
                tuple(categories_of(answer) if "categories" in answer else wanted),
                change_key_of(answer),
                changed=True,
            )
        raise ChangeConflict(
            f"item {item_id} kept changing while its categories were written; will retry on the next run",
            mailbox=self._address,
            code="ErrorIrresolvableConflict",
        )

    def write_categories(
        self, plan: Sequence[PlannedCategories], all_managed: Collection[str], chunk_size: int
    ) -> list[BatchWrite]:
        """Bring each planned contact to its wanted managed categories, writing only those that differ.

        Compared with what the store last saw (no read first). The rest are PATCHed with their
        last-known etag, ``chunk_size`` contacts per round (20 per ``$batch``); the contacts of a round
        that answered 412 are read again (one ``$batch``), re-merged and written again, up to
        :data:`MAX_CONFLICT_RETRIES` tries in all. Errors are reported per contact."""
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        results: list[BatchWrite] = []
        todo: list[PlannedCategories] = []
        for entry in plan:
            target = tuple(merge_managed(entry.current, entry.wanted, all_managed))
            if target == tuple(entry.current):
                results.append(BatchWrite(entry.key, entry.mailbox, entry.item_id, target, entry.change_key, False))
            else:
                todo.append(entry)
        for chunk in _chunks(todo, chunk_size):
            results.extend(self._write_round(chunk, all_managed))
        return results

    def _write_round(self, chunk: Sequence[PlannedCategories], all_managed: Collection[str]) -> list[BatchWrite]:
        out: list[BatchWrite] = []
        # What each contact is believed to hold now: its categories and ChangeKey.
        state = {e.key: (tuple(e.current), e.change_key) for e in chunk}
        pending = list(chunk)
        for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
            writes: list[tuple[PlannedCategories, list[str]]] = []
            for entry in pending:
                now, key = state[entry.key]
                target = merge_managed(now, entry.wanted, all_managed)
                if tuple(target) == now:  # after a re-read: nothing (left) to do
                    out.append(BatchWrite(entry.key, entry.mailbox, entry.item_id, now, key, False))
                else:
                    writes.append((entry, target))
            requests = [
                BatchRequest(
                    str(n),
                    self._item("contacts", e.item_id),
                    "PATCH",
                    {"categories": target},
                    {"If-Match": m} if (m := etag(state[e.key][1])) else None,
                )
                for n, (e, target) in enumerate(writes)
            ]
            try:
                answers = self._batch(requests)
            except ExchangeError as exc:
                log.warning("categories not written", mailbox=self._address, items=len(writes), error=str(exc))
                out += [
                    BatchWrite(e.key, e.mailbox, e.item_id, e.current, e.change_key, False, str(exc)) for e, _ in writes
                ]
                return out
            conflicts: list[PlannedCategories] = []
            for (entry, target), request, answer in zip(writes, requests, answers, strict=True):
                if answer.ok:
                    body = answer.body if isinstance(answer.body, Mapping) else {}
                    written = tuple(categories_of(body)) if "categories" in body else tuple(target)
                    out.append(BatchWrite(entry.key, entry.mailbox, entry.item_id, written, change_key_of(body), True))
                elif answer.status == 412:
                    conflicts.append(entry)
                else:
                    out.append(
                        BatchWrite(
                            entry.key,
                            entry.mailbox,
                            entry.item_id,
                            entry.current,
                            entry.change_key,
                            False,
                            str(self._error(answer, request)),
                        )
                    )
            if not conflicts:
                return out
            if attempt == MAX_CONFLICT_RETRIES:
                out += [
                    BatchWrite(
                        e.key,
                        e.mailbox,
                        e.item_id,
                        e.current,
                        e.change_key,
                        False,
                        f"ErrorIrresolvableConflict: item {e.item_id} kept changing while its "
                        "categories were written; will retry on the next run",
                    )
                    for e in conflicts
                ]
                return out
            pending = self._reread(conflicts, state, out)
        return out

    def _reread(
        self,
        entries: Sequence[PlannedCategories],
        state: dict[int, tuple[tuple[str, ...], str | None]],
        out: list[BatchWrite],
    ) -> list[PlannedCategories]:
        """Read contacts again after a 412 (one ``$batch``): their fresh state goes into ``state``; the
        ones that cannot be read are reported in ``out``. Returns those to write again."""
        requests = [
            BatchRequest(str(n), f"{self._item('contacts', e.item_id)}?$select={_CONTACT_FIELDS}")
            for n, e in enumerate(entries)
        ]
        try:
            answers = self._batch(requests)
        except ExchangeError as exc:
            out += [BatchWrite(e.key, e.mailbox, e.item_id, e.current, e.change_key, False, str(exc)) for e in entries]
            return []
        again: list[PlannedCategories] = []
        for entry, request, answer in zip(entries, requests, answers, strict=True):
            if not answer.ok or not isinstance(answer.body, Mapping):
                error = (
                    self._error(answer, request)
                    if not answer.ok
                    else ExchangeProtocolError(
                        f"Graph answered the re-read of {entry.item_id} with no contact", mailbox=self._address
                    )
                )
                out.append(
                    BatchWrite(
                        entry.key, entry.mailbox, entry.item_id, entry.current, entry.change_key, False, str(error)
                    )
                )
                continue
            state[entry.key] = (tuple(categories_of(answer.body)), change_key_of(answer.body))
            again.append(entry)
        return again

    # -------------------------------------------------------------------------------- To Do
    def _tasks_path(self) -> str:
        if self._list_id is None:
            self._list_id = self._default_list()
        return f"{self._user}/todo/lists/{quote(self._list_id, safe='=')}/tasks"

    def _default_list(self) -> str:
        answer: Any = self._client.get(f"{self._user}/todo/lists")
        while True:
            for entry in (answer or {}).get("value") or ():
                if isinstance(entry, Mapping) and entry.get("wellknownListName") == DEFAULT_LIST and entry.get("id"):
                    return str(entry["id"])
            link = (answer or {}).get("@odata.nextLink")
            if not link:
                break
            answer = self._client.get_url(str(link))
        raise ExchangeProtocolError(
            "the mailbox has no default Microsoft To Do list (wellknownListName "
            "defaultList); follow-up tasks cannot be written",
            mailbox=self._address,
            code="ErrorItemNotFound",
        )

    def _task(self, item_id: str) -> str:
        return f"{self._tasks_path()}/{quote(item_id, safe='=')}"

    def find_tasks(self, our_ids: Sequence[str]) -> dict[str, Created]:
        """Tasks of the default list carrying one of ``our_ids`` (every page of the list is read)."""
        if not our_ids:
            return {}
        wanted = set(our_ids)
        found: dict[str, Created] = {}
        size = self._client.settings.page_size
        headers = {"Prefer": f"odata.maxpagesize={size}"}
        answer: Any = self._client.get(self._tasks_path(), {"$expand": "linkedResources"}, headers=headers)
        skipped = 0
        while True:
            for task in (answer or {}).get("value") or ():
                if not isinstance(task, Mapping):
                    skipped += 1
                    continue
                our_id = our_id_of(task)
                if our_id is None or our_id not in wanted:
                    continue
                item_id = task.get("id")
                if not isinstance(item_id, str) or not item_id:
                    skipped += 1
                    log.warning("task without id skipped", mailbox=self._address, our_id=our_id)
                    continue
                found[our_id] = Created(our_id, item_id, task_etag(task))
            link = (answer or {}).get("@odata.nextLink")
            if not link:
                break
            answer = self._client.get_url(str(link), headers=headers)
        if skipped:
            log.warning("malformed tasks skipped", mailbox=self._address, count=skipped)
        return found

    def list_tasks(self) -> list[Mapping[str, Any]]:
        """Every task of the default list (id, title, due date, status, linked resources), every page read.

        Used once per mailbox switched from EWS, to find the tasks relsync made there without a
        translation of their ids (:mod:`connector.graph.ews_ids`)."""
        headers = {"Prefer": f"odata.maxpagesize={self._client.settings.page_size}"}
        query = {"$select": "id,title,dueDateTime,status", "$expand": "linkedResources"}
        answer: Any = self._client.get(self._tasks_path(), query, headers=headers)
        out: list[Mapping[str, Any]] = []
        while True:
            out += [t for t in (answer or {}).get("value") or () if isinstance(t, Mapping)]
            link = (answer or {}).get("@odata.nextLink")
            if not link:
                return out
            answer = self._client.get_url(str(link), headers=headers)

    def list_our_tasks(self) -> list[FoundTask]:
        """Every open task of the default list carrying one of our ids (every page read)."""
        return [t for t in (found_task(task) for task in self.list_tasks()) if t is not None]

    def create_tasks(self, tasks: Sequence[NewTask]) -> list[Created | ExchangeError]:
        """Create tasks 20 to a ``$batch``; per task its ids or its error."""
        path = self._tasks_path()
        requests = [BatchRequest(str(n), path, "POST", new_task_body(t)) for n, t in enumerate(tasks)]
        out: list[Created | ExchangeError] = []
        for task, request, answer in zip(tasks, requests, self._batch(requests), strict=True):
            body = answer.body if isinstance(answer.body, Mapping) else {}
            item_id = body.get("id")
            if answer.ok and isinstance(item_id, str) and item_id:
                out.append(Created(task.our_id, item_id, task_etag(body)))
            elif answer.ok:
                out.append(
                    ExchangeProtocolError(f"Graph created task {task.our_id} but sent no id", mailbox=self._address)
                )
            else:
                out.append(self._error(answer, request))
        return out

    def update_tasks(self, changes: Sequence[TaskChange]) -> list[str | ExchangeError | None]:
        """PATCH each change; per change the task's new etag, None when it is gone, or its error.

        A completion reads the task's body first (one ``$batch``), so the note is added, not written over."""
        bodies = self._bodies([c.item_id for c in changes if c.complete_note is not None])
        out: list[str | ExchangeError | None] = [None] * len(changes)
        requests: list[BatchRequest] = []
        index: list[int] = []
        for n, change in enumerate(changes):
            body = bodies.get(change.item_id, "")
            if isinstance(body, ExchangeError):
                out[n] = body
                continue
            if change.complete_note is not None and body is None:
                continue  # gone: nothing to complete
            requests.append(BatchRequest(str(n), self._task(change.item_id), "PATCH", task_patch(change, body)))
            index.append(n)
        for n, request, answer in zip(index, requests, self._batch(requests), strict=True):
            if answer.ok:
                out[n] = task_etag(answer.body) or ""
            elif self._item_gone(answer, request):
                out[n] = None
            else:
                out[n] = self._error(answer, request)
        return out

    def _bodies(self, item_ids: Sequence[str]) -> dict[str, str | ExchangeError | None]:
        """Current bodies by task id: None when the task is gone, the error when it cannot be read."""
        requests = [BatchRequest(str(n), f"{self._task(i)}?$select=body") for n, i in enumerate(item_ids)]
        out: dict[str, str | ExchangeError | None] = {}
        for item_id, request, answer in zip(item_ids, requests, self._batch(requests), strict=True):
            if answer.ok:
                body = answer.body.get("body") if isinstance(answer.body, Mapping) else None
                content = body.get("content") if isinstance(body, Mapping) else None
                out[item_id] = content if isinstance(content, str) else ""
            elif self._item_gone(answer, request):
                out[item_id] = None
            else:
                out[item_id] = self._error(answer, request)
        return out

    def delete_tasks(self, item_ids: Sequence[str], hard: bool = False) -> list[ExchangeError | None]:
        """DELETE each task (20 to a ``$batch``); a task already gone is not an error. Microsoft To Do
        has no Deleted Items: a deleted task is gone whether ``hard`` or not."""
        requests = [BatchRequest(str(n), self._task(i), "DELETE") for n, i in enumerate(item_ids)]
        return [
            None if answer.ok or self._item_gone(answer, request) else self._error(answer, request)
            for request, answer in zip(requests, self._batch(requests), strict=True)
        ]

    def read_task_states(self, item_ids: Sequence[str]) -> list[TaskState]:
        """How staff left each task (GET each, 20 to a ``$batch``): 404 -> gone. Any other error is
        raised: a task that cannot be read is not taken as deleted."""
        requests = [
            BatchRequest(str(n), f"{self._task(i)}?$select=status,completedDateTime") for n, i in enumerate(item_ids)
        ]
        out: list[TaskState] = []
        for item_id, request, answer in zip(item_ids, requests, self._batch(requests), strict=True):
            if answer.ok and isinstance(answer.body, Mapping):
                out.append(task_state(item_id, answer.body))
            elif self._item_gone(answer, request):
                out.append(TaskState(item_id, "gone"))
            elif answer.ok:
                raise ExchangeProtocolError(f"Graph answered task {item_id} with no task", mailbox=self._address)
            else:
                raise self._error(answer, request)
        return out

    # ------------------------------------------------------------------------------ contacts
    def find_contacts(self, our_ids: Sequence[str]) -> dict[str, Created]:
        from connector.graph import contacts_write

        return contacts_write.find_contacts(self, our_ids)

    def create_contacts(self, contacts: Sequence[NewContact]) -> list[Created | ExchangeError]:
        from connector.graph import contacts_write

        return contacts_write.create_contacts(self, contacts)

    def remove_contacts(self, created: Sequence[Created]) -> list[ContactRemoval | ExchangeError]:
        from connector.graph import contacts_write

        return contacts_write.remove_contacts(self, created)
