"""Incremental, crash-safe sync of one mailbox's folders over Microsoft Graph delta queries.

The Graph twin of :class:`connector.sync.MailboxSync`, with the same guarantees and the same report:
each delta page is translated (:mod:`connector.graph.translate`) and handed to the store together with
the link that follows it (``@odata.nextLink``, or ``@odata.deltaLink`` on the last page) in **one**
transaction, so a crash resumes at the last committed page. That link *is* the folder's sync state.

- contacts: ``/users/{u}/contacts/delta`` (sensitivity and user-defined fields as extended properties);
- inbox, sentitems: ``/users/{u}/mailFolders/{folder}/messages/delta``;
- calendar: ``/users/{u}/calendarView/delta`` over the window ``calendar_days_back`` ..
  ``calendar_days_ahead``. Graph sends instances; an occurrence's series iCalUId is read from its
  master (``$batch``, 20 per call, cached for the sync call), so occurrences get the same
  (UID, original start) key EWS gives them. A delta link keeps the window it started with, so the
  calendar's state also remembers that window's start (a URL fragment, never sent), and once the
  current window starts :data:`WINDOW_REFRESH_DAYS` later the calendar is read again over it.
  A round's last calendar page carries the current window and the round's earlier removals: a removed
  occurrence of a series the mailbox still holds, original start inside it, is stored cancelled, as
  EWS's expansion finds it gone (a round interrupted between pages forgets its earlier removals).

A folder whose stored state is an EWS one (a mailbox switched from EWS) first has its links moved to Graph
ids (:mod:`connector.graph.migrate`), so its first read over Graph upserts onto them; where Graph refuses
the translation (app-only tokens), the read's new links replace the old ones of the same entity instead.

Failures: throttling, dropped connections and token renewal are the client's
(:class:`connector.graph.client.GraphClient`); a link Graph no longer knows (410) resyncs the folder
from scratch (upserting), then items no longer present are unlinked under the same safety rail as
EWS (``max_unlink_share``); mailbox errors end in the report, refused credentials are raised.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import structlog

from connector.errors import ExchangeProtocolError, SyncStateInvalid
from connector.graph import migrate, translate
from connector.graph.client import BatchRequest, CallStats, GraphClient
from connector.normalize import BadItem
from connector.sync import (
    FolderReport,
    MailboxReport,
    Progress,
    SyncInterrupted,
    SyncSettings,
    run_mailbox,
)
from mapping.changes import FolderName, ItemChange, Page, PageResult, SkippedItem, SyncRules
from mapping.store.models import MailboxBackend
from mapping.store.store import MassUnlinkRefused, Store

log = structlog.get_logger(__name__)

CONTACT_SELECT = (
    "id", "changeKey", "categories", "displayName", "givenName", "middleName", "surname", "nickName",
    "companyName", "jobTitle", "department", "businessHomePage", "emailAddresses", "businessPhones",
    "homePhones", "mobilePhone", "businessAddress", "homeAddress", "otherAddress",
)
MESSAGE_SELECT = (
    "id", "changeKey", "subject", "internetMessageId", "conversationId", "sentDateTime", "receivedDateTime",
    "from", "sender", "toRecipients", "ccRecipients", "bccRecipients", "categories", "parentFolderId",
)
MESSAGE_PROPERTIES = (
    translate.SENSITIVITY_PROPERTY, translate.MESSAGE_SIZE_PROPERTY, translate.MESSAGE_CLASS_PROPERTY,
)
MESSAGE_FOLDERS = {"inbox": "inbox", "sentitems": "sentitems"}
#: A calendar link's state carries the start of its window after this (a URL fragment, never sent).
WINDOW_TAG = "relsync-window="
#: calendarView's delta keeps its window: the calendar is read again over the current window when the
#: stored one started this many days earlier (else meetings beyond its end would never arrive).
WINDOW_REFRESH_DAYS = 7


def _expand(properties: tuple[str, ...]) -> str:
    condition = " or ".join(f"id eq '{p}'" for p in properties)
    return f"singleValueExtendedProperties($filter={condition})"


def _query(params: Mapping[str, str]) -> str:
    return urlencode(params, quote_via=quote, safe="$,()'")


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def calendar_window(settings: SyncSettings, now: datetime) -> tuple[datetime, datetime]:
    """The calendar window, whole seconds (what calendarView is asked for), as MailboxSync expands series."""
    now = now.astimezone(UTC).replace(microsecond=0)
    return now - timedelta(days=settings.calendar_days_back), now + timedelta(days=settings.calendar_days_ahead)


class GraphMailboxSync:
    """Syncs mailboxes through one :class:`GraphClient` into one store (a :class:`connector.base.MailboxSource`)."""

    def __init__(
        self, client: GraphClient, store: Store, rules: SyncRules, settings: SyncSettings,
        should_stop: Callable[[], bool] = lambda: False,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        window_refresh_days: int = WINDOW_REFRESH_DAYS,
    ) -> None:
        self.client = client
        self.store = store
        self.rules = rules
        self.settings = settings
        #: Checked between pages (the daemon's shutdown and lost-lease signal).
        self.should_stop = should_stop
        self._now = now
        self.window_refresh_days = window_refresh_days
        #: Series master id -> the series' iCalUId, for the current sync call.
        self._series_uids: dict[str, str] = {}
        self._window: tuple[datetime, datetime] | None = None

    def close(self) -> None:
        """Nothing is held between sync calls; the client belongs to the caller, who closes it."""

    # ------------------------------------------------------------------------------------ mailbox
    def sync(
        self, address: str, folders: list[FolderName], *, full: bool = False, progress: Progress | None = None
    ) -> MailboxReport:
        """Sync the given folders of one mailbox. Graph errors end up in the report, not raised,
        except refused credentials, which are the same for every mailbox."""
        with structlog.contextvars.bound_contextvars(mailbox=address):
            self._series_uids = {}
            self._window = calendar_window(self.settings, self._now())
            try:
                return self._sync_mailbox(address, folders, full, progress)
            finally:
                self._series_uids = {}

    def _sync_mailbox(
        self, address: str, folders: list[FolderName], full: bool, progress: Progress | None
    ) -> MailboxReport:
        mailbox = self.store.ensure_mailbox(address, address, MailboxBackend.GRAPH)
        bound = log.bind(mailbox=address)

        def body(report: MailboxReport) -> None:
            for folder in folders:
                if self.should_stop():
                    raise SyncInterrupted(folder)
                with structlog.contextvars.bound_contextvars(folder=folder):
                    # Listed before it runs: a folder that fails part way still counts its throttling.
                    folder_report = FolderReport(folder=folder)
                    report.folders.append(folder_report)
                    self._sync_folder(address, mailbox.id, folder, full, progress, folder_report, bound)

        return run_mailbox(self.store, mailbox.id, address, body)

    # ------------------------------------------------------------------------------------- folder
    def _sync_folder(
        self, address: str, mailbox_id: int, folder_name: FolderName, full: bool, progress: Progress | None,
        report: FolderReport, bound: Any,
    ) -> None:
        flog = bound.bind(folder=folder_name)
        state = self.store.sync_state(mailbox_id, folder_name)
        migration: migrate.Migration | None = None
        if state is not None and migrate.is_ews_state(state):
            # The mailbox was synced over EWS until now (also under an admin's `resync --full`): its
            # links move to Graph ids (with the state, in one transaction), so the full read below
            # upserts onto them instead of doubling them.
            migration = migrate.migrate_folder(self.client, self.store, address, mailbox_id, folder_name,
                                               counters=report, log=flog)
            state = None
        elif full:
            self.store.reset_sync_state(mailbox_id, folder_name)
            state = None
        if state is not None and not state.startswith(f"{self.client.base_url}/"):
            # A link of another Graph endpoint: useless here. The folder is read from scratch; links
            # Graph no longer lists are unlinked at its end under the safety rail.
            flog.warning("the stored sync state is not a link of this Graph endpoint, reading the folder again")
            self.store.reset_sync_state(mailbox_id, folder_name)
            state = None
        refresh = folder_name == "calendar" and state is not None and self._window_moved(state)
        if refresh:
            # calendarView's delta keeps the window it started with; a new one starts from scratch.
            # The old link's last changes first (deletions included), then the current window, and
            # nothing is unlinked after it: meetings that merely left the window stay, as over EWS.
            flog.info("calendar window moved on, reading the calendar over the current window")
            try:
                self._pages(address, mailbox_id, folder_name, state, None, report, progress, flog)
            except SyncStateInvalid:
                refresh = False  # the full resync below unlinks, as for any refused link
            state = None
        refused_once = False
        while True:
            report.full_sync = state is None
            seen: set[str] | None = set() if state is None and not refresh else None
            try:
                self._pages(address, mailbox_id, folder_name, state, seen, report, progress, flog)
            except SyncStateInvalid:
                if refused_once:
                    raise
                refused_once = True
                flog.warning("delta link refused by Graph, resyncing the folder from scratch")
                self.store.reset_sync_state(mailbox_id, folder_name)
                state = None
                continue
            if migration is None and (parked := migrate.resumed(self.store, mailbox_id, folder_name)) is not None:
                # EWS-era links parked by a refused translation whose read from scratch took several runs
                # (interrupted, resumed): the read is complete now, so they are replaced now.
                migration, live = parked
                seen = live if seen is None else seen
            if seen is not None:
                # As MailboxSync: an explicit full resync unlinks whatever is gone; an automatic one
                # stays under the safety rail.
                share = 1.0 if full else self.settings.max_unlink_share
                if migration is not None:  # old links the read replaced (new ids, series); see connector.graph.migrate
                    report.unlinked += migration.settle(self.store, mailbox_id, seen, self.rules,
                                                        self._window if folder_name == "calendar" else None, flog)
                try:
                    report.unlinked += self.store.unlink_missing(
                        mailbox_id, folder_name, seen, max_share=share, rules=self.rules
                    )
                except MassUnlinkRefused:
                    self.store.reset_sync_state(mailbox_id, folder_name)
                    raise
            break
        flog.info(
            "folder synced", pages=report.pages, created=report.result.created, updated=report.result.updated,
            deleted=report.result.deleted, skipped=sum(report.result.skipped.values()), full=report.full_sync,
            unlinked=report.unlinked,
        )

    def _window_moved(self, state: str) -> bool:
        """True when the window a calendar link was started with begins ``window_refresh_days`` or more
        before the current one (or is unknown)."""
        _, _, tag = state.partition("#")
        assert self._window is not None
        try:
            started = datetime.fromisoformat(tag.removeprefix(WINDOW_TAG).replace("Z", "+00:00"))
        except ValueError:
            return True
        if started.tzinfo is None:
            return True
        return self._window[0] - started >= timedelta(days=self.window_refresh_days)

    def start_url(self, address: str, folder: FolderName) -> str:
        """The delta query a folder's sync starts from (when no link is stored)."""
        user = self.client.url(self.client.user_path(address))
        if folder == "contacts":
            properties = (translate.SENSITIVITY_PROPERTY,
                          *(translate.user_field_property(n) for n in self.settings.user_fields))
            query = {"$select": ",".join(CONTACT_SELECT), "$expand": _expand(properties)}
            return f"{user}/contacts/delta?{_query(query)}"
        if folder == "calendar":
            assert self._window is not None
            start, end = (_iso(w) for w in self._window)
            return f"{user}/calendarView/delta?{_query({'startDateTime': start, 'endDateTime': end})}"
        select = MESSAGE_SELECT + (("bodyPreview",) if self.settings.snippet_chars > 0 else ())
        query = {"$select": ",".join(select), "$expand": _expand(MESSAGE_PROPERTIES)}
        return f"{user}/mailFolders/{MESSAGE_FOLDERS[folder]}/messages/delta?{_query(query)}"

    def _pages(
        self, address: str, mailbox_id: int, folder_name: FolderName, state: str | None, seen: set[str] | None,
        report: FolderReport, progress: Progress | None, flog: Any,
    ) -> None:
        url, _, tag = (state or self.start_url(address, folder_name)).partition("#")
        if folder_name == "calendar" and not tag:
            assert self._window is not None
            tag = f"{WINDOW_TAG}{_iso(self._window[0])}"
        headers = {"Prefer": f"odata.maxpagesize={self.client.settings.page_size}"}

        def fetch(link: str) -> tuple[Any, CallStats]:
            stats = CallStats()  # merged into the report by the thread that uses the page
            return self.client.get_url(link, counters=stats, headers=headers, should_stop=self.should_stop), stats

        # The next page is fetched (read-only) in the background while this one is translated and
        # applied; this page's link still commits with this page. On any failure the read ahead is
        # abandoned, never applied.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relsync-graph-read-ahead")
        try:
            self._follow(url, tag, fetch, pool, address, mailbox_id, folder_name, seen, report, progress, flog)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _follow(
        self, url: str, tag: str, fetch: Callable[[str], tuple[Any, CallStats]], pool: ThreadPoolExecutor,
        address: str, mailbox_id: int, folder_name: FolderName, seen: set[str] | None, report: FolderReport,
        progress: Progress | None, flog: Any,
    ) -> None:
        data, stats = fetch(url)
        removed: list[str] = []  # the calendar round's removals on pages already applied
        while True:
            report.retries += stats.retries
            report.throttled_seconds += stats.throttled_seconds
            value = data.get("value") if isinstance(data, Mapping) else None
            next_link = data.get("@odata.nextLink") if isinstance(data, Mapping) else None
            delta_link = data.get("@odata.deltaLink") if isinstance(data, Mapping) else None
            new_state = next_link or delta_link
            if not isinstance(value, list) or not isinstance(new_state, str):
                raise ExchangeProtocolError(
                    f"{folder_name}: Graph sent a delta page without a value list or a next/delta link",
                    mailbox=address, code="MalformedDeltaPage",
                )
            if tag:  # the calendar's state remembers its window's start, in the link's fragment
                new_state = f"{new_state.partition('#')[0]}#{tag}"
            ahead: Future[tuple[Any, CallStats]] | None = None
            if isinstance(next_link, str):
                ahead = pool.submit(contextvars.copy_context().run, fetch, next_link.partition("#")[0])
            changes, skipped = self._translate(address, folder_name, value, report, flog)
            if seen is not None:
                seen.update(c.item_id for c in changes if c.record is not None)
                seen.update(s.item_id for s in skipped if s.item_id)
            for item in skipped:
                flog.warning("item skipped", item_id=item.item_id, reason=item.reason)
            # Each occurrence is its own item here: on the round's last page the store cancels those the
            # round deleted, as EWS would; not before, as a deleted series' removals may span pages.
            settle = folder_name == "calendar" and ahead is None
            page = Page(
                mailbox_id=mailbox_id, folder=folder_name, folder_id=None, changes=tuple(changes),
                new_state=new_state, skipped=tuple(skipped), full_sync=seen is not None,
                window=self._window if settle else None, removed_earlier=tuple(removed) if settle else (),
            )
            # Applied here, not in a writer process as an EWS backlog is: that made a Graph sync slower
            # where measured (13.0 s against 10.1 s for 27,243 items, benchmarks/graph_sync_throughput.py).
            self._applied(self.store.apply_page(page, self.rules), report, progress, address, folder_name)
            if folder_name == "calendar":
                removed.extend(c.item_id for c in changes if c.record is None)
            if ahead is None:
                return
            if self.should_stop():
                raise SyncInterrupted(folder_name)
            data, stats = ahead.result()

    def _applied(
        self, result: PageResult, report: FolderReport, progress: Progress | None, address: str,
        folder_name: FolderName,
    ) -> None:
        report.result.add(result)
        report.pages += 1
        if progress is not None:
            progress(address, folder_name, report)

    # -------------------------------------------------------------------------------- translation
    def _translate(
        self, address: str, folder_name: FolderName, value: list[Any], report: FolderReport, flog: Any
    ) -> tuple[list[ItemChange], list[SkippedItem]]:
        changes: list[ItemChange] = []
        skipped: list[SkippedItem] = []
        if folder_name == "calendar":
            self._learn_series(address, value, report, flog)
        for entry in value:
            if not isinstance(entry, Mapping):
                skipped.append(SkippedItem(item_id=None, reason=f"not an object: {type(entry).__name__}"))
                continue
            item_id = entry.get("id")
            if not isinstance(item_id, str) or not item_id:
                skipped.append(SkippedItem(item_id=None, reason="no item id"))
                continue
            if translate.removed(entry):
                changes.append(ItemChange(item_id=item_id, change_key=None, record=None))
                continue
            try:
                record = self._record(address, folder_name, entry)
            except BadItem as exc:
                skipped.append(SkippedItem(item_id=exc.item_id or item_id, reason=exc.reason))
                continue
            except Exception as exc:  # one malformed item must never stop the mailbox
                flog.exception("item could not be translated", item_id=item_id)
                skipped.append(SkippedItem(item_id=item_id, reason=f"{type(exc).__name__}"))
                continue
            if record is None:
                continue  # an occurrence starting outside the window: EWS would not store it either
            change_key = entry.get("changeKey")
            categories = tuple(c for c in entry.get("categories") or () if isinstance(c, str) and c)
            changes.append(ItemChange(item_id=item_id, change_key=change_key if isinstance(change_key, str) else None,
                                      record=record, categories=categories))
        return changes, skipped

    def _record(self, address: str, folder_name: FolderName, entry: Mapping[str, Any]) -> Any:
        s = self.settings
        if folder_name == "contacts":
            return translate.contact_record(entry, s.default_region, s.user_fields)
        if folder_name == "calendar":
            master = translate.series_master_id(entry)
            series = translate.meeting_series(entry, self._series_uids.get(master) if master else None)
            record = series.item
            assert self._window is not None
            low, high = self._window
            if record.occurrence_start is not None and not low <= record.start < high:
                # As the EWS expansion: an occurrence belongs to the window by its start (calendarView
                # also sends those that merely overlap it); one outside is left as it is.
                return None
            return series
        return translate.message_record(entry, folder_name, owner=address, snippet_chars=s.snippet_chars)

    def _learn_series(self, address: str, value: list[Any], report: FolderReport, flog: Any) -> None:
        """Read the iCalUId of every series master this page's occurrences belong to and is not known yet."""
        wanted = sorted({
            master for entry in value
            if isinstance(entry, Mapping) and not translate.removed(entry)
            and (master := translate.series_master_id(entry)) and master not in self._series_uids
        })
        if not wanted:
            return
        user = self.client.user_path(address)
        requests = [
            BatchRequest(id=str(n), url=f"{user}/events/{quote(master, safe='')}?$select=iCalUId,type")
            for n, master in enumerate(wanted, start=1)
        ]
        answers = self.client.batch(requests, counters=report, should_stop=self.should_stop)
        for request, master in zip(requests, wanted, strict=True):
            answer = answers.get(request.id)
            if answer is not None and answer.ok and isinstance(answer.body, Mapping):
                uid = answer.body.get("iCalUId")
                if isinstance(uid, str) and uid:
                    self._series_uids[master] = uid
                continue
            if answer is not None and answer.status == 404:
                # The master is gone (deleted between pages): its occurrences are skipped, with their ids.
                flog.warning("series master not found", master_id=master)
                continue
            if answer is None or answer.status == 0:
                raise ExchangeProtocolError(f"$batch gave no answer for series master {master}", mailbox=address,
                                            code="BatchIncomplete")
            raise self.client.error_for(answer, f"GET {request.url}")
