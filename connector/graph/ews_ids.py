"""Moving a mailbox's store links from EWS item ids to Graph ids, on its first Graph sync.

(Named for what it moves: the store's schema migrations are :mod:`mapping.store.migrate`, Alembic's.)

A mailbox switched from EWS to Graph holds links keyed by EWS ids and EWS sync states. Read from
scratch over Graph, every item would come back under its Graph id: each old link would look gone (the
safety rail refuses to unlink that many, and the mailbox needs attention) while the new ones double it.
So the first time :class:`connector.graph.reader.GraphMailboxSync` meets a folder whose stored state is an
EWS state, :func:`migrate_folder` translates the folder's stored ids with ``translateExchangeIds``
(``ewsId`` -> ``restImmutableEntryId``, 1000 per call) and rewrites them in one transaction with the
folder's state (:func:`mapping.store.id_rewrite.rewrite_item_ids`); the full read that follows upserts
onto them. The follow-up tasks' ids (folder ``tasks``) move along with the mailbox's first such folder,
so tasks created over EWS are updated and completed over Graph.

Ids Graph cannot translate (an item deleted meanwhile) keep their EWS id and take the normal path: the
full read does not see them, so they are unlinked under the safety rail.

**Without a translation.** Microsoft documents ``translateExchangeIds`` as "Application: Not supported"
(v1.0 and beta), and relsync holds an app's token (client credentials): in Exchange Online the call is
refused, and that is the path that really runs. The folder's old links are then *parked* (their ids
prefixed, in one transaction with the state reset, so they stay recognisable however many runs the read
takes: an interrupted read resumes and :func:`resumed` picks them up at its end), the folder is read
from scratch under Graph ids, and :meth:`Migration.settle` folds each old link into the link the read
made for the same entity (person, e-mail, meeting occurrence) in the same mailbox folder
(:func:`mapping.store.id_rewrite.replace_returned_links`): the old row takes the new id and keeps what
matters (categories written, our id, first sighting, overrides), the interaction keeps its viewer, and
nothing is counted as gone. Only old links whose entity did not come back count towards the safety rail.
The follow-up tasks, with no translation either, are found again in the default To Do list (the Outlook
task *is* the To Do task): by our follow-up id where a linked resource carries it, else by title and due
day, then by title alone, only where exactly one stored task and one To Do task share it
(:func:`match_tasks`). A task not found (deleted, or two tasks To Do cannot tell apart) could never be
read or written over Graph (an EWS id is malformed there), so its follow-up is closed as dismissed, with a
note, in the same transaction: it never gets a second open task, and the old task, if still there, stays
as staff left it.

The calendar: EWS links a series by its first occurrence, Graph lists instances. After the full read
:meth:`Migration.settle` folds a series link into its first occurrence's instance link when the read saw
that occurrence, unlinks the series links whose other occurrences came back under instance links (the
occurrences keep their viewers), and keeps, without counting them as gone, translated items and items the
calendar window does not reach (old singles, series with no instance in the window): they merely lie
outside the window, and stay as a meeting that left the window does.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog

from connector.base import Counters
from connector.errors import ExchangeError, ExchangeProtocolError, Throttled, TransientError
from connector.graph.client import GraphClient
from connector.graph.write_bodies import our_id_of
from connector.graph.writer import GraphWriter
from mapping.changes import FolderName, SyncRules
from mapping.store.id_rewrite import (
    LegacyLinks,
    LegacyTask,
    legacy_links,
    legacy_tasks,
    live_item_ids,
    outside_window,
    parked,
    parked_links,
    replace_returned_links,
    retire_series_links,
    rewrite_item_ids,
    unpark,
)
from mapping.store.store import Store

logger = structlog.get_logger(__name__)

#: translateExchangeIds takes at most this many ids per call.
TRANSLATE_CHUNK = 1000
SOURCE_ID_TYPE = "ewsId"
TARGET_ID_TYPE = "restImmutableEntryId"
#: Untranslated ids named in the log (the count is always there).
LOGGED_IDS = 20


def is_ews_state(state: str) -> bool:
    """True for a stored sync state EWS wrote (an opaque SyncFolderItems state, not a Graph link)."""
    return not state.startswith(("https://", "http://"))


def translations(answer: Any, asked: Sequence[str]) -> tuple[dict[str, str], int]:
    """A ``translateExchangeIds`` answer -> ({asked id: its Graph id}, entries skipped as malformed).

    Entries without a ``targetId``, or for an id not asked, are left out (Graph leaves out what it
    cannot translate); a malformed answer translates nothing."""
    wanted = set(asked)
    out: dict[str, str] = {}
    bad = 0
    value = answer.get("value") if isinstance(answer, Mapping) else None
    if not isinstance(value, list):
        return out, 0
    for entry in value:
        source = entry.get("sourceId") if isinstance(entry, Mapping) else None
        target = entry.get("targetId") if isinstance(entry, Mapping) else None
        if not isinstance(source, str) or source not in wanted:
            bad += 1
        elif isinstance(target, str) and target:
            out[source] = target
    return out, bad


def translate_ids(
    client: GraphClient, address: str, ids: Sequence[str], counters: Counters | None = None
) -> dict[str, str]:
    """{EWS id: Graph immutable id} for the ``ids`` of one mailbox Graph could translate."""
    out: dict[str, str] = {}
    path = f"{client.user_path(address)}/translateExchangeIds"
    for start in range(0, len(ids), TRANSLATE_CHUNK):
        chunk = list(ids[start : start + TRANSLATE_CHUNK])
        body = {"inputIds": chunk, "sourceIdType": SOURCE_ID_TYPE, "targetIdType": TARGET_ID_TYPE}
        answer = client.post(path, body, counters=counters)
        if not isinstance(answer, Mapping) or not isinstance(answer.get("value"), list):
            raise ExchangeProtocolError(
                "translateExchangeIds answered without a value list", mailbox=address, code="MalformedTranslation"
            )
        found, bad = translations(answer, chunk)
        if bad:
            logger.warning(
                "translateExchangeIds answered entries for ids not asked, skipped", mailbox=address, count=bad
            )
        out.update(found)
    return out


def _due_day(value: Any) -> date | None:
    """The day of a todoTask's ``dueDateTime`` as written (the owner's day; To Do writes its midnight)."""
    text = value.get("dateTime") if isinstance(value, Mapping) else None
    try:
        return date.fromisoformat(text[:10]) if isinstance(text, str) else None
    except ValueError:
        return None


def match_tasks(stored: Sequence[LegacyTask], todo: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """{EWS id of a stored follow-up task: the id of the same task in To Do}, without a translation.

    A To Do task whose linked resource carries a follow-up's id is that follow-up's. Tasks made over EWS
    carry our id as an extended property To Do does not show, so the others are matched by (title, due
    day), then by title alone, and only where exactly one stored task and exactly one To Do task share
    the key: a guess between two is never made (the stored task then stays unmatched). To Do tasks carrying
    some other follow-up's id are never taken."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    ours: dict[str, str] = {}
    free: list[Mapping[str, Any]] = []
    for task in todo:
        task_id = task.get("id")
        if not isinstance(task_id, str) or not task_id:
            continue
        our_id = our_id_of(task)
        if our_id is None:
            free.append(task)
        else:
            ours.setdefault(our_id, task_id)
    for legacy in stored:
        if legacy.our_id in ours and ours[legacy.our_id] not in taken:
            out[legacy.item_id] = ours[legacy.our_id]
            taken.add(ours[legacy.our_id])

    def title(value: Any) -> str:
        return " ".join(value.split()).casefold() if isinstance(value, str) else ""

    keys: tuple[tuple[Callable[[LegacyTask], Hashable], Callable[[Mapping[str, Any]], Hashable]], ...] = (
        (lambda t: (title(t.title), t.due), lambda t: (title(t.get("title")), _due_day(t.get("dueDateTime")))),
        (lambda t: title(t.title), lambda t: title(t.get("title"))),
    )
    for stored_key, todo_key in keys:
        rest = [t for t in stored if t.item_id not in out]
        wanted = Counter(stored_key(t) for t in rest)
        offered: dict[Hashable, list[str]] = defaultdict(list)
        for task in free:
            if task["id"] not in taken:
                offered[todo_key(task)].append(task["id"])
        for legacy in rest:
            key = stored_key(legacy)
            if wanted[key] == 1 and len(offered[key]) == 1:
                out[legacy.item_id] = offered[key][0]
                taken.add(offered[key][0])
    return out


def find_tasks_again(
    client: GraphClient, store: Store, address: str, mailbox_id: int, log: Any
) -> tuple[dict[str, str], list[str]]:
    """({EWS id: To Do id} of the mailbox's follow-up tasks found in its default To Do list (see
    :func:`match_tasks`), the EWS ids of those not found (logged))."""
    stored = legacy_tasks(store, mailbox_id)
    if not stored:
        return {}, []
    found = match_tasks(stored, GraphWriter(client, address).list_tasks())
    lost = [t.item_id for t in stored if t.item_id not in found]
    log.info("follow-up tasks found again in To Do without a translation", found=len(found), lost=len(lost))
    if lost:
        log.warning(
            "follow-up tasks not found in To Do: their follow-ups are closed as dismissed",
            count=len(lost),
            item_ids=lost[:LOGGED_IDS],
        )
    return found, lost


@dataclass
class Migration:
    """One folder's move to Graph ids (what :func:`migrate_folder` did, what :meth:`settle` needs)."""

    folder: FolderName
    #: Graph refused the translation: the old links are replaced through the full read (settle).
    refused: bool = False
    translated: int = 0
    untranslated: int = 0
    collisions: int = 0
    tasks_translated: int = 0
    #: The folder's link ids before the full read (Graph's where translated).
    before: frozenset[str] = field(default_factory=frozenset)
    #: Graph ids of translated links: they exist, so a calendar read that misses them left them outside its window.
    present: frozenset[str] = field(default_factory=frozenset)
    #: Ids (Graph's where translated) of calendar links that stand for a whole series.
    series: frozenset[str] = field(default_factory=frozenset)

    def settle(
        self,
        store: Store,
        mailbox_id: int,
        seen: set[str],
        rules: SyncRules,
        window: tuple[datetime, datetime] | None = None,
        log: Any = None,
    ) -> int:
        """After the folder's full read, before unlinking what it did not see: fold the old links whose
        entity came back under a new id into the new links; for the calendar, unlink the series links
        Graph replaced with instance links and mark as seen (kept) every item Graph translated and every
        one outside the read's ``window``. Returns how many links were unlinked (never counted against
        the safety rail)."""
        flog = log if log is not None else logger
        replaced = replace_returned_links(store, mailbox_id, self.folder, self.before, seen, rules)
        unlinked = replaced.unlinked
        retired = 0
        if self.folder == "calendar":
            retired = retire_series_links(store, mailbox_id, self.folder, self.series - seen, rules)
            kept = set(self.present | self.series)
            if window is not None:
                kept |= outside_window(store, mailbox_id, self.folder, self.before - seen - kept, *window)
            if self.refused:  # kept parked links get their own ids back: no longer waiting for the read
                kept = unpark(store, mailbox_id, self.folder, kept)
            seen.update(kept)
        if replaced.merged or unlinked or retired:
            flog.info(
                "old links replaced by the links the full read made",
                merged=replaced.merged,
                unlinked=unlinked,
                series_retired=retired,
            )
        return unlinked + retired


def migrate_folder(
    client: GraphClient,
    store: Store,
    address: str,
    mailbox_id: int,
    folder: FolderName,
    *,
    counters: Counters | None = None,
    log: Any = None,
) -> Migration:
    """Translate a folder's stored EWS ids (and, once per mailbox, its task ids) to Graph ids and rewrite
    them together with the folder's state (now "read from scratch") in one transaction.

    Throttling and transient failures are raised with nothing changed. When Graph refuses the
    translation itself (any other error: app-only tokens are refused), only the folder's state is reset
    (and, once per mailbox, the tasks found again in To Do are re-keyed); the returned Migration says
    ``refused`` and its :meth:`Migration.settle` replaces the old links after the full read."""
    flog = log if log is not None else logger
    legacy = legacy_links(store, mailbox_id, folder)
    task_ids: dict[str, str] | None = None
    try:
        new_ids = translate_ids(client, address, legacy.item_ids, counters) if legacy.item_ids else {}
        if legacy.tasks is not None:
            task_ids = translate_ids(client, address, legacy.tasks, counters) if legacy.tasks else {}
    except (Throttled, TransientError):
        raise  # nothing changed: the next run translates again
    except ExchangeError as exc:
        # Refused for good (Microsoft documents translateExchangeIds for delegated permissions only; an
        # app's token is refused): the folder is read from scratch under Graph ids and settle() folds
        # the old links into the new ones, entity by entity.
        if exc.code == "ErrorAccessDenied":  # the expected answer to an app's token: no need to alarm anyone
            flog.info(
                "translateExchangeIds refused (delegated permissions only), replacing the folder's links "
                "through a full read",
                code=exc.code,
            )
        else:
            flog.warning(
                "translateExchangeIds failed, replacing the folder's links through a full read",
                error_kind=type(exc).__name__,
                code=exc.code,
                error=str(exc),
            )
        return _without_translation(client, store, address, mailbox_id, folder, legacy, flog)
    done = rewrite_item_ids(store, mailbox_id, folder, new_ids, task_ids=task_ids)
    missing = [i for i in legacy.item_ids if i not in new_ids]
    migration = Migration(
        folder=folder,
        translated=done.rewritten + done.unchanged,
        untranslated=len(missing),
        collisions=done.collisions,
        tasks_translated=len(task_ids or {}),
        before=frozenset(new_ids.get(i, i) for i in legacy.item_ids),
        present=frozenset(new_ids.values()),
        series=frozenset(new_ids.get(i, i) for i in legacy.series),
    )
    flog.info(
        "stored EWS ids moved to Graph ids",
        translated=migration.translated,
        untranslated=migration.untranslated,
        collisions=migration.collisions,
        tasks=migration.tasks_translated,
        series=len(migration.series),
    )
    if missing:
        flog.warning(
            "ids Graph could not translate are left to the full read", count=len(missing), item_ids=missing[:LOGGED_IDS]
        )
    return migration


def _without_translation(
    client: GraphClient,
    store: Store,
    address: str,
    mailbox_id: int,
    folder: FolderName,
    legacy: LegacyLinks,
    flog: Any,
) -> Migration:
    task_ids: dict[str, str] | None = None
    lost: list[str] = []
    if legacy.tasks is not None:  # once per mailbox: the tasks move with its first folder
        try:
            task_ids, lost = find_tasks_again(client, store, address, mailbox_id, flog)
        except (Throttled, TransientError):
            raise
        except ExchangeError as exc:  # To Do unreadable (permission): the tasks wait for the next folder/run
            flog.warning(
                "To Do not readable, follow-up tasks keep their EWS ids for now",
                error_kind=type(exc).__name__,
                error=str(exc),
            )
    # One transaction: the folder's links parked (recognisable until a complete read replaces them, however
    # many runs it takes), its state reset, and once per mailbox the tasks: an EWS id is malformed to Graph,
    # so a task not found again could never be read or written; its follow-up is closed (dismissed).
    done = rewrite_item_ids(
        store, mailbox_id, folder, {i: parked(i) for i in legacy.item_ids}, task_ids=task_ids, lost_tasks=lost
    )
    return Migration(
        folder=folder,
        refused=True,
        untranslated=len(legacy.item_ids),
        tasks_translated=done.tasks_rewritten,
        before=frozenset(parked(i) for i in legacy.item_ids),
        series=frozenset(parked(i) for i in legacy.series),
    )


def resumed(store: Store, mailbox_id: int, folder: FolderName) -> tuple[Migration, set[str]] | None:
    """For a folder read to its end without a fresh start (a read from scratch that was interrupted and
    resumed): when it still holds parked links (a refused translation), the Migration that settles them
    and the ids to take as seen (every live link but the parked ones). None when nothing is parked."""
    ids, series = parked_links(store, mailbox_id, folder)
    if not ids:
        return None
    return Migration(folder=folder, refused=True, before=ids, series=series), live_item_ids(
        store, mailbox_id, folder
    ) - ids
