"""What the web console's reports cost on a large store, next to a raw baseline. Run by hand:

    .venv/bin/python benchmarks/web_console.py [--url sqlite:///...|postgresql+psycopg://...]
        [--relationships 100000] [--interactions 1000000] [--transactions 1000000] [--keep]

Builds a store (bulk inserts) with ``--relationships`` relationships (four in five an organisation with
one or two people, the rest a person without one), ``--interactions`` e-mails (one participant, one
or two staff mailboxes holding each), ``--transactions`` sales rows over two years (Pareto-shaped: a few
customers buy most; one in twenty matched to nobody), a follow-up per owned relationship and a
classification history of one to three rows each; then the daily sales rollup is rebuilt (the bulk load
went past the import that keeps it) and the database vacuumed and analysed, as its own upkeep would.

Then it serves relsync's console on the store (uvicorn in a thread, header sign-in as an admin) and
times, for the overview, a relationship page (the customer with the most interactions and a median one),
search, tier movement over 90 days, cadence compliance and data quality:

- data: the store service alone (best of 3, wall and CPU);
- page: ``GET`` of the full HTML page over loopback HTTP: one warm-up GET (a server that has served the
  page before: templates compiled, fonts loaded), then three GETs after clearing the charts cache (the
  first view of new numbers draws the charts; the best is the page shown again), with the CPU of this
  process and of PostgreSQL's server processes;
- baselines, raw SQL in the same run: ``SELECT count(*)`` of the tables the page reads, and for the
  overview and the relationship page the same numbers straight from the base tables (one raw query
  per part: relationships by classification, revenue per customer and per product summed over the
  million sales rows; a relationship's latest 200 interactions and 50 sales rows).

`uptime` is printed before and after: on a shared machine the wall time is the CPU time stretched by
waiting for a core.

Goals (issue 17): overview under 1 s and a relationship page under 200 ms, on SQLite and PostgreSQL: the
full HTML page over HTTP from the console, timed beside the store service alone and raw SQL baselines.
Without ``--url``, a temporary SQLite file is used and removed; with ``--url``, a store that already
has relationships (an earlier run's) is reused as it is, so the queries can be timed again quickly.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from mapping.store import sales_rollup  # noqa: E402
from mapping.store.history import record_revenue  # noqa: E402
from mapping.store.insights import (  # noqa: E402
    ReportSettings,
    _customers,
    compliance_report,
    movement_report,
    overview_report,
)
from mapping.store.insights_card import relationship_card, search  # noqa: E402
from mapping.store.insights_quality import quality_report  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.store import Store  # noqa: E402
from scheduler.charts import pareto_svg, revenue_svg, tier_potential_svg  # noqa: E402
from scheduler.config_web import RolesConfig, WebConfig  # noqa: E402
from scheduler.web.app import create_app  # noqa: E402
from scheduler.web.server import ConsoleThread, Listen  # noqa: E402

TODAY = datetime.now(UTC).date()
NOW = datetime.now(UTC).replace(microsecond=0)
TIERS = ("Superior", "Average", "Marginal", "Eliminate")
POTENTIALS = ("High", "Average", "Low")
SETTINGS = ReportSettings(
    tier_order=TIERS, potential_order=POTENTIALS, cadence_days={"Superior": 7, "Average": 31, "Marginal": 93}
)
PRODUCTS = [f"Product {i:02d}" for i in range(30)]
SOURCES = ["web", "referral", "fair", "campaign", None]
INDUSTRIES = ["Retail", "Manufacturing", "Health", "Finance", "Government", "Energy", None]
SIZES = ["1-9", "10-49", "50-249", "250+", None]
MAILBOXES = 50


def best_of(n: int, fn: Callable[[], Any]) -> float:
    return best_of_with_cpu(n, fn)[0]


class CpuMeter:
    """CPU seconds spent so far by this process and, on PostgreSQL, by the server processes serving this
    database (read from /proc: the server runs on this machine), so a figure holds all of the work."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store if store is not None and store.engine.dialect.name == "postgresql" else None
        self.tick = os.sysconf("SC_CLK_TCK")

    def _server(self) -> float:
        if self.store is None:
            return 0.0
        with self.store.engine.connect() as conn:
            pids = conn.exec_driver_sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").scalars()
            total = 0
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # ended meanwhile
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / self.tick

    def now(self) -> float:
        return time.process_time() + self._server()


METER = CpuMeter()


def best_of_with_cpu(n: int, fn: Callable[[], Any]) -> tuple[float, float]:
    """Best wall time of ``n`` runs and the CPU time spent in that run (this process's, and on
    PostgreSQL the server's too: :data:`METER`). On a shared, loaded machine the wall time is the CPU
    time stretched by waiting for a core: both are printed."""
    best = (float("inf"), 0.0)
    for _ in range(n):
        start, cpu = time.perf_counter(), METER.now()
        fn()
        run = (time.perf_counter() - start, METER.now() - cpu)
        best = min(best, run)
    return best


def chunks(rows: Iterator[dict[str, Any]], size: int = 20000) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(store: Store, relationships: int, interactions: int, transactions: int, seed: int) -> dict[str, int]:
    """Bulk-insert the store (Core executemany in large batches, one transaction per table)."""
    rnd = random.Random(seed)
    orgs = relationships * 4 // 5
    solos = relationships - orgs
    people_of_org: list[list[int]] = [[] for _ in range(orgs + 1)]
    person_rows: list[dict[str, Any]] = []
    pid = 0
    for oid in range(1, orgs + 1):
        for _ in range(1 + (rnd.random() < 0.25)):
            pid += 1
            people_of_org[oid].append(pid)
            person_rows.append(
                {
                    "id": pid,
                    "display_name": f"Person {pid}",
                    "organisation_id": oid,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
    solo_people = []
    for _ in range(solos):
        pid += 1
        solo_people.append(pid)
        person_rows.append(
            {"id": pid, "display_name": f"Solo {pid}", "organisation_id": None, "created_at": NOW, "updated_at": NOW}
        )
    all_people = pid

    sqlite = store.engine.dialect.name == "sqlite"

    def value(v: Any) -> Any:
        # SQLite keeps UTC wall time as text (as UTCDateTime stores it); PostgreSQL's COPY takes objects.
        if sqlite and isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if sqlite and isinstance(v, date):
            return v.isoformat()
        return v

    def insert(table: str, rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> None:
        """Driver-level bulk load: executemany of tuples on SQLite, COPY on PostgreSQL."""
        start = time.perf_counter()
        count = 0
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if sqlite:  # relsync's engine leaves SQLite in autocommit: one transaction for the whole table
                cursor.execute("BEGIN")
            for batch in chunks(iter(rows)):
                columns = list(batch[0])
                tuples = [tuple(value(row[c]) for c in columns) for row in batch]
                if sqlite:
                    marks = ", ".join("?" for _ in columns)
                    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", tuples)
                else:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in tuples:
                            copy.write_row(row)
                count += len(batch)
            if sqlite:
                cursor.execute("COMMIT")
            else:
                raw.commit()
        finally:
            raw.close()
        print(f"  {table}: {count:,} rows in {time.perf_counter() - start:.1f} s", flush=True)

    insert(
        "staff_mailboxes",
        [
            {
                "id": i,
                "address": f"staff{i:02d}@us.example",
                "display_name": f"Staff {i}",
                "backend": "ews",
                "enabled": True,
                "needs_attention": False,
                "created_at": NOW,
            }
            for i in range(1, MAILBOXES + 1)
        ],
    )
    insert(
        "organisations",
        (
            {
                "id": i,
                "name": f"Company {i:06d} Ltd",
                "normalised_name": f"company {i:06d}",
                "industry": rnd.choice(INDUSTRIES),
                "size": rnd.choice(SIZES),
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(1, orgs + 1)
        ),
    )
    insert(
        "organisation_domains",
        (
            {"id": i, "domain": f"company{i:06d}.example", "organisation_id": i, "kind": "email", "created_at": NOW}
            for i in range(1, orgs + 1)
            if i % 20
        ),
    )
    insert("people", person_rows)
    insert(
        "email_addresses",
        (
            {
                "id": p,
                "address": f"person{p}@mail{p % 997}.example",
                "original": f"person{p}@mail{p % 997}.example",
                "person_id": p,
                "is_primary": True,
                "is_valid": p % 50 != 0,
                "created_at": NOW,
            }
            for p in range(1, all_people + 1)
        ),
    )
    insert(
        "phones",
        (
            {
                "id": p,
                "person_id": p,
                "e164": f"+44{2000000000 + p * 7919 % 999999999}",
                "raw": "",
                "kind": "work",
                "created_at": NOW,
            }
            for p in range(1, all_people + 1, 2)
        ),
    )

    def rel_rows() -> Iterator[dict[str, Any]]:
        for rid in range(1, relationships + 1):
            org = rid if rid <= orgs else None
            yield {
                "id": rid,
                "organisation_id": org,
                "person_id": None if org else solo_people[rid - orgs - 1],
                "type": rnd.choice(["customer", "customer", "lead", "prospect"]),
                "status": rnd.choice(["active", "inactive", "archive"]),
                "tier": rnd.choice(TIERS),
                "potential": rnd.choice(POTENTIALS),
                "value_percent": rnd.random() * 100,
                "owner_mailbox_id": rnd.randint(1, MAILBOXES) if rnd.random() < 0.8 else None,
                "source": rnd.choice(SOURCES),
                "latest_interaction_at": NOW - timedelta(days=rnd.randint(0, 400)),
                "classified_at": NOW,
                "created_at": NOW,
                "updated_at": NOW,
            }

    insert("relationships", rel_rows())

    def history() -> Iterator[dict[str, Any]]:
        hid = 0
        for rid in range(1, relationships + 1):
            for k in range(rnd.randint(1, 3)):
                hid += 1
                yield {
                    "id": hid,
                    "relationship_id": rid,
                    "changed_at": NOW - timedelta(days=300 - 100 * k),
                    "type": "customer",
                    "status": "active",
                    "tier": rnd.choice(TIERS),
                    "potential": rnd.choice(POTENTIALS),
                    "value_percent": 50.0,
                }

    insert("classification_history", history())
    # Pareto-shaped customers: the i-th of a random order gets weight 1/(i+1).
    weights = [1 / (i + 1) ** 1.1 for i in range(relationships)]
    order = list(range(1, relationships + 1))
    rnd.shuffle(order)
    buyers = rnd.choices(order, weights=weights, k=transactions)

    def tx_rows() -> Iterator[dict[str, Any]]:
        for n, rid in enumerate(buyers, start=1):
            unmatched = n % 20 == 0
            org = None if unmatched or rid > orgs else rid
            person = None if unmatched or rid <= orgs else solo_people[rid - orgs - 1]
            yield {
                "id": n,
                "occurred_on": TODAY - timedelta(days=rnd.randint(0, 730)),
                "customer_key": f"c{rid}",
                "organisation_id": org,
                "person_id": person,
                "matched_by": None if unmatched else "email",
                "kind": "return" if n % 25 == 0 else "order",
                "amount": round(rnd.uniform(10, 5000), 2),
                "currency": "EUR",
                "product": rnd.choice(PRODUCTS),
                "source_file": "sales.csv",
                "source_line": n + 1,
                "fingerprint": f"{n:064d}",
                "imported_at": NOW,
            }

    insert("transactions", tx_rows())
    # Interactions: the busiest customers have many, like revenue.
    talkers = rnd.choices(order, weights=weights, k=interactions)
    person_of = [0] * (relationships + 1)
    for rid in range(1, relationships + 1):
        person_of[rid] = people_of_org[rid][0] if rid <= orgs else solo_people[rid - orgs - 1]
    insert(
        "interactions",
        (
            {
                "id": n,
                "kind": "email",
                "internet_message_id": f"<{n}@bench>",
                "subject": f"Mail {n}",
                "occurred_at": NOW - timedelta(minutes=n),
                "is_all_day": False,
                "is_cancelled": False,
                "is_private": n % 97 == 0,
                "direction": "inbound",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(1, interactions + 1)
        ),
    )
    insert(
        "interaction_participants",
        (
            {
                "id": n,
                "interaction_id": n,
                "person_id": person_of[rid],
                "address": f"person{person_of[rid]}@bench",
                "role": "from",
            }
            for n, rid in enumerate(talkers, start=1)
        ),
    )
    insert(
        "interaction_viewers",
        (
            {"interaction_id": n, "mailbox_id": 1 + n % MAILBOXES, "first_seen_at": NOW}
            for n in range(1, interactions + 1)
        ),
    )
    insert(
        "follow_ups",
        (
            {
                "id": rid,
                "our_id": f"f{rid}",
                "relationship_id": rid,
                "owner_mailbox_id": 1 + rid % MAILBOXES,
                "organisation_id": rid if rid <= orgs else None,
                "person_id": None if rid <= orgs else solo_people[rid - orgs - 1],
                "kind": "cadence",
                "method": "e-mail",
                "importance": "Normal",
                "subject": f"Call {rid}",
                "due_at": NOW + timedelta(days=rnd.randint(-30, 60)),
                "status": rnd.choice(["open", "open", "completed", "cancelled"]),
                "completed_at": NOW - timedelta(days=rnd.randint(0, 30)) if rid % 3 == 0 else None,
                "created_at": NOW - timedelta(days=90),
                "updated_at": NOW,
            }
            for rid in range(1, relationships + 1)
            if rid % 5
        ),
    )
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:  # explicit ids: move the sequences past them
            for table in (
                "organisations",
                "people",
                "relationships",
                "transactions",
                "interactions",
                "classification_history",
                "follow_ups",
            ):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            conn.exec_driver_sql("ANALYZE")
    else:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return {"median": order[relationships // 2]}


def store_revenue(store: Store) -> None:
    """What classification stores beside each result: the relationship's net revenue over the value
    period (here summed once from the sales rows, as the classifier's facts would)."""
    start = time.perf_counter()
    today = datetime.now(UTC).date()
    with store.session() as s:
        rows = _customers(s, today - timedelta(days=364), today, None)
        record_revenue(s, {row.relationship_id: row.revenue for row in rows}, NOW)
    print(f"  relationship_revenue: {len(rows):,} rows in {time.perf_counter() - start:.1f} s", flush=True)


def settle(store: Store) -> None:
    """What the database's own upkeep does soon after a bulk load (autovacuum on PostgreSQL): statistics
    for the planner, and on PostgreSQL the visibility map that lets index-only scans skip the table."""
    start = time.perf_counter()
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"  vacuum/analyze in {time.perf_counter() - start:.1f} s", flush=True)


def refresh_rollup(store: Store) -> None:
    """The bulk load went past the import: rebuild the daily sales rollup as an import keeps it."""
    with store.session() as s:
        if sales_rollup.is_current(s):
            return
        start = time.perf_counter()
        n = sales_rollup.refresh(s)
    print(f"  sales_daily: {n:,} rows in {time.perf_counter() - start:.1f} s", flush=True)


def count_baseline(store: Store, *tables: str) -> Callable[[], Any]:
    def run() -> None:
        with store.engine.connect() as conn:
            for table in tables:
                conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()

    return run


USER = "bench.admin@us.example"


class Console:
    """relsync's console on this store, served by uvicorn in a thread (header sign-in)."""

    def __init__(self, store: Store) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        web = WebConfig(
            auth="header", listen=f"127.0.0.1:{self.port}", cookie_secure=False, roles=RolesConfig(admin=[USER])
        )
        self.thread = ConsoleThread(create_app(web, store, [], SETTINGS), Listen("127.0.0.1", self.port, None, None))
        self.thread.start()

    def get(self, path: str) -> float:
        """Seconds from connecting to the last byte of the page (a new loopback connection each time:
        uvicorn closes idle ones after 5 s)."""
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request("GET", path, headers={"X-Remote-User": USER})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:300]!r}")
        return elapsed

    def stop(self) -> None:
        self.thread.stop()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


NET = "sum(CASE WHEN kind = 'order' THEN amount WHEN kind = 'return' THEN -amount ELSE 0 END)"


def direct_overview_sql(store: Store, since: date) -> Callable[[], Any]:
    """The overview's numbers straight from the base tables, one raw query each: relationships by
    classification, net revenue per customer and per product over the period."""
    queries = [
        "SELECT type, status, tier, potential, count(*) FROM relationships GROUP BY type, status, tier, potential",
        f"SELECT organisation_id, person_id, {NET} FROM transactions WHERE occurred_on >= :since "
        "GROUP BY organisation_id, person_id",
        f"SELECT product, {NET} FROM transactions WHERE occurred_on >= :since GROUP BY product",
    ]

    def run() -> None:
        with store.engine.connect() as conn:
            for query in queries:
                conn.execute(sa.text(query), {"since": since}).all()

    return run


def card_sql(store: Store, rid: int) -> Callable[[], Any]:
    """A relationship page's main part in raw SQL: its latest 200 interactions (not private) through its
    organisation's people, and its latest 50 sales rows."""
    timeline = (
        "SELECT i.id, i.occurred_at, i.kind, i.subject FROM interactions i "
        "JOIN interaction_participants ip ON ip.interaction_id = i.id JOIN people p ON p.id = ip.person_id "
        "JOIN relationships r ON r.organisation_id = p.organisation_id OR r.person_id = p.id "
        "WHERE r.id = :rid AND NOT i.is_private ORDER BY i.occurred_at DESC LIMIT 200"
    )
    sales = (
        "SELECT t.occurred_on, t.kind, t.amount, t.product FROM transactions t JOIN relationships r "
        "ON r.organisation_id = t.organisation_id WHERE r.id = :rid ORDER BY t.occurred_on DESC LIMIT 50"
    )

    def run() -> None:
        with store.engine.connect() as conn:
            conn.execute(sa.text(timeline), {"rid": rid}).all()
            conn.execute(sa.text(sales), {"rid": rid}).all()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("--relationships", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary SQLite file (prints its path).")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="relsync-bench-")
    url = args.url or f"sqlite:///{folder}/bench.db"
    print(f"store: {url.split('@')[-1]}")
    upgrade(url)
    store = Store(url)
    with store.engine.connect() as conn:
        existing = conn.exec_driver_sql("SELECT count(*) FROM relationships").scalar_one()
    if existing:  # a store built by an earlier run with the same --url: time the queries again
        print(f"reusing the {existing:,} relationships already in the store\n")
        with store.engine.connect() as conn:
            if not conn.exec_driver_sql("SELECT count(*) FROM relationship_revenue").scalar_one():
                store_revenue(store)
        refresh_rollup(store)
        settle(store)
    else:
        start = time.perf_counter()
        fill(store, args.relationships, args.interactions, args.transactions, args.seed)
        store_revenue(store)
        refresh_rollup(store)
        settle(store)
        print(
            f"built in {time.perf_counter() - start:.0f} s: {args.relationships:,} relationships, "
            f"{args.interactions:,} interactions, {args.transactions:,} transactions\n"
        )

    with store.session() as s:
        busiest = s.execute(
            sa.text(
                "SELECT r.id FROM interaction_participants ip JOIN people p ON p.id = ip.person_id "
                "JOIN relationships r ON r.organisation_id = p.organisation_id "
                "GROUP BY r.id ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        # The median relationship by interactions among those that have any.
        counts = s.execute(
            sa.text(
                "SELECT r.id, count(*) FROM interaction_participants ip JOIN people p ON p.id = ip.person_id "
                "JOIN relationships r ON r.organisation_id = p.organisation_id GROUP BY r.id ORDER BY count(*), r.id"
            )
        ).all()
        median, median_count = counts[len(counts) // 2]
        print(f"busiest relationship {busiest}: {counts[-1][1]:,} interactions; median {median}: {median_count:,}\n")
    since = TODAY - timedelta(days=SETTINGS.value_period_days - 1)
    rows: list[tuple[str, Callable[[], Any], str | None, Callable[[], Any], Callable[[], Any] | None, float | None]] = [
        (
            "overview",
            lambda: overview_report(store, SETTINGS),
            "/overview",
            count_baseline(store, "relationships", "transactions"),
            direct_overview_sql(store, since),
            1.0,
        ),
        (
            "relationship page, busiest",
            lambda: relationship_card(store, busiest),
            f"/relationships/{busiest}",
            count_baseline(store, "relationships", "interactions", "transactions"),
            card_sql(store, busiest),
            0.2,
        ),
        (
            "relationship page, median",
            lambda: relationship_card(store, median),
            f"/relationships/{median}",
            count_baseline(store, "relationships", "interactions", "transactions"),
            card_sql(store, median),
            0.2,
        ),
        (
            "search 'company 0042'",
            lambda: search(store, "company 0042"),
            "/relationships?q=company+0042",
            count_baseline(store, "organisations", "people"),
            None,
            None,
        ),
        (
            "tier movement, 90 days",
            lambda: movement_report(store, TODAY - timedelta(days=90), TODAY, SETTINGS),
            "/movement",
            count_baseline(store, "classification_history"),
            None,
            None,
        ),
        (
            "cadence compliance",
            lambda: compliance_report(store, SETTINGS),
            "/compliance",
            count_baseline(store, "follow_ups", "relationships"),
            None,
            None,
        ),
        (
            "data quality (counts + 50 rows each)",
            lambda: quality_report(store),
            "/quality",
            count_baseline(store, "people", "organisations", "transactions"),
            None,
            None,
        ),
    ]
    global METER
    METER = CpuMeter(store)
    console = Console(store)
    try:
        print(f"uptime before: {uptime()}")
        print(
            "data: the store service (best of 3: wall, and CPU of this process and of PostgreSQL's server "
            "processes for this database); page: GET of the full HTML page over HTTP from relsync's console "
            "in this process (uvicorn; after one warm-up GET the charts cache is cleared before 3 GETs: 'page' is the "
            "best, 'first' the first view; CPU as for data); count(*): SELECT count(*) of the tables read; "
            "direct SQL: the same answer summed from the base tables by one raw query per part\n"
        )
        print(
            f"{'':36} {'data':>8} {'(cpu)':>8} {'page':>8} {'(cpu)':>8} {'first':>8} {'(cpu)':>8} {'count(*)':>9} "
            f"{'direct SQL':>11} {'page/direct':>11}  goal (first and best page)"
        )
        for label, fn, path, baseline, direct, goal in rows:
            ours, cpu = best_of_with_cpu(3, fn)
            first = first_cpu = page_best = page_cpu = float("nan")
            if path is not None:
                console.get(path)  # a server that has served this page before: templates compiled, fonts loaded
                for chart in (tier_potential_svg, pareto_svg, revenue_svg):
                    chart.cache_clear()
                times = []
                for _ in range(3):
                    cpu_start = METER.now()
                    wall = console.get(path)
                    times.append((wall, METER.now() - cpu_start))
                (first, first_cpu), (page_best, page_cpu) = times[0], min(times)
            raw = best_of(3, baseline)
            straight = best_of(3, direct) if direct is not None else float("nan")
            verdict = (
                "" if goal is None else (f"< {goal:g} s: " + ("met" if max(first, page_best) < goal else "MISSED"))
            )
            ratio = page_best / straight if direct is not None else float("nan")
            print(
                f"{label:36} {ours:7.3f}s {cpu:7.3f}s {page_best:7.3f}s {page_cpu:7.3f}s {first:7.3f}s "
                f"{first_cpu:7.3f}s {raw:8.3f}s {straight:10.3f}s {ratio:10.2f}x  {verdict}",
                flush=True,
            )
        print(f"uptime after: {uptime()}")
    finally:
        console.stop()
    store.dispose()
    if args.keep and not args.url:
        print(f"\nkept {folder}/bench.db")
    elif not args.url:
        for leftover in Path(folder).glob("*"):
            leftover.unlink()
        Path(folder).rmdir()


if __name__ == "__main__":
    main()
