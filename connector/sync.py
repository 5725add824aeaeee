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
from mapping.store.store import MassUnlinkRefused, Store

log = structlog.get_logger(__name__)

CONTACT_FIELDS = (
    "display_name", "given_name", "middle_name", "surname", "nickname", "company_name", "job_title",
    "department", "business_homepage", "email_addresses", "phone_numbers", "physical_addresses",
    "categories", "sensitivity", "item_class",
)
MESSAGE_FIELDS = (
    "subject", "sensitivity", "categories", "datetime_sent", "datetime_received", "sender", "author",
    "to_recipients", "cc_recipients", "bcc_recipients", "message_id", "conversation_id", "size", "item_class",
)
CALENDAR_FIELDS = (
    "subject", "sensitivity", "categories", "start", "end", "is_all_day", "location", "organizer",
    "required_attendees", "optional_attendees", "uid", "type", "recurrence", "modified_occurrences",
    "deleted_occurrences", "is_cancelled", "item_class", "_start_timezone", "_end_timezone",
)
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
    #: A full resync may unlink at most this share of a folder's items (when it has more than 20).
    max_unlink_share: float = 0.5


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

    @property
    def ok(self) -> bool:
        return self.error is None


Progress = Callable[[str, str, FolderReport], None]


class MailboxSync:
    """Syncs mailboxes through one shared EWS connection into one store."""

    def __init__(
        self, connection: EwsConnection, store: Store, rules: SyncRules, settings: SyncSettings,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self.store = store
        self.rules = rules
        self.settings = settings
        self._sleep = sleep
        # Outlook user-defined fields ("Source", ...) become registered extended properties on
        # Contact, fetched with every contact and read into ContactRecord.user_fields.
        registered = register_user_fields(list(settings.user_fields))
        self._contact_fields = CONTACT_FIELDS + tuple(registered[name] for name in settings.user_fields)

    # ------------------------------------------------------------------------------------ mailbox
    def sync(
        self, address: str, folders: list[FolderName], *, full: bool = False, progress: Progress | None = None
    ) -> MailboxReport:
        """Sync the given folders of one mailbox. Exchange errors end up in the report, not raised,
        except a refused login, which is the same for every mailbox."""
        mailbox = self.store.ensure_mailbox(address, address)
        report = MailboxReport(mailbox=address)
        bound = log.bind(mailbox=address)
        try:
            account = self.connection.account(address)
            for folder in folders:
                folder_report = self._sync_folder(account, mailbox.id, folder, full, progress, bound)
                report.folders.append(folder_report)
        except AuthenticationFailed:
            raise  # the same for every mailbox: a configuration problem, not this mailbox's
        except (MassUnlinkRefused, ExchangeError) as exc:
            report.error = str(exc)
        if report.error:
            bound.warning("mailbox needs attention", error=report.error)
            self.store.mark_attention(mailbox.id, report.error)
        else:
            self.store.mark_success(mailbox.id)
        return report

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
                    None if last else pool.submit(fetch, svc.sync_state)
                )
                changes, skipped = self._translate(account, folder_name, raw, flog)
                if seen is not None:
                    seen.update(c.item_id for c in changes if c.record is not None)
                    seen.update(s.item_id for s in skipped if s.item_id)
                page = Page(
                    mailbox_id=mailbox_id, folder=folder_name, folder_id=getattr(folder, "id", None),
                    changes=tuple(changes), new_state=svc.sync_state, skipped=tuple(skipped), full_sync=full,
                )
                result = self.store.apply_page(page, self.rules)
                report.result.add(result)
                report.pages += 1
                for item in skipped:
                    flog.warning("item skipped", item_id=item.item_id, reason=item.reason)
                if progress is not None:
                    progress(account.primary_smtp_address, folder_name, report)
                if ahead is None:
                    return
                state = svc.sync_state
                svc, raw = ahead.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    # -------------------------------------------------------------------------------- translation
    def _translate(
        self, account: Account, folder_name: FolderName, raw: list[Any], flog: Any
    ) -> tuple[list[ItemChange], list[SkippedItem]]:
        changes: list[ItemChange] = []
        skipped: list[SkippedItem] = []
        for change_type, obj in raw:
            if change_type == SyncFolderItems.READ_FLAG_CHANGE:
                continue
            if change_type == SyncFolderItems.DELETE:
                item_id = obj.id if isinstance(obj, ItemId) else getattr(obj, "id", None)
                if item_id:
                    changes.append(ItemChange(item_id=str(item_id), change_key=None, record=None))
                continue
            item_id = getattr(obj, "id", None)
            if isinstance(obj, Exception):
                skipped.append(SkippedItem(item_id=None, reason=f"{type(obj).__name__}: {obj}"[:200]))
                continue
            try:
                record = self._record(account, folder_name, obj)
            except BadItem as exc:
                skipped.append(SkippedItem(item_id=exc.item_id or item_id, reason=exc.reason))
                continue
            except Exception as exc:  # one malformed item must never stop the mailbox
                flog.exception("item could not be translated", item_id=item_id)
                skipped.append(SkippedItem(item_id=item_id, reason=f"{type(exc).__name__}"))
                continue
            categories = tuple(getattr(obj, "categories", None) or ())
            changes.append(ItemChange(item_id=str(item_id), change_key=getattr(obj, "changekey", None),
                                      record=record, categories=categories))
        return changes, skipped

    def _record(self, account: Account, folder_name: FolderName, obj: Any) -> Any:
        item_id = getattr(obj, "id", None)
        if folder_name == "contacts":
            if not isinstance(obj, Contact):
                raise BadItem(item_id, f"not a contact: {type(obj).__name__}")
            return contact_record(obj, self.settings.default_region)
        if folder_name == "calendar":
            if not isinstance(obj, CalendarItem):
                raise BadItem(item_id, f"not a calendar item: {type(obj).__name__}")
            return self._series(obj, account)
        if not isinstance(obj, Message) or type(obj) is not Message:
            raise BadItem(item_id, f"not an e-mail: {type(obj).__name__}")
        return message_record(obj, folder_name, owner=account.primary_smtp_address,
                              snippet_chars=self.settings.snippet_chars)

    def _series(self, item: CalendarItem, account: Account | None = None) -> MeetingSeries:
        record = meeting_record(item)
        if record.calendar_item_type != "recurring_master" or item.recurrence is None:
            return MeetingSeries(item=record, occurrences=(record,))
        now = datetime.now(UTC)
        window = (now - timedelta(days=self.settings.calendar_days_back),
                  now + timedelta(days=self.settings.calendar_days_ahead))
        modified = modified_occurrence_records(item, record)
        if modified and account is not None:
            modified = self._exceptions(account, record, modified)
        occurrences = expand_occurrences(
            record, recurrence_spec(item.recurrence, record.item_id), modified,
            deleted_occurrence_starts(item), window[0], window[1],
        )
        return MeetingSeries(item=record, occurrences=tuple(occurrences), window=window)

    def _exceptions(
        self, account: Account, master: MeetingRecord, summaries: list[MeetingRecord]
    ) -> list[MeetingRecord]:
        """The master lists only the new times of its exceptions; fetch them (one GetItem) for what else
        changed (subject, location, attendees, cancellation). Best effort: on failure, the times stay right."""
        ids = [(s.item_id, s.change_key) for s in summaries]
        try:
            fetched = self._retrying(
                lambda: list(account.fetch(ids=ids, only_fields=list(EXCEPTION_FIELDS))),
                FolderReport(folder="calendar"),
            )
        except ExchangeError as exc:
            log.warning("exceptions of a series could not be fetched", item_id=master.item_id, error=str(exc))
            return summaries
        result: list[MeetingRecord] = []
        for summary, obj in zip(summaries, fetched, strict=False):
            try:
                if not isinstance(obj, CalendarItem):
                    raise BadItem(summary.item_id, f"not a calendar item: {type(obj).__name__}")
                full = meeting_record(obj)
            except Exception:  # a bad exception item: keep what the master said about it
                result.append(summary)
                continue
            result.append(replace(
                full, uid=master.uid, occurrence_start=summary.occurrence_start, calendar_item_type="exception",
                participants=full.participants or master.participants,
            ))
        return result + summaries[len(result):]

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
                report.retries += 1
                log.info("retrying", error=str(error), attempt=attempt, wait_seconds=round(wait, 2))
                self._sleep(wait)
        raise AssertionError("unreachable")
