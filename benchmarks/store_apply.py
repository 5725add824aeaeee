"""Benchmark: the store's apply of sync pages alone, replayed from a capture, CPU seconds per folder.

    .venv/bin/python benchmarks/store_apply.py [--capture FILE] [--messages 20000] [--contacts 2000]
                                               [--calendar 2000] [--repeat 3] [--pg] [--profile FILE]

The first run (or ``--recapture``) syncs the benchmark mailbox of benchmarks/graph_sync_throughput.py over
the fake Graph, in this process, and pickles every :class:`mapping.changes.Page` the engine hands the
store (the records, their sync states) to ``--capture``. Each repeat then applies those pages, in order,
into a fresh store (SQLite file, or ``--pg``: the local PostgreSQL's ``test`` database, emptied) through
``Store.apply_page``, exactly as the writer process does, and prints the thread CPU seconds per folder.
With no fake and no HTTP in the timing, this isolates what issue 21's Graph goal is bound by: the
writer's apply (see graph_sync_throughput.py's docstring). The best of ``--repeat`` runs is printed
beside the median, as this 2-core machine's speed varies between identical runs.
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import sqlalchemy as sa  # noqa: E402

from mapping.changes import FolderName, Page, SyncRules  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.models import MailboxBackend  # noqa: E402
from mapping.store.store import Store  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def capture(path: Path, messages: int, contacts: int, calendar: int) -> None:
    """Sync the benchmark mailbox over the fake Graph inline and pickle the pages the store was given."""
    import graph_sync_throughput as g

    from connector.auth import TokenSource
    from connector.engine import SyncSettings
    from connector.graph.client import GraphClient
    from connector.graph.reader import GraphMailboxSync
    from connector.graph.settings import GRAPH_RESOURCE, GraphSettings

    pages: list[Page] = []
    original = Store.apply_page

    def recording(self: Store, page: Page, rules: SyncRules) -> Any:
        pages.append(page)
        return original(self, page, rules)

    fake = g.FakeProcess(messages, contacts, calendar)
    try:
        server = fake.server
        rules = SyncRules(internal_domains=frozenset({server.domain}))
        tokens = TokenSource(g.oauth(server, GRAPH_RESOURCE))
        settings = GraphSettings(
            base_url=server.graph_base,
            oauth=g.oauth(server, GRAPH_RESOURCE),
            ca_bundle=Path(server.graph_ca),
            parallel_apply=False,
        )
        client = GraphClient(settings, tokens)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(g.fresh_sqlite(tmp, "capture.db"))
            Store.apply_page = recording  # type: ignore[method-assign]
            try:
                report = GraphMailboxSync(client, store, rules, SyncSettings(parallel_apply_min_changes=0)).sync(
                    server.mailbox, g.folders_of(contacts, messages, calendar)
                )
            finally:
                Store.apply_page = original  # type: ignore[method-assign]
                store.dispose()
                client.close()
        if not report.ok:
            raise RuntimeError(f"the capture sync failed: {report.error}")
        tmp_path = path.with_suffix(".tmp")
        tmp_path.write_bytes(pickle.dumps((server.mailbox, rules, pages), protocol=pickle.HIGHEST_PROTOCOL))
        tmp_path.replace(path)
        print(f"captured {len(pages)} pages to {path}")
    finally:
        fake.close()


def _fresh_pg() -> str:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    upgrade(PG_URL)
    return PG_URL


def replay(
    mailbox: str, rules: SyncRules, pages: list[Page], pg: bool, profiler: cProfile.Profile | None
) -> dict[str, float]:
    """Apply ``pages`` into a fresh store; thread CPU seconds per folder."""
    per_folder: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as tmp:
        if pg:
            url = _fresh_pg()
        else:
            url = f"sqlite:///{tmp}/replay.db"
            upgrade(url)
        store = Store(url)
        try:
            if store.ensure_mailbox(mailbox, mailbox, MailboxBackend.GRAPH).id != pages[0].mailbox_id:
                raise RuntimeError("the replayed store's mailbox id differs from the captured pages'")
            for page in pages:
                if profiler is not None:
                    profiler.enable()
                t0, w0 = time.thread_time(), time.perf_counter()
                store.apply_page(page, rules)
                per_folder[page.folder] += time.thread_time() - t0
                per_folder[f"{page.folder} wall"] += time.perf_counter() - w0
                if profiler is not None:
                    profiler.disable()
        finally:
            store.dispose()
    per_folder["total"] = sum(v for k, v in per_folder.items() if not k.endswith(" wall"))
    per_folder["total wall"] = sum(v for k, v in per_folder.items() if k.endswith(" wall"))
    return per_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--capture", type=Path, default=Path(tempfile.gettempdir()) / "relsync-graph-pages.pickle")
    parser.add_argument("--recapture", action="store_true")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--calendar", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", action="store_true", help="replay into the local PostgreSQL (database test)")
    parser.add_argument("--profile", type=Path, help="write a cProfile (thread CPU) of the last repeat here")
    args = parser.parse_args()
    if args.recapture or not args.capture.exists():
        capture(args.capture, args.messages, args.contacts, args.calendar)
    mailbox, rules, pages = pickle.loads(args.capture.read_bytes())
    folders: list[FolderName] = list(dict.fromkeys(p.folder for p in pages))
    runs: list[dict[str, float]] = []
    for i in range(args.repeat):
        profiler = cProfile.Profile(time.thread_time) if args.profile and i == args.repeat - 1 else None
        runs.append(replay(mailbox, rules, pages, args.pg, profiler))
        if profiler is not None:
            profiler.dump_stats(str(args.profile))
    items: defaultdict[str, int] = defaultdict(int)
    for page in pages:
        items[page.folder] += sum(1 for c in page.changes if c.record is not None)
    items["total"] = sum(items.values())
    backend = "PostgreSQL" if args.pg else "SQLite"
    print(f"store apply of {len(pages)} captured Graph pages, {backend}, {args.repeat} runs")
    header = f"{'folder':10} {'items':>7} {'best CPU s':>11} {'median':>8} {'us/item':>8}"
    print(f"{header} {'best wall s':>12} {'median':>8}")
    for name in [*folders, "total"]:
        cpu = [r.get(name, 0.0) for r in runs]
        wall = [r.get(f"{name} wall", 0.0) for r in runs]
        print(
            f"{name:10} {items[name]:7} {min(cpu):11.3f} {statistics.median(cpu):8.3f}"
            f" {1e6 * min(cpu) / max(items[name], 1):8.1f} {min(wall):12.3f} {statistics.median(wall):8.3f}"
        )


if __name__ == "__main__":
    main()
