"""Mailboxes synced over Microsoft Graph: GraphMailboxSync + GraphClient against FakeGraph, for real.

FakeGraph serves the mailboxes of a FakeExchange over HTTPS (trusted through its CA file, although this
machine sets REQUESTS_CA_BUNDLE), accepting the tokens FakeTokenService issues through msal. ``sleep``
is the one seam replaced: waits are recorded instead of slept. The key test syncs one generated company
over EWS and over Graph into two stores and compares their exports.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
from exchangelib.protocol import close_connections
from lxml import etree

from connector.auth import OAuthSettings, TokenSource
from connector.base import CallStats
from connector.engine import MailboxReport, MailboxSource, SyncSettings
from connector.errors import AuthenticationFailed
from connector.ews.reader import EwsMailboxSync
from connector.fake.company.generator import build_company
from connector.fake.company.names import OWN_DOMAIN
from connector.fake.ews.server import FakeExchange
from connector.fake.graph.render import rest_id
from connector.fake.graph.server import FakeGraph
from connector.fake.model import ItemSpec, Mailbox, Recurrence
from connector.fake.tokens import FakeTokenService
from connector.graph.client import GraphClient
from connector.graph.reader import GraphMailboxSync
from connector.graph.settings import GraphSettings, graph_oauth
from mapping.changes import SyncRules
from mapping.store.migrate import upgrade
from mapping.store.reports import export_rows
from mapping.store.store import Store
from tests.e2e.graphparity import assert_same_store
from tests.e2e.jsonlogs import json_logs
from tests.e2e.syncenv import (
    ALICE,
    ALL_FOLDERS,
    BOB,
    DANA,
    DOMAIN,
    ERIN,
    T0,
    HandCompany,
    connection_for,
    contact,
    meeting,
    message,
)

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "fake-secret-Zq8~x"


@dataclass
class GraphWorld:
    ex: FakeExchange
    idp: FakeTokenService
    graph: FakeGraph
    store: Store
    rules: SyncRules
    waits: list[float] = field(default_factory=list)
    clients: list[GraphClient] = field(default_factory=list)

    def oauth(self) -> OAuthSettings:
        return graph_oauth(
            OAuthSettings(
                tenant_id=self.idp.tenant,
                client_id=CLIENT_ID,
                client_secret=SECRET,
                authority_host=self.idp.authority_host,
                ca_bundle=self.idp.ca_file,
            )
        )

    def client(self, **settings: Any) -> GraphClient:
        defaults: dict[str, Any] = {"retry_base_seconds": 0.01}
        graph_settings = GraphSettings(
            base_url=self.graph.base_url, oauth=self.oauth(), ca_bundle=self.graph.ca_file, **{**defaults, **settings}
        )
        client = GraphClient(
            graph_settings, TokenSource(graph_settings.oauth) if graph_settings.oauth else None, sleep=self.waits.append
        )
        self.clients.append(client)
        return client

    def engine(self, client: GraphClient | None = None, now: Any = None, **settings: Any) -> GraphMailboxSync:
        return GraphMailboxSync(
            client or self.client(),
            self.store,
            self.rules,
            SyncSettings(**settings),
            now=now or (lambda: datetime.now(UTC)),
        )

    def sync(self, address: str = ALICE.email, folders: Any = None, **settings: Any) -> MailboxReport:
        return self.engine(**settings).sync(address, folders or ALL_FOLDERS)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.store.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def count(self, table: str, where: str = "1=1", **params: Any) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table} WHERE {where}", **params))

    def live_links(self, folder: str, address: str = ALICE.email) -> int:
        return self.count(
            "item_links l JOIN staff_mailboxes m ON m.id = l.mailbox_id",
            "l.folder = :f AND m.address = :a AND l.deleted_at IS NULL",
            f=folder,
            a=address,
        )

    def stats(self) -> dict[str, Any]:
        return self.graph.stats.to_json()


def hand_company() -> HandCompany:
    a = ALICE.email
    return HandCompany(
        items={
            (a, "contacts"): [contact(i, f"Person{i} Test", f"p{i}@litware.example") for i in range(5)],
            (a, "inbox"): [message(i, f"Mail {i}", DANA, [ALICE]) for i in range(4)],
            (a, "sentitems"): [message(10 + i, f"Reply {i}", ALICE, [DANA]) for i in range(2)],
            (a, "calendar"): [meeting(20, "Kick-off", datetime.now(UTC) - timedelta(days=3), ALICE, [DANA, ERIN])],
            (BOB.email, "inbox"): [message(50, "For Bob", DANA, [BOB])],
        }
    )


@pytest.fixture
def make_world(ews_schema: etree.XMLSchema, sqlite_url: str) -> Iterator[Any]:
    worlds: list[GraphWorld] = []

    def make(
        company: Any = None, *, url: str | None = None, scope: set[str] | None = None, schema: bool = True
    ) -> GraphWorld:
        ex = FakeExchange(company or hand_company(), validate=ews_schema if schema else None).start()
        idp = FakeTokenService(exchange=ex, clients={CLIENT_ID: SECRET}).start()
        graph = FakeGraph(ex, scope=scope).start()
        db = url or sqlite_url
        upgrade(db)
        world = GraphWorld(ex, idp, graph, Store(db), SyncRules(internal_domains=frozenset({DOMAIN})))
        worlds.append(world)
        return world

    yield make
    close_connections()
    for w in worlds:
        for client in w.clients:
            client.close()
        w.graph.stop()
        w.idp.stop()
        w.ex.stop()
        w.store.dispose()
    for w in worlds:
        assert w.stats()["missing_immutable_id_total"] == 0, "a request went out without Prefer: IdType"
        assert all(n <= 4 for n in w.graph.stats.max_concurrent.values()), "more than 4 requests at once"


def created(report: MailboxReport) -> dict[str, int]:
    assert report.ok, report.error
    return {f.folder: f.result.created for f in report.folders}


# ----------------------------------------------------------------------------------- the happy path
def test_first_sync_stores_every_folder_and_the_next_one_reads_only_changes(make_world: Any, db_url: str) -> None:
    w = make_world(url=db_url)
    engine: MailboxSource = w.engine()
    report = engine.sync(ALICE.email, ALL_FOLDERS)
    assert created(report) == {"contacts": 5, "inbox": 4, "sentitems": 2, "calendar": 1}
    assert all(f.full_sync for f in report.folders)
    assert w.count("interactions") == 7 and w.count("people", "1=1") >= 5
    assert w.scalar("SELECT backend FROM staff_mailboxes WHERE address = :a", a=ALICE.email) in ("graph", "GRAPH")
    # the stored state is the delta link Graph gave
    assert all(
        s.startswith(w.graph.base_url)
        for s in [r[0] for r in w.store.engine.connect().execute(sa.text("SELECT state FROM sync_states"))]
    )
    again = engine.sync(ALICE.email, ALL_FOLDERS)
    assert again.ok and not any(f.full_sync for f in again.folders)
    assert sum(f.result.created + f.result.updated + f.result.deleted for f in again.folders) == 0
    assert w.idp.token_requests == 1  # msal's cache served every later request


def test_changes_and_deletions_arrive_incrementally(make_world: Any, db_url: str) -> None:
    w = make_world(url=db_url)
    assert w.sync().ok
    mb = w.ex.mailboxes[ALICE.email]
    inbox = [i for i, _ in mb.items("inbox")]
    contacts = [i for i, _ in mb.items("contacts")]
    mb.create("inbox", message(30, "A new one", DANA, [ALICE]))
    mb.delete(inbox[0])
    mb.delete(contacts[0])
    mb.update(contacts[1], JobTitle="Head of Buying")
    report = w.sync()
    by = {f.folder: f.result for f in report.folders}
    assert report.ok and by["inbox"].created == 1 and by["inbox"].deleted == 1
    assert by["contacts"].deleted == 1 and by["contacts"].updated == 1
    assert w.live_links("inbox") == 4 and w.live_links("contacts") == 4
    assert w.count("interactions") == 8  # a deleted e-mail stays as corporate memory
    assert w.count("people", "job_title = 'Head of Buying'") == 1


def test_an_expired_delta_link_resyncs_the_folder_and_unlinks_what_was_deleted_meanwhile(
    make_world: Any, db_url: str
) -> None:
    w = make_world(url=db_url)
    assert w.sync().ok
    people = w.count("people")
    mb = w.ex.mailboxes[ALICE.email]
    mb.delete(next(i for i, _ in mb.items("contacts")))
    mb.create("contacts", contact(9, "Newcomer Test", "new@litware.example"))
    w.graph.faults.add("invalid_sync_state", operation="contacts.delta", mailbox=ALICE.email)
    report = w.sync(folders=["contacts"])
    assert report.ok, report.error
    [folder] = report.folders
    assert folder.full_sync and folder.unlinked == 1
    assert folder.result.created == 1 and folder.result.updated == 4
    assert w.count("people") == people + 1 and w.live_links("contacts") == 5
    assert w.scalar("SELECT full_syncs FROM sync_states WHERE folder = 'contacts'") == 1
    assert not w.sync(folders=["contacts"]).folders[0].full_sync


def test_a_folder_that_suddenly_looks_empty_after_a_resync_unlinks_nothing(make_world: Any) -> None:
    company = HandCompany(
        items={(ALICE.email, "contacts"): [contact(i, f"Person{i} Test", f"p{i}@litware.example") for i in range(25)]}
    )
    w = make_world(company)
    assert w.sync(folders=["contacts"]).ok
    mb = w.ex.mailboxes[ALICE.email]
    for item_id, _ in list(mb.items("contacts")):
        mb.delete(item_id)
    w.graph.faults.add("invalid_sync_state", operation="contacts.delta", mailbox=ALICE.email)
    report = w.sync(folders=["contacts"])
    assert not report.ok and report.error_kind == "MassUnlinkRefused"
    assert w.live_links("contacts") == 25


def test_bad_items_are_skipped_with_a_counted_logged_reason_and_the_rest_syncs(make_world: Any) -> None:
    nobody = Mailbox("Nobody", "not an address")
    invite = message(5, "Invitation: review", DANA, [ALICE])
    a = ALICE.email
    w = make_world(
        HandCompany(
            items={
                (a, "inbox"): [
                    message(1, "Good mail", DANA, [ALICE]),
                    message(2, "No address", nobody, [nobody]),
                    message(3, "x" * 5000, DANA, [ALICE]),
                    message(
                        4,
                        "Absurd dates",
                        DANA,
                        [ALICE],
                        DateTimeSent=datetime(1601, 1, 2, tzinfo=UTC),
                        DateTimeReceived=datetime(1601, 1, 2, tzinfo=UTC),
                    ),
                    ItemSpec("MeetingRequest", invite.fields),
                    message(6, "Good mail too", ERIN, [ALICE]),
                ],
                (a, "contacts"): [
                    contact(1, "Dana Dunn", DANA.email),
                    ItemSpec("Contact", {"JobTitle": "nobody at all"}),
                    ItemSpec("DistributionList", {"Subject": "All customers", "DisplayName": "All customers"}),
                ],
                (a, "calendar"): [
                    meeting(1, "Backwards", T0, ALICE, [DANA], End=T0 - timedelta(hours=1)),
                    meeting(2, "Good meeting", T0, ALICE, [DANA]),
                ],
            }
        )
    )
    with structlog.testing.capture_logs() as logs:
        report = w.sync()
    assert report.ok, report.error
    by = {f.folder: f.result for f in report.folders}
    assert by["inbox"].created == 2 and by["contacts"].created == 1 and by["calendar"].created == 1
    reasons = {folder: " | ".join(sorted(result.skipped.elements())) for folder, result in by.items()}
    assert "no address" in reasons["inbox"] and "subject too long: 5000 chars" in reasons["inbox"]
    assert "out of range" in reasons["inbox"] and "eventMessage" in reasons["inbox"]
    assert "no address" in reasons["contacts"]  # a distribution list is not a contact in Graph at all
    assert "ends before it starts" in reasons["calendar"]
    skipped = [e for e in logs if e["event"] == "item skipped"]
    assert len(skipped) == 6
    ids = {rest_id(i) for folder in ("inbox", "contacts", "calendar") for i, _ in w.ex.mailboxes[a].items(folder)}
    assert all(e["item_id"] in ids and e["mailbox"] == a for e in skipped)
    again = w.sync()
    assert again.ok and all(f.result.items == 0 for f in again.folders)


# ----------------------------------------------------------------------------------- failures
def test_throttling_is_waited_out_as_graph_asks_and_recorded(make_world: Any) -> None:
    w = make_world()
    w.graph.faults.add("server_busy", back_off_ms=3000, operation="messages.delta", mailbox=ALICE.email, times=2)
    report = w.sync()
    assert report.ok, report.error
    inbox = next(f for f in report.folders if f.folder == "inbox")
    assert w.waits == [3.0, 3.0] and inbox.throttled_seconds == 6.0 and inbox.retries == 2
    assert w.scalar("SELECT last_throttled_seconds FROM staff_mailboxes WHERE address = :a", a=ALICE.email) == 6.0


def test_a_stop_request_ends_a_throttled_sync_instead_of_waiting(make_world: Any) -> None:
    w = make_world()
    w.graph.faults.add("server_busy", back_off_ms=120_000, operation="messages.delta", mailbox=ALICE.email)
    # e.g. SIGTERM just as Graph asks for two minutes
    engine = GraphMailboxSync(
        w.client(), w.store, w.rules, SyncSettings(), should_stop=lambda: bool(w.graph.stats.throttled)
    )
    report = engine.sync(ALICE.email, ["contacts", "inbox"])
    assert report.interrupted and report.error is None and w.waits == []
    assert [f.result.created for f in report.folders] == [5, 0]


def test_a_503_and_a_dropped_connection_are_retried(make_world: Any) -> None:
    w = make_world()
    w.graph.faults.add("drop", operation="contacts.delta", mailbox=ALICE.email)
    w.graph.faults.add("http_503", back_off_ms=1000, operation="calendarView.delta", mailbox=ALICE.email)
    report = w.sync()
    assert created(report)["contacts"] == 5
    by = {f.folder: f for f in report.folders}
    assert by["contacts"].retries == 1 and by["calendar"].throttled_seconds == 1.0


def test_an_expired_token_is_renewed_once_and_the_sync_goes_on(make_world: Any) -> None:
    w = make_world()
    engine = w.engine()
    assert engine.sync(ALICE.email, ["contacts"]).ok
    w.idp.expire()
    report = engine.sync(ALICE.email, ALL_FOLDERS)
    assert report.ok, report.error
    assert w.idp.token_requests == 2


def test_an_app_graph_never_accepts_raises_authentication_failed_without_the_token(make_world: Any) -> None:
    w = make_world()
    w.idp.register = False  # tokens Graph refuses: the app lacks the Graph permissions
    with pytest.raises(AuthenticationFailed) as raised:
        w.sync()
    token = w.idp.issued[-1] if getattr(w.idp, "issued", None) else None
    assert "Fix:" in str(raised.value) and "Calendars.Read" in str(raised.value)
    assert token is None or token not in str(raised.value)
    assert w.scalar("SELECT needs_attention FROM staff_mailboxes WHERE address = :a", a=ALICE.email)


def test_no_token_or_secret_is_ever_logged_or_reported(make_world: Any) -> None:
    w = make_world(scope={ALICE.email})
    with json_logs("DEBUG") as logs:
        engine = w.engine()
        assert engine.sync(ALICE.email, ["contacts"]).ok
        w.idp.expire()
        w.graph.faults.add("server_busy", operation="messages.delta", mailbox=ALICE.email)
        assert engine.sync(ALICE.email, ALL_FOLDERS).ok
        denied = engine.sync(BOB.email, ["inbox"])
        w.idp.register = False
        w.idp.expire()
        with pytest.raises(AuthenticationFailed) as raised:
            engine.sync(ALICE.email, ["inbox"])
        text = json.dumps(logs.take(include_fake=True)) + str(raised.value) + (denied.error or "")
    assert len(w.idp.issued) == 3
    assert "retrying" in text and "Fix:" in text
    for secret in (*w.idp.issued, SECRET):
        assert secret not in text


def test_mailboxes_outside_the_apps_scope_or_unknown_are_reported_and_the_others_sync(make_world: Any) -> None:
    w = make_world(scope={ALICE.email})
    engine = w.engine()
    denied = engine.sync(BOB.email, ALL_FOLDERS)
    unknown = engine.sync("nobody@contoso.example", ALL_FOLDERS)
    fine = engine.sync(ALICE.email, ALL_FOLDERS)
    assert denied.error_kind == "MailboxUnavailable" and "RBAC for Applications" in (denied.error or "")
    assert unknown.error_kind == "MailboxUnavailable" and "does not exist" in (unknown.error or "")
    assert fine.ok and created(fine)["inbox"] == 4
    flagged = w.scalar("SELECT count(*) FROM staff_mailboxes WHERE needs_attention")
    assert flagged == 2


def test_the_client_keeps_at_most_four_requests_per_mailbox_in_flight(make_world: Any) -> None:
    w = make_world()
    w.graph.faults.add("slow", delay_ms=150, mailbox=ALICE.email, times=None)
    client = w.client()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            client.get(f"{client.user_path(ALICE.email)}/contacts/delta", counters=CallStats())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert w.graph.stats.max_concurrent[ALICE.email] == 4


def test_series_masters_are_read_in_batches_of_twenty_once_per_engine(make_world: Any) -> None:
    w = make_world(build_company(7, 2, "small"), schema=False)
    w.rules = SyncRules(internal_domains=frozenset({OWN_DOMAIN}))
    address = next(iter(w.ex.mailboxes))
    engine = w.engine()
    report = engine.sync(address, ["calendar"])
    assert report.ok, report.error
    stats = w.stats()["operations"]
    assert stats.get("events.get", 0) >= 1
    # every master was asked once, through $batch, at most 20 in one envelope
    assert stats["batch"] >= -(-stats["events.get"] // 20)
    assert stats["batch"] <= stats["events.get"]
    meetings = w.count("interactions", "kind = 'meeting'")

    # Read again from scratch by the same engine: the masters' iCalUIds are known, none is asked again.
    again = engine.sync(address, ["calendar"], full=True)
    assert again.ok, again.error
    assert w.stats()["operations"]["events.get"] == stats["events.get"]
    assert w.count("interactions", "kind = 'meeting'") == meetings


def test_a_mail_folder_read_from_scratch_asks_for_its_item_count_once_so_the_writer_can_start_first(
    make_world: Any,
) -> None:
    """GraphFolder.backlog: a mail folder's ``totalItemCount`` (GET mailFolders/{folder}), asked before a
    read from scratch only, and only where pages may go to the writer process; contacts and the calendar
    have no count to ask for."""
    w = make_world()
    assert w.sync().ok
    assert w.stats()["operations"]["mailFolders.get"] == 2  # inbox and sentitems, once each
    assert w.sync().ok  # incremental: nothing to count
    engine = GraphMailboxSync(w.client(parallel_apply=False), w.store, w.rules, SyncSettings())
    assert engine.sync(ALICE.email, ALL_FOLDERS, full=True).ok  # applied here whatever the count
    assert w.stats()["operations"]["mailFolders.get"] == 2

    session = w.engine().reader.open(ALICE.email, 0)
    counts = {name: session.folder(name, CallStats(), structlog.get_logger()).backlog() for name in ALL_FOLDERS}
    assert counts == {"contacts": None, "inbox": 4, "sentitems": 2, "calendar": None}


# ----------------------------------------------------------------------------- EWS and Graph agree
def _exports(store: Store) -> dict[str, list[str]]:
    return {
        what: sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
        for what, rows in _export_rows(store).items()
    }


def _export_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    with store.session() as session:
        for what in ("people", "organizations", "interactions"):
            result[what] = [
                {k: v for k, v in row.items() if k not in ("id", "created_at")} for row in export_rows(session, what)
            ]
    return result


def test_the_same_company_synced_over_ews_and_over_graph_gives_the_same_store(
    make_world: Any, db_url: str, tmp_path: Any
) -> None:
    """The goal of the Graph backend: switching a mailbox to Graph changes nothing in the store.

    The calendar window is wide enough to hold the whole seed: EWS syncs every single meeting of the
    calendar folder, Graph's calendarView only those in the window (see the next test).
    """
    w = make_world(build_company(7, 3, "tiny"), url=db_url)
    w.rules = SyncRules(internal_domains=frozenset({OWN_DOMAIN}))
    ews_url = f"sqlite:///{tmp_path / 'ews.db'}"
    upgrade(ews_url)
    ews_store = Store(ews_url)
    connection = connection_for(w.ex)
    settings = SyncSettings(calendar_days_back=2000, calendar_days_ahead=400, retry_base_seconds=0.01)
    try:
        ews = EwsMailboxSync(connection, ews_store, w.rules, settings, sleep=w.waits.append)
        graph = GraphMailboxSync(w.client(), w.store, w.rules, settings)
        for address in w.ex.mailboxes:
            assert ews.sync(address, ALL_FOLDERS).ok
            assert graph.sync(address, ALL_FOLDERS).ok
        over_ews, over_graph = _export_rows(ews_store), _export_rows(w.store)
    finally:
        connection.close()
        ews_store.dispose()
    assert len(over_ews["interactions"]) > 50 and len(over_ews["people"]) > 20
    assert any(row["occurrence_start"] is not None for row in over_ews["interactions"])  # series are in it
    for what in over_ews:
        assert_same_store(what, over_ews[what], over_graph[what])


def test_graph_pages_applied_by_the_writer_process_give_the_store_an_inline_sync_gives(
    make_world: Any, tmp_path: Any
) -> None:
    """GraphSettings.parallel_apply: a backlog's pages go to the writer process (mapping.store.page_writer)
    as over EWS; the store is the one applying them in the syncing process gives."""
    w = make_world(build_company(7, 2, "tiny"))
    w.rules = SyncRules(internal_domains=frozenset({OWN_DOMAIN}))
    stores: list[Store] = []
    for name, writer in (("inline", False), ("writer", True)):
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url)
        store = Store(url)
        stores.append(store)
        engine = GraphMailboxSync(
            w.client(page_size=5, parallel_apply=writer), store, w.rules, SyncSettings(parallel_apply_min_changes=1)
        )
        assert engine.reader.parallel_apply is writer
        for address in w.ex.mailboxes:
            report = engine.sync(address, ALL_FOLDERS)
            assert report.ok, report.error
            assert sum(f.pages for f in report.folders) > len(ALL_FOLDERS)  # several pages: a backlog
    try:
        inline, by_writer = (_export_rows(s) for s in stores)
    finally:
        for store in stores:
            store.dispose()
    assert len(inline["interactions"]) > 20
    for what in inline:
        assert_same_store(what, inline[what], by_writer[what])


def test_with_the_default_window_graph_lacks_only_single_meetings_before_it(make_world: Any, tmp_path: Any) -> None:
    w = make_world(build_company(7, 3, "tiny"))
    w.rules = SyncRules(internal_domains=frozenset({OWN_DOMAIN}))
    ews_url = f"sqlite:///{tmp_path / 'ews.db'}"
    upgrade(ews_url)
    ews_store = Store(ews_url)
    connection = connection_for(w.ex)
    settings = SyncSettings(retry_base_seconds=0.01)
    try:
        for address in w.ex.mailboxes:
            assert EwsMailboxSync(connection, ews_store, w.rules, settings).sync(address, ALL_FOLDERS).ok
            assert GraphMailboxSync(w.client(), w.store, w.rules, settings).sync(address, ALL_FOLDERS).ok
        over_ews, over_graph = _exports(ews_store), _exports(w.store)
    finally:
        connection.close()
        ews_store.dispose()
    window_start = datetime.now(UTC) - timedelta(days=settings.calendar_days_back)
    only_ews = [json.loads(r) for r in set(over_ews["interactions"]) - set(over_graph["interactions"])]
    assert set(over_graph["interactions"]) <= set(over_ews["interactions"])
    for row in only_ews:
        assert row["kind"] == "meeting" and row["occurrence_start"] is None
        assert datetime.fromisoformat(row["occurred_at"].replace("Z", "+00:00")) < window_start


def test_the_calendar_is_read_again_once_its_window_has_moved_on(make_world: Any) -> None:
    """calendarView's delta keeps the window it started with: a meeting beyond that window's end
    arrives only once the calendar is read over a current window (a week later, here)."""
    now = datetime.now(UTC)
    later = now + timedelta(days=185)
    company = hand_company()
    company.items[(ALICE.email, "calendar")].append(meeting(21, "Far ahead", later, ALICE, [DANA]))
    w = make_world(company)
    first = w.engine(now=lambda: now).sync(ALICE.email, ["calendar"])
    assert created(first) == {"calendar": 1}
    soon = w.engine(now=lambda: now + timedelta(days=2)).sync(ALICE.email, ["calendar"])
    assert soon.ok and not soon.folders[0].full_sync  # the same window still serves
    week = w.engine(now=lambda: now + timedelta(days=8)).sync(ALICE.email, ["calendar"])
    [folder] = week.folders
    assert week.ok and folder.full_sync and folder.unlinked == 0
    assert folder.result.created == 1 and folder.result.updated == 1
    assert w.count("interactions", "subject = 'Far ahead'") == 1
    state = w.scalar("SELECT state FROM sync_states WHERE folder = 'calendar'")
    window_start = now.replace(microsecond=0) + timedelta(days=8) - timedelta(days=365)
    assert state.endswith("#relsync-window=" + window_start.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_a_sync_stopped_between_pages_resumes_after_the_last_committed_one(make_world: Any, db_url: str) -> None:
    w = make_world(url=db_url)
    client = w.client(page_size=2)
    pages: list[int] = []
    engine = GraphMailboxSync(client, w.store, w.rules, SyncSettings(), should_stop=lambda: len(pages) >= 2)
    report = engine.sync(ALICE.email, ["contacts"], progress=lambda _a, _f, folder: pages.append(folder.pages))
    assert report.interrupted and pages == [1, 2] and w.live_links("contacts") == 4
    state = w.scalar("SELECT state FROM sync_states WHERE folder = 'contacts'")
    assert "skiptoken" in state.lower()  # the next link of the last committed page
    resumed = GraphMailboxSync(client, w.store, w.rules, SyncSettings()).sync(ALICE.email, ["contacts"])
    assert resumed.ok and resumed.folders[0].result.created == 1 and not resumed.folders[0].full_sync
    assert w.live_links("contacts") == 5 and w.count("item_links") == 5 and w.count("people") == 5


def test_a_changed_series_and_a_deleted_occurrence_reach_both_stores_alike(make_world: Any, tmp_path: Any) -> None:
    """A weekly series with a moved exception, synced over both protocols; then the series is renamed and
    one occurrence deleted. Every occurrence agrees, the deleted one too: over EWS the expanded series no
    longer has it, over Graph its instance is removed while the series' other instances stay; both store
    it cancelled ("it did not happen")."""
    start = T0 - timedelta(days=14)
    weekly = Recurrence("Weekly", 1, start.date(), days_of_week=(start.strftime("%A"),), occurrences=8)
    series = meeting(40, "Weekly sync", start, ALICE, [DANA, ERIN], Recurrence=weekly)
    moved = ItemSpec(
        "CalendarItem",
        {
            **series.fields,
            "Subject": "Weekly sync (moved)",
            "Recurrence": None,
            "Start": start + timedelta(days=7, hours=2),
            "End": start + timedelta(days=7, hours=3),
        },
        original_start=start + timedelta(days=7),
    )
    w = make_world(HandCompany(items={(ALICE.email, "calendar"): [dataclasses.replace(series, exceptions=(moved,))]}))
    ews_url = f"sqlite:///{tmp_path / 'ews.db'}"
    upgrade(ews_url)
    ews_store = Store(ews_url)
    connection = connection_for(w.ex)
    try:
        ews = EwsMailboxSync(connection, ews_store, w.rules, SyncSettings())
        graph = w.engine()
        assert ews.sync(ALICE.email, ["calendar"]).ok and graph.sync(ALICE.email, ["calendar"]).ok
        assert _exports(ews_store)["interactions"] == _exports(w.store)["interactions"]
        assert w.count("interactions", "occurrence_start IS NOT NULL") == 8
        mb = w.ex.mailboxes[ALICE.email]
        folder, ref = mb.resolve(next(i for i, _ in mb.items("calendar")))
        deleted = start + timedelta(days=14)
        with mb.lock:
            spec = folder.get(ref.index)[0]
            folder.replace(
                ref.index,
                dataclasses.replace(
                    spec, deleted_occurrences=(deleted,), fields={**spec.fields, "Subject": "Weekly sync v2"}
                ),
            )
        assert ews.sync(ALICE.email, ["calendar"]).ok
        report = graph.sync(ALICE.email, ["calendar"])
        assert report.ok and report.folders[0].result.deleted == 1
        over_ews, over_graph = ([json.loads(r) for r in _exports(s)["interactions"]] for s in (ews_store, w.store))
    finally:
        connection.close()
        ews_store.dispose()
    key = deleted.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert over_ews == over_graph
    assert sum(r["subject"] == "Weekly sync v2" for r in over_graph) == 6  # all but the exception and the deleted
    assert [r["occurrence_start"] for r in over_graph if r["is_cancelled"]] == [key]


def test_a_mailbox_switched_from_ews_to_graph_is_read_again_and_keeps_its_store(make_world: Any, db_url: str) -> None:
    w = make_world(build_company(7, 2, "tiny"), url=db_url)
    w.rules = SyncRules(internal_domains=frozenset({OWN_DOMAIN}))
    settings = SyncSettings(calendar_days_back=2000, calendar_days_ahead=400, retry_base_seconds=0.01)
    connection = connection_for(w.ex)
    try:
        ews = EwsMailboxSync(connection, w.store, w.rules, settings)
        for address in w.ex.mailboxes:
            assert ews.sync(address, ALL_FOLDERS).ok
    finally:
        connection.close()
    before = _exports(w.store)
    address = next(iter(w.ex.mailboxes))
    links_before = {f: w.live_links(f, address) for f in ALL_FOLDERS}
    graph = GraphMailboxSync(w.client(), w.store, w.rules, settings)
    for mailbox in w.ex.mailboxes:
        # the admin's `relsync resync --full` after switching the mailbox's backend
        report = graph.sync(mailbox, ALL_FOLDERS, full=True)
        assert report.ok, report.error
    assert _exports(w.store) == before
    # one live link per item, under its Graph id: the EWS ids' links were unlinked, none is doubled
    assert {f: w.live_links(f, address) for f in ("contacts", "inbox", "sentitems")} == {
        f: links_before[f] for f in ("contacts", "inbox", "sentitems")
    }
    again = graph.sync(address, ALL_FOLDERS)
    assert again.ok and not any(f.full_sync for f in again.folders)
