"""The EWS reader: pages of ``SyncFolderItems`` changes for the one sync engine (:mod:`connector.engine`).

exchangelib's ``sync_items()`` saves its state only when its generator is exhausted, so this drives the
``SyncFolderItems`` service directly, one page (``page_size`` changes) per request, and hands the engine
each page with the state that follows it. Translation into records is :mod:`connector.ews.translate`'s; the
exceptions of recurring series are fetched here (GetItem), in the background, per page.

Retries are the reader's (exchangelib does not retry dropped connections): connection dropped, timeout
and 503 are retried with jittered exponential back-off; ``ErrorServerBusy``'s ``BackOffMilliseconds`` is
honoured, then retried; anything else is raised translated (:func:`connector.ews.errors.translate`),
``ErrorInvalidSyncStateData`` as :class:`connector.errors.SyncStateInvalid`, which the engine answers
with a read from scratch.
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from exchangelib import Account
from exchangelib.folders import BaseFolder
from exchangelib.items import ID_ONLY, CalendarItem, Contact, Message
from exchangelib.properties import ItemId
from exchangelib.services import SyncFolderItems

from connector.base import CallStats, Counters, FolderStart, RawPage
from connector.engine import FolderReport, MailboxSync, SyncInterrupted, SyncSettings
from connector.errors import ExchangeError, Throttled, TransientError
from connector.ews.client import FOLDER_ATTRIBUTES, EwsConnection
from connector.ews.errors import translate
from connector.ews.fast.calendar import PendingSeries, exception_of
from connector.ews.fast.change import fast_change
from connector.ews.fast.common import FALLBACK, RawGetItem, RawSyncFolderItems, exchangelib_change, exchangelib_item
from connector.ews.translate import (
    BadItem,
    contact_record,
    deleted_occurrence_starts,
    meeting_record,
    message_record,
    modified_occurrence_records,
    recurrence_spec,
    register_user_fields,
)
from mapping.changes import FolderName, ItemChange, MeetingSeries, SkippedItem, SyncRules
from mapping.records import MeetingRecord
from mapping.recurrence import expand_occurrences
from mapping.store.models import MailboxBackend
from mapping.store.store import Store

log = structlog.get_logger(__name__)

CONTACT_FIELDS = (
    "display_name",
    "given_name",
    "middle_name",
    "surname",
    "nickname",
    "company_name",
    "job_title",
    "department",
    "business_homepage",
    "email_addresses",
    "phone_numbers",
    "physical_addresses",
    "categories",
    "sensitivity",
    "item_class",
)
MESSAGE_FIELDS = (
    "subject",
    "sensitivity",
    "categories",
    "datetime_sent",
    "datetime_received",
    "datetime_created",
    "sender",
    "author",
    "to_recipients",
    "cc_recipients",
    "bcc_recipients",
    "message_id",
    "conversation_id",
    "size",
    "item_class",
)
CALENDAR_FIELDS = (
    "subject",
    "sensitivity",
    "categories",
    "start",
    "end",
    "is_all_day",
    "location",
    "organizer",
    "required_attendees",
    "optional_attendees",
    "uid",
    "type",
    "recurrence",
    "modified_occurrences",
    "deleted_occurrences",
    "is_cancelled",
    "item_class",
    "_start_timezone",
    "_end_timezone",
)
#: Exceptions of recurring series asked for in one GetItem request (exchangelib's own chunk size).
_EXCEPTIONS_PER_REQUEST = 100
#: What is fetched of an exception of a recurring series (GetItem on the ids its master lists).
EXCEPTION_FIELDS = (
    "subject",
    "sensitivity",
    "start",
    "end",
    "is_all_day",
    "location",
    "organizer",
    "required_attendees",
    "optional_attendees",
    "uid",
    "type",
    "is_cancelled",
    "item_class",
    "original_start",
    "_start_timezone",
    "_end_timezone",
)
#: The change type of a change the fast reader already translated (connector.ews.fast).
_TRANSLATED = "relsync_translated"
#: The change type of a recurring master the fast reader read, waiting for its exception items.
_PENDING = "relsync_pending_series"
FOLDER_FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": CONTACT_FIELDS,
    "inbox": MESSAGE_FIELDS,
    "sentitems": MESSAGE_FIELDS,
    "calendar": CALENDAR_FIELDS,
}


class EwsReader:
    """A :class:`connector.base.MailboxReader` over one shared EWS connection."""

    backend = MailboxBackend.EWS
    #: A backlog's pages are applied by the writer process while the next ones are read.
    parallel_apply = True
    #: A folder enters the report once it has been read (as before the engine was shared).
    lists_folder_first = False

    def __init__(
        self,
        connection: EwsConnection,
        store: Store,
        settings: SyncSettings,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.connection = connection
        self.store = store
        self.settings = settings
        self._sleep = sleep
        self._should_stop = should_stop
        # Outlook user-defined fields ("Source", ...) become registered extended properties on
        # Contact, fetched with every contact and read into ContactRecord.user_fields.
        registered = register_user_fields(list(settings.user_fields))
        self._contact_fields = CONTACT_FIELDS + tuple(registered[name] for name in settings.user_fields)
        #: Items the fast reader handed to exchangelib's parse since this reader was made (metrics).
        self.fast_fallbacks = 0
        #: Items the fast reader read itself.
        self.fast_items = 0

    def open(self, address: str, mailbox_id: int) -> EwsMailbox:
        return EwsMailbox(self, self.connection.account(address), mailbox_id)

    def fields(self, folder_name: FolderName) -> tuple[Any, ...]:
        """The fields asked for in a folder's pages (user-defined contact fields included)."""
        return self._contact_fields if folder_name == "contacts" else FOLDER_FIELDS[folder_name]

    # -------------------------------------------------------------------------------- translation
    def _translate(
        self,
        account: Account,
        folder_name: FolderName,
        raw: list[Any],
        flog: Any,
        fast: tuple[Any, Counters] | None = None,
    ) -> tuple[list[ItemChange], list[SkippedItem]]:
        """The page's changes and skipped items. ``fast``: (the fields of an exception item, the
        folder's counters) when the exception items are read by the fast reader (connector.ews.fast)
        rather than by exchangelib; those it hands to exchangelib's parse are counted there."""
        # The exceptions of the page's recurring series are fetched in the background while the rest
        # of the page is translated; the series that have exceptions are translated last, each in its
        # place in the page's order (one slot per item).
        fetching = self._fetch_exceptions(account, raw, fast) if folder_name == "calendar" else []
        slots: list[ItemChange | SkippedItem | None] = []
        later: list[tuple[int, Any]] = []
        for change_type, obj in raw:
            if change_type == _TRANSLATED:  # read by the fast reader already
                slots.append(obj)
                continue
            if change_type == _PENDING:  # a master the fast reader read: finished with its exceptions
                if fetching and obj.exceptions:
                    later.append((len(slots), obj))
                    slots.append(None)
                else:
                    slots.append(self._finished(obj, {}, flog))
                continue
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
                part, fallbacks = chunk.result()
                exceptions.update(part)
                if fast is not None and fallbacks:
                    self.fast_fallbacks += fallbacks
                    if isinstance(fast[1], FolderReport):  # the engine's report: into the metrics
                        fast[1].parsed_by_exchangelib += fallbacks
            for index, obj in later:
                slots[index] = (
                    self._finished(obj, exceptions, flog)
                    if isinstance(obj, PendingSeries)
                    else self._translated(account, folder_name, obj, exceptions, flog)
                )
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
        return ItemChange(
            item_id=str(item_id), change_key=getattr(obj, "changekey", None), record=record, categories=categories
        )

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
        return message_record(
            obj, folder_name, owner=account.primary_smtp_address, snippet_chars=self.settings.snippet_chars
        )

    def _window(self) -> tuple[datetime, datetime]:
        now = datetime.now(UTC)
        return (
            now - timedelta(days=self.settings.calendar_days_back),
            now + timedelta(days=self.settings.calendar_days_ahead),
        )

    def _finished(self, series: PendingSeries, exceptions: dict[str, Any], flog: Any) -> ItemChange | SkippedItem:
        """A recurring master the fast reader read (connector.ews.fast.calendar), finished as _series
        finishes exchangelib's, with the same skip reasons as _translated."""
        record = series.record
        try:
            window = self._window()
            modified = list(series.modified)
            if modified:
                modified = _with_exception_details(record, modified, exceptions)
            occurrences = expand_occurrences(
                record, series.recurrence, modified, list(series.deleted), window[0], window[1]
            )
        except BadItem as exc:
            return SkippedItem(item_id=exc.item_id or record.item_id, reason=exc.reason)
        except Exception as exc:  # one malformed item must never stop the mailbox
            flog.exception("item could not be translated", item_id=record.item_id)
            return SkippedItem(item_id=record.item_id, reason=f"{type(exc).__name__}")
        return ItemChange(
            item_id=record.item_id,
            change_key=record.change_key,
            record=MeetingSeries(item=record, occurrences=tuple(occurrences), window=window),
            categories=series.categories,
        )

    def _series(self, item: CalendarItem, exceptions: dict[str, Any]) -> MeetingSeries:
        record = meeting_record(item)
        if record.calendar_item_type != "recurring_master" or item.recurrence is None:
            return MeetingSeries(item=record, occurrences=(record,))
        window = self._window()
        modified = modified_occurrence_records(item, record)
        if modified:
            modified = _with_exception_details(record, modified, exceptions)
        occurrences = expand_occurrences(
            record,
            recurrence_spec(item.recurrence, record.item_id),
            modified,
            deleted_occurrence_starts(item),
            window[0],
            window[1],
        )
        return MeetingSeries(item=record, occurrences=tuple(occurrences), window=window)

    def _fetch_exceptions(
        self, account: Account, raw: list[Any], fast: tuple[Any, Counters] | None
    ) -> list[Future[tuple[dict[str, Any], int]]]:
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
            if change_type == _PENDING:
                ids.extend(
                    (e.item_id, e.change_key) for e in obj.exceptions if e.start is None or low <= e.start < high
                )
            elif change_type in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE) and isinstance(obj, CalendarItem):
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
            return [
                pool.submit(contextvars.copy_context().run, self._exception_items, account, c, fast) for c in chunks
            ]
        finally:
            pool.shutdown(wait=False)  # its threads end once their requests are done

    def _exception_items(
        self, account: Account, ids: list[tuple[str, str | None]], fast: tuple[Any, Counters] | None
    ) -> tuple[dict[str, Any], int]:
        """One GetItem request's exception items by item id (see _fetch_exceptions); ``{}`` on failure.
        With the fast reader the response's elements are read into records (connector.ews.fast.calendar);
        what it cannot read is parsed by exchangelib, and counted (the second value)."""

        def call() -> list[Any]:
            if fast is None:
                return list(account.fetch(ids=ids, only_fields=list(EXCEPTION_FIELDS)))
            service = RawGetItem(account=account, chunk_size=_EXCEPTIONS_PER_REQUEST)
            return list(service.call(items=ids, additional_fields=fast[0], shape=ID_ONLY))

        try:
            fetched = self._retrying(call, CallStats())
        except ExchangeError as exc:
            log.warning("exceptions of recurring series could not be fetched", count=len(ids), error=str(exc))
            return {}, 0
        if fast is None:
            return {item_id: obj for (item_id, _), obj in zip(ids, fetched, strict=False)}, 0
        result: dict[str, Any] = {}
        fallbacks = 0
        for (item_id, _), elem in zip(ids, fetched, strict=False):
            if isinstance(elem, Exception | None):  # an error response: the master's summary stays
                result[item_id] = elem
                continue
            try:
                result[item_id] = exception_of(elem)
            except BadItem:
                result[item_id] = None  # as meeting_record's BadItem: the master's summary stays
            except Exception:
                fallbacks += 1
                try:
                    result[item_id] = exchangelib_item(elem, account)
                except Exception:
                    result[item_id] = None
        return result, fallbacks

    # ------------------------------------------------------------------------------------ retries
    def _retrying(self, call: Callable[[], Any], report: Counters) -> Any:
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
                if self._should_stop():
                    raise SyncInterrupted("stop requested while retrying") from exc
                report.retries += 1
                log.info("retrying", error=str(error), attempt=attempt, wait_seconds=round(wait, 2))
                self._sleep(wait)
        raise AssertionError("unreachable")


class EwsMailbox:
    """One mailbox's reading over EWS for one sync call (a :class:`connector.base.MailboxSession`)."""

    def __init__(self, reader: EwsReader, account: Account, mailbox_id: int) -> None:
        self.reader = reader
        self.account = account
        self.mailbox_id = mailbox_id

    def folder(self, folder: FolderName, counters: Counters, log: Any) -> EwsFolder:
        found: BaseFolder = self.reader._retrying(lambda: getattr(self.account, FOLDER_ATTRIBUTES[folder]), counters)
        return EwsFolder(self, folder, found, log)


class EwsFolder:
    """One folder's pages of ``SyncFolderItems`` changes (a :class:`connector.base.FolderRead`)."""

    refused_message = "sync state refused by Exchange, resyncing the folder from scratch"

    def __init__(self, mailbox: EwsMailbox, name: FolderName, folder: BaseFolder, log: Any) -> None:
        self.reader = mailbox.reader
        self.account = mailbox.account
        self.mailbox_id = mailbox.mailbox_id
        self.name = name
        self.folder = folder
        self.folder_id: str | None = getattr(folder, "id", None)
        self.log = log
        self._fields = {f for f in folder.normalize_fields(list(self.reader.fields(name))) if not f.field.is_attribute}
        self._exception_paths: Any = None

    def begin(self, full: bool, read: Callable[[str | None], None]) -> FolderStart:
        store = self.reader.store
        if full:
            store.reset_sync_state(self.mailbox_id, self.name)
        return FolderStart(store.sync_state(self.mailbox_id, self.name))

    def backlog(self) -> int | None:
        total = getattr(self.folder, "total_count", None)
        return total if isinstance(total, int) else None

    def fetch(self, state: str | None, counters: Counters) -> RawPage:
        # The fast reader's service hands back the response's change elements (connector.ews.fast.common).
        svc = (RawSyncFolderItems if self.reader.settings.fast_reader else SyncFolderItems)(account=self.account)

        def call() -> list[Any]:
            return list(
                svc.call(
                    folder=self.folder,
                    shape=ID_ONLY,
                    additional_fields=self._fields,
                    sync_state=state,
                    ignore=None,
                    max_changes_returned=self.reader.settings.page_size,
                    sync_scope="NormalItems",
                )
            )

        raw = self.reader._retrying(call, counters)
        last = bool(svc.includes_last_item_in_range) or svc.sync_state == state
        return RawPage(items=raw, new_state=svc.sync_state, next_state=None if last else svc.sync_state)

    def translate(self, page: RawPage, counters: Counters) -> tuple[list[ItemChange], list[SkippedItem]]:
        items = list(page.items)
        if not self.reader.settings.fast_reader:
            return self.reader._translate(self.account, self.name, items, self.log)
        items, fallbacks = self._read_fast(items)
        if isinstance(counters, FolderReport):  # the engine's report: into the metrics
            counters.parsed_by_exchangelib += fallbacks
        return self.reader._translate(self.account, self.name, items, self.log, (self._exception_fields(), counters))

    def _exception_fields(self) -> Any:
        """What GetItem asks of an exception item: EXCEPTION_FIELDS, as exchangelib's fetch names them."""
        if self._exception_paths is None and self.name == "calendar":
            paths = self.folder.normalize_fields(list(EXCEPTION_FIELDS))
            self._exception_paths = {f for f in paths if not f.field.is_attribute}
        return self._exception_paths

    def _read_fast(self, elems: list[Any]) -> tuple[list[tuple[str, Any]], int]:
        """The page's change elements read by the fast reader; what it cannot read is parsed by exchangelib
        (counted in ``fast_fallbacks``; also returned) and translated as before, each in its place in the
        page's order."""
        reader = self.reader
        owner = self.account.primary_smtp_address
        region = reader.settings.default_region
        parser = SyncFolderItems(account=self.account)
        result: list[tuple[str, Any]] = []
        fallbacks = 0
        for elem in elems:
            # Registered user fields are extended properties exchangelib reads: contacts go its way then.
            done = (
                FALLBACK
                if reader.settings.user_fields and self.name == "contacts"
                else fast_change(elem, self.name, owner=owner, default_region=region)
            )
            if done is FALLBACK:
                fallbacks += 1
                result.append(exchangelib_change(parser, elem))
            elif isinstance(done, PendingSeries):
                result.append((_PENDING, done))
            elif done is not None:
                result.append((_TRANSLATED, done))
        reader.fast_fallbacks += fallbacks
        reader.fast_items += len(elems) - fallbacks
        if fallbacks:
            self.log.debug("items parsed by exchangelib", folder=self.name, count=fallbacks)
        return result, fallbacks

    def window(self) -> tuple[datetime, datetime] | None:
        return None  # EWS sends series: the store expands them (see EwsReader._series)

    def complete(self, seen: set[str] | None) -> tuple[set[str] | None, int]:
        return seen, 0


class EwsMailboxSync(MailboxSync):
    """The sync engine over EWS: syncs mailboxes through one shared EWS connection into one store."""

    def __init__(
        self,
        connection: EwsConnection,
        store: Store,
        rules: SyncRules,
        settings: SyncSettings,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(
            EwsReader(connection, store, settings, sleep, self.stopping), store, rules, settings, should_stop
        )
        self.connection = connection


def _with_exception_details(
    master: MeetingRecord, summaries: list[MeetingRecord], fetched: dict[str, Any]
) -> list[MeetingRecord]:
    """The master's exception summaries, each replaced by its fetched item's record where there is one."""
    result: list[MeetingRecord] = []
    for summary in summaries:
        obj = fetched.get(summary.item_id)
        try:
            if isinstance(obj, MeetingRecord):  # read by the fast reader
                full = obj
            elif isinstance(obj, CalendarItem):
                full = meeting_record(obj)
            else:
                raise BadItem(summary.item_id, f"not a calendar item: {type(obj).__name__}")
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
