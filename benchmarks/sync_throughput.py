"""How fast does relsync sync one big mailbox, next to exchangelib alone? Run by hand:

    .venv/bin/python benchmarks/sync_throughput.py [--messages 20000] [--contacts 2000] [--calendar 2000]
                                                   [--rss 20000,100000] [--no-pg] [--profile FILE]
                                                   [--apply auto|inline]

One seeded fake Exchange (its own process, so it does not share this process's GIL or memory), one
mailbox, side by side per folder:

(a) raw exchangelib: ``services.SyncFolderItems`` page by page (512 changes a page), asking for the
    same fields relsync asks for (``connector.ews.reader.FOLDER_FIELDS``), only consuming the parsed items;
(a') raw lxml: the same requests through exchangelib's transport, the responses parsed by lxml only
    (``RawSyncFolderItems``, no item objects), run right after (a): the floor of a reader keeping
    exchangelib's transport;
(b) relsync: ``EwsMailboxSync.sync`` (one call per folder, so each folder is timed on its own) into a
    fresh SQLite store migrated with ``mapping.store.migrate.upgrade``, with exchangelib parsing every
    item (``fast_reader=False``, relsync's exchangelib path);
(c) relsync with the fast reader (``fast_reader=True``, the default: pages parsed with lxml straight
    into records, connector.ews.fast) into another fresh SQLite store, right after (b). With ``--apply auto`` (the
    default settings) a backlog's pages are applied by the writer process (mapping.store.page_writer),
    with ``--apply inline`` all in this process, as before the writer existed.

Both passes run against a warm fake (one untimed pass first fills its render cache), so what differs
is the client side only, and each folder's raw pass runs right before its relsync pass, so a change
in the machine's load hits both alike. Goal: (b) >= 0.8x (a). Beside the wall clock, CPU seconds per
folder: of the raw pass, of relsync's process and its writer process, and of the fake itself during
each pass (what relsync asks of the server beyond the raw pass, e.g. GetItem for the exceptions of
recurring series, shows there). With ``--profile`` only this process's
main thread is profiled (not the read-ahead thread, not the writer process). Then the peak RSS of a
relsync sync at 20,000 and at 100,000 messages, each in a fresh subprocess (``ru_maxrss``; the writer
process's own peak beside it); goal: flat and under 300 MB. And the
relsync figure on PostgreSQL (postgresql+psycopg://postgres@127.0.0.1:5432, in a throwaway database
``relsync_bench_<random>``), when that server is reachable.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing as mp
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import sqlalchemy as sa  # noqa: E402
from _children import children_cpu, process_cpu  # noqa: E402
from exchangelib import BASIC, IMPERSONATION, UTC, Account, Build, Configuration, Credentials, Version  # noqa: E402
from exchangelib.items import ID_ONLY  # noqa: E402
from exchangelib.services import SyncFolderItems  # noqa: E402

from connector.engine import SyncSettings  # noqa: E402
from connector.ews.client import FOLDER_ATTRIBUTES, EwsConnection  # noqa: E402
from connector.ews.reader import FOLDER_FIELDS, EwsMailboxSync  # noqa: E402
from connector.ews.settings import EwsSettings  # noqa: E402
from mapping.changes import FolderName, SyncRules  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.page_writer import close_idle_writers  # noqa: E402
from mapping.store.store import Store  # noqa: E402

PAGE = 512
SEED = 7
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/"


@dataclass(frozen=True)
class Server:
    url: str
    username: str
    password: str
    mailbox: str
    domain: str


# ------------------------------------------------------------------------------------ fake server
def _serve(messages: int, contacts: int, calendar: int, conn: Any, stop: Any) -> None:
    from connector.fake.company.generator import Scale, build_company
    from connector.fake.ews.server import FakeExchange

    scale = Scale(contacts=contacts, inbox=messages, sentitems=0, calendar=calendar, tasks=0)
    company = build_company(SEED, 1, scale)
    # A cache big enough for every item: after the warm-up pass the fake costs the same for (a) and (b).
    with FakeExchange(company, render_cache_items=messages + contacts + calendar + 1000) as ex:
        conn.send(Server(ex.url, ex.username, ex.password, company.mailboxes()[0].email, company.domain))
        stop.wait()


class FakeProcess:
    """The fake Exchange in its own process (spawned: a clean interpreter, no inherited threads)."""

    def __init__(self, messages: int, contacts: int, calendar: int) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_serve, args=(messages, contacts, calendar, child, self._stop), daemon=True)
        self._proc.start()
        FAKE_PIDS.add(self._proc.pid or 0)
        if not parent.poll(120):
            raise RuntimeError("the fake Exchange did not start")
        self.server: Server = parent.recv()

    def cpu_seconds(self) -> float:
        """CPU seconds the fake has used so far (Linux /proc; 0.0 elsewhere): the server side's share."""
        return process_cpu(self._proc.pid)

    def close(self) -> None:
        self._stop.set()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()


# ---------------------------------------------------------------------------------------- clients
def folders_of(contacts: int, messages: int, calendar: int) -> list[FolderName]:
    wanted: list[tuple[FolderName, int]] = [("contacts", contacts), ("inbox", messages), ("calendar", calendar)]
    return [name for name, n in wanted if n > 0]


def raw_account(server: Server) -> Account:
    cfg = Configuration(
        service_endpoint=server.url,
        credentials=Credentials(server.username, server.password),
        auth_type=BASIC,
        version=Version(build=Build(15, 1, 2507, 6)),
    )
    return Account(server.mailbox, config=cfg, autodiscover=False, access_type=IMPERSONATION, default_timezone=UTC)


#: CPU seconds of the last raw pass of each folder (this process: the raw pass has one thread).
RAW_CPU: dict[str, float] = {}


#: The fake servers' processes: their CPU is read on its own (FakeProcess.cpu), not as relsync's.
FAKE_PIDS: set[int] = set()


def _children_cpu() -> float:
    return children_cpu(exclude=FAKE_PIDS)  # the writer process's, running or ended; the fake's is timed apart


def raw_folder(acc: Account, name: FolderName) -> tuple[int, float]:
    """(a): exchangelib paging through one folder; items are parsed, then only counted."""
    folder = getattr(acc, FOLDER_ATTRIBUTES[name])  # the two GetFolder calls, outside the clock
    fields = {f for f in folder.normalize_fields(list(FOLDER_FIELDS[name])) if not f.field.is_attribute}
    state: str | None = None
    items = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        svc = SyncFolderItems(account=acc)
        for _change_type, _item in svc.call(
            folder=folder,
            shape=ID_ONLY,
            additional_fields=fields,
            sync_state=state,
            ignore=None,
            max_changes_returned=PAGE,
            sync_scope="NormalItems",
        ):
            items += 1
        if svc.includes_last_item_in_range or svc.sync_state == state:
            break
        state = svc.sync_state
    elapsed = time.perf_counter() - t0
    RAW_CPU[name] = time.process_time() - cpu0
    return items, elapsed


#: (items, seconds) of the raw lxml pass of each folder.
LXML: dict[str, tuple[int, float]] = {}


def lxml_folder(acc: Account, name: FolderName) -> tuple[int, float]:
    """(a'): the same requests as (a) through exchangelib's transport, the response parsed by lxml (as
    exchangelib does) but no item objects built: change elements only counted. The client-side floor of
    any reader that keeps exchangelib's transport (connector.ews.fast.common.RawSyncFolderItems)."""
    from connector.ews.fast.common import RawSyncFolderItems

    folder = getattr(acc, FOLDER_ATTRIBUTES[name])
    fields = {f for f in folder.normalize_fields(list(FOLDER_FIELDS[name])) if not f.field.is_attribute}
    state: str | None = None
    items = 0
    t0 = time.perf_counter()
    while True:
        svc = RawSyncFolderItems(account=acc)
        for _elem in svc.call(
            folder=folder,
            shape=ID_ONLY,
            additional_fields=fields,
            sync_state=state,
            ignore=None,
            max_changes_returned=PAGE,
            sync_scope="NormalItems",
        ):
            items += 1
        if svc.includes_last_item_in_range or svc.sync_state == state:
            break
        state = svc.sync_state
    return items, time.perf_counter() - t0


def relsync_folders(
    server: Server,
    url: str,
    folders: list[FolderName],
    settings: SyncSettings,
    before: Callable[[FolderName], None] | None = None,
    profiler: cProfile.Profile | None = None,
    cpu: dict[str, tuple[float, float]] | None = None,
    server_cpu: Callable[[], float] | None = None,
    fake_cpu: dict[str, float] | None = None,
) -> dict[str, tuple[int, float]]:
    """(b): relsync syncing each folder into the store at ``url`` (already migrated).

    ``before(folder)`` runs (untimed) before each folder: the raw pass of the same folder, so the two
    passes of a folder run back to back and a change in the machine's load hits both alike.
    ``cpu[folder]`` gets (CPU seconds of this process, CPU seconds of the writer process), and
    ``fake_cpu[folder]`` the CPU seconds ``server_cpu()`` (the fake's clock) advanced meanwhile.
    """
    connection = EwsConnection(
        EwsSettings(endpoint=server.url, username=server.username, password=server.password, auth="basic")
    )
    store = Store(url)
    engine = EwsMailboxSync(connection, store, SyncRules(internal_domains=frozenset({server.domain})), settings)
    out: dict[str, tuple[int, float]] = {}
    try:
        for name in folders:
            if before is not None:
                before(name)
            if profiler is not None:
                profiler.enable()
            cpu0, children0 = time.process_time(), _children_cpu()
            server0 = server_cpu() if server_cpu is not None else 0.0
            t0 = time.perf_counter()
            report = engine.sync(server.mailbox, [name])
            elapsed = time.perf_counter() - t0
            if cpu is not None:  # the writer's CPU whether it ended or waits for reuse (see _children)
                cpu[name] = (time.process_time() - cpu0, _children_cpu() - children0)
            if server_cpu is not None and fake_cpu is not None:
                fake_cpu[name] = server_cpu() - server0
            if profiler is not None:
                profiler.disable()
            if not report.ok:
                raise RuntimeError(f"relsync sync of {name} failed: {report.error}")
            out[name] = (report.folders[0].result.items, elapsed)
    finally:
        connection.close()
        store.dispose()
    return out


def fresh_sqlite(tmp: str, name: str) -> str:
    url = f"sqlite:///{Path(tmp) / name}"
    upgrade(url)
    return url


# ------------------------------------------------------------------------------------------- RSS
def child_rss(messages: int) -> None:
    """Subprocess body: one relsync sync of a mailbox with ``messages`` messages; prints JSON."""
    fake = FakeProcess(messages, 0, 0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = fresh_sqlite(tmp, "rss.db")
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t0 = time.perf_counter()
            result = relsync_folders(fake.server, url, ["inbox"], SyncSettings())
            elapsed = time.perf_counter() - t0
            close_idle_writers()  # the writer process ends and is waited for, the fake not yet: the
            # children's peak is the writer's (the fake's render cache would dwarf it).
            writer_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    finally:
        fake.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "messages": messages,
                "items": result["inbox"][0],
                "seconds": elapsed,
                "rss_before_mb": before / 1024,
                "peak_rss_mb": peak / 1024,
                "writer_peak_rss_mb": writer_peak / 1024,
            }
        )
    )


def measure_rss(messages: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child-rss", str(messages)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"RSS child for {messages} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------------------------- PostgreSQL
def postgres_run(
    server: Server, folders: list[FolderName], settings: SyncSettings
) -> dict[str, tuple[int, float]] | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql("SELECT 1")
    except Exception as exc:  # unreachable: say so, do not fail the benchmark
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipped")
        return None
    name = f"relsync_bench_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = PG_BASE + name
        upgrade(url)
        return relsync_folders(server, url, folders, settings)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# ------------------------------------------------------------------------------------------- main
def _rate(n: int, t: float) -> float:
    return n / t if t > 0 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--contacts", type=int, default=2_000)
    ap.add_argument("--calendar", type=int, default=2_000)
    ap.add_argument("--rss", default="20000,100000", help="message counts for the RSS runs ('' for none)")
    ap.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL run")
    ap.add_argument("--profile", help="write a cProfile of the relsync pass to FILE (of the fast pass to FILE.fast)")
    ap.add_argument(
        "--apply",
        choices=["auto", "inline"],
        default="auto",
        help="auto: a backlog is applied in the writer process (the default); inline: always in this process",
    )
    ap.add_argument("--child-rss", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_rss is not None:
        child_rss(args.child_rss)
        return

    folders = folders_of(args.contacts, args.messages, args.calendar)
    print(
        f"one mailbox: {args.contacts} contacts, {args.messages} messages (inbox), {args.calendar} calendar items;"
        f" page size {PAGE}"
    )
    fake = FakeProcess(args.messages, args.contacts, args.calendar)
    pg: dict[str, tuple[int, float]] | None = None
    try:
        server = fake.server
        warm = raw_account(server)
        for folder in folders:  # untimed: fills the fake's render cache
            raw_folder(warm, folder)
        acc = raw_account(server)
        raw: dict[str, tuple[int, float]] = {}

        raw_fake: dict[str, float] = {}

        def raw_pass(name: FolderName) -> None:
            fake0 = fake.cpu_seconds()
            raw[name] = raw_folder(acc, name)
            raw_fake[name] = fake.cpu_seconds() - fake0
            LXML[name] = lxml_folder(acc, name)

        settings = SyncSettings(parallel_apply_min_changes=0) if args.apply == "inline" else SyncSettings()
        fast_cpu: dict[str, tuple[float, float]] = {}
        fast_fake: dict[str, float] = {}
        fast: dict[str, tuple[int, float]] = {}

        fast_profiler = cProfile.Profile() if args.profile else None

        def fast_pass(name: FolderName, tmp: str) -> None:
            # (c) right after (b) of the same folder, into a store of its own, so both see the same load.
            fast.update(
                relsync_folders(
                    server,
                    fresh_sqlite(tmp, f"fast-{name}.db"),
                    [name],
                    replace(settings, fast_reader=True),
                    cpu=fast_cpu,
                    server_cpu=fake.cpu_seconds,
                    fake_cpu=fast_fake,
                    profiler=fast_profiler,
                )
            )

        with tempfile.TemporaryDirectory() as tmp:
            url = fresh_sqlite(tmp, "bench.db")
            profiler = cProfile.Profile() if args.profile else None
            cpu: dict[str, tuple[float, float]] = {}
            ours_fake: dict[str, float] = {}
            pending: list[FolderName] = []

            def before(name: FolderName) -> None:
                if pending:  # the previous folder's fast pass, then this folder's raw pass
                    fast_pass(pending.pop(), tmp)
                pending.append(name)
                raw_pass(name)

            ours = relsync_folders(
                server,
                url,
                folders,
                replace(settings, fast_reader=False),
                before=before,
                profiler=profiler,
                cpu=cpu,
                server_cpu=fake.cpu_seconds,
                fake_cpu=ours_fake,
            )
            if pending:
                fast_pass(pending.pop(), tmp)
            if profiler is not None and fast_profiler is not None:
                profiler.dump_stats(args.profile)
                fast_profiler.dump_stats(args.profile + ".fast")
        if not args.no_pg:
            pg = postgres_run(server, folders, settings)
    finally:
        fake.close()

    head = (
        f"{'folder':<10} {'items':>7} {'raw s':>7} {'raw items/s':>12} {'relsync s':>10} "
        f"{'relsync items/s':>16} {'ratio':>6} {'fast s':>7} {'fast items/s':>13} {'fast/raw':>9}"
        f" {'fast/relsync':>13} {'lxml items/s':>13} {'fast/lxml':>10}"
    )
    if pg is not None:
        head += f" {'PG s':>7} {'PG items/s':>11} {'PG ratio':>9}"
    print(head)
    print("-" * len(head))
    totals = [0, 0.0, 0.0, 0.0, 0.0, 0.0]
    rows: list[str] = [*folders, "total"]
    for name in rows:
        if name == "total":
            n, t_raw, t_ours, t_pg, t_fast, t_lxml = (
                int(totals[0]),
                totals[1],
                totals[2],
                totals[3],
                totals[4],
                totals[5],
            )
        else:
            n, t_raw = raw[name]
            t_ours = ours[name][1]
            t_pg = pg[name][1] if pg is not None else 0.0
            t_fast = fast[name][1]
            t_lxml = LXML[name][1]
            if fast[name][0] != n:
                print(f"  note: {name}: the fast reader accounted for {fast[name][0]} of {n} items")
            if ours[name][0] != n:
                print(f"  note: {name}: relsync accounted for {ours[name][0]} of {n} items")
            totals[0] += n
            totals[1] += t_raw
            totals[2] += t_ours
            totals[3] += t_pg
            totals[4] += t_fast
            totals[5] += t_lxml
        r_raw, r_ours = _rate(n, t_raw), _rate(n, t_ours)
        line = (
            f"{name:<10} {n:>7} {t_raw:>7.2f} {r_raw:>12.0f} {t_ours:>10.2f} {r_ours:>16.0f} "
            f"{r_ours / r_raw if r_raw else 0:>5.2f}x"
        )
        r_fast = _rate(n, t_fast)
        line += (
            f" {t_fast:>7.2f} {r_fast:>13.0f} {r_fast / r_raw if r_raw else 0:>8.2f}x"
            f" {r_fast / r_ours if r_ours else 0:>12.2f}x"
        )
        r_lxml = _rate(n, t_lxml)
        line += f" {r_lxml:>13.0f} {r_fast / r_lxml if r_lxml else 0:>9.2f}x"
        if pg is not None:
            r_pg = _rate(n, t_pg)
            line += f" {t_pg:>7.2f} {r_pg:>11.0f} {r_pg / r_raw if r_raw else 0:>8.2f}x"
        print(line)
    ratio = _rate(int(totals[0]), totals[2]) / _rate(int(totals[0]), totals[1])
    print(f"goal relsync >= 0.8x raw (SQLite): {'MET' if ratio >= 0.8 else 'NOT MET'} ({ratio:.2f}x)")
    fast_ratio = _rate(int(totals[0]), totals[4]) / _rate(int(totals[0]), totals[1])
    print(
        f"goal fast reader >= 3x raw exchangelib (SQLite, issue 21): {'MET' if fast_ratio >= 3 else 'NOT MET'}"
        f" ({fast_ratio:.2f}x)"
    )
    # On a loaded machine wall-clock ratios say little about overlap; CPU seconds do not depend on
    # the load. With two free cores relsync's wall time is at least its busier process's CPU time.
    print()
    # The fake's own CPU (the server side) for each pass: relsync asks it for more than the raw pass
    # does (GetItem for the exceptions of recurring series), which costs the server, not us.
    print(
        f"{'folder':<10} {'raw CPU s':>10} {'relsync CPU s':>14} {'writer CPU s':>13} {'raw/max(both)':>14}"
        f" {'fake CPU raw':>13} {'fake CPU relsync':>17}"
    )
    sums = [0.0, 0.0, 0.0, 0.0, 0.0]
    fast_cpus: dict[str, tuple[float, float]] = {}
    labels: list[str] = [*folders, "total"]
    for label in labels:
        if label == "total":
            raw_cpu, main_cpu, writer_cpu, fake_raw, fake_ours = sums
        else:
            raw_cpu, (main_cpu, writer_cpu) = RAW_CPU[label], cpu[label]
            fake_raw, fake_ours = raw_fake.get(label, 0.0), ours_fake.get(label, 0.0)
            fast_cpus[label] = fast_cpu[label]
            sums = [a + b for a, b in zip(sums, (raw_cpu, main_cpu, writer_cpu, fake_raw, fake_ours), strict=True)]
        bound = raw_cpu / max(main_cpu, writer_cpu) if max(main_cpu, writer_cpu) else 0.0
        print(
            f"{label:<10} {raw_cpu:>10.2f} {main_cpu:>14.2f} {writer_cpu:>13.2f} {bound:>13.2f}x"
            f" {fake_raw:>13.2f} {fake_ours:>17.2f}"
        )

    print()
    print(f"{'folder':<10} {'fast CPU s':>11} {'fast writer CPU s':>18} {'fake CPU fast':>14}")
    for label in folders:
        main_cpu, writer_cpu = fast_cpus[label]
        print(f"{label:<10} {main_cpu:>11.2f} {writer_cpu:>18.2f} {fast_fake.get(label, 0.0):>14.2f}")

    counts = [int(x) for x in args.rss.split(",") if x.strip()]
    if counts:
        print()
        print(f"{'messages':>9} {'synced':>7} {'seconds':>8} {'items/s':>8} {'peak RSS MB':>12} {'writer MB':>10}")
        peaks: list[float] = []
        writer_peaks: list[float] = []
        for count in counts:
            r = measure_rss(count)
            peaks.append(r["peak_rss_mb"])
            writer_peaks.append(r["writer_peak_rss_mb"])
            print(
                f"{count:>9} {r['items']:>7} {r['seconds']:>8.1f} {_rate(r['items'], r['seconds']):>8.0f} "
                f"{r['peak_rss_mb']:>12.1f} {r['writer_peak_rss_mb']:>10.1f}"
            )
        flat = max(peaks + writer_peaks) < 300
        print(
            f"goal peak RSS < 300 MB at every size: {'MET' if flat else 'NOT MET'} "
            f"(spread {max(peaks) - min(peaks):.1f} MB; writer process {max(writer_peaks) - min(writer_peaks):.1f} MB)"
        )


if __name__ == "__main__":
    main()
