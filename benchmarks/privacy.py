"""Erasure and retention on a large store, beside raw SQL doing the same deletes. Run by hand:

    .venv/bin/python benchmarks/privacy.py [--interactions 1000000] [--people 20000]
        [--backend sqlite|postgresql|both] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Per backend a store is seeded (SQLite: a file in a temporary folder; PostgreSQL: a database of its own
on the server ``--pg-url`` names, copied by ``CREATE DATABASE ... TEMPLATE``, all dropped at the end)
with ``--interactions`` interactions (70 % e-mail, 25 % meetings, 5 % tasks, ages spread over six years),
each with one outside participant (a random person), one staff participant, a viewer and an item link,
and one relationship per person with its key dates (one person in ten has only mail older than three
years, so retention changes their relationship's key dates). Then, each on its own copy of the seeded store:

1. erase one person (relsync's store services: find, plan, lease check, suppression and journal, delete
   every row, receipt and audit), beside a raw-SQL baseline deleting another person of the same size
   (participants, the interactions only they were on, addresses, the person) in one transaction;
2. one retention run (e-mail 3 years, meetings 5 years, tasks 5 years) with relsync (windows of
   expired ids, one transaction each, audited, key dates recomputed), beside raw SQL deleting the same
   rows with one set-based statement per table and kind in one transaction, no key-date upkeep or
   audit. On SQLite both get the same page cache (relsync's ``SQLITE_CACHE_KIB``), so the ratio is
   relsync's own overhead, not a setting.

Targets (issue 20): erasure under 5 s, retention under 60 s, at 1,000,000 interactions.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from mapping.privacy.retention import RetentionPolicy  # noqa: E402
from mapping.store import audit  # noqa: E402
from mapping.store import privacy_erase as pe  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.privacy_retention import RETENTION_CHUNK, SQLITE_CACHE_KIB, run_retention  # noqa: E402
from mapping.store.store import Store  # noqa: E402

NOW = datetime.now(UTC)
KEY = b"benchmark audit key, not a secret"


def seed(url: str, interactions: int, people: int, seed_value: int = 7) -> None:
    rng = random.Random(seed_value)
    upgrade(url)
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            t["staff_mailboxes"].insert(),
            [
                {
                    "id": 1,
                    "address": "ann@contoso.example",
                    "display_name": "Ann",
                    "backend": "ews",
                    "enabled": True,
                    "needs_attention": False,
                    "created_at": NOW,
                }
            ],
        )
        conn.execute(
            t["people"].insert(),
            [
                {"id": i, "display_name": f"Person {i:06d}", "created_at": NOW, "updated_at": NOW}
                for i in range(1, people + 1)
            ],
        )
        conn.execute(
            t["email_addresses"].insert(),
            [
                {
                    "id": i,
                    "address": f"p{i}@customer{i % 500}.example",
                    "original": f"p{i}@customer{i % 500}.example",
                    "person_id": i,
                    "is_primary": True,
                    "is_valid": True,
                    "created_at": NOW,
                }
                for i in range(1, people + 1)
            ],
        )
    batch = 50_000
    span = 6 * 365 * 86400
    spans: dict[int, list[datetime]] = {}
    for start in range(1, interactions + 1, batch):
        ids = range(start, min(start + batch, interactions + 1))
        rows, parts, viewers, links = [], [], [], []
        for i in ids:
            r = rng.random()
            kind = "email" if r < 0.7 else "meeting" if r < 0.95 else "task"
            person = rng.randint(1, people)
            # One person in ten was last heard of more than three years ago: retention takes all their
            # e-mail, so their relationship's key dates are recomputed.
            occurred = NOW - timedelta(seconds=rng.randint(span // 2 + 86400 if person % 10 == 0 else 0, span))
            seen = spans.setdefault(person, [occurred, occurred])
            seen[0], seen[1] = min(seen[0], occurred), max(seen[1], occurred)
            rows.append(
                {
                    "id": i,
                    "kind": kind,
                    "internet_message_id": f"<m{i}@x>" if kind == "email" else None,
                    "ical_uid": f"uid{i}" if kind == "meeting" else None,
                    "subject": f"Subject {i}",
                    "occurred_at": occurred,
                    "is_all_day": False,
                    "is_cancelled": False,
                    "is_private": False,
                    "direction": "inbound",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            address = f"p{person}@customer{person % 500}.example"
            parts.append(
                {"interaction_id": i, "person_id": person, "address": address, "role": "from", "staff_mailbox_id": None}
            )
            parts.append(
                {
                    "interaction_id": i,
                    "person_id": None,
                    "address": "ann@contoso.example",
                    "role": "to",
                    "staff_mailbox_id": 1,
                }
            )
            viewers.append({"interaction_id": i, "mailbox_id": 1, "first_seen_at": NOW})
            links.append(
                {
                    "mailbox_id": 1,
                    "folder": "inbox",
                    "item_id": f"item{i}",
                    "item_kind": "message",
                    "entity_type": "interaction",
                    "entity_id": i,
                    "first_seen_at": NOW,
                    "last_seen_at": NOW,
                }
            )
        with engine.begin() as conn:
            conn.execute(t["interactions"].insert(), rows)
            conn.execute(t["interaction_participants"].insert(), parts)
            conn.execute(t["interaction_viewers"].insert(), viewers)
            conn.execute(t["item_links"].insert(), links)
    with engine.begin() as conn:
        conn.execute(
            t["relationships"].insert(),
            [
                {
                    "person_id": p,
                    "status": "active",
                    "first_contact_at": first,
                    "latest_interaction_at": latest,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for p, (first, latest) in sorted(spans.items())
            ],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        for table, column in (("interactions", "id"), ("people", "id"), ("email_addresses", "id")):
            with engine.begin() as conn:
                conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), max({column})) FROM {table}")
                )
    engine.dispose()
    print(f"seeded {interactions:,} interactions, {people:,} people in {time.perf_counter() - started:.1f} s")


def relsync_erase(url: str, person_id: int) -> float:
    store = Store(url)
    started = time.perf_counter()
    with store.session() as s:
        subject = pe.find_subject(s, str(person_id), KEY)
        assert subject is not None
        plan = pe.plan_erasure(s, subject)
        erasure = pe.begin(s, plan, "user:benchmark", NOW)
    with store.session() as s:
        counts = pe.erase_store(s, plan, keep_transactions=True)
        pe.finish(s, erasure, {"store": counts, "exchange": {}}, NOW)
    elapsed = time.perf_counter() - started
    store.dispose()
    print(f"  relsync erase: {counts}")
    return elapsed


def raw_erase(url: str, person_id: int) -> float:
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        only = (
            "SELECT interaction_id FROM interaction_participants p WHERE person_id = :p AND NOT EXISTS ("
            "SELECT 1 FROM interaction_participants o WHERE o.interaction_id = p.interaction_id "
            "AND o.staff_mailbox_id IS NULL AND coalesce(o.person_id, -1) <> :p)"
        )
        ids = [r[0] for r in conn.execute(sa.text(only), {"p": person_id})]
        for table, column in (
            ("item_links", "entity_id"),
            ("interaction_participants", "interaction_id"),
            ("interaction_viewers", "interaction_id"),
            ("interactions", "id"),
        ):
            extra = " AND entity_type = 'interaction'" if table == "item_links" else ""
            conn.execute(sa.text(f"DELETE FROM {table} WHERE {column} IN ({','.join(map(str, ids)) or 'NULL'}){extra}"))
        conn.execute(sa.text("DELETE FROM interaction_participants WHERE person_id = :p"), {"p": person_id})
        conn.execute(sa.text("DELETE FROM email_addresses WHERE person_id = :p"), {"p": person_id})
        conn.execute(sa.text("DELETE FROM people WHERE id = :p"), {"p": person_id})
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


POLICY = RetentionPolicy(email_days=3 * 365, meeting_days=5 * 365, task_days=5 * 365)


def relsync_retention(url: str, window: int) -> float:
    store = Store(url)
    started = time.perf_counter()
    report = run_retention(store, POLICY, NOW, dry_run=False, chunk=window)
    elapsed = time.perf_counter() - started
    store.dispose()
    print(f"  relsync retention: {report.as_dict()}")
    return elapsed


def raw_retention(url: str) -> float:
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(sa.text(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
        for kind, days in (("email", POLICY.email_days), ("meeting", POLICY.meeting_days), ("task", POLICY.task_days)):
            assert days is not None
            cut = (NOW - timedelta(days=days)).replace(tzinfo=None).isoformat(sep=" ")
            old = f"SELECT id FROM interactions WHERE kind = '{kind}' AND occurred_at < '{cut}'"
            conn.execute(sa.text(f"DELETE FROM item_links WHERE entity_type = 'interaction' AND entity_id IN ({old})"))
            conn.execute(sa.text(f"DELETE FROM interaction_participants WHERE interaction_id IN ({old})"))
            conn.execute(sa.text(f"DELETE FROM interaction_viewers WHERE interaction_id IN ({old})"))
            conn.execute(sa.text(f"DELETE FROM interactions WHERE kind = '{kind}' AND occurred_at < '{cut}'"))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def timed(run: Callable[[], float]) -> tuple[float, float]:
    """(wall seconds as the run measured them, CPU seconds of this process meanwhile): on a shared
    machine the CPU time says what the work costs, the wall time what it took."""
    cpu = time.process_time()
    wall = run()
    return wall, time.process_time() - cpu


class Backend:
    """Where the seeded store and its copies live: SQLite files, or PostgreSQL databases."""

    def __init__(self, name: str, folder: Path, pg_url: str) -> None:
        self.name, self.folder, self.pg_url = name, folder, pg_url
        self.tag = uuid.uuid4().hex[:8]
        self.databases: list[str] = []

    def url(self, copy: str) -> str:
        if self.name == "sqlite":
            return f"sqlite:///{self.folder / f'{copy}.db'}"
        return sa.make_url(self.pg_url).set(database=f"relsync_bench_{self.tag}_{copy}").render_as_string(False)

    def _admin(self, statement: str) -> None:
        admin = sa.create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(statement))
        finally:
            admin.dispose()

    def create(self, copy: str, template: str | None = None) -> str:
        if self.name == "sqlite":
            if template is not None:
                shutil.copy(self.folder / f"{template}.db", self.folder / f"{copy}.db")
            return self.url(copy)
        name = f"relsync_bench_{self.tag}_{copy}"
        like = f" TEMPLATE relsync_bench_{self.tag}_{template}" if template else ""
        self._admin(f'CREATE DATABASE "{name}"{like}')
        self.databases.append(name)
        return self.url(copy)

    def drop_all(self) -> None:
        for name in self.databases:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def backend(name: str, pg_url: str) -> Iterator[Backend]:
    with tempfile.TemporaryDirectory(prefix="relsync-privacy-bench-") as folder:
        b = Backend(name, Path(folder), pg_url)
        try:
            yield b
        finally:
            b.drop_all()


def bench(name: str, pg_url: str, interactions: int, people: int, windows: list[int]) -> list[str]:
    lines = []
    with backend(name, pg_url) as b:
        print(f"[{name}]")
        seed(b.create("seed"), interactions, people)
        copies = ("erase", "erase_raw", "retention_raw", *(f"retention_{w}" for w in windows))
        urls = {copy: b.create(copy, "seed") for copy in copies}
        ours, ours_cpu = timed(lambda: relsync_erase(urls["erase"], 11))
        raw, raw_cpu = timed(lambda: raw_erase(urls["erase_raw"], 12))
        lines.append(
            f"{name:10} erase one person  relsync {ours:7.2f} s (cpu {ours_cpu:6.2f} s)   raw SQL {raw:7.2f} s "
            f"(cpu {raw_cpu:6.2f} s)   ratio {ours / raw:5.1f}x   target < 5 s: {'met' if ours < 5 else 'MISSED'}"
        )
        raw, raw_cpu = timed(lambda: raw_retention(urls["retention_raw"]))
        for w in windows:
            ours, ours_cpu = timed(partial(relsync_retention, urls[f"retention_{w}"], w))
            lines.append(
                f"{name:10} retention run     relsync {ours:7.2f} s (cpu {ours_cpu:6.2f} s)   raw SQL {raw:7.2f} s "
                f"(cpu {raw_cpu:6.2f} s)   ratio {ours / raw:5.1f}x   target < 60 s: {'met' if ours < 60 else 'MISSED'}"
                f"   (windows of {w:,})"
            )
        print("\n".join(lines))
    return lines


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return f"load average {os.getloadavg()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--pg-url", default=os.environ.get("RELSYNC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument(
        "--windows",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[RETENTION_CHUNK],
        help="expired interactions per retention transaction; several (comma-separated) each get a copy",
    )
    args = parser.parse_args()
    audit.use_key(KEY)
    audit.set_actor("user:benchmark")
    print(f"load before: {uptime()}")
    lines: list[str] = []
    for name in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        lines += bench(name, args.pg_url, args.interactions, args.people, args.windows)
    print(f"\n{args.interactions:,} interactions, {args.people:,} people; load after: {uptime()}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
