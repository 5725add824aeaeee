"""The fast EWS page reader (connector.ews.fast) against exchangelib's parse, end to end.

The generated demo company (``relsync demo``'s: seed 7, five mailboxes, ``--scale small``) is synced
twice from the same schema-validating fake: once with ``fast_reader=True`` (the default) and once with
``fast_reader=False`` (exchangelib parses every item), each into a store of its own. The stores must be
equal (people, organisations, interactions with their participants, meetings with their recurring
series, exceptions and all-day events, links and skipped items), and the fast reader must have read
every item itself (contacts, e-mails and calendar items, the exception items of recurring series).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from connector.engine import MailboxReport, SyncSettings
from connector.ews.reader import EwsMailboxSync, EwsReader
from connector.fake.company.generator import build_company
from mapping.changes import SyncRules
from mapping.store.migrate import upgrade
from mapping.store.reports import export_rows
from mapping.store.store import Store
from scheduler.metrics import Metrics
from tests.e2e.syncenv import ALL_FOLDERS, EnvFactory, connection_for


def _exports(store: Store) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    with store.session() as session:
        for what in ("people", "organizations", "interactions"):
            result[what] = sorted(
                json.dumps({k: v for k, v in row.items() if k not in ("id", "created_at")}, sort_keys=True, default=str)
                for row in export_rows(session, what)
            )
    return result


def _sync_all(engine: EwsMailboxSync, addresses: list[str]) -> list[MailboxReport]:
    reports = [engine.sync(address, ALL_FOLDERS) for address in addresses]
    assert all(r.ok for r in reports), [r.error for r in reports]
    return reports


def _skipped(reports: list[MailboxReport]) -> list[Any]:
    return [(r.mailbox, f.folder, sorted(f.result.skipped.items())) for r in reports for f in r.folders]


def test_the_demo_company_synced_with_the_fast_reader_gives_the_store_exchangelib_gives(
    make_env: EnvFactory, tmp_path: Any
) -> None:
    company = build_company(7, 5, "small")
    env = make_env(company, rules=SyncRules(internal_domains=frozenset({company.domain})))
    slow_url = f"sqlite:///{tmp_path / 'exchangelib.db'}"
    upgrade(slow_url)
    slow_store = Store(slow_url)
    slow_connection = connection_for(env.ex)
    addresses = list(env.ex.mailboxes)
    try:
        fast = env.engine(fast_reader=True)
        slow = EwsMailboxSync(
            slow_connection,
            slow_store,
            env.rules,
            SyncSettings(retry_base_seconds=0.01, fast_reader=False),
            sleep=env.waits.append,
        )
        fast_reports = _sync_all(fast, addresses)
        slow_reports = _sync_all(slow, addresses)
        assert isinstance(fast.reader, EwsReader) and isinstance(slow.reader, EwsReader)
        assert fast.reader.fast_items > 1000  # every item was read by the fast reader itself
        assert slow.reader.fast_items == 0 and slow.reader.fast_fallbacks == 0
        assert _skipped(fast_reports) == _skipped(slow_reports)
        # What the fast reader handed to exchangelib is counted, per mailbox and folder: here nothing
        # (the demo company has no item it cannot read; contacts with user-defined fields would be).
        handed = {(r.mailbox, f.folder): f.parsed_by_exchangelib for r in fast_reports for f in r.folders}
        assert sum(handed.values()) == fast.reader.fast_fallbacks == 0
        metrics = Metrics()
        for report in fast_reports:
            metrics.record_mailbox(report)
        mailbox = fast_reports[0].mailbox
        handed_to_exchangelib = metrics.registry.get_sample_value(
            "relsync_items_parsed_by_exchangelib_total", {"mailbox": mailbox, "folder": "calendar"}
        )
        assert (handed_to_exchangelib or 0) == 0
        assert [(f.folder, f.result.created) for r in fast_reports for f in r.folders] == [
            (f.folder, f.result.created) for r in slow_reports for f in r.folders
        ]
        fast_rows, slow_rows = _exports(env.store), _exports(slow_store)
        assert len(fast_rows["interactions"]) > 50
        assert fast_rows == slow_rows
        links = (
            "SELECT m.address, l.folder, l.item_id, l.change_key FROM item_links l "
            "JOIN staff_mailboxes m ON m.id = l.mailbox_id WHERE l.deleted_at IS NULL ORDER BY 1, 2, 3"
        )
        with slow_store.engine.connect() as conn:
            slow_links = [tuple(r) for r in conn.execute(sa.text(links))]
        assert [tuple(r) for r in env.rows(links)] == slow_links
    finally:
        slow_connection.close()
        slow_store.dispose()


def test_items_the_fast_reader_hands_to_exchangelib_are_synced_and_counted_per_folder(make_env: EnvFactory) -> None:
    """Contacts with user-defined fields configured (extended properties) are exchangelib's to parse: they
    are synced all the same, and counted in the folder's report and in the metrics."""
    company = build_company(7, 1, "tiny")
    env = make_env(company, rules=SyncRules(internal_domains=frozenset({company.domain})))
    engine = env.engine(fast_reader=True, user_fields=("Source",))
    (report,) = _sync_all(engine, list(env.ex.mailboxes))
    handed = {f.folder: f.parsed_by_exchangelib for f in report.folders}
    assert handed["contacts"] > 0 and handed["calendar"] == handed["inbox"] == 0
    assert isinstance(engine.reader, EwsReader) and engine.reader.fast_fallbacks == sum(handed.values())
    assert next(f for f in report.folders if f.folder == "contacts").result.created > 0
    metrics = Metrics()
    metrics.record_mailbox(report)
    assert (
        metrics.registry.get_sample_value(
            "relsync_items_parsed_by_exchangelib_total", {"mailbox": report.mailbox, "folder": "contacts"}
        )
        == handed["contacts"]
    )
