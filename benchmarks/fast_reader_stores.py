"""Does the fast EWS reader give the store exchangelib's parse gives, on a big demo company? Run by hand:

    .venv/bin/python benchmarks/fast_reader_stores.py [--scale medium] [--mailboxes 5] [--seed 7]

The check of tests/e2e/test_sync_fast_reader.py (the demo company at ``--scale small`` there) at a scale
too slow for the suite: one fake Exchange serving the generated company, every mailbox synced (all
folders) twice, with ``fast_reader=True`` and with ``fast_reader=False`` (exchangelib parses every item),
each into a fresh SQLite store. Prints the items each way, what the fast reader handed to exchangelib, the
seconds of each pass, and whether the stores are equal (people, organisations, interactions with their
participants, live item links with their change keys, skipped items); exits 1 when they are not.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from connector.engine import MailboxReport, SyncSettings  # noqa: E402
from connector.ews.client import EwsConnection  # noqa: E402
from connector.ews.reader import EwsMailboxSync, EwsReader  # noqa: E402
from connector.ews.settings import EwsSettings  # noqa: E402
from connector.fake.company.generator import build_company  # noqa: E402
from connector.fake.ews.server import FakeExchange  # noqa: E402
from mapping.changes import FolderName, SyncRules  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.reports import export_rows  # noqa: E402
from mapping.store.store import Store  # noqa: E402

FOLDERS: list[FolderName] = ["contacts", "inbox", "sentitems", "calendar"]
LINKS = (
    "SELECT m.address, l.folder, l.item_id, l.change_key FROM item_links l "
    "JOIN staff_mailboxes m ON m.id = l.mailbox_id WHERE l.deleted_at IS NULL ORDER BY 1, 2, 3"
)


def snapshot(store: Store) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = {}
    with store.session() as session:
        for what in ("people", "organizations", "interactions"):
            result[what] = sorted(
                json.dumps({k: v for k, v in row.items() if k not in ("id", "created_at")}, sort_keys=True, default=str)
                for row in export_rows(session, what)
            )
    with store.engine.connect() as conn:
        result["links"] = [tuple(r) for r in conn.execute(sa.text(LINKS))]
    return result


def sync_all(ex: FakeExchange, url: str, domain: str, fast: bool) -> tuple[list[MailboxReport], EwsReader, float]:
    connection = EwsConnection(
        EwsSettings(endpoint=ex.url, username=ex.username, password=ex.password, auth="basic", timeout_seconds=60)
    )
    store = Store(url)
    engine = EwsMailboxSync(
        connection, store, SyncRules(internal_domains=frozenset({domain})), SyncSettings(fast_reader=fast)
    )
    try:
        t0 = time.perf_counter()
        reports = [engine.sync(address, FOLDERS) for address in ex.mailboxes]
        elapsed = time.perf_counter() - t0
    finally:
        connection.close()
        store.dispose()
    bad = [r.error for r in reports if not r.ok]
    if bad:
        raise RuntimeError(f"sync failed: {bad}")
    assert isinstance(engine.reader, EwsReader)
    return reports, engine.reader, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--mailboxes", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    company = build_company(args.seed, args.mailboxes, args.scale)
    with FakeExchange(company) as ex, tempfile.TemporaryDirectory() as tmp:
        urls = {name: f"sqlite:///{Path(tmp) / name}.db" for name in ("fast", "exchangelib")}
        for url in urls.values():
            upgrade(url)
        fast_reports, fast_reader, fast_s = sync_all(ex, urls["fast"], company.domain, True)
        slow_reports, _, slow_s = sync_all(ex, urls["exchangelib"], company.domain, False)

        def skipped(reports: list[MailboxReport]) -> list[Any]:
            return [(r.mailbox, f.folder, sorted(f.result.skipped.items())) for r in reports for f in r.folders]

        stores = {name: Store(url) for name, url in urls.items()}
        try:
            fast_rows, slow_rows = snapshot(stores["fast"]), snapshot(stores["exchangelib"])
        finally:
            for store in stores.values():
                store.dispose()
    items = sum(f.result.items for r in slow_reports for f in r.folders)
    print(f"demo company seed {args.seed}, {args.mailboxes} mailboxes, --scale {args.scale}: {items} items")
    print(
        f"fast reader: read {fast_reader.fast_items} items itself, handed {fast_reader.fast_fallbacks} to exchangelib"
    )
    print(f"seconds: fast reader {fast_s:.1f}, exchangelib's parse {slow_s:.1f}")
    print(", ".join(f"{k} {len(v)}" for k, v in fast_rows.items()))
    equal = fast_rows == slow_rows and skipped(fast_reports) == skipped(slow_reports)
    for key in fast_rows:
        if fast_rows[key] != slow_rows[key]:
            print(f"DIFFERENT {key}: {len(set(fast_rows[key]) ^ set(slow_rows[key]))} rows differ")
    print("stores equal" if equal else "stores NOT equal")
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
