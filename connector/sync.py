"""Incremental, crash-safe sync of one mailbox's folders into the store, page by page.

exchangelib's ``sync_items()`` saves its state only when its generator is exhausted, so this drives
the ``SyncFolderItems`` service directly: each page's changes are translated to records and handed
to the store **together with the state that follows the page**, in one transaction. A crash at any
point therefore resumes at the last committed page, with no loss and, because every write is an
upsert keyed on Exchange ids and Message-IDs, no duplicate.

Failures, and what happens:
- connection dropped / timeout / 503: retried here with jittered exponential back-off (exchangelib
  does not retry them);
- ``ErrorServerBusy``: the server's ``BackOffMilliseconds`` is honoured, then retried;
- the saved state is refused (``ErrorInvalidSyncStateData``): the folder is resynced from scratch,
  upserting, and items no longer present are unlinked at the end;
- a full resync that would unlink most of a folder (a folder that suddenly looks empty, a lost
  permission): nothing is unlinked, and the mailbox is reported as needing attention.
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from exchangelib import Account
from exchangelib.folders import BaseFolder
from exchangelib.items import ID_ONLY, CalendarItem, Contact, Message
from exchangelib.properties import ItemId
from exchangelib.services import SyncFolderItems

from connector.errors import (
    AuthenticationFailed,
    ExchangeError,
    SyncStateInvalid,
    Throttled,
    TransientError,
    translate,
)
from connector.ews import FOLDER_ATTRIBUTES, EwsConnection
from connector.normalize import (
    BadItem,
    contact_record,
    deleted_occurrence_starts,
    meeting_record,
    message_record,
    modified_occurrence_records,
    recurrence_spec,
    register_user_fields,
)
from mapping.changes import FolderName, ItemChange, MeetingSeries, Page, PageResult, SkippedItem, SyncRules
from mapping.records import MeetingRecord
from mapping.recurrence import expand_occurrences
from mapping.store.page_writer import PageWriter, shareable
from mapping.store.store import MassUnlinkRefused, Store

log = structlog.get_logger(__name__)

CONTACT_FIELDS = (
    "display_name", "given_name", "middle_name", "surname", "nickname", "company_name", "job_title",
    "department", "business_homepage", "email_addresses", "phone_numbers", "physical_addresses",
    "categories", "sensitivity", "item_class",
)
MESSAGE_FIELDS = (
    "subject", "sensitivity", "categories", "datetime_sent", "datetime_received", "datetime_created", "sender",
    "author",
    "to_recipients", "cc_recipients", "bcc_recipients", "message_id", "conversation_id", "size", "item_class",
)
CALENDAR_FIELDS = (
    "subject", "sensitivity", "categories", "start", "end", "is_all_day", "location", "organizer",
    "required_attendees", "optional_attendees", "uid", "type", "recurrence", "modified_occurrences",
    "deleted_occurrences", "is_cancelled", "item_class", "_start_timezone", "_end_timezone",
)
#: Exceptions of recurring series asked for in one GetItem request (exchangelib's own chunk size).
_EXCEPTIONS_PER_REQUEST = 100
#: What is fetched of an exception of a recurring series (GetItem on the ids its master lists).
EXCEPTION_FIELDS = (
    "subject", "sensitivity", "start", "end", "is_all_day", "location", "organizer", "required_attendees",
    "optional_attendees", "uid", "type", "is_cancelled", "item_class", "original_start", "_start_timezone",
    "_end_timezone",
)
FOLDER_FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": CONTACT_FIELDS,
    "inbox": MESSAGE_FIELDS,
    "sentitems": MESSAGE_FIELDS,
    "calendar": CALENDAR_FIELDS,
}


@dataclass(frozen=True)
class SyncSettings:
    """How the engine pages, retries and translates (built from the config by the scheduler)."""

    page_size: int = 512
    calendar_days_back: int = 365
    calendar_days_ahead: int = 180
    default_region: str = "US"
    snippet_chars: int = 0
    user_fields: tuple[str, ...] = ()
    max_attempts: int = 6
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    max_back_off_seconds: float = 300.0
    #: A full resync may unlink at most this share of a folder's known items, whatever its size.
    max_unlink_share: float = 0.5
    #: Once a sync call has seen this many changes with more pages behind (a backlog: a first sync, a big
    #: import), applying moves to a second process for the rest of the ``sync`` call, so the store's
    #: work overlaps the server's on another core (see mapping.store.page_writer). 0: never.
    parallel_apply_min_changes: int = 256


@dataclass
class FolderReport:
    folder: str
    pages: int = 0
    full_sync: bool = False
    result: PageResult = field(default_factory=PageResult)
    unlinked: int = 0
    retries: int = 0
    throttled_seconds: float = 0.0


@dataclass
class MailboxReport:
    """What one mailbox's sync did; ``error`` set means it needs attention."""

    mailbox: str
    folders: list[FolderReport] = field(default_factory=list)
    error: str | None = None
    #: What kind of problem ``error`` is, for metrics and alerts: the error class's name
    #: (``MailboxUnavailable``, ``TransientError``, ``Throttled``, ``MassUnlinkRefused``, ...).
    error_kind: str | None = None
    #: Stopped between pages because ``should_stop`` said so (shutdown, lease lost): nothing half-applied.
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


Progress = Callable[[str, str, FolderReport], None]


class SyncInterrupted(Exception):
    """``should_stop`` said stop: raised between pages (after a commit), never inside one."""


class PageApplier:
    """Applies a sync call's pages in this process, or, once a backlog shows, hands them to a writer
    process (:mod:`mapping.store.page_writer`), so the store's work overlaps the server's on another core.

    Each page still commits with its own state, in order. Shared by the EWS and the Graph engines; one per
    engine, closed at the end of each ``sync`` call.
    """

    def __init__(self, store: Store, rules: Callable[[], SyncRules], settings: SyncSettings) -> None:
        self.store = store
        self._rules = rules  # read at each page: callers may swap an engine's rules between calls
        self.settings = settings
        #: Changes seen in this sync call: a backlog is ``parallel_apply_min_changes`` of them with more
        #: pages behind (one EWS page of 512; the second of Graph's pages of 200).
        self._seen = 0
        self._writer: PageWriter | None = None
        self._pending_error: BaseException | None = None

    def start_if_backlog(self, total: int | None) -> None:
        """Start the writer now for a full read of a folder holding pages of items (``total`` from the
        server), so its start-up (a new interpreter importing the store) overlaps the first fetch."""
        threshold = self.settings.parallel_apply_min_changes
        if (
            self._writer is None and threshold > 0 and isinstance(total, int)
            and total >= max(2 * threshold, self.settings.page_size + 1) and shareable(self.store.url)
        ):
            self._writer = PageWriter(self.store.url)

    def apply(self, page: Page, *, more: bool) -> list[PageResult]:
        """Apply a page here, or in the writer once a backlog shows (see SyncSettings); the results of
        the pages finished meanwhile."""
        self._seen += len(page.changes) + len(page.skipped)
        threshold = self.settings.parallel_apply_min_changes
        if self._writer is None and more and 0 < threshold <= self._seen and shareable(self.store.url):
            self._writer = PageWriter(self.store.url)
        if self._writer is None:
            return [self.store.apply_page(page, self._rules())]
        return self._writer.submit(page, self._rules())

    def settle(self, flog: Any, *, failing: bool) -> list[PageResult]:
        """Wait for the writer's pages; raise its failure unless another is already on its way up
        (``failing``), in which case it is logged. Nothing may write behind a state reset or the next
        folder, so this runs at the end of every folder, failed or not."""
        if self._writer is None:
            return []
        try:
            results, error = self._writer.drain()
        except Exception as exc:  # the writer process itself is gone
            if not failing:
                raise
            flog.error("page writer failed too", error=f"{type(exc).__name__}: {exc}")
            return []
        if error is not None:
            if not failing:
                self._pending_error = error
            else:
                flog.error("page writer failed too", error=f"{type(error).__name__}: {error}")
        return results

    def raise_pending(self) -> None:
        """Raise the writer's failure :meth:`settle` kept (after the caller counted the pages before it)."""
        error, self._pending_error = self._pending_error, None
        if error is not None:
            raise error

    def close(self) -> None:
        self._seen = 0
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def run_mailbox(store: Store, mailbox_id: int, address: str, body: Callable[[MailboxReport], None]) -> MailboxReport:
    """Run one mailbox's folder syncs (``body`` appends a FolderReport per folder) and record the outcome
    on the mailbox, the same for every backend: server errors and a refused mass unlink go into the
    report and mark the mailbox as needing attention; a stop between pages is an interrupted report
    (every committed page stands); refused credentials are marked and raised (the same for every
    mailbox: the caller stops); throttling waits are recorded."""
    report = MailboxReport(mailbox=address)
    try:
        body(report)
    except AuthenticationFailed as exc:
        store.mark_attention(mailbox_id, str(exc))
        raise
    except SyncInterrupted:
        report.interrupted = True
        return report
    except (MassUnlinkRefused, ExchangeError) as exc:
        report.error = str(exc)
        report.error_kind = type(exc).__name__
    if report.error:
        log.warning("mailbox needs attention", mailbox=address, error=report.error)
        store.mark_attention(mailbox_id, report.error)
    else:
        store.mark_success(mailbox_id)
    throttled = sum(f.throttled_seconds for f in report.folders)
    if throttled:
        store.mark_throttled(mailbox_id, throttled)
    return report


class MailboxSync:
    """Syncs mailboxes through one shared EWS connection into one store."""

    def __init__(
        self, connection: EwsConnection, store: Store, rules: SyncRules, settings: SyncSettings,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.connection = connection
        self.store = store
        self.rules = rules
        self.settings = settings
        self._sleep = sleep
        #: Checked between pages and before retry waits (the daemon's shutdown and lost-lease signal).
        self.should_stop = should_stop
        # Outlook user-defined fields ("Source", ...) become registered extended properties on
        # Contact, fetched with every contact and read into ContactRecord.user_fields.
        registered = register_user_fields(list(settings.user_fields))
        self._contact_fields = CONTACT_FIELDS + tuple(registered[name] for name in settings.user_fields)
        self._pages_to_store = PageApplier(store, lambda: self.rules, settings)

    def close(self) -> None:
        """Nothing is held between sync calls (connector.base.MailboxSource); the connection is the caller's."""

    # ------------------------------------------------------------------------------------ mailbox
    def sync(
        self, address: str, folders: list[FolderName], *, full: bool = False, progress: Progress | None = None
    ) -> MailboxReport:
        """Sync the given folders of one mailbox. Exchange errors end up in the report, not raised,
        except a refused login, which is the same for every mailbox."""
        # Every log line of this mailbox's sync says which mailbox (and folder), exchangelib's included.
        with structlog.contextvars.bound_contextvars(mailbox=address):
            try:
                return self._sync_mailbox(address, folders, full, progress)
            finally:
                self._pages_to_store.close()  # drained at the end of every folder already

    def _sync_mailbox(
        self, address: str, folders: list[FolderName], full: bool, progress: Progress | None
    ) -> MailboxReport:
        mailbox = self.store.ensure_mailbox(address, address)
        bound = log.bind(mailbox=address)

        def body(report: MailboxReport) -> None:
            account = self.connection.account(address)
            for folder in folders:
                if self.should_stop():
                    raise SyncInterrupted(folder)
                with structlog.contextvars.bound_contextvars(folder=folder):
                    folder_report = self._sync_folder(account, mailbox.id, folder, full, progress, bound)
                report.folders.append(folder_report)

        return run_mailbox(self.store, mailbox.id, address, body)

    # ------------------------------------------------------------------------------------- folder
    def _sync_folder(
        self, account: Account, mailbox_id: int, folder_name: FolderName, full: bool,
        progress: Progress | None, bound: Any,
    ) -> FolderReport:
        report = FolderReport(folder=folder_name)
        flog = bound.bind(folder=folder_name)
        folder: BaseFolder = self._retrying(lambda: getattr(account, FOLDER_ATTRIBUTES[folder_name]), report)
        if full:
            self.store.reset_sync_state(mailbox_id, folder_name)
        state = self.store.sync_state(mailbox_id, folder_name)
        refused_once = False
        while True:
            report.full_sync = state is None
            seen: set[str] | None = set() if state is None else None
            try:
                self._pages(account, mailbox_id, folder, folder_name, state, seen, report, progress, flog)
            except SyncStateInvalid:
                if refused_once:
                    raise
                refused_once = True
                flog.warning("sync state refused by Exchange, resyncing the folder from scratch")
                self.store.reset_sync_state(mailbox_id, folder_name)
                state = None
                continue
            if seen is not None:
                # An explicit ``resync --full`` is the admin's go-ahead (after checking permissions) to
                # unlink whatever is gone; an automatic full resync stays under the safety rail.
                share = 1.0 if full else self.settings.max_unlink_share
                try:
                    report.unlinked = self.store.unlink_missing(
                        mailbox_id, folder_name, seen, max_share=share, rules=self.rules
                    )
                except MassUnlinkRefused:
                    # Forget the state, so every later run checks the whole folder again: the mailbox
                    # stays flagged while the folder still looks empty, and recovers by itself once
                    # its items are back, instead of the flag clearing on the next quiet page.
                    self.store.reset_sync_state(mailbox_id, folder_name)
                    raise
            break
        flog.info(
            "folder synced", pages=report.pages, created=report.result.created, updated=report.result.updated,
            deleted=report.result.deleted, skipped=sum(report.result.skipped.values()), full=report.full_sync,
        )
        return report

    def _pages(
        self, account: Account, mailbox_id: int, folder: BaseFolder, folder_name: FolderName,
        state: str | None, seen: set[str] | None, report: FolderReport, progress: Progress | None, flog: Any,
    ) -> None:
        names = self._contact_fields if folder_name == "contacts" else FOLDER_FIELDS[folder_name]
        fields = {f for f in folder.normalize_fields(list(names)) if not f.field.is_attribute}
        full = state is None
        if full:
            self._pages_to_store.start_if_backlog(getattr(folder, "total_count", None))

        def fetch(state: str | None) -> tuple[SyncFolderItems, list[Any]]:
            svc = SyncFolderItems(account=account)

            def call() -> list[Any]:
                return list(svc.call(
                    folder=folder, shape=ID_ONLY, additional_fields=fields, sync_state=state, ignore=None,
                    max_changes_returned=self.settings.page_size, sync_scope="NormalItems",
                ))

            return svc, self._retrying(call, report)

        # Page N+1 is fetched (read-only) in the background while page N is translated and applied;
        # page N's state still commits with page N. On any failure the read ahead is abandoned, not
        # waited for, and never applied.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relsync-read-ahead")
        try:
            svc, raw = fetch(state)
            while True:
                last = bool(svc.includes_last_item_in_range) or svc.sync_state == state
                ahead: Future[tuple[SyncFolderItems, list[Any]]] | None = (
                    None if last else pool.submit(contextvars.copy_context().run, fetch, svc.sync_state)
                )
                changes, skipped = self._translate(account, folder_name, raw, flog)
                if seen is not None:
                    seen.update(c.item_id for c in changes if c.record is not None)
                    seen.update(s.item_id for s in skipped if s.item_id)
                page = Page(
                    mailbox_id=mailbox_id, folder=folder_name, folder_id=getattr(folder, "id", None),
                    changes=tuple(changes), new_state=svc.sync_state, skipped=tuple(skipped), full_sync=full,
                )
                for item in skipped:
                    flog.warning("item skipped", item_id=item.item_id, reason=item.reason)
                self._applied(self._pages_to_store.apply(page, more=ahead is not None), report, progress, account,
                              folder_name)
                if ahead is None:
                    break
                if self.should_stop():
                    raise SyncInterrupted(folder_name)
                state = svc.sync_state
                svc, raw = ahead.result()
            self._settle(report, progress, account, folder_name, flog, failing=False)
        except BaseException:
            # Pages already handed to the writer still commit (each with its state) before the
            # failure goes up: nothing may write behind a state reset or the next folder.
            self._settle(report, progress, account, folder_name, flog, failing=True)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _settle(
        self, report: FolderReport, progress: Progress | None, account: Account, folder_name: FolderName,
        flog: Any, *, failing: bool,
    ) -> None:
        """Wait for the writer's pages of this folder; raise its failure unless another is on its way."""
        self._applied(self._pages_to_store.settle(flog, failing=failing), report, progress, account, folder_name)
        self._pages_to_store.raise_pending()

    def _applied(
        self, results: list[PageResult], report: FolderReport, progress: Progress | None, account: Account,
        folder_name: FolderName,
    ) -> None:
        for result in results:
            report.result.add(result)
            report.pages += 1
            if progress is not None:
                progress(account.primary_smtp_address, folder_name, report)

    # -------------------------------------------------------------------------------- translation
    def _translate(
        self, account: Account, folder_name: FolderName, raw: list[Any], flog: Any
    ) -> tuple[list[ItemChange], list[SkippedItem]]:
        # The exceptions of the page's recurring series are fetched in the background while the rest
        # of the page is translated; the series that have exceptions are translated last, each in its
        # place in the page's order (one slot per item).
        fetching = self._fetch_exceptions(account, raw) if folder_name == "calendar" else []
        slots: list[ItemChange | SkippedItem | None] = []
        later: list[tuple[int, Any]] = []
        for change_type, obj in raw:
            if change_type == SyncFolderItems.READ_FLAG_CHANGE:
                continue
            if change_type == SyncFolderItems.DELETE:
                item_id = obj.id if isinstance(obj, ItemId) else getattr(obj, "id", None)
                if item_id:
                    slots.append(ItemChange(item_id=str(item_id), change_key=None, record=None))
                continue
            if fetching and isinstance(obj, CalendarItem) and getattr(obj, "modified_occurrences", None):
                later.append((len(slots), obj))
                slots.append(None)
                continue
            slots.append(self._translated(account, folder_name, obj, {}, flog))
        if later:
            exceptions: dict[str, Any] = {}
            for chunk in fetching:
                exceptions.update(chunk.result())
            for index, obj in later:
                slots[index] = self._translated(account, folder_name, obj, exceptions, flog)
        changes = [slot for slot in slots if isinstance(slot, ItemChange)]
        skipped = [slot for slot in slots if isinstance(slot, SkippedItem)]
        return changes, skipped

    def _translated(
        self, account: Account, folder_name: FolderName, obj: Any, exceptions: dict[str, Any], flog: Any
    ) -> ItemChange | SkippedItem:
        """One created or updated item as a change, or as a skipped item with its reason."""
        item_id = getattr(obj, "id", None)
        if isinstance(obj, Exception):
            return SkippedItem(item_id=None, reason=f"{type(obj).__name__}: {obj}"[:200])
        try:
            record = self._record(account, folder_name, obj, exceptions)
        except BadItem as exc:
            return SkippedItem(item_id=exc.item_id or item_id, reason=exc.reason)
        except Exception as exc:  # one malformed item must never stop the mailbox
            flog.exception("item could not be translated", item_id=item_id)
            return SkippedItem(item_id=item_id, reason=f"{type(exc).__name__}")
        categories = tuple(getattr(obj, "categories", None) or ())
        return ItemChange(item_id=str(item_id), change_key=getattr(obj, "changekey", None),
                          record=record, categories=categories)

    def _record(self, account: Account, folder_name: FolderName, obj: Any, exceptions: dict[str, Any]) -> Any:
        item_id = getattr(obj, "id", None)
        if folder_name == "contacts":
            if not isinstance(obj, Contact):
                raise BadItem(item_id, f"not a contact: {type(obj).__name__}")
            return contact_record(obj, self.settings.default_region)
        if folder_name == "calendar":
            if not isinstance(obj, CalendarItem):
                raise BadItem(item_id, f"not a calendar item: {type(obj).__name__}")
            return self._series(obj, exceptions)
        if not isinstance(obj, Message) or type(obj) is not Message:
            raise BadItem(item_id, f"not an e-mail: {type(obj).__name__}")
        return message_record(obj, folder_name, owner=account.primary_smtp_address,
                              snippet_chars=self.settings.snippet_chars)

    def _series(self, item: CalendarItem, exceptions: dict[str, Any]) -> MeetingSeries:
        record = meeting_record(item)
        if record.calendar_item_type != "recurring_master" or item.recurrence is None:
            return MeetingSeries(item=record, occurrences=(record,))
        now = datetime.now(UTC)
        window = (now - timedelta(days=self.settings.calendar_days_back),
                  now + timedelta(days=self.settings.calendar_days_ahead))
        modified = modified_occurrence_records(item, record)
        if modified:
            modified = _with_exception_details(record, modified, exceptions)
        occurrences = expand_occurrences(
            record, recurrence_spec(item.recurrence, record.item_id), modified,
            deleted_occurrence_starts(item), window[0], window[1],
        )
        return MeetingSeries(item=record, occurrences=tuple(occurrences), window=window)

    def _fetch_exceptions(self, account: Account, raw: list[Any]) -> list[Future[dict[str, Any]]]:
        """Start fetching the exception items of every recurring master on the page; each future gives
        a part of them by item id. A master lists only their new times, these say what else changed
        (subject, location, attendees, cancellation). Best effort: on failure the masters' times stay
        right. Per page, not per series: each request costs a round trip. GetItem requests of 100 ids
        (as exchangelib would split them), two at a time in the background: the server prepares one
        while the other is parsed here, and both while the rest of the page is translated.

        An exception is stored only when its new start is in the sync window (see expand_occurrences),
        and the master already says where it moved to: those far outside the window are not fetched.
        """
        now = datetime.now(UTC)
        slack = timedelta(days=2)  # all-day exceptions start at local midnight, hours from the master's UTC
        low = now - timedelta(days=self.settings.calendar_days_back) - slack
        high = now + timedelta(days=self.settings.calendar_days_ahead) + slack
        ids: list[tuple[str, str | None]] = []
        for change_type, obj in raw:
            if change_type in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE) and isinstance(obj, CalendarItem):
                for occurrence in getattr(obj, "modified_occurrences", None) or ():
                    start = getattr(occurrence, "start", None)
                    outside = isinstance(start, datetime) and start.tzinfo is not None and not low <= start < high
                    if getattr(occurrence, "id", None) and not outside:
                        ids.append((str(occurrence.id), getattr(occurrence, "changekey", None)))
        if not ids:
            return []
        chunks = [ids[i : i + _EXCEPTIONS_PER_REQUEST] for i in range(0, len(ids), _EXCEPTIONS_PER_REQUEST)]
        pool = ThreadPoolExecutor(max_workers=min(len(chunks), 2), thread_name_prefix="relsync-exceptions")
        try:
            return [pool.submit(contextvars.copy_context().run, self._exception_items, account, c) for c in chunks]
        finally:
            pool.shutdown(wait=False)  # its threads end once their requests are done

    def _exception_items(self, account: Account, ids: list[tuple[str, str | None]]) -> dict[str, Any]:
        """One GetItem request's exception items by item id (see _fetch_exceptions); ``{}`` on failure."""
        try:
            fetched = self._retrying(
                lambda: list(account.fetch(ids=ids, only_fields=list(EXCEPTION_FIELDS))),
                FolderReport(folder="calendar"),
            )
        except ExchangeError as exc:
            log.warning("exceptions of recurring series could not be fetched", count=len(ids), error=str(exc))
            return {}
        return {item_id: obj for (item_id, _), obj in zip(ids, fetched, strict=False)}

    # ------------------------------------------------------------------------------------ retries
    def _retrying(self, call: Callable[[], Any], report: FolderReport) -> Any:
        """Run one request, retrying what is worth retrying; anything else is raised translated."""
        s = self.settings
        for attempt in range(1, s.max_attempts + 1):
            try:
                return call()
            except Exception as exc:
                error = translate(exc)
                if attempt == s.max_attempts or not isinstance(error, Throttled | TransientError):
                    raise error from exc
                if isinstance(error, Throttled):
                    wait = min(max(error.back_off, s.retry_base_seconds), s.max_back_off_seconds)
                    report.throttled_seconds += wait
                else:
                    cap = min(s.retry_max_seconds, s.retry_base_seconds * 2 ** (attempt - 1))
                    wait = random.uniform(cap / 2, cap)  # jitter: many workers must not retry in step
                if self.should_stop():
                    raise SyncInterrupted("stop requested while retrying") from exc
                report.retries += 1
                log.info("retrying", error=str(error), attempt=attempt, wait_seconds=round(wait, 2))
                self._sleep(wait)
        raise AssertionError("unreachable")


def _with_exception_details(
    master: MeetingRecord, summaries: list[MeetingRecord], fetched: dict[str, Any]
) -> list[MeetingRecord]:
    """The master's exception summaries, each replaced by its fetched item's record where there is one."""
    result: list[MeetingRecord] = []
    for summary in summaries:
        obj = fetched.get(summary.item_id)
        try:
            if not isinstance(obj, CalendarItem):
                raise BadItem(summary.item_id, f"not a calendar item: {type(obj).__name__}")
            full = meeting_record(obj)
        except Exception:  # not fetched, or a bad exception item: keep what the master said about it
            result.append(summary)
            continue
        result.append(
            replace(
                full,
                uid=master.uid,
                occurrence_start=summary.occurrence_start,
                calendar_item_type="exception",
                participants=full.participants or master.participants,
            )
        )
    return result
