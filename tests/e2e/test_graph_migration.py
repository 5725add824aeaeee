"""A mailbox moved from EWS to Microsoft Graph keeps its store: links, people, meetings and follow-up tasks.

A company is synced over EWS (EwsMailboxSync against FakeExchange), then the same mailboxes over Graph
(GraphMailboxSync against a FakeGraph serving the same FakeExchange, tokens from FakeTokenService). Every
test runs both ways:

- ``refused`` (what Exchange Online does: ``translateExchangeIds`` is for delegated permissions only and
  relsync holds an app's token): the first Graph read of each folder links the items under their Graph
  ids, and the old links are folded into the new ones entity by entity;
- ``translated`` (the fake told to accept the app's token: a future Graph that allows it, or a delegated
  token): the stored ids are translated first and the read upserts onto them.

Either way nothing is doubled or lost, no mailbox needs attention, and the link rows are the very same rows.
The fake's Graph id of an item is its EWS id in the URL-safe alphabet, which its ids never need, so the
ids would agree and the refused path would prove nothing; in Exchange Online immutable Graph ids never
equal EWS ids. So for the refused path the EWS-era store is given ids Graph never serves
(:func:`_as_real_ews_ids`), as production's EWS ids are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connector.backends import Backends
from connector.engine import MailboxReport, SyncSettings
from connector.ews.reader import EwsMailboxSync
from connector.fake.company.generator import build_company
from connector.fake.company.names import OWN_DOMAIN
from connector.fake.graph.render import rest_id
from connector.fake.mailbox import ItemRef, encode_item_id
from connector.fake.model import Mailbox
from connector.graph.ews_ids import translate_ids
from connector.graph.reader import GraphMailboxSync
from mapping.changes import SyncRules
from mapping.store.id_rewrite import PARKED, parked
from mapping.store.reports import export_rows
from mapping.store.store import Store
from scheduler.cli import write_fake_config
from scheduler.config import load_config
from scheduler.followups_job import run_followups
from scheduler.jobs import classify_and_write_back
from tests.e2e.syncenv import ALICE, ALL_FOLDERS, BOB, DANA, ERIN, EnvFactory, HandCompany, SyncEnv, contact, message
from tests.e2e.test_followups import RULES as FOLLOWUP_RULES
from tests.e2e.test_followups import START
from tests.e2e.test_followups import company as followups_company
from tests.e2e.test_graph_writeback import GraphWorld, start_world, stop_world

WIDE: dict[str, Any] = {"calendar_days_back": 2000, "calendar_days_ahead": 400, "retry_base_seconds": 0.01}
WAYS = ("refused", "translated")
#: Prefix making a stored id one Graph never serves (see the module docstring).
EWS_FORM = "AAMkEWS."


def _as_real_ews_ids(env: SyncEnv, *addresses: str) -> None:
    """Give the mailboxes' stored links ids Graph never serves, as real EWS ids differ from immutable Graph ids."""
    with env.store.engine.begin() as conn:
        for address in addresses:
            conn.execute(
                sa.text(
                    "UPDATE item_links SET item_id = :p || item_id WHERE mailbox_id = "
                    "(SELECT id FROM staff_mailboxes WHERE address = :a)"
                ),
                {"p": EWS_FORM, "a": address},
            )


def _switch_way(world: GraphWorld, way: str, *addresses: str) -> None:
    """Set how the switch goes: Graph refusing the translation (its default) or allowing it."""
    if way == "translated":
        world.graph.translate_ids_app_only = True  # a Graph that accepts the app's token (or a delegated one)
    else:
        _as_real_ews_ids(world.env, *addresses)


def _day(value: Any) -> date:
    """A due date read back with plain SQL (a datetime, or its text on SQLite) -> its day."""
    return (value if isinstance(value, datetime) else datetime.fromisoformat(str(value))).date()


def _viewers(env: SyncEnv) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in env.rows("SELECT interaction_id, mailbox_id FROM interaction_viewers"))


def _doubled(env: SyncEnv) -> int:
    """Entities with more than one live link in one mailbox folder."""
    return int(
        env.scalar(
            "SELECT count(*) FROM (SELECT 1 FROM item_links WHERE deleted_at IS NULL "
            "GROUP BY mailbox_id, folder, entity_type, entity_id HAVING count(*) > 1) d"
        )
    )


def _exports(store: Store) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    with store.session() as session:
        for what in ("people", "organizations", "interactions"):
            rows = [
                {k: v for k, v in row.items() if k not in ("id", "created_at")} for row in export_rows(session, what)
            ]
            result[what] = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
    return result


@dataclass
class Moved:
    world: GraphWorld

    @property
    def env(self) -> SyncEnv:
        return self.world.env

    def links(self, folder: str) -> dict[int, tuple[str, Any]]:
        """Live link row id -> (item id, first seen) of a folder, over every mailbox."""
        rows = self.env.rows(
            "SELECT id, item_id, first_seen_at FROM item_links WHERE folder = :f AND deleted_at IS NULL", f=folder
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def graph_sync(self, address: str, **settings: Any) -> MailboxReport:
        engine = GraphMailboxSync(self.world.client, self.env.store, self.env.rules, SyncSettings(**settings))
        return engine.sync(address, ALL_FOLDERS)

    def flagged(self) -> list[str]:
        return [r[0] for r in self.env.rows("SELECT address FROM staff_mailboxes WHERE needs_attention")]

    def ops(self, name: str) -> int:
        return int(self.world.graph.stats.to_json()["operations"].get(name, 0))


@pytest.fixture
def moved(make_env: EnvFactory) -> Iterator[Moved]:
    env = make_env(build_company(7, 2, "tiny"), rules=SyncRules(internal_domains=frozenset({OWN_DOMAIN})))
    world = start_world(env)
    yield Moved(world)
    stop_world(world)


@pytest.mark.parametrize("way", WAYS)
def test_a_company_moved_from_ews_to_graph_keeps_every_link_and_nothing_needs_attention(moved: Moved, way: str) -> None:
    env = moved.env
    ews = EwsMailboxSync(env.connection, env.store, env.rules, SyncSettings(**WIDE))
    for address in env.ex.mailboxes:
        assert ews.sync(address, ALL_FOLDERS).ok
    before, viewers, doubled = _exports(env.store), _viewers(env), _doubled(env)
    _switch_way(moved.world, way, *env.ex.mailboxes)
    links = {f: moved.links(f) for f in ALL_FOLDERS}
    series = {
        r[0]
        for r in env.rows(
            "SELECT l.id FROM item_links l JOIN interactions i ON i.id = l.entity_id "
            "WHERE l.folder = 'calendar' AND l.deleted_at IS NULL AND i.occurrence_start IS NOT NULL"
        )
    }
    assert len(links["contacts"]) > 20 and series and len(series) < len(links["calendar"])

    for address in env.ex.mailboxes:
        report = moved.graph_sync(address, **WIDE)
        assert report.ok, report.error
        assert all(f.full_sync for f in report.folders)
        assert {f.folder: f.unlinked for f in report.folders if f.folder != "calendar"} == {
            "contacts": 0,
            "inbox": 0,
            "sentitems": 0,
        }
    assert moved.flagged() == []
    assert _exports(env.store) == before  # same people, organisations, meetings and e-mails
    assert _viewers(env) == viewers  # every mailbox still sees what it saw
    assert _doubled(env) == doubled  # one live link per item, as before
    assert moved.ops("translateExchangeIds") == 4 * len(env.ex.mailboxes)  # one call per folder: < 1000 ids
    for folder in ("contacts", "inbox", "sentitems"):
        after = moved.links(folder)
        assert after.keys() == links[folder].keys(), folder  # the very same rows: none unlinked, none new
        assert all(first == links[folder][row][1] for row, (_, first) in after.items()), folder
        assert not any(item_id.startswith(EWS_FORM) for item_id, _ in after.values()), folder  # Graph's ids now
    after = moved.links("calendar")
    # Singles keep their rows; a series' link became its first occurrence's instance link or gave way to the
    # instances' links (none doubled: ids are unique).
    assert {k for k in links["calendar"] if k not in series} <= after.keys()
    gone = env.scalar("SELECT count(*) FROM item_links WHERE folder = 'calendar' AND deleted_at IS NOT NULL")
    assert gone == len(series - after.keys())
    assert not any(item_id.startswith(EWS_FORM) for item_id, _ in after.values())

    # Later changes arrive incrementally, over Graph.
    address = next(iter(env.ex.mailboxes))
    mb = env.mb(address)
    mb.create("inbox", message(9001, "After the move", DANA, [Mailbox(address, address, mailbox_type="Mailbox")]))
    again = moved.graph_sync(address, **WIDE)
    assert again.ok and not any(f.full_sync for f in again.folders)
    assert {f.folder: f.result.created for f in again.folders}["inbox"] == 1
    assert env.scalar("SELECT count(*) FROM interactions WHERE subject = 'After the move'") == 1
    assert moved.flagged() == []


@pytest.mark.parametrize("way", WAYS)
def test_with_the_default_window_calendar_items_before_it_stay_linked(moved: Moved, way: str) -> None:
    env = moved.env
    ews = EwsMailboxSync(env.connection, env.store, env.rules, SyncSettings(**WIDE))
    for address in env.ex.mailboxes:
        assert ews.sync(address, ALL_FOLDERS).ok
    before, viewers = _exports(env.store), _viewers(env)
    _switch_way(moved.world, way, *env.ex.mailboxes)
    singles = env.scalar(
        "SELECT count(*) FROM item_links l JOIN interactions i ON i.id = l.entity_id "
        "WHERE l.folder = 'calendar' AND i.occurrence_start IS NULL"
    )
    for address in env.ex.mailboxes:
        report = moved.graph_sync(address, retry_base_seconds=0.01)  # 365 days back: old meetings lie outside
        assert report.ok, report.error
    assert moved.flagged() == []
    assert _exports(env.store) == before  # old singles merely left the window: kept, as over EWS
    assert _viewers(env) == viewers
    assert (
        env.scalar(
            "SELECT count(*) FROM item_links l JOIN interactions i ON i.id = l.entity_id "
            "WHERE l.folder = 'calendar' AND i.occurrence_start IS NULL AND l.deleted_at IS NULL"
        )
        == singles
    )


def test_an_item_deleted_before_the_switch_is_unlinked_and_only_it_counts_towards_the_rail(moved: Moved) -> None:
    env = moved.env
    ews = EwsMailboxSync(env.connection, env.store, env.rules, SyncSettings(**WIDE))
    address = next(iter(env.ex.mailboxes))
    assert ews.sync(address, ALL_FOLDERS).ok
    _as_real_ews_ids(env, address)  # Graph refuses the translation (its default for an app's token)
    mb = env.mb(address)
    (gone_id, _), *_ = mb.items("contacts")
    mb.delete(gone_id)
    contacts = len(moved.links("contacts"))

    report = moved.graph_sync(address, **WIDE)

    assert report.ok, report.error
    assert {f.folder: f.unlinked for f in report.folders}["contacts"] == 1
    assert len(moved.links("contacts")) == contacts - 1
    assert (
        env.scalar(
            "SELECT count(*) FROM item_links WHERE folder = 'contacts' AND deleted_at IS NOT NULL AND item_id = :i",
            i=parked(EWS_FORM + gone_id),
        )
        == 1
    )
    assert moved.flagged() == []


def test_a_first_graph_read_interrupted_and_resumed_in_another_run_still_replaces_the_old_links(
    moved: Moved,
) -> None:
    env = moved.env
    ews = EwsMailboxSync(env.connection, env.store, env.rules, SyncSettings(**WIDE))
    address = next(iter(env.ex.mailboxes))
    assert ews.sync(address, ALL_FOLDERS).ok
    before, viewers, doubled = _exports(env.store), _viewers(env), _doubled(env)
    contacts = moved.links("contacts")
    _as_real_ews_ids(env, address)  # Graph refuses the translation
    moved.world.graph.max_page_size = 5  # several pages a folder

    def _parked() -> int:
        return int(
            env.scalar("SELECT count(*) FROM item_links WHERE deleted_at IS NULL AND item_id LIKE :p", p=PARKED + "%")
        )

    def first_contacts_page_applied() -> bool:
        return bool(
            env.scalar(
                "SELECT count(*) FROM item_links WHERE folder = 'contacts' AND deleted_at IS NULL "
                "AND item_id NOT LIKE :p AND item_id NOT LIKE :e",
                p=PARKED + "%",
                e=EWS_FORM + "%",
            )
        )

    stopped = GraphMailboxSync(
        moved.world.client, env.store, env.rules, SyncSettings(**WIDE), should_stop=first_contacts_page_applied
    ).sync(address, ALL_FOLDERS)
    assert stopped.interrupted and _parked() == len(contacts)  # the old links wait, parked

    report = moved.graph_sync(address, **WIDE)  # the next run resumes the read, then the other folders

    assert report.ok, report.error
    assert not {f.folder: f.full_sync for f in report.folders}["contacts"]  # resumed, not started again
    assert _parked() == 0 and moved.flagged() == []
    assert moved.links("contacts").keys() == contacts.keys()
    assert _exports(env.store) == before and _viewers(env) == viewers and _doubled(env) == doubled


def test_a_translation_refused_by_an_expired_token_falls_back_to_replacing_the_links(moved: Moved) -> None:
    env = moved.env
    ews = EwsMailboxSync(env.connection, env.store, env.rules, SyncSettings(**WIDE))
    address = next(iter(env.ex.mailboxes))
    assert ews.sync(address, ALL_FOLDERS).ok
    before, viewers = _exports(env.store), _viewers(env)
    contacts = moved.links("contacts")
    # Graph would translate for this token (the flag), but refuses it there, even once renewed.
    moved.world.graph.translate_ids_app_only = True
    moved.world.graph.faults.add("token_expired", operation="translateExchangeIds", times=None)
    _as_real_ews_ids(env, address)
    report = moved.graph_sync(address, **WIDE)
    assert report.ok, report.error  # refused credentials for one call are not the mailbox's error
    assert all(f.full_sync for f in report.folders) and moved.flagged() == []
    assert moved.ops("translateExchangeIds") >= 4
    assert _exports(env.store) == before and _viewers(env) == viewers
    assert moved.links("contacts").keys() == contacts.keys()
    assert env.scalar("SELECT backend FROM staff_mailboxes WHERE address = :a", a=address) == "graph"
    calls = moved.ops("translateExchangeIds")
    assert moved.graph_sync(address, **WIDE).ok and moved.ops("translateExchangeIds") == calls  # moved: done


@pytest.fixture
def followups_env(make_env: EnvFactory, tmp_path: Path) -> Iterator[tuple[GraphWorld, Any]]:
    env = make_env(followups_company())
    world = start_world(env)
    path = tmp_path / "relsync.toml"
    write_fake_config(path, env.ex.url, env.ex.username, env.ex.password, [ALICE.email, BOB.email], "contoso.example")
    text = path.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{env.store.url}"')
    rules = FOLLOWUP_RULES.format(extra="").replace("write_back = false", "write_back = true")
    path.write_text(text + rules, encoding="utf-8")
    yield world, load_config(path, environ={})
    stop_world(world)


@pytest.mark.parametrize("way", WAYS)
def test_a_follow_up_task_made_over_ews_is_completed_over_graph_without_a_duplicate(
    followups_env: tuple[GraphWorld, Any], way: str
) -> None:
    world, loaded = followups_env
    env = world.env
    for address in (ALICE.email, BOB.email):
        assert env.sync(address).ok
    ews = Backends(ews=env.connection)
    wrote = classify_and_write_back(ews, env.store, loaded, now=START).write_back  # categories, over EWS
    assert wrote.written > 0 and wrote.failed == 0
    first = run_followups(loaded, now=START, connection=ews, store=env.store)
    assert first.owners[BOB.email].created == 1
    ((bob_task_id, bob_task),) = ((i, s.fields) for i, s in env.mb(BOB.email).items("tasks"))
    alice_tasks = len(list(env.mb(ALICE.email).items("tasks")))
    task_links = env.scalar("SELECT count(*) FROM item_links WHERE folder = 'tasks' AND deleted_at IS NULL")

    _switch_way(world, way, ALICE.email, BOB.email)
    world.sync_over_graph(ALICE.email, BOB.email)  # the switch: the first sync over Graph moves the ids
    assert world.ops("translateExchangeIds") > 0
    assert env.scalar("SELECT count(DISTINCT backend) FROM staff_mailboxes") == 1
    assert env.scalar("SELECT backend FROM staff_mailboxes") == "graph"
    # Every task link now holds the id To Do serves (found again by title and due day when refused).
    assert (
        env.scalar(
            "SELECT count(*) FROM item_links WHERE folder = 'tasks' AND deleted_at IS NULL AND item_id NOT LIKE :p",
            p=EWS_FORM + "%",
        )
        == task_links
    )
    assert env.scalar(
        "SELECT item_id FROM item_links l JOIN staff_mailboxes m ON m.id = l.mailbox_id "
        "WHERE l.folder = 'tasks' AND m.address = :a",
        a=BOB.email,
    ) == rest_id(bob_task_id)

    when = datetime.combine(bob_task["DueDate"].date(), time(15), tzinfo=UTC)
    env.mb(BOB.email).update(bob_task_id, Status="Completed", IsComplete=True, PercentComplete=100.0, CompleteDate=when)
    graph = Backends(graph=world.client, backend_of=lambda _address: "graph")
    again = classify_and_write_back(graph, env.store, loaded, now=START).write_back
    assert again.planned > 0 and (again.written, again.failed) == (0, 0)  # found right under the moved ids
    after = run_followups(loaded, now=when + timedelta(hours=1), connection=graph, store=env.store)
    assert all(o.error is None and o.failed == 0 for o in after.owners.values())
    assert all(o.dismissed == 0 for o in after.owners.values())  # no task taken as deleted
    assert after.owners[BOB.email].staff_completed == 1  # read over Graph under its new id
    assert after.owners[BOB.email].created == 1  # the next one, a cadence later: one, not two
    assert len(list(env.mb(BOB.email).items("tasks"))) == 2
    assert len(list(env.mb(ALICE.email).items("tasks"))) == alice_tasks  # Alice's stand, none made again
    assert world.ops("todo") > 0


def test_a_task_that_cannot_be_told_apart_is_dismissed_and_never_doubled(
    followups_env: tuple[GraphWorld, Any],
) -> None:
    world, loaded = followups_env
    env = world.env
    for address in (ALICE.email, BOB.email):
        assert env.sync(address).ok
    ews = Backends(ews=env.connection)
    classify_and_write_back(ews, env.store, loaded, now=START)
    assert run_followups(loaded, now=START, connection=ews, store=env.store).owners[BOB.email].created == 1
    ((bob_task_id, _),) = env.mb(BOB.email).items("tasks")
    # Bob copied the task in Outlook: two tasks of that title and due day, and To Do cannot say which is ours.
    env.mb(BOB.email).create("tasks", env.mb(BOB.email).get(bob_task_id))
    _switch_way(world, "refused", ALICE.email, BOB.email)
    world.sync_over_graph(ALICE.email, BOB.email)
    status = env.rows(
        "SELECT f.status, f.note FROM follow_ups f JOIN staff_mailboxes m ON m.id = f.owner_mailbox_id "
        "WHERE m.address = :a",
        a=BOB.email,
    )
    assert [(s, "not found again" in n) for s, n in status] == [("dismissed", True)]
    assert (
        env.scalar(
            "SELECT count(*) FROM item_links l JOIN staff_mailboxes m ON m.id = l.mailbox_id "
            "WHERE l.folder = 'tasks' AND m.address = :a AND l.deleted_at IS NULL",
            a=BOB.email,
        )
        == 0
    )

    graph = Backends(graph=world.client, backend_of=lambda _address: "graph")
    after = run_followups(loaded, now=START + timedelta(hours=1), connection=graph, store=env.store)
    assert all(o.error is None and o.failed == 0 for o in after.owners.values())
    # That period is dismissed: the next follow-up comes a cadence after it, never a second one for it.
    assert after.owners[BOB.email].created == 1
    dues = [
        r[0]
        for r in env.rows(
            "SELECT f.due_at FROM follow_ups f JOIN staff_mailboxes m "
            "ON m.id = f.owner_mailbox_id WHERE m.address = :a ORDER BY f.id",
            a=BOB.email,
        )
    ]
    assert len(dues) == 2 and _day(dues[1]) > _day(dues[0])
    tasks = {i: s.fields for i, s in env.mb(BOB.email).items("tasks")}
    assert bob_task_id in tasks  # left as Bob left it
    assert sorted(t["DueDate"].date() for t in tasks.values()) == [_day(dues[0]), _day(dues[0]), _day(dues[1])]


def test_ids_are_translated_a_thousand_per_call_and_unknown_ones_left_out(make_env: EnvFactory) -> None:
    env = make_env(
        HandCompany(
            items={
                (ALICE.email, "contacts"): [contact(1, "Dana Dunn", DANA.email), contact(2, "Erin Estrada", ERIN.email)]
            }
        )
    )
    world = start_world(env)
    world.graph.translate_ids_app_only = True  # the translation itself: as Graph does it for a delegated token
    try:
        mb = env.mb(ALICE.email)
        real = [i for i, _ in mb.items("contacts")]
        unknown = [encode_item_id(ItemRef(mb.number, "contacts", 10_000 + n)) for n in range(2400)]
        assert translate_ids(world.client, ALICE.email, [*unknown[:1500], *real, *unknown[1500:]]) == {
            i: rest_id(i) for i in real
        }
        assert world.ops("translateExchangeIds") == 3
    finally:
        stop_world(world)
