"""What the admin's views cost at 1,000 mailboxes: `relsync status` and one /metrics scrape. Run by hand:

    .venv/bin/python benchmarks/admin_views.py [--mailboxes 1000] [--url sqlite:///...|postgresql+psycopg://...]

(a) status: ``mapping.store.reports.mailbox_status`` (mailboxes, item counts, sync states and leases, as
    ``status --json`` prints them) next to the raw baseline of the same rows fetched with plain SQL
    (``SELECT *`` of staff_mailboxes, sync_states and mailbox_leases, and the item-link counts);
(b) metrics: one ``/metrics`` scrape over real HTTP after every mailbox recorded a sync of 4 folders,
    next to the raw baseline of writing the same samples with f-strings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from connector.engine import FolderReport, MailboxReport  # noqa: E402
from mapping.changes import PageResult  # noqa: E402
from mapping.store import leases  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.models import StaffMailbox, SyncState  # noqa: E402
from mapping.store.reports import mailbox_status  # noqa: E402
from mapping.store.store import Store  # noqa: E402
from scheduler.metrics import Metrics, serve  # noqa: E402

FOLDERS = ("contacts", "inbox", "sentitems", "calendar")


def best_of(n: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fill(store: Store, mailboxes: int) -> None:
    now = datetime.now(UTC)
    with store.session() as s:
        s.add_all(
            StaffMailbox(
                address=f"user{i:05d}@contoso.example",
                display_name=f"User {i}",
                last_success_at=now - timedelta(minutes=i % 30),
            )
            for i in range(mailboxes)
        )
    with store.session() as s:
        ids = list(s.scalars(sa.select(StaffMailbox.id)))
        s.add_all(SyncState(mailbox_id=m, folder=f, state="x" * 200, last_page_at=now) for m in ids for f in FOLDERS)
        leases.ensure_leases(s, dict.fromkeys(ids, now))
    with store.session() as s:
        for m in ids[::3]:
            leases.claim(s, m, "host-a:1", 120, now)


def raw_status(store: Store) -> int:
    with store.engine.connect() as conn:
        n = len(conn.execute(sa.text("SELECT * FROM staff_mailboxes")).all())
        n += len(conn.execute(sa.text("SELECT * FROM sync_states")).all())
        n += len(conn.execute(sa.text("SELECT * FROM mailbox_leases")).all())
        n += len(
            conn.execute(
                sa.text("SELECT mailbox_id, count(*) FROM item_links WHERE deleted_at IS NULL GROUP BY mailbox_id")
            ).all()
        )
    return n


def status(store: Store) -> int:
    with store.session() as s:
        return len(mailbox_status(s, datetime.now(UTC)))


def report(i: int) -> MailboxReport:
    folders = [
        FolderReport(
            folder=f,
            pages=1,
            result=PageResult(created=i % 7, updated=1),
            retries=i % 2,
            throttled_seconds=float(i % 3),
        )
        for f in FOLDERS
    ]
    return MailboxReport(mailbox=f"user{i:05d}@contoso.example", folders=folders)


def raw_exposition(mailboxes: int) -> bytes:
    lines = []
    for i in range(mailboxes):
        m = f"user{i:05d}@contoso.example"
        lines += [f'relsync_items_synced_total{{folder="{f}",mailbox="{m}"}} {float(i % 7 + 1)}' for f in FOLDERS]
        lines += [
            f'relsync_request_retries_total{{mailbox="{m}"}} {float(4 * (i % 2))}',
            f'relsync_throttled_seconds_total{{mailbox="{m}"}} {float(4 * (i % 3))}',
            f'relsync_sync_lag_seconds{{mailbox="{m}"}} 1.0',
            f'relsync_last_success_timestamp_seconds{{mailbox="{m}"}} 1.8e9',
            f'relsync_mailbox_needs_attention{{mailbox="{m}"}} 0.0',
        ]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--url", default=None, help="store URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        store = Store(url)
        try:
            fill(store, args.mailboxes)
            raw = best_of(5, lambda: raw_status(store))
            ours = best_of(5, lambda: status(store))
        finally:
            store.dispose()
    print(
        f"(a) status of {args.mailboxes} mailboxes on {url.split(':')[0]}: raw SQL {raw * 1000:.1f} ms, "
        f"mailbox_status {ours * 1000:.1f} ms, ratio {ours / raw:.2f}x"
    )
    metrics = Metrics()
    start = time.perf_counter()
    for i in range(args.mailboxes):
        metrics.record_mailbox(report(i))
    record = (time.perf_counter() - start) / args.mailboxes
    with serve(metrics, "127.0.0.1:0") as server:

        def scrape() -> bytes:
            with urllib.request.urlopen(f"{server.url}/metrics", timeout=30) as response:
                return bytes(response.read())

        size = len(scrape())
        ours = best_of(5, scrape)
    raw = best_of(5, lambda: raw_exposition(args.mailboxes))
    print(
        f"(b) /metrics for {args.mailboxes} mailboxes ({size / 1024:.0f} KiB): raw f-strings {raw * 1000:.1f} ms, "
        f"scrape over HTTP {ours * 1000:.1f} ms, ratio {ours / raw:.2f}x; record_mailbox {record * 1e6:.0f} us each"
    )


if __name__ == "__main__":
    main()
