"""Benchmark: Graph sync throughput against the fake Graph next to the EWS figure, same data, same run.

    .venv/bin/python benchmarks/graph_sync_throughput.py [--messages 20000] [--contacts 2000] [--calendar 2000]
                                                         [--graph-page-size 100] [--apply auto|inline]
                                                         [--graph-apply default|inline|writer|both]
                                                         [--skip-ews] [--profile-graph FILE]

One spawned process (a clean interpreter: it shares neither this process's GIL nor its memory) serves a
FakeExchange, a FakeTokenService and a FakeGraph over the *same* generated mailbox. Both backends
authenticate with OAuth app tokens from the fake token service, as Exchange Online would have them.
Per folder, back to back, so a change in the machine's load hits all four alike:

(a) raw EWS: exchangelib ``services.SyncFolderItems`` page by page (512 changes a page) asking for the
    fields relsync asks for (``connector.ews.reader.FOLDER_FIELDS``), items parsed, then only counted (as
    benchmarks/sync_throughput.py does);
(b) relsync over EWS: ``EwsMailboxSync.sync`` into a fresh SQLite store (``--apply auto``: a backlog is
    applied by the writer process, as in production; ``inline``: all in this process);
(c) raw Graph: ``requests`` following the delta links from the URL relsync starts at (same
    ``$select``/``$expand``, same ``Prefer`` header, same page size), JSON parsed, entries only counted;
(d) relsync over Graph: ``GraphMailboxSync.sync`` into another fresh SQLite store, pages applied as
    ``GraphSettings.parallel_apply`` says (``--graph-apply inline`` / ``writer`` force one way; ``both``
    adds a pass (e) with the other way, into a store of its own, so the two are compared in one run).
    Over the calendar it also reads the series masters of the occurrences it sees (``$batch``), which
    (c) does not.

The goal line compares (d) with (c) in total (issue 21: relsync over Graph >= 0.9x raw Graph paging).
Where (d)'s time went (December 2026, 27,220 items, thread CPU of the syncing thread): the store's
``apply_page`` about 4.5 s, the translation about 1.0 s, the read-ahead's fetching (HTTP, TLS, JSON)
about 0.8 s on the other thread; (c) takes about 0.7 s of CPU and the fake about 2.9 s. orjson parsed
the inbox's 20 MB of pages in 0.18 s against the standard library's 0.25 s: 0.1 s of a sync, not worth
a dependency. Graph's pages of 200 cost the store about 6 ms each beyond their items (pages of 1000:
``apply_page`` 3.8 s instead of 4.5 s).

Later in December 2026 (translation about a third cheaper per message, the writer started before the
first page from the mail folder's ``totalItemCount``; per phase, the reader's methods timed, load 3-5):
the inbox's 20,000 messages with the writer cost the syncing process 1.7-2.2 CPU s (fetching 0.7-0.9
on the read-ahead thread, translation 0.45-0.6, handing pages to the writer 0.15-0.2, three full
passes of the cyclic collector over the process's heap 0.1-0.15 s each) and the writer 3.2-4.4 CPU s;
the syncing thread spends 4-7 s of the pass waiting for the writer. The store is the bottleneck; the
fetching is what (c) pays too. ``--graph-page-size 1000`` cut relsync's CPU (syncing process and
writer) from about 9 s to 6.9 s and (c)'s hardly; relsync keeps 200 all the same, as Graph may cap
what it is asked for: Microsoft documents no maximum for message or event delta pages, and a
Microsoft Q&A answer (learn.microsoft.com/en-us/answers/a/2052165) says contacts delta caps at 200.

Calendar counts differ by nature: EWS returns series (a master per recurring meeting), Graph's
calendarView returns instances. So the calendar is compared per item returned and per stored meeting
interaction (the meetings each store holds afterwards; both engines store one per occurrence in the
window). One untimed raw pass of each backend first warms the fake (render caches, token caches), and
one untimed relsync pass of each backend into a store of its own warms this process as a service's worker
is warm after its first mailbox (lazy imports, phone number metadata, and a writer process its thread's
later syncs take over, see mapping.store.page_writer); ``--cold`` leaves it out.
Requests per pass come from the fakes' own counters; "fake CPU" is the fakes' process's CPU time during
the pass (from /proc). ``--profile-graph`` writes a cProfile of (d)'s main thread timed in that thread's
CPU seconds (not wall time: on a loaded machine waiting would drown the work; the read-ahead thread's
fetching is not in it).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from _children import children_cpu, process_cpu  # noqa: E402
from exchangelib import IMPERSONATION, OAUTH2, Account, Configuration, Version  # noqa: E402
from exchangelib import UTC as EWS_UTC  # noqa: E402
from exchangelib.items import ID_ONLY  # noqa: E402
from exchangelib.protocol import close_connections  # noqa: E402
from exchangelib.services import SyncFolderItems  # noqa: E402

from connector.auth import DEFAULT_RESOURCE, OAuthSettings, TokenSource  # noqa: E402
from connector.engine import SyncSettings  # noqa: E402
from connector.ews.auth import MsalCredentials  # noqa: E402
from connector.ews.client import FOLDER_ATTRIBUTES, EwsConnection  # noqa: E402
from connector.ews.reader import FOLDER_FIELDS, EwsMailboxSync  # noqa: E402
from connector.ews.settings import SERVER_BUILDS, EwsSettings  # noqa: E402
from connector.graph import translate  # noqa: E402
from connector.graph.client import PREFER_IMMUTABLE_IDS, GraphClient  # noqa: E402
from connector.graph.reader import (  # noqa: E402
    CONTACT_SELECT,
    MESSAGE_FOLDERS,
    MESSAGE_PROPERTIES,
    MESSAGE_SELECT,
    GraphMailboxSync,
    calendar_window,
)
from connector.graph.settings import GRAPH_RESOURCE, GraphSettings  # noqa: E402
from mapping.changes import FolderName, SyncRules  # noqa: E402
from mapping.hygiene import _normalise_email  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.store import Store  # noqa: E402

EWS_PAGE = 512
SEED = 7
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "bench-secret-Zq8~x"  # a throwaway secret of the fake token service in the child process
GOAL = 0.9  # issue 21: relsync over Graph >= 0.9x raw Graph paging, in total


@dataclass(frozen=True)
class Server:
    """Where the child process's fakes listen (picklable)."""

    ews_url: str
    ews_root: str
    tenant: str
    authority_host: str
    idp_ca: str
    graph_base: str
    graph_root: str
    graph_ca: str
    mailbox: str
    domain: str


# ------------------------------------------------------------------------------------ fake server
def _serve(messages: int, contacts: int, calendar: int, conn: Any, stop: Any) -> None:
    from connector.fake.company.generator import Scale, build_company
    from connector.fake.ews.server import FakeExchange
    from connector.fake.graph.server import FakeGraph
    from connector.fake.tokens import FakeTokenService

    scale = Scale(contacts=contacts, inbox=messages, sentitems=0, calendar=calendar, tasks=0)
    company = build_company(SEED, 1, scale)
    # A cache big enough for every item: after the warm-up pass the fake costs the same for (a) and (b).
    with (
        FakeExchange(company, render_cache_items=messages + contacts + calendar + 1000) as ex,
        FakeTokenService(exchange=ex, clients={CLIENT_ID: SECRET}) as idp,
        FakeGraph(ex) as graph,
    ):
        conn.send(
            Server(
                ews_url=ex.url,
                ews_root=ex.url.split("/EWS/")[0],
                tenant=idp.tenant,
                authority_host=idp.authority_host,
                idp_ca=str(idp.ca_file),
                graph_base=graph.base_url,
                graph_root=graph.root_url,
                graph_ca=str(graph.ca_file),
                mailbox=company.mailboxes()[0].email,
                domain=company.domain,
            )
        )
        stop.wait()


class FakeProcess:
    """FakeExchange + FakeTokenService + FakeGraph in their own (spawned) process."""

    def __init__(self, messages: int, contacts: int, calendar: int) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_serve, args=(messages, contacts, calendar, child, self._stop), daemon=True)
        self._proc.start()
        FAKE_PIDS.add(self._proc.pid or 0)
        if not parent.poll(180):
            raise RuntimeError("the fakes did not start")
        self.server: Server = parent.recv()

    def cpu(self) -> float:
        """CPU seconds the fakes' process has used so far (all its threads), from /proc."""
        return process_cpu(self._proc.pid)

    def close(self) -> None:
        self._stop.set()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()


class FakeStats:
    """Request counters of both fakes (their /_fake stats endpoints), read between passes, untimed."""

    def __init__(self, server: Server) -> None:
        self._ews = requests.Session()
        self._ews.trust_env = False
        self._graph = requests.Session()
        self._graph.trust_env = False
        self._graph.verify = server.graph_ca
        self._server = server

    def snapshot(self) -> tuple[Counter[str], Counter[str]]:
        ews = self._ews.get(f"{self._server.ews_root}/_fake/stats", timeout=30).json()
        graph = self._graph.get(f"{self._server.graph_root}/_fake/graph/stats", timeout=30).json()
        return Counter(ews["operations"]), Counter(graph["operations"])

    def close(self) -> None:
        self._ews.close()
        self._graph.close()


# ------------------------------------------------------------------------------------------ auth
def oauth(server: Server, resource: str = DEFAULT_RESOURCE) -> OAuthSettings:
    return OAuthSettings(
        tenant_id=server.tenant,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        authority_host=server.authority_host,
        ca_bundle=Path(server.idp_ca),
        resource=resource,
    )


def graph_token(server: Server) -> str:
    """An app token for Graph straight from the token endpoint (the raw Graph pass's own, no msal)."""
    with requests.Session() as s:
        s.trust_env = False
        answer = s.post(
            f"{server.authority_host}/{server.tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "scope": f"{GRAPH_RESOURCE}/.default",
            },
            verify=server.idp_ca,
            timeout=30,
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


# ---------------------------------------------------------------------------------------- folders
def folders_of(contacts: int, messages: int, calendar: int) -> list[FolderName]:
    wanted: list[tuple[FolderName, int]] = [("contacts", contacts), ("inbox", messages), ("calendar", calendar)]
    return [name for name, n in wanted if n > 0]


@dataclass
class Pass:
    """One timed pass over one folder."""

    items: int
    seconds: float
    cpu: float  # CPU seconds of this process (all its threads)
    writer_cpu: float = 0.0  # CPU seconds of the writer process (relsync over EWS, --apply auto)
    meetings: int | None = None  # meeting interactions in the store afterwards (relsync, calendar)
    requests: Counter[str] = field(default_factory=Counter)
    fake_cpu: float = 0.0  # CPU seconds of the fakes' process during the pass


#: The fake servers' processes: their CPU is read on its own (FakeProcess.cpu), not as relsync's.
FAKE_PIDS: set[int] = set()


def _children_cpu() -> float:
    return children_cpu(exclude=FAKE_PIDS)  # the writer process's, running or ended; the fake's is timed apart


class Clock:
    def __enter__(self) -> Clock:
        self.cpu0, self.children0, self.t0 = time.process_time(), _children_cpu(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        self.children = _children_cpu() - self.children0


# ------------------------------------------------------------------------------------------- (a)
def raw_account(server: Server) -> Account:
    """exchangelib alone, with an OAuth app token (relsync's MsalCredentials only hands it the token)."""
    cfg = Configuration(
        service_endpoint=server.ews_url,
        credentials=MsalCredentials(TokenSource(oauth(server))),
        auth_type=OAUTH2,
        version=Version(build=SERVER_BUILDS["ExchangeOnline"]),
    )
    return Account(server.mailbox, config=cfg, autodiscover=False, access_type=IMPERSONATION, default_timezone=EWS_UTC)


def raw_ews(acc: Account, name: FolderName) -> Pass:
    """(a): exchangelib paging through one folder; items are parsed, then only counted."""
    folder = getattr(acc, FOLDER_ATTRIBUTES[name])  # the GetFolder calls, outside the clock
    fields = {f for f in folder.normalize_fields(list(FOLDER_FIELDS[name])) if not f.field.is_attribute}
    state: str | None = None
    items = 0
    with Clock() as clock:
        while True:
            svc = SyncFolderItems(account=acc)
            for _change_type, _item in svc.call(
                folder=folder,
                shape=ID_ONLY,
                additional_fields=fields,
                sync_state=state,
                ignore=None,
                max_changes_returned=EWS_PAGE,
                sync_scope="NormalItems",
            ):
                items += 1
            if svc.includes_last_item_in_range or svc.sync_state == state:
                break
            state = svc.sync_state
    return Pass(items, clock.seconds, clock.cpu)


# ------------------------------------------------------------------------------------------- (c)
def _query(params: dict[str, str]) -> str:
    return urlencode(params, quote_via=quote, safe="$,()'")  # as connector.graph.reader quotes its queries


def _expand(properties: tuple[str, ...]) -> str:
    return "singleValueExtendedProperties($filter=" + " or ".join(f"id eq '{p}'" for p in properties) + ")"


def delta_url(base: str, address: str, folder: FolderName, settings: SyncSettings, now: datetime) -> str:
    """The delta query GraphMailboxSync starts a folder at (checked against it for contacts and mail)."""
    user = f"{base.rstrip('/')}/users/{quote(address, safe='@')}"
    if folder == "contacts":
        props = (translate.SENSITIVITY_PROPERTY, *(translate.user_field_property(n) for n in settings.user_fields))
        return f"{user}/contacts/delta?{_query({'$select': ','.join(CONTACT_SELECT), '$expand': _expand(props)})}"
    if folder == "calendar":
        start, end = (w.strftime("%Y-%m-%dT%H:%M:%SZ") for w in calendar_window(settings, now))
        return f"{user}/calendarView/delta?{_query({'startDateTime': start, 'endDateTime': end})}"
    select = MESSAGE_SELECT + (("bodyPreview",) if settings.snippet_chars > 0 else ())
    query = {"$select": ",".join(select), "$expand": _expand(MESSAGE_PROPERTIES)}
    return f"{user}/mailFolders/{MESSAGE_FOLDERS[folder]}/messages/delta?{_query(query)}"


class RawGraph:
    """(c): plain ``requests`` over the fake Graph, with the headers and page size GraphClient sends."""

    def __init__(self, server: Server, settings: SyncSettings, page_size: int) -> None:
        self.server = server
        self.settings = settings
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = server.graph_ca
        self.headers = {
            "Prefer": f"{PREFER_IMMUTABLE_IDS}, odata.maxpagesize={page_size}",
            "Accept": "application/json",
            "Authorization": f"Bearer {graph_token(server)}",
        }

    def folder(self, name: FolderName) -> Pass:
        url: str | None = delta_url(self.server.graph_base, self.server.mailbox, name, self.settings, datetime.now(UTC))
        items = 0
        with Clock() as clock:
            while url is not None:
                response = self.session.get(url, headers=self.headers, timeout=60)
                response.raise_for_status()
                data = response.json()
                items += len(data["value"])
                url = data.get("@odata.nextLink")
        return Pass(items, clock.seconds, clock.cpu)

    def close(self) -> None:
        self.session.close()


# ------------------------------------------------------------------------------------- (b) + (d)
normalise_email_cache_clear = _normalise_email.cache_clear


def fresh_sqlite(tmp: str, name: str) -> str:
    path = Path(tmp) / name
    path.unlink(missing_ok=True)  # --keep-stores may point at the last run's
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


def meetings(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM interactions WHERE kind = 'meeting'")).scalar() or 0)


def relsync_folder(
    engine: EwsMailboxSync | GraphMailboxSync,
    store: Store,
    address: str,
    name: FolderName,
    profiler: cProfile.Profile | None = None,
) -> Pass:
    # Every relsync pass starts with cold translation caches (addresses, participants), as a first sync in a
    # new process does: a pass must not profit from the one before it.
    normalise_email_cache_clear()
    translate.clear_caches()
    if profiler is not None:
        profiler.enable()
    with Clock() as clock:  # the writer's CPU counted whether it ended or waits for reuse
        report = engine.sync(address, [name])
    if profiler is not None:
        profiler.disable()
    if not report.ok:
        raise RuntimeError(f"relsync ({type(engine).__name__}) sync of {name} failed: {report.error}")
    return Pass(
        report.folders[0].result.items,
        clock.seconds,
        clock.cpu,
        clock.children,
        meetings(store) if name == "calendar" else None,
    )


# ------------------------------------------------------------------------------------------- main
def _rate(n: float, t: float) -> float:
    return n / t if t > 0 else 0.0


def _ratio(x: float, y: float) -> str:
    return f"{x / y:.2f}x" if y else "-"


def _diff(after: Counter[str], before: Counter[str]) -> Counter[str]:
    return Counter({k: v - before[k] for k, v in after.items() if v - before[k] > 0})


def report(folders: list[FolderName], results: dict[FolderName, dict[str, Pass]], labels: dict[str, str]) -> None:
    """The table (per folder and in total), the ratios, the calendar's note, the requests, the goal line.

    ``labels``: pass key ((a)..(e), those that ran) -> its name."""
    keys = list(labels)
    head = (
        f"{'folder':<9} {'pass':<24} {'items':>7} {'seconds':>8} {'items/s':>8} {'CPU s':>6} {'writer CPU':>10}"
        f" {'fake CPU':>9}"
    )
    print(head)
    print("-" * len(head))
    totals = {k: Pass(0, 0.0, 0.0) for k in keys}

    def line(folder: str, key: str, r: Pass) -> None:
        print(
            f"{folder:<9} {key + ' ' + labels[key]:<24} {r.items:>7} {r.seconds:>8.2f}"
            f" {_rate(r.items, r.seconds):>8.0f} {r.cpu:>6.2f} {r.writer_cpu:>10.2f} {r.fake_cpu:>9.2f}"
        )

    for name in folders:
        for key in keys:
            r = results[name][key]
            t = totals[key]
            t.items, t.seconds, t.cpu, t.writer_cpu, t.fake_cpu = (
                t.items + r.items,
                t.seconds + r.seconds,
                t.cpu + r.cpu,
                t.writer_cpu + r.writer_cpu,
                t.fake_cpu + r.fake_cpu,
            )
            t.requests.update(r.requests)
            line(name, key, r)
    for key in keys:
        line("total", key, totals[key])

    wanted = (("(b)", "(a)"), ("(d)", "(c)"), ("(e)", "(c)"), ("(d)", "(b)"))
    pairs = [(x, y) for x, y in wanted if x in keys and y in keys]
    print()
    print("ratios of items/s: " + ", ".join(f"{x}/{y} {labels[x]} over {labels[y]}" for x, y in pairs))
    print(f"{'folder':<9} " + " ".join(f"{x + '/' + y:>8}" for x, y in pairs))
    rows: list[tuple[str, dict[str, Pass]]] = [(n, results[n]) for n in folders if n != "calendar"]
    rows.append(("total", totals))
    for label, row in rows:
        rate = {k: _rate(row[k].items, row[k].seconds) for k in keys}
        print(f"{label:<9} " + " ".join(f"{_ratio(rate[x], rate[y]):>8}" for x, y in pairs))

    if "calendar" in results:
        cal = results["calendar"]
        print()
        print(
            "calendar: EWS returns series (masters), Graph returns instances, so items differ;"
            " both stores hold one meeting per occurrence in the window"
        )
        print("  items returned: " + ", ".join(f"{k} {cal[k].items}" for k in keys))
        stored = {k: cal[k].meetings for k in keys if cal[k].meetings is not None}
        print("  meeting interactions stored: " + ", ".join(f"{k} store {m}" for k, m in stored.items()))
        rate = {k: _rate(cal[k].items, cal[k].seconds) for k in keys}
        print(
            "  per item returned, items/s: "
            + " ".join(f"{k} {rate[k]:.0f}" for k in keys)
            + "; "
            + " ".join(f"{x}/{y} {_ratio(rate[x], rate[y])}" for x, y in pairs)
        )

    print()
    print("requests per pass (the fakes' counters), all folders:")
    for key in keys:
        ops = totals[key].requests
        detail = ", ".join(f"{k} {v}" for k, v in sorted(ops.items()))
        print(f"  {key + ' ' + labels[key]:<24} {sum(ops.values()):>6}  ({detail})")

    raw = _rate(totals["(c)"].items, totals["(c)"].seconds)
    ratio = {k: _rate(totals[k].items, totals[k].seconds) / raw if raw else 0.0 for k in ("(d)", "(e)") if k in keys}
    print()
    print(
        f"goal (issue 21): relsync over Graph >= {GOAL}x raw Graph paging in total:"
        f" (d) {labels['(d)']} {ratio['(d)']:.2f}x -> {'met' if ratio['(d)'] >= GOAL else 'NOT met'}"
        + (f"; (e) {labels['(e)']} {ratio['(e)']:.2f}x" if "(e)" in ratio else "")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--contacts", type=int, default=2_000)
    ap.add_argument("--calendar", type=int, default=2_000)
    ap.add_argument(
        "--graph-page-size",
        type=int,
        default=GraphSettings().page_size,
        help="Graph's odata.maxpagesize (relsync's default: %(default)s)",
    )
    ap.add_argument(
        "--apply",
        choices=["auto", "inline"],
        default="auto",
        help="relsync over EWS: auto = a backlog is applied in the writer process; inline = not",
    )
    ap.add_argument(
        "--graph-apply",
        choices=["default", "inline", "writer", "both"],
        default="default",
        help="relsync over Graph (d): as GraphSettings.parallel_apply says (default), in this process (inline),"
        " or in the writer process (writer); both: (d) the default way and (e) the other way",
    )
    ap.add_argument("--skip-ews", action="store_true", help="leave out (a) and (b): the Graph passes only")
    ap.add_argument(
        "--cold",
        action="store_true",
        help="no untimed relsync pass first: the timed passes pay this process's first sync (lazy imports,"
        " phone number metadata) and the writer process's start",
    )
    ap.add_argument("--keep-stores", help="write the SQLite stores (ews.db, graph.db, graph-e.db) to this directory")
    ap.add_argument("--profile-graph", help="write a cProfile of (d)'s main thread to this file")
    args = ap.parse_args()
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the fake EWS endpoint is plain http on loopback

    folders = folders_of(args.contacts, args.messages, args.calendar)
    print(
        f"one mailbox: {args.contacts} contacts, {args.messages} messages (inbox), {args.calendar} calendar items;"
        f" EWS page {EWS_PAGE}, Graph page {args.graph_page_size}; load before: {_loadavg()}"
    )
    settings = SyncSettings(parallel_apply_min_changes=0) if args.apply == "inline" else SyncSettings()
    default_writer = GraphSettings().parallel_apply
    graph_writer = {"inline": False, "writer": True}.get(args.graph_apply, default_writer)
    labels = {} if args.skip_ews else {"(a)": "raw EWS", "(b)": "relsync EWS"}
    labels["(c)"] = "raw Graph"
    labels["(d)"] = f"relsync Graph {'writer' if graph_writer else 'inline'}"
    if args.graph_apply == "both":
        labels["(e)"] = f"relsync Graph {'inline' if graph_writer else 'writer'}"
    fake = FakeProcess(args.messages, args.contacts, args.calendar)
    results: dict[FolderName, dict[str, Pass]] = {}
    closers: list[Any] = []
    try:
        server = fake.server
        stats = FakeStats(server)
        closers.append(stats.close)
        rules = SyncRules(internal_domains=frozenset({server.domain}))
        raw_graph = RawGraph(server, settings, args.graph_page_size)
        closers.append(raw_graph.close)
        acc = raw_account(server)
        for name in folders:  # untimed: fills the fake's render cache, warms tokens and connections
            if not args.skip_ews:
                raw_ews(acc, name)
            raw_graph.folder(name)

        ews_settings = EwsSettings(
            endpoint=server.ews_url, auth="oauth", oauth=oauth(server), server_version="ExchangeOnline"
        )
        ews_conn = EwsConnection(ews_settings)
        closers.append(ews_conn.close)
        graph_tokens = TokenSource(oauth(server, GRAPH_RESOURCE))
        graph_tokens.acquire()  # outside the clock: the first folder must not pay for the token
        graph_settings = GraphSettings(
            base_url=server.graph_base,
            oauth=oauth(server, GRAPH_RESOURCE),
            ca_bundle=Path(server.graph_ca),
            page_size=args.graph_page_size,
            parallel_apply=graph_writer,
        )
        client = GraphClient(graph_settings, graph_tokens)
        other = GraphClient(dataclasses.replace(graph_settings, parallel_apply=not graph_writer), graph_tokens)
        closers.extend([client.close, other.close])
        with tempfile.TemporaryDirectory() as scratch:
            tmp = args.keep_stores or scratch
            Path(tmp).mkdir(parents=True, exist_ok=True)
            ews_store, graph_store = Store(fresh_sqlite(tmp, "ews.db")), Store(fresh_sqlite(tmp, "graph.db"))
            other_store = Store(fresh_sqlite(tmp, "graph-e.db"))
            closers.extend([ews_store.dispose, graph_store.dispose, other_store.dispose])
            ews_engine = EwsMailboxSync(ews_conn, ews_store, rules, settings)
            graph_engine = GraphMailboxSync(client, graph_store, rules, settings)
            other_engine = GraphMailboxSync(other, other_store, rules, settings)
            for name in ("contacts", "inbox"):  # the raw URLs are relsync's (the calendar's needs its clock)
                if name in folders:
                    ours = delta_url(server.graph_base, server.mailbox, name, settings, datetime.now(UTC))
                    if ours != graph_engine.start_url(server.mailbox, name):
                        raise RuntimeError(f"the raw Graph pass's {name} URL is not the one relsync starts at")
            if not args.cold:
                # Untimed, into a store of its own: the lazy imports and metadata a process loads on its first
                # sync, and a writer process started, which this thread's later syncs take over (see
                # mapping.store.page_writer), as a service's worker does after its first mailbox.
                # Clients of their own: (b)'s and (d)'s start with no pooled connections, as (e)'s does.
                warm_client = GraphClient(graph_settings, graph_tokens)
                warm_ews = EwsConnection(ews_settings)
                closers.extend([warm_client.close, warm_ews.close])
                warm: list[tuple[str, Callable[[Store], EwsMailboxSync | GraphMailboxSync]]] = [
                    ("warm-graph.db", lambda st: GraphMailboxSync(warm_client, st, rules, settings))
                ]
                if not args.skip_ews:
                    warm.append(("warm-ews.db", lambda st: EwsMailboxSync(warm_ews, st, rules, settings)))
                for file, engine_for in warm:
                    warm_store = Store(fresh_sqlite(tmp, file))
                    closers.append(warm_store.dispose)
                    for name in folders:
                        relsync_folder(engine_for(warm_store), warm_store, server.mailbox, name)
            profiler = cProfile.Profile(time.thread_time) if args.profile_graph else None
            for name in folders:  # back to back per folder: (a) (b) (c) (d) (e)
                runs: dict[str, Any] = {
                    "(a)": lambda n=name: raw_ews(acc, n),
                    "(b)": lambda n=name: relsync_folder(ews_engine, ews_store, server.mailbox, n),
                    "(c)": lambda n=name: raw_graph.folder(n),
                    "(d)": lambda n=name: relsync_folder(graph_engine, graph_store, server.mailbox, n, profiler),
                    "(e)": lambda n=name: relsync_folder(other_engine, other_store, server.mailbox, n),
                }
                results[name] = {}
                for label in labels:
                    before, fake_cpu = stats.snapshot(), fake.cpu()
                    result: Pass = runs[label]()
                    result.fake_cpu = fake.cpu() - fake_cpu  # read first: the stats answers are not the pass's
                    after = stats.snapshot()
                    result.requests = _diff(after[0], before[0]) + _diff(after[1], before[1])
                    results[name][label] = result
            if profiler is not None:
                profiler.dump_stats(args.profile_graph)
            for close in reversed(closers):
                close()
            closers.clear()
    finally:
        for close in reversed(closers):
            close()
        close_connections()
        fake.close()
    report(folders, results, labels)
    if args.profile_graph:
        print(f"\n(d) ran under cProfile (written to {args.profile_graph}): its figures include the profiler's cost")
    print(f"\nload after: {_loadavg()} (2 cores; other engineers' tests share them)")


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
