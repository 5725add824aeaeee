"""The Graph reader: pages of Microsoft Graph delta queries for the one sync engine (:mod:`connector.engine`).

Each delta page is translated (:mod:`connector.graph.translate`) and handed by the engine to the store
together with the link that follows it (``@odata.nextLink``, or ``@odata.deltaLink`` on the last page)
in **one** transaction, so a crash resumes at the last committed page. That link *is* the folder's
sync state.

- contacts: ``/users/{u}/contacts/delta`` (sensitivity and user-defined fields as extended properties);
- inbox, sentitems: ``/users/{u}/mailFolders/{folder}/messages/delta``;
- calendar: ``/users/{u}/calendarView/delta`` over the window ``calendar_days_back`` ..
  ``calendar_days_ahead``. Graph sends instances; an occurrence's series iCalUId is read from its
  master (``$batch``, 20 per call, kept by the reader across sync calls: a master's iCalUId never
  changes), so occurrences get the same
  (UID, original start) key EWS gives them. A delta link keeps the window it started with, so the
  calendar's state also remembers that window's start (a URL fragment, never sent), and once the
  current window starts :data:`WINDOW_REFRESH_DAYS` later the calendar is read again over it.
  A round's last calendar page carries the current window and the round's earlier removals: a removed
  occurrence of a series the mailbox still holds, original start inside it, is stored cancelled, as
  EWS's expansion finds it gone (a round interrupted between pages forgets its earlier removals).

A folder whose stored state is an EWS one (a mailbox switched from EWS) first has its links moved to Graph
ids (:mod:`connector.graph.ews_ids`), so its first read over Graph upserts onto them; where Graph refuses
the translation (app-only tokens), the read's new links replace the old ones of the same entity instead.

Failures: throttling, dropped connections and token renewal are the client's
(:class:`connector.graph.client.GraphClient`); a link Graph no longer knows (410) resyncs the folder
from scratch (upserting), then items no longer present are unlinked under the engine's safety rail
(``max_unlink_share``); mailbox errors end in the report, refused credentials are raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import structlog

from connector.base import Counters, FolderStart, RawPage
from connector.engine import MailboxSync, SyncSettings
from connector.errors import ExchangeProtocolError, SyncStateInvalid
from connector.graph import ews_ids, translate
from connector.graph.client import BatchRequest, GraphClient
from connector.translate_rules import BadItem
from mapping.changes import FolderName, ItemChange, SkippedItem, SyncRules
from mapping.store.models import MailboxBackend
from mapping.store.store import Store

log = structlog.get_logger(__name__)

CONTACT_SELECT = (
    "id",
    "changeKey",
    "categories",
    "displayName",
    "givenName",
    "middleName",
    "surname",
    "nickName",
    "companyName",
    "jobTitle",
    "department",
    "businessHomePage",
    "emailAddresses",
    "businessPhones",
    "homePhones",
    "mobilePhone",
    "businessAddress",
    "homeAddress",
    "otherAddress",
)
MESSAGE_SELECT = (
    "id",
    "changeKey",
    "subject",
    "internetMessageId",
    "conversationId",
    "sentDateTime",
    "receivedDateTime",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "categories",
    "parentFolderId",
)
MESSAGE_PROPERTIES = (
    translate.SENSITIVITY_PROPERTY,
    translate.MESSAGE_SIZE_PROPERTY,
    translate.MESSAGE_CLASS_PROPERTY,
)
MESSAGE_FOLDERS = {"inbox": "inbox", "sentitems": "sentitems"}
#: A calendar link's state carries the start of its window after this (a URL fragment, never sent).
WINDOW_TAG = "relsync-window="
#: calendarView's delta keeps its window: the calendar is read again over the current window when the
#: stored one started this many days earlier (else meetings beyond its end would never arrive).
WINDOW_REFRESH_DAYS = 7
#: Series masters' iCalUIds kept per mailbox between sync calls (a mailbox holding more starts afresh).
SERIES_CACHE_PER_MAILBOX = 20_000


def _expand(properties: tuple[str, ...]) -> str:
    condition = " or ".join(f"id eq '{p}'" for p in properties)
    return f"singleValueExtendedProperties($filter={condition})"


def _query(params: Mapping[str, str]) -> str:
    return urlencode(params, quote_via=quote, safe="$,()'")


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def calendar_window(settings: SyncSettings, now: datetime) -> tuple[datetime, datetime]:
    """The calendar window, whole seconds (what calendarView is asked for), as the EWS reader expands series."""
    now = now.astimezone(UTC).replace(microsecond=0)
    return now - timedelta(days=settings.calendar_days_back), now + timedelta(days=settings.calendar_days_ahead)


def start_url(
    client: GraphClient,
    settings: SyncSettings,
    address: str,
    folder: FolderName,
    window: tuple[datetime, datetime] | None = None,
) -> str:
    """The delta query a folder's sync starts from (when no link is stored); the calendar's over ``window``
    (default: the current one)."""
    user = client.url(client.user_path(address))
    if folder == "contacts":
        properties = (translate.SENSITIVITY_PROPERTY, *(translate.user_field_property(n) for n in settings.user_fields))
        query = {"$select": ",".join(CONTACT_SELECT), "$expand": _expand(properties)}
        return f"{user}/contacts/delta?{_query(query)}"
    if folder == "calendar":
        start, end = (_iso(w) for w in window or calendar_window(settings, datetime.now(UTC)))
        return f"{user}/calendarView/delta?{_query({'startDateTime': start, 'endDateTime': end})}"
    select = MESSAGE_SELECT + (("bodyPreview",) if settings.snippet_chars > 0 else ())
    query = {"$select": ",".join(select), "$expand": _expand(MESSAGE_PROPERTIES)}
    return f"{user}/mailFolders/{MESSAGE_FOLDERS[folder]}/messages/delta?{_query(query)}"


class GraphReader:
    """A :class:`connector.base.MailboxReader` over one :class:`GraphClient`."""

    backend = MailboxBackend.GRAPH
    #: A folder enters the report before it is read: one failing part way still counts its throttling.
    lists_folder_first = True

    def __init__(
        self,
        client: GraphClient,
        store: Store,
        rules: Callable[[], SyncRules],
        settings: SyncSettings,
        should_stop: Callable[[], bool] = lambda: False,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        window_refresh_days: int = WINDOW_REFRESH_DAYS,
    ) -> None:
        self.client = client
        #: As the client's settings say (GraphSettings.parallel_apply; benchmarks/graph_sync_throughput.py).
        self.parallel_apply = client.settings.parallel_apply
        self.store = store
        self.rules = rules
        self.settings = settings
        self.should_stop = should_stop
        self._now = now
        self.window_refresh_days = window_refresh_days
        #: Mailbox address (lower-case) -> series master id -> the series' iCalUId, learnt in earlier sync
        #: calls: an incremental calendar sync reads only the masters it has not met (an iCalUId is fixed
        #: for a master's life, and immutable ids never name another item).
        self._series_uids: dict[str, dict[str, str]] = {}

    def open(self, address: str, mailbox_id: int) -> GraphMailbox:
        uids = self._series_uids.setdefault(address.lower(), {})
        if len(uids) > SERIES_CACHE_PER_MAILBOX:
            uids.clear()
        return GraphMailbox(self, address, mailbox_id, calendar_window(self.settings, self._now()), uids)


class GraphMailbox:
    """One mailbox's reading over Graph for one sync call (a :class:`connector.base.MailboxSession`): the
    calendar window of the call, and the series masters' iCalUIds known (``series_uids``: the reader's
    for this mailbox, kept between calls; a fresh one if not given)."""

    def __init__(
        self,
        reader: GraphReader,
        address: str,
        mailbox_id: int,
        window: tuple[datetime, datetime],
        series_uids: dict[str, str] | None = None,
    ) -> None:
        self.reader = reader
        self.address = address
        self.mailbox_id = mailbox_id
        self.window = window
        #: Series master id -> the series' iCalUId.
        self._series_uids: dict[str, str] = {} if series_uids is None else series_uids

    def folder(self, folder: FolderName, counters: Counters, log: Any) -> GraphFolder:
        return GraphFolder(self, folder, counters, log)

    def translate_page(
        self, folder_name: FolderName, value: list[Any], report: Counters, flog: Any
    ) -> tuple[list[ItemChange], list[SkippedItem]]:
        """One delta page's entries as changes (removals with ``record=None``) and skipped items.

        A calendar page's series masters are read when it is fetched (:meth:`GraphFolder.fetch`, in the
        read-ahead); any still unknown here are read now."""
        changes: list[ItemChange] = []
        skipped: list[SkippedItem] = []
        if folder_name == "calendar":
            self.learn_series(value, report, flog)
        for entry in value:
            if not isinstance(entry, (dict, Mapping)):
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
                record = self._record(folder_name, entry)
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
            changes.append(
                ItemChange(
                    item_id=item_id,
                    change_key=change_key if isinstance(change_key, str) else None,
                    record=record,
                    categories=categories,
                )
            )
        return changes, skipped

    def _record(self, folder_name: FolderName, entry: Mapping[str, Any]) -> Any:
        s = self.reader.settings
        if folder_name == "contacts":
            return translate.contact_record(entry, s.default_region, s.user_fields)
        if folder_name == "calendar":
            master = translate.series_master_id(entry)
            series = translate.meeting_series(entry, self._series_uids.get(master) if master else None)
            record = series.item
            low, high = self.window
            if record.occurrence_start is not None and not low <= record.start < high:
                # As the EWS expansion: an occurrence belongs to the window by its start (calendarView
                # also sends those that merely overlap it); one outside is left as it is.
                return None
            return series
        return translate.message_record(entry, folder_name, owner=self.address, snippet_chars=s.snippet_chars)

    def learn_series(self, value: list[Any], report: Counters, flog: Any) -> None:
        """Read the iCalUId of every series master this page's occurrences belong to and is not known yet
        (reads only: it runs in the read-ahead thread, the learnt iCalUIds are read by the translation)."""
        wanted = sorted(
            {
                master
                for entry in value
                if isinstance(entry, (dict, Mapping))
                and not translate.removed(entry)
                and (master := translate.series_master_id(entry))
                and master not in self._series_uids
            }
        )
        if not wanted:
            return
        client = self.reader.client
        user = client.user_path(self.address)
        requests = [
            BatchRequest(id=str(n), url=f"{user}/events/{quote(master, safe='')}?$select=iCalUId,type")
            for n, master in enumerate(wanted, start=1)
        ]
        answers = client.batch(requests, counters=report, should_stop=self.reader.should_stop)
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
                raise ExchangeProtocolError(
                    f"$batch gave no answer for series master {master}", mailbox=self.address, code="BatchIncomplete"
                )
            raise client.error_for(answer, f"GET {request.url}")


class GraphFolder:
    """One folder's delta pages (a :class:`connector.base.FolderRead`)."""

    refused_message = "delta link refused by Graph, resyncing the folder from scratch"
    folder_id: str | None = None  # Graph's folder ids are not kept: the delta link names the folder

    def __init__(self, mailbox: GraphMailbox, name: FolderName, counters: Counters, log: Any) -> None:
        self.mailbox = mailbox
        self.reader = mailbox.reader
        self.name = name
        self.counters = counters
        self.log = log
        self.migration: ews_ids.Migration | None = None
        self._headers = {"Prefer": f"odata.maxpagesize={self.reader.client.settings.page_size}"}

    def begin(self, full: bool, read: Callable[[str | None], None]) -> FolderStart:
        reader, store, name, flog = self.reader, self.reader.store, self.name, self.log
        mailbox_id = self.mailbox.mailbox_id
        state = store.sync_state(mailbox_id, name)
        if state is not None and ews_ids.is_ews_state(state):
            # The mailbox was synced over EWS until now (also under an admin's `resync --full`): its
            # links move to Graph ids (with the state, in one transaction), so the full read below
            # upserts onto them instead of doubling them.
            self.migration = ews_ids.migrate_folder(
                reader.client, store, self.mailbox.address, mailbox_id, name, counters=self.counters, log=flog
            )
            state = None
        elif full:
            store.reset_sync_state(mailbox_id, name)
            state = None
        if state is not None and not state.startswith(f"{reader.client.base_url}/"):
            # A link of another Graph endpoint: useless here. The folder is read from scratch; links
            # Graph no longer lists are unlinked at its end under the safety rail.
            flog.warning("the stored sync state is not a link of this Graph endpoint, reading the folder again")
            store.reset_sync_state(mailbox_id, name)
            state = None
        refresh = name == "calendar" and state is not None and self._window_moved(state)
        if refresh:
            # calendarView's delta keeps the window it started with; a new one starts from scratch.
            # The old link's last changes first (deletions included), then the current window, and
            # nothing is unlinked after it: meetings that merely left the window stay, as over EWS.
            flog.info("calendar window moved on, reading the calendar over the current window")
            try:
                read(state)
            except SyncStateInvalid:
                refresh = False  # the full resync below unlinks, as for any refused link
            state = None
        return FolderStart(state, unlink_missing=not refresh)

    def _window_moved(self, state: str) -> bool:
        """True when the window a calendar link was started with begins ``window_refresh_days`` or more
        before the current one (or is unknown)."""
        _, _, tag = state.partition("#")
        try:
            started = datetime.fromisoformat(tag.removeprefix(WINDOW_TAG).replace("Z", "+00:00"))
        except ValueError:
            return True
        if started.tzinfo is None:
            return True
        return self.mailbox.window[0] - started >= timedelta(days=self.reader.window_refresh_days)

    def backlog(self) -> int | None:
        """A mail folder's ``totalItemCount`` (one small GET, only before a read from scratch): with it the
        engine starts the writer process before the first page, as over EWS, instead of after the first
        ``parallel_apply_min_changes`` items stored here. Delta pages carry no total; the other folders
        have no count to ask for (contacts are few, the calendar's instances are not its items)."""
        folder = MESSAGE_FOLDERS.get(self.name)
        reader = self.reader
        if folder is None or not reader.parallel_apply:
            return None
        client = reader.client
        try:
            data = client.request(
                "GET",
                client.url(f"{client.user_path(self.mailbox.address)}/mailFolders/{folder}"),
                params={"$select": "totalItemCount"},
                counters=self.counters,
                should_stop=reader.should_stop,
            )
        except ExchangeProtocolError as exc:  # only a hint: the delta's own request says what is wrong
            self.log.info("mail folder count not read", error=str(exc))
            return None
        total = data.get("totalItemCount") if isinstance(data, Mapping) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    def fetch(self, state: str | None, counters: Counters) -> RawPage:
        reader = self.reader
        url, _, tag = (
            state or start_url(reader.client, reader.settings, self.mailbox.address, self.name, self.mailbox.window)
        ).partition("#")
        if self.name == "calendar" and not tag:
            tag = f"{WINDOW_TAG}{_iso(self.mailbox.window[0])}"
        data = reader.client.get_url(url, counters=counters, headers=self._headers, should_stop=reader.should_stop)
        value = data.get("value") if isinstance(data, Mapping) else None
        next_link = data.get("@odata.nextLink") if isinstance(data, Mapping) else None
        delta_link = data.get("@odata.deltaLink") if isinstance(data, Mapping) else None
        new_state = next_link or delta_link
        if not isinstance(value, list) or not isinstance(new_state, str):
            raise ExchangeProtocolError(
                f"{self.name}: Graph sent a delta page without a value list or a next/delta link",
                mailbox=self.mailbox.address,
                code="MalformedDeltaPage",
            )
        if tag:  # the calendar's state remembers its window's start, in the link's fragment
            new_state = f"{new_state.partition('#')[0]}#{tag}"
        if self.name == "calendar":
            # The page's series masters are read here, so in the read-ahead while the page before is
            # translated and applied, not in the translation's turn.
            self.mailbox.learn_series(value, counters, self.log)
        # The next page is fetched from the same link, its fragment (the window's start) kept for its state.
        return RawPage(items=value, new_state=new_state, next_state=new_state if isinstance(next_link, str) else None)

    def translate(self, page: RawPage, counters: Counters) -> tuple[list[ItemChange], list[SkippedItem]]:
        return self.mailbox.translate_page(self.name, list(page.items), counters, self.log)

    def window(self) -> tuple[datetime, datetime] | None:
        # Each occurrence is its own item here: on the round's last page the store cancels those the
        # round deleted, as EWS would; not before, as a deleted series' removals may span pages.
        return self.mailbox.window if self.name == "calendar" else None

    def complete(self, seen: set[str] | None) -> tuple[set[str] | None, int]:
        store, mailbox_id = self.reader.store, self.mailbox.mailbox_id
        migration = self.migration
        if migration is None and (parked := ews_ids.resumed(store, mailbox_id, self.name)) is not None:
            # EWS-era links parked by a refused translation whose read from scratch took several runs
            # (interrupted, resumed): the read is complete now, so they are replaced now.
            migration, live = parked
            seen = live if seen is None else seen
        if seen is None or migration is None:
            return seen, 0
        # Old links the read replaced (new ids, series); see connector.graph.ews_ids.
        return seen, migration.settle(store, mailbox_id, seen, self.reader.rules(), self.window(), self.log)


class GraphMailboxSync(MailboxSync):
    """The sync engine over Graph: syncs mailboxes through one :class:`GraphClient` into one store."""

    def __init__(
        self,
        client: GraphClient,
        store: Store,
        rules: SyncRules,
        settings: SyncSettings,
        should_stop: Callable[[], bool] = lambda: False,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        window_refresh_days: int = WINDOW_REFRESH_DAYS,
    ) -> None:
        reader = GraphReader(client, store, lambda: self.rules, settings, self.stopping, now, window_refresh_days)
        super().__init__(reader, store, rules, settings, should_stop)
        self.client = client
        self._now = now

    def start_url(self, address: str, folder: FolderName) -> str:
        """The delta query a folder's sync starts from now (when no link is stored)."""
        return start_url(self.client, self.settings, address, folder, calendar_window(self.settings, self._now()))
