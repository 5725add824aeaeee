"""The one sync engine: incremental, crash-safe sync of a mailbox's folders into the store, page by page,
over any backend's reader (:mod:`connector.base`: EWS in :mod:`connector.ews.reader`, Microsoft Graph in
:mod:`connector.graph.reader`).

A backend's reader gives pages of raw changes from a state token and translates them into records; this
module does the rest, the same for every backend. Each page's changes are handed to the store **together
with the state that follows the page**, in one transaction, so a crash at any point resumes at the last
committed page with no loss and, because every write is an upsert keyed on server ids and
Message-IDs/UIDs, no duplicate.

Failures, and what happens:
- retries of dropped connections, timeouts, 503 and throttling are the reader's (EWS retries itself, the
  Graph client does); their counts and waits end up in the folder's report;
- the saved state is refused (:class:`connector.errors.SyncStateInvalid`): the folder is read again from
  scratch, upserting, and items no longer present are unlinked at the end;
- a full resync that would unlink most of a folder (a folder that suddenly looks empty, a lost
  permission): nothing is unlinked, the state is forgotten and the mailbox is reported as needing
  attention (:class:`mapping.store.store.MassUnlinkRefused`);
- a bad item is skipped, counted and logged with its id and reason; the rest of the page proceeds;
- ``should_stop`` (shutdown, lost lease) is honoured between pages, never inside one.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from connector.base import CallStats, Counters, FolderRead, MailboxReader, MailboxSession, RawPage
from connector.errors import AuthenticationFailed, ExchangeError, SyncStateInvalid
from mapping.changes import FolderName, Page, PageResult, SyncRules
from mapping.heap import frozen_heap
from mapping.store.page_writer import PageWriter, shareable
from mapping.store.store import MassUnlinkRefused, Store

log = structlog.get_logger(__name__)


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
    #: Once a sync call's pages applied here have stored (created, updated or deleted) this many items
    #: with more pages behind (a backlog: a first sync, a big import), applying moves to a second
    #: process for the rest of the ``sync`` call, so the store's work overlaps the server's on another
    #: core (see mapping.store.page_writer). 0: never. The writer's start (a fresh interpreter importing
    #: the store: about 0.6 CPU second) costs more than it saves on a folder of a few pages: 2,000
    #: contacts took 0.6 s applied here and 1.2 s with the writer (benchmarks/sync_throughput.py), so a
    #: folder of fewer than twice this many items is applied in this process unless it turns out bigger.
    #: Items stored, not items read: a Graph calendar's 5,219 occurrences stored 1,284 meetings (the
    #: rest internal or private), 0.3 CPU s of store work, and a writer started for them cost 0.7.
    #: A thread pays that start once: a writer process that drained cleanly waits (IDLE_SECONDS) for
    #: the same thread's next backlog, on any store (mapping.store.page_writer).
    parallel_apply_min_changes: int = 2048
    #: EWS: read SyncFolderItems pages with lxml straight into records (connector.ews.fast),
    #: exchangelib parsing only what that reader cannot read. False: exchangelib parses every item.
    fast_reader: bool = True


@dataclass
class FolderReport:
    folder: str
    pages: int = 0
    full_sync: bool = False
    result: PageResult = field(default_factory=PageResult)
    unlinked: int = 0
    retries: int = 0
    throttled_seconds: float = 0.0
    #: EWS fast reader: items it handed to exchangelib's parse (connector.ews.fast), for metrics.
    parsed_by_exchangelib: int = 0


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

    Each page still commits with its own state, in order. One per engine, closed at the end of each
    ``sync`` call. With ``parallel=False`` every page is applied here (a reader whose backlog was measured
    slower with the writer process, see :attr:`connector.base.MailboxReader.parallel_apply`).
    """

    def __init__(
        self, store: Store, rules: Callable[[], SyncRules], settings: SyncSettings, *, parallel: bool = True
    ) -> None:
        self.store = store
        self._rules = rules  # read at each page: callers may swap an engine's rules between calls
        self.settings = settings
        self.parallel = parallel
        #: Items the pages applied here stored (created, updated, deleted) in this sync call: a backlog is
        #: ``parallel_apply_min_changes`` of them with more pages behind (four EWS pages of 512).
        self._stored = 0
        self._writer: PageWriter | None = None
        self._pending_error: BaseException | None = None

    def start_if_backlog(self, total: int | None) -> None:
        """Start the writer now for a full read of a folder holding pages of items (``total`` from the
        server), so its start-up (a new interpreter importing the store) overlaps the first fetch."""
        threshold = self.settings.parallel_apply_min_changes
        if (
            self.parallel
            and self._writer is None
            and threshold > 0
            and isinstance(total, int)
            and total >= max(2 * threshold, self.settings.page_size + 1)
            and shareable(self.store.url)
        ):
            self._writer = PageWriter(self.store.url)

    def apply(self, page: Page, *, more: bool) -> list[PageResult]:
        """Apply a page here, or in the writer once a backlog shows (see SyncSettings); the results of
        the pages finished meanwhile."""
        threshold = self.settings.parallel_apply_min_changes
        if (
            self.parallel
            and self._writer is None
            and more
            and 0 < threshold <= self._stored
            and shareable(self.store.url)
        ):
            self._writer = PageWriter(self.store.url)
        if self._writer is None:
            result = self.store.apply_page(page, self._rules())
            self._stored += result.created + result.updated + result.deleted
            return [result]
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
        self._stored = 0
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


class MailboxSource(Protocol):
    """Syncs mailboxes' folders into a store and reports what it did (what the scheduler holds: a
    :class:`MailboxSync` over one backend, or :class:`connector.backends.RoutingSync` over several)."""

    def sync(
        self, address: str, folders: list[FolderName], *, full: bool = False, progress: Progress | None = None
    ) -> MailboxReport:
        """Sync ``folders`` of the mailbox ``address``. Server errors end up in the report (``error``),
        except refused credentials (:class:`connector.errors.AuthenticationFailed`), which are raised:
        they are the same for every mailbox."""
        ...

    def close(self) -> None:
        """Release connections and worker processes held between sync calls."""
        ...


class MailboxSync:
    """The sync engine: syncs mailboxes through one backend's reader into one store (a :class:`MailboxSource`).

    Backends wrap it with their connection: :class:`connector.ews.reader.EwsMailboxSync`,
    :class:`connector.graph.reader.GraphMailboxSync`.
    """

    def __init__(
        self,
        reader: MailboxReader,
        store: Store,
        rules: SyncRules,
        settings: SyncSettings,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.reader = reader
        self.store = store
        self.rules = rules  # read at each page: callers may swap it between calls
        self.settings = settings
        #: Checked between pages and before retry waits (the daemon's shutdown and lost-lease signal);
        #: read at each check, so a caller may swap it (the lease holder does).
        self.should_stop = should_stop
        self._pages_to_store = PageApplier(store, lambda: self.rules, settings, parallel=reader.parallel_apply)

    def stopping(self) -> bool:
        """``should_stop`` as it is now (what a reader is handed: the attribute may be swapped)."""
        return self.should_stop()

    def close(self) -> None:
        """Nothing is held between sync calls; connections belong to the caller."""

    # ------------------------------------------------------------------------------------ mailbox
    def sync(
        self, address: str, folders: list[FolderName], *, full: bool = False, progress: Progress | None = None
    ) -> MailboxReport:
        """Sync the given folders of one mailbox. Server errors end up in the report, not raised,
        except refused credentials, which are the same for every mailbox."""
        # Every log line of this mailbox's sync says which mailbox (and folder), the client library's included.
        # frozen_heap: the full collections a long sync triggers leave out what the process held
        # before it (a sixth of a first sync's CPU without this; see mapping.heap).
        with structlog.contextvars.bound_contextvars(mailbox=address), frozen_heap():
            try:
                return self._sync_mailbox(address, folders, full, progress)
            finally:
                self._pages_to_store.close()  # drained at the end of every folder already

    def _sync_mailbox(
        self, address: str, folders: list[FolderName], full: bool, progress: Progress | None
    ) -> MailboxReport:
        mailbox = self.store.ensure_mailbox(address, address, self.reader.backend)
        bound = log.bind(mailbox=address)

        def body(report: MailboxReport) -> None:
            session = self.reader.open(address, mailbox.id)
            for folder in folders:
                if self.should_stop():
                    raise SyncInterrupted(folder)
                with structlog.contextvars.bound_contextvars(folder=folder):
                    folder_report = FolderReport(folder=folder)
                    if self.reader.lists_folder_first:
                        report.folders.append(folder_report)
                    self._sync_folder(session, address, mailbox.id, folder, full, progress, folder_report, bound)
                    if not self.reader.lists_folder_first:
                        report.folders.append(folder_report)

        return run_mailbox(self.store, mailbox.id, address, body)

    # ------------------------------------------------------------------------------------- folder
    def _sync_folder(
        self,
        session: MailboxSession,
        address: str,
        mailbox_id: int,
        folder_name: FolderName,
        full: bool,
        progress: Progress | None,
        report: FolderReport,
        bound: Any,
    ) -> None:
        flog = bound.bind(folder=folder_name)
        reader = session.folder(folder_name, report, flog)

        def read(state: str | None, seen: set[str] | None) -> None:
            self._pages(reader, address, mailbox_id, folder_name, state, seen, report, progress, flog)

        start = reader.begin(full, lambda state: read(state, None))
        state = start.state
        refused_once = False
        while True:
            report.full_sync = state is None
            seen: set[str] | None = set() if state is None and start.unlink_missing else None
            try:
                read(state, seen)
            except SyncStateInvalid:
                if refused_once:
                    raise
                refused_once = True
                flog.warning(reader.refused_message)
                self.store.reset_sync_state(mailbox_id, folder_name)
                state = None
                continue
            seen, unlinked = reader.complete(seen)
            report.unlinked += unlinked
            if seen is not None:
                # An explicit ``resync --full`` is the admin's go-ahead (after checking permissions) to
                # unlink whatever is gone; an automatic full resync stays under the safety rail.
                share = 1.0 if full else self.settings.max_unlink_share
                try:
                    report.unlinked += self.store.unlink_missing(
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
            "folder synced",
            pages=report.pages,
            created=report.result.created,
            updated=report.result.updated,
            deleted=report.result.deleted,
            skipped=sum(report.result.skipped.values()),
            full=report.full_sync,
            unlinked=report.unlinked,
        )

    def _pages(
        self,
        reader: FolderRead,
        address: str,
        mailbox_id: int,
        folder_name: FolderName,
        state: str | None,
        seen: set[str] | None,
        report: FolderReport,
        progress: Progress | None,
        flog: Any,
    ) -> None:
        if state is None:
            self._pages_to_store.start_if_backlog(reader.backlog())
        window = reader.window()
        removed: list[str] = []  # the round's removals on pages already applied (see FolderRead.window)

        def fetched(future: Callable[[], RawPage], stats: CallStats) -> RawPage:
            try:
                return future()
            finally:  # counted by this thread, failed or not
                _count(report, stats)

        # Page N+1 is fetched (read-only) in the background while page N is translated and applied;
        # page N's state still commits with page N. On any failure the read ahead is abandoned, not
        # waited for, and never applied.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relsync-read-ahead")
        try:
            stats = CallStats()
            raw = fetched(lambda: reader.fetch(state, stats), stats)
            while True:
                ahead: tuple[Future[RawPage], CallStats] | None = None
                if raw.next_state is not None:
                    ahead_stats = CallStats()
                    ahead = (
                        pool.submit(contextvars.copy_context().run, reader.fetch, raw.next_state, ahead_stats),
                        ahead_stats,
                    )
                changes, skipped = reader.translate(raw, report)
                if seen is not None:
                    seen.update(c.item_id for c in changes if c.record is not None)
                    seen.update(s.item_id for s in skipped if s.item_id)
                for item in skipped:
                    flog.warning("item skipped", item_id=item.item_id, reason=item.reason)
                last_window = window if ahead is None else None
                page = Page(
                    mailbox_id=mailbox_id,
                    folder=folder_name,
                    folder_id=reader.folder_id,
                    changes=tuple(changes),
                    new_state=raw.new_state,
                    skipped=tuple(skipped),
                    full_sync=seen is not None,
                    window=last_window,
                    removed_earlier=tuple(removed) if last_window is not None else (),
                )
                self._applied(
                    self._pages_to_store.apply(page, more=ahead is not None), report, progress, address, folder_name
                )
                if window is not None:
                    removed.extend(c.item_id for c in changes if c.record is None)
                if ahead is None:
                    break
                if self.should_stop():
                    raise SyncInterrupted(folder_name)
                raw = fetched(ahead[0].result, ahead[1])
            self._settle(report, progress, address, folder_name, flog, failing=False)
        except BaseException:
            # Pages already handed to the writer still commit (each with its state) before the
            # failure goes up: nothing may write behind a state reset or the next folder.
            self._settle(report, progress, address, folder_name, flog, failing=True)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _settle(
        self,
        report: FolderReport,
        progress: Progress | None,
        address: str,
        folder_name: FolderName,
        flog: Any,
        *,
        failing: bool,
    ) -> None:
        """Wait for the writer's pages of this folder; raise its failure unless another is on its way."""
        self._applied(self._pages_to_store.settle(flog, failing=failing), report, progress, address, folder_name)
        self._pages_to_store.raise_pending()

    def _applied(
        self,
        results: list[PageResult],
        report: FolderReport,
        progress: Progress | None,
        address: str,
        folder_name: FolderName,
    ) -> None:
        for result in results:
            report.result.add(result)
            report.pages += 1
            if progress is not None:
                progress(address, folder_name, report)


def _count(report: Counters, stats: CallStats) -> None:
    report.retries += stats.retries
    report.throttled_seconds += stats.throttled_seconds
