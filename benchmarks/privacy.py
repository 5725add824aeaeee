"""Erasure and retention on a large store, beside raw SQL doing the same deletes. Run by hand:

    .venv/bin/python benchmarks/privacy.py [--interactions 1000000] [--people 20000] [--url sqlite:///...]

A store is seeded (SQLite file in a temporary folder unless ``--url`` names a database) with
``--interactions`` interactions (70 % e-mail, 25 % meetings, 5 % tasks, ages spread over six years), each
with one outside participant (a random person), one staff participant, a viewer and an item link.
Then, each on its own copy of the seeded store:

1. erase one person (relsync's store services: find, plan, lease check, suppression and journal, delete
   every row, receipt and audit), beside a raw-SQL baseline deleting another person of the same size
   (participants, the interactions only they were on, addresses, the person) in one transaction;
2. one retention run (e-mail 3 years, meetings 5 years, tasks 5 years) with relsync, beside raw SQL
   deleting the same rows with the same set-based statements and no key-date upkeep or audit.

Targets (issue 20): erasure under 5 s, retention under 60 s, at 1,000,000 interactions.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from mapping.privacy.retention import RetentionPolicy  # noqa: E402
from mapping.store import audit  # noqa: E402
from mapping.store import privacy_erase as pe  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.privacy_retention import run_retention  # noqa: E402
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
    for start in range(1, interactions + 1, batch):
        ids = range(start, min(start + batch, interactions + 1))
        rows, parts, viewers, links = [], [], [], []
        for i in ids:
            r = rng.random()
            kind = "email" if r < 0.7 else "meeting" if r < 0.95 else "task"
            person = rng.randint(1, people)
            rows.append(
                {
                    "id": i,
                    "kind": kind,
                    "internet_message_id": f"<m{i}@x>" if kind == "email" else None,
                    "ical_uid": f"uid{i}" if kind == "meeting" else None,
                    "subject": f"Subject {i}",
                    "occurred_at": NOW - timedelta(seconds=rng.randint(0, span)),
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


def relsync_retention(url: str) -> float:
    store = Store(url)
    started = time.perf_counter()
    with store.session() as s:
        report = run_retention(s, POLICY, NOW, dry_run=False)
    elapsed = time.perf_counter() - started
    store.dispose()
    print(f"  relsync retention: {report.as_dict()}")
    return elapsed


def raw_retention(url: str) -> float:
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args()
    audit.use_key(KEY)
    audit.set_actor("user:benchmark")
    with tempfile.TemporaryDirectory(prefix="relsync-privacy-bench-") as folder:
        base = Path(folder) / "seed.db"
        seed(f"sqlite:///{base}", args.interactions, args.people)
        copies = {}
        for name in ("erase", "erase_raw", "retention", "retention_raw"):
            copies[name] = Path(folder) / f"{name}.db"
            shutil.copy(base, copies[name])
        ours, ours_cpu = timed(lambda: relsync_erase(f"sqlite:///{copies['erase']}", 11))
        raw, raw_cpu = timed(lambda: raw_erase(f"sqlite:///{copies['erase_raw']}", 12))
        print(
            f"erase one person   relsync {ours:7.2f} s (cpu {ours_cpu:6.2f} s)   raw SQL {raw:7.2f} s "
            f"(cpu {raw_cpu:6.2f} s)   ratio {ours / raw:5.1f}x   target < 5 s: {'met' if ours < 5 else 'MISSED'}"
        )
        ours, ours_cpu = timed(lambda: relsync_retention(f"sqlite:///{copies['retention']}"))
        raw, raw_cpu = timed(lambda: raw_retention(f"sqlite:///{copies['retention_raw']}"))
        print(
            f"retention run      relsync {ours:7.2f} s (cpu {ours_cpu:6.2f} s)   raw SQL {raw:7.2f} s "
            f"(cpu {raw_cpu:6.2f} s)   ratio {ours / raw:5.1f}x   target < 60 s: {'met' if ours < 60 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
