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

On SQLite it also prints the raw baseline in the same run: the interactions, participants, viewers and
item links the last repeat stored, inserted by plain ``sqlite3`` executemany into a fresh store of the
same schema and settings (WAL, ``synchronous = NORMAL``, foreign keys on), in as many transactions as
there were pages, with the people, organisations and mailboxes they point at copied in untimed first:
what SQLite itself costs for the rows, without the apply's reading, deciding and converting.
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import pickle
import sqlite3
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


#: The tables a page's interactions go into, parents first: the raw baseline times inserting these.
_TIMED = ("interactions", "interaction_participants", "interaction_viewers", "item_links")


def raw_sqlite(replayed: Path, transactions: int) -> float:
    """Thread CPU seconds of inserting the :data:`_TIMED` rows of the ``replayed`` store into a fresh
    one with plain sqlite3, in ``transactions`` transactions (interactions split by id, each with its
    participants, viewers and links; the contacts' links in the first)."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "raw.db"
        upgrade(f"sqlite:///{target}")
        db = sqlite3.connect(target, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("ATTACH DATABASE ? AS src", (str(replayed),))
            names = [n for (n,) in db.execute("SELECT name FROM src.sqlite_master WHERE type = 'table'")]
            db.execute("BEGIN")
            for name in names:  # untimed: everything the timed rows point at
                if name not in _TIMED and name != "alembic_version" and not name.startswith("sqlite_"):
                    db.execute(f'DELETE FROM main."{name}"')
                    db.execute(f'INSERT INTO main."{name}" SELECT * FROM src."{name}"')
            db.execute("COMMIT")
            rows = {name: db.execute(f'SELECT * FROM src."{name}" ORDER BY rowid').fetchall() for name in _TIMED}
            db.execute("DETACH DATABASE src")
            db.execute("PRAGMA foreign_keys = ON")
            # Each transaction: a range of interactions with their participants, viewers and links (the
            # contacts' links in the first), partitioned before the clock starts.
            ids = [row[0] for row in rows["interactions"]]
            bounds = [ids[len(ids) * k // transactions] for k in range(transactions)] if ids else [0]
            batches: list[dict[str, list[tuple[object, ...]]]] = [defaultdict(list) for _ in bounds]

            def batch_of(interaction_id: int) -> dict[str, list[tuple[object, ...]]]:
                return batches[bisect.bisect_right(bounds, interaction_id) - 1]

            for row in rows["interactions"]:
                batch_of(row[0])["interactions"].append(row)
            for row in rows["interaction_participants"]:
                batch_of(row[1])["interaction_participants"].append(row)  # (id, interaction_id, ...)
            for row in rows["interaction_viewers"]:
                batch_of(row[0])["interaction_viewers"].append(row)  # (interaction_id, mailbox_id, ...)
            for row in rows["item_links"]:  # (id, mailbox_id, folder, item_id, change_key, kind, type, entity_id, ...)
                (batch_of(row[7]) if row[6] == "interaction" else batches[0])["item_links"].append(row)
            sql = {name: f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(rows[name][0]))})' for name in _TIMED}
            start = time.thread_time()
            for batch in batches:
                db.execute("BEGIN")
                for name in _TIMED:
                    if batch[name]:
                        db.executemany(sql[name], batch[name])
                db.execute("COMMIT")
            return time.thread_time() - start
        finally:
            db.close()


def replay(
    mailbox: str,
    rules: SyncRules,
    pages: list[Page],
    pg: bool,
    profiler: cProfile.Profile | None,
    keep: Path | None = None,
) -> dict[str, float]:
    """Apply ``pages`` into a fresh store; thread CPU seconds per folder (``keep``: the SQLite file, kept)."""
    per_folder: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as tmp:
        if pg:
            url = _fresh_pg()
        else:
            url = f"sqlite:///{keep or Path(tmp) / 'replay.db'}"
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
    scratch = tempfile.TemporaryDirectory()
    kept = None if args.pg else Path(scratch.name) / "last.db"
    for i in range(args.repeat):
        last = i == args.repeat - 1
        profiler = cProfile.Profile(time.thread_time) if args.profile and last else None
        runs.append(replay(mailbox, rules, pages, args.pg, profiler, kept if last else None))
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
    if kept is not None:
        raw = min(raw_sqlite(kept, len(pages)) for _ in range(args.repeat))
        best = min(r["total"] for r in runs)
        print(
            f"raw baseline: the same {', '.join(_TIMED)} rows by plain sqlite3 executemany in {len(pages)}"
            f" transactions: {raw:.3f} CPU s (best of {args.repeat}); the apply takes {best / raw:.2f}x that"
        )
    scratch.cleanup()


if __name__ == "__main__":
    main()
