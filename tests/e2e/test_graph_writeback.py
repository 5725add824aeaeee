"""Writing into mailboxes over Microsoft Graph: categories, the master category list and follow-up tasks.

Everything runs for real over loopback: msal takes tokens from :class:`FakeTokenService`, the
:class:`GraphClient` sends them over HTTPS to :class:`FakeGraph`, which serves the very mailboxes of a
:class:`FakeExchange`. What relsync wrote is checked on the EWS side of the same mailboxes (the store
behind Outlook), and "staff" change things there between our calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from connector.auth import OAuthSettings
from connector.backends import Backends
from connector.engine import SyncSettings
from connector.errors import MailboxUnavailable
from connector.fake.graph.render import ews_id
from connector.fake.graph.server import FakeGraph
from connector.fake.tokens import FakeTokenService
from connector.fake.userconfig import CATEGORY_LIST, CATEGORY_LIST_FOLDER
from connector.graph.client import GraphClient
from connector.graph.reader import GraphMailboxSync
from connector.graph.settings import GraphSettings
from connector.graph.writer import GraphWriter
from connector.writer import NewTask, PlannedCategories, TaskChange
from mapping.changes import FolderName
from mapping.store.models import MatchCandidate, MatchKind, MatchStatus
from mapping.store.writeback_plan import category_plan
from scheduler.cli import write_fake_config
from scheduler.config import load_config
from scheduler.followups_job import run_followups
from scheduler.jobs import classify_and_write_back, mark_possible_duplicates, write_back_categories
from tests.e2e.syncenv import ALICE, BOB, DANA, ERIN, GINA, EnvFactory, HandCompany, SyncEnv, contact
from tests.e2e.test_followups import RULES as FOLLOWUP_RULES
from tests.e2e.test_followups import START
from tests.e2e.test_followups import company as followups_company

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "fake-secret-Zq8~x"
MANAGED: list[tuple[str, int]] = [
    ("Customer", 7),
    ("Vendor", 5),
    ("Value: Superior", 4),
    ("Value: Average", 3),
    ("Potential: High", 0),
]
NAMES = [name for name, _ in MANAGED]
WANTED = {"Dana Dunn": ("Customer", "Value: Superior", "Potential: High"), "Erin Estrada": ("Vendor", "Value: Average")}
ALL_FOLDERS: list[FolderName] = ["contacts", "inbox", "sentitems", "calendar"]


def company() -> HandCompany:
    both = [
        contact(1, "Dana Dunn", DANA.email, Categories=("VIP", "Value: Average")),
        contact(2, "Erin Estrada", ERIN.email),
    ]
    return HandCompany(
        items={
            (ALICE.email, "contacts"): [*both, contact(3, "Gina Gmail", GINA.email, Categories=("Golf",))],
            (BOB.email, "contacts"): [
                contact(4, "Dana Dunn", DANA.email, Categories=("Lunch club",)),
                contact(5, "Erin Estrada", ERIN.email),
            ],
        }
    )


@dataclass
class GraphWorld:
    env: SyncEnv
    idp: FakeTokenService
    graph: FakeGraph
    client: GraphClient
    waits: list[float] = field(default_factory=list)

    def writer(self, address: str) -> GraphWriter:
        return GraphWriter(self.client, address)

    def contacts(self, address: str) -> dict[str, dict[str, Any]]:
        """Display name -> the contact as Graph shows it (every page of a fresh contacts delta)."""
        out: dict[str, dict[str, Any]] = {}
        answer = self.client.get(f"/users/{address}/contacts/delta")
        while True:
            out.update({c["displayName"]: c for c in answer["value"]})
            if "@odata.nextLink" not in answer:
                return out
            answer = self.client.get_url(answer["@odata.nextLink"])

    def plan(self, address: str) -> list[PlannedCategories]:
        return [
            PlannedCategories(n, address, c["id"], c["changeKey"], tuple(c["categories"]), WANTED[name])
            for n, (name, c) in enumerate(sorted(self.contacts(address).items()))
            if name in WANTED
        ]

    def outlook(self, address: str, graph_id: str) -> Any:
        """The item as Outlook (the EWS side) holds it."""
        return self.env.mb(address).get(ews_id(graph_id))

    def categories_by_name(self, address: str) -> dict[str, tuple[str, ...]]:
        return {
            str(s.fields["DisplayName"]): tuple(s.fields.get("Categories") or ())
            for _, s in self.env.mb(address).items("contacts")
        }

    def ops(self, name: str) -> int:
        return int(self.graph.stats.to_json()["operations"].get(name, 0))

    def master_list(self, address: str) -> list[tuple[str, str]]:
        config = self.env.ex.user_configs.get(self.env.mb(address).number, CATEGORY_LIST_FOLDER, CATEGORY_LIST)
        assert config is not None and config.xml_data is not None
        return [(str(el.get("name")), str(el.get("color"))) for el in etree.fromstring(config.xml_data)]

    def sync_over_graph(self, *addresses: str) -> None:
        engine = GraphMailboxSync(self.client, self.env.store, self.env.rules, SyncSettings(retry_base_seconds=0.01))
        for address in addresses:
            report = engine.sync(address, ALL_FOLDERS)
            assert report.ok, report.error


def start_world(env: SyncEnv) -> GraphWorld:
    idp = FakeTokenService(exchange=env.ex, clients={CLIENT_ID: SECRET}).start()
    graph = FakeGraph(env.ex).start()
    oauth = OAuthSettings(
        tenant_id=idp.tenant,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        authority_host=idp.authority_host,
        ca_bundle=idp.ca_file,
    )
    waits: list[float] = []
    client = GraphClient(
        GraphSettings(base_url=graph.base_url, oauth=oauth, ca_bundle=graph.ca_file, retry_base_seconds=0.01),
        sleep=waits.append,
    )
    return GraphWorld(env, idp, graph, client, waits)


def stop_world(world: GraphWorld) -> None:
    world.client.close()
    world.graph.stop()
    world.idp.stop()
    assert world.graph.stats.to_json()["missing_immutable_id_total"] == 0


@pytest.fixture
def world(make_env: EnvFactory) -> Iterator[GraphWorld]:
    w = start_world(make_env(company()))
    yield w
    stop_world(w)


# ------------------------------------------------------------------------------------ categories
def test_managed_categories_land_on_the_contacts_and_the_users_own_stay(world: GraphWorld) -> None:
    results = world.writer(ALICE.email).write_categories(world.plan(ALICE.email), NAMES, 100)
    assert [r.error for r in results] == [None, None] and all(r.changed for r in results)
    assert world.categories_by_name(ALICE.email) == {
        "Dana Dunn": ("VIP", "Customer", "Value: Superior", "Potential: High"),  # old managed one replaced
        "Erin Estrada": ("Vendor", "Value: Average"),
        "Gina Gmail": ("Golf",),  # not planned: not touched
    }
    for r in results:  # what is recorded is what Outlook holds now
        assert r.change_key == world.env.mb(ALICE.email).current_change_key(ews_id(r.item_id))
        assert r.categories == tuple(world.outlook(ALICE.email, r.item_id).fields["Categories"])
    assert world.ops("contacts.patch") == 2 and world.ops("batch") == 1


def test_contacts_already_right_are_not_written(world: GraphWorld) -> None:
    first = world.writer(BOB.email).write_categories(world.plan(BOB.email), NAMES, 100)
    patches = world.ops("contacts.patch")
    plan = [
        PlannedCategories(r.key, r.mailbox, r.item_id, r.change_key, r.categories, p.wanted)
        for r, p in zip(first, world.plan(BOB.email), strict=True)
    ]
    again = world.writer(BOB.email).write_categories(plan, NAMES, 100)
    assert [r.changed for r in again] == [False, False] and all(r.ok for r in again)
    assert world.ops("contacts.patch") == patches


def test_a_contact_the_user_edited_meanwhile_is_read_again_and_merged(world: GraphWorld) -> None:
    plan = world.plan(ALICE.email)  # Dana's change key as last seen ...
    dana = next(p for p in plan if "Customer" in p.wanted)
    world.env.mb(ALICE.email).update(ews_id(dana.item_id), Categories=("VIP", "Value: Average", "Board"))
    results = world.writer(ALICE.email).write_categories(plan, NAMES, 100)  # ... is stale now: 412
    assert all(r.ok and r.changed for r in results)
    assert world.categories_by_name(ALICE.email)["Dana Dunn"] == (
        "VIP",
        "Board",
        "Customer",
        "Value: Superior",
        "Potential: High",
    )
    assert world.categories_by_name(ALICE.email)["Erin Estrada"] == ("Vendor", "Value: Average")
    assert world.ops("contacts.patch") == 3 and world.ops("contacts.get") == 1  # one re-read, one re-write
    written = next(r for r in results if r.item_id == dana.item_id)
    assert written.change_key == world.env.mb(ALICE.email).current_change_key(ews_id(dana.item_id))


def test_an_injected_conflict_is_retried(world: GraphWorld) -> None:
    world.graph.faults.add("conflict", operation="contacts.patch", mailbox=BOB.email, times=1)
    results = world.writer(BOB.email).write_categories(world.plan(BOB.email), NAMES, 100)
    assert all(r.ok for r in results)
    assert world.categories_by_name(BOB.email)["Dana Dunn"] == (
        "Lunch club",
        "Customer",
        "Value: Superior",
        "Potential: High",
    )


def test_a_contact_that_keeps_changing_is_reported_not_raised(world: GraphWorld) -> None:
    world.graph.faults.add("conflict", operation="contacts.patch", mailbox=BOB.email, times=None)
    results = world.writer(BOB.email).write_categories(world.plan(BOB.email), NAMES, 100)
    assert [r.ok for r in results] == [False, False]
    assert all("kept changing" in str(r.error) for r in results)
    assert world.categories_by_name(BOB.email)["Erin Estrada"] == ()


def test_a_gone_contact_is_reported_per_item_and_the_others_written(world: GraphWorld) -> None:
    plan = world.plan(ALICE.email)
    world.env.mb(ALICE.email).delete(ews_id(plan[0].item_id))
    results = world.writer(ALICE.email).write_categories(plan, NAMES, 1)  # one contact per round
    assert results[0].error is not None and "ErrorItemNotFound" in results[0].error
    assert results[1].ok and results[1].changed


def test_one_category_is_added_and_removed_with_the_users_others_kept(world: GraphWorld) -> None:
    dana = world.contacts(ALICE.email)["Dana Dunn"]
    writer = world.writer(ALICE.email)
    added = writer.update_categories(dana["id"], add=["Possible duplicate"], remove=[])
    assert added.changed and added.categories == ("VIP", "Value: Average", "Possible duplicate")
    assert tuple(world.outlook(ALICE.email, dana["id"]).fields["Categories"]) == added.categories
    same = writer.update_categories(dana["id"], add=["possible duplicate"], remove=[])
    assert not same.changed and same.change_key == added.change_key
    removed = writer.update_categories(dana["id"], add=[], remove=["POSSIBLE DUPLICATE"])
    assert removed.changed and removed.categories == ("VIP", "Value: Average")
    assert world.ops("contacts.patch") == 2


def test_master_list_gets_the_managed_categories_with_colours_once(world: GraphWorld) -> None:
    before = world.master_list(ALICE.email)
    assert ("Red category", "0") in before
    writer = world.writer(ALICE.email)
    assert writer.ensure_master_categories([*MANAGED, ("red CATEGORY", 9)]) == NAMES
    after = world.master_list(ALICE.email)
    assert after[: len(before)] == before  # the user's own entries untouched (colour included)
    assert after[len(before) :] == [(n, str(c)) for n, c in MANAGED]
    listed = world.client.get(f"/users/{ALICE.email}/outlook/masterCategories")["value"]
    shown = {c["displayName"]: c["color"] for c in listed}
    assert shown["Customer"] == "preset7" and shown["Potential: High"] == "preset0"
    posts = world.ops("masterCategories")
    assert writer.ensure_master_categories(MANAGED) == []
    assert world.ops("masterCategories") == posts + 1  # the GET only
    assert writer.ensure_master_categories([("No colour", -1)]) == ["No colour"]
    assert world.master_list(ALICE.email)[-1] == ("No colour", "-1")


# ------------------------------------------------------------------------------------ follow-ups
def _new(our_id: str, subject: str, due: date, reminder: datetime | None = None) -> NewTask:
    return NewTask(our_id, subject, "Last contact: an e-mail.", due, reminder, "High", ("Follow-up",))


def _tasks(world: GraphWorld, address: str) -> dict[str, dict[str, Any]]:
    return {i: dict(s.fields) for i, s in world.env.mb(address).items("tasks")}


def test_follow_up_tasks_are_created_found_again_completed_and_deleted(world: GraphWorld) -> None:
    writer = world.writer(ALICE.email)
    due = date(2026, 12, 7)
    created = writer.create_tasks(
        [_new("fu-1", "Call Dana", due, datetime(2026, 12, 7, 8, tzinfo=UTC)), _new("fu-2", "Call Erin", due)]
    )
    assert all(not isinstance(c, Exception) for c in created)
    one, two = created
    assert not isinstance(one, Exception) and not isinstance(two, Exception)
    assert one.change_key is not None and one.change_key.startswith('W/"')
    outlook = _tasks(world, ALICE.email)  # the default To Do list is the Tasks folder
    dana = outlook[ews_id(one.item_id)]
    assert dana["Subject"] == "Call Dana" and dana["Importance"] == "High" and dana["Categories"] == ("Follow-up",)
    assert dana["DueDate"].date() == due and dana["ReminderIsSet"] is True
    assert dana["ReminderDueBy"] == datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert outlook[ews_id(two.item_id)]["ReminderIsSet"] is False

    # A run that died after creating them finds them again by our id (a fresh writer: no cache).
    again = world.writer(ALICE.email).find_tasks(["fu-2", "fu-1", "fu-unknown"])
    assert {k: v.item_id for k, v in again.items()} == {"fu-1": one.item_id, "fu-2": two.item_id}
    assert world.writer(BOB.email).find_tasks(["fu-1"]) == {}

    states = writer.read_task_states([one.item_id, two.item_id])
    assert [s.state for s in states] == ["open", "open"]

    later = date(2026, 12, 14)
    updated = writer.update_tasks(
        [
            TaskChange(one.item_id, one.change_key, subject="Call Dana again", due=later, importance="Normal"),
            TaskChange(two.item_id, two.change_key, complete_note="Done: met at the fair."),
        ]
    )
    assert all(isinstance(u, str) for u in updated)
    outlook = _tasks(world, ALICE.email)
    moved, done = outlook[ews_id(one.item_id)], outlook[ews_id(two.item_id)]
    assert moved["Subject"] == "Call Dana again" and moved["DueDate"].date() == later
    assert moved["Importance"] == "Normal"
    assert done["Status"] == "Completed"
    assert done["Body"] == "Last contact: an e-mail.\n\nDone: met at the fair."  # the note added below
    assert [s.state for s in writer.read_task_states([two.item_id])] == ["completed"]

    assert writer.delete_tasks([one.item_id, two.item_id]) == [None, None]
    assert _tasks(world, ALICE.email) == {}
    assert [s.state for s in writer.read_task_states([one.item_id, two.item_id])] == ["gone", "gone"]
    assert writer.delete_tasks([one.item_id]) == [None]  # already gone: fine
    gone = writer.update_tasks(
        [TaskChange(one.item_id, None, complete_note="Done."), TaskChange(two.item_id, None, subject="Renamed")]
    )
    assert gone == [None, None]


def test_a_task_staff_completed_reads_back_completed_with_its_day(world: GraphWorld) -> None:
    writer = world.writer(BOB.email)
    created = writer.create_tasks(
        [_new("fu-9", "Call Erin", date(2026, 12, 1)), _new("fu-10", "Call Gina", date(2026, 12, 2))]
    )
    ids = [c.item_id for c in created if not isinstance(c, Exception)]
    when = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    world.env.mb(BOB.email).update(
        ews_id(ids[0]), Status="Completed", IsComplete=True, PercentComplete=100.0, CompleteDate=when
    )
    world.env.mb(BOB.email).delete(ews_id(ids[1]))
    first, second = writer.read_task_states(ids)
    assert first.state == "completed" and first.completed_at is not None
    assert first.completed_at.date() == when.date()
    assert second.state == "gone"


def test_many_tasks_go_out_twenty_to_a_batch(world: GraphWorld) -> None:
    writer = world.writer(ALICE.email)
    created = writer.create_tasks([_new(f"fu-{n}", f"Task {n}", date(2026, 12, 1)) for n in range(45)])
    assert len(created) == 45 and not any(isinstance(c, Exception) for c in created)
    assert world.ops("batch") == 3
    assert len(_tasks(world, ALICE.email)) == 45
    found = world.writer(ALICE.email).find_tasks([f"fu-{n}" for n in range(0, 45, 2)])
    assert len(found) == 23


def test_throttled_and_dropped_writes_inside_a_batch_are_sent_again_and_made_once(world: GraphWorld) -> None:
    world.graph.faults.add("server_busy", operation="todo", mailbox=ALICE.email, times=3, back_off_ms=2000)
    world.graph.faults.add("drop", operation="contacts.patch", mailbox=ALICE.email, times=1)
    writer = world.writer(ALICE.email)
    created = writer.create_tasks([_new(f"fu-{n}", f"Task {n}", date(2026, 12, 1)) for n in range(5)])
    assert not any(isinstance(c, Exception) for c in created)
    assert len(_tasks(world, ALICE.email)) == 5  # each made once
    assert 2.0 in world.waits  # the inner Retry-After was honoured
    results = writer.write_categories(world.plan(ALICE.email), NAMES, 100)
    assert all(r.ok and r.changed for r in results)
    assert world.graph.stats.to_json()["faults"] == {"server_busy": 3, "drop": 1}


def test_an_expired_token_is_renewed_in_the_middle_of_writing(world: GraphWorld) -> None:
    writer = world.writer(BOB.email)
    writer.ensure_master_categories(MANAGED)
    world.idp.expire()
    results = writer.write_categories(world.plan(BOB.email), NAMES, 100)
    assert all(r.ok for r in results)
    assert world.idp.token_requests == 2


def test_a_mailbox_graph_does_not_know_is_an_error_not_a_deleted_task(world: GraphWorld) -> None:
    writer = world.writer("nobody@contoso.example")
    with pytest.raises(MailboxUnavailable):
        writer.read_task_states(["AAMkAGI2"])
    with pytest.raises(MailboxUnavailable):
        writer.ensure_master_categories(MANAGED)
    with pytest.raises(MailboxUnavailable):
        writer.update_categories("AAMkAGI2", add=["Customer"], remove=[])


# ------------------------------------------------------------------------------- the jobs, via Graph
def test_the_category_jobs_write_through_the_graph_seam(world: GraphWorld) -> None:
    world.sync_over_graph(ALICE.email, BOB.email)
    backends = Backends(graph=world.client, backend_of=lambda _address: "graph")
    store = world.env.store

    def wanted() -> dict[int, tuple[str, ...]]:
        rows = world.env.rows("SELECT address, person_id FROM email_addresses")
        by_email = {DANA.email: WANTED["Dana Dunn"], ERIN.email: WANTED["Erin Estrada"]}
        return {person_id: by_email[address] for address, person_id in rows if address in by_email}

    def plan(session: Session) -> Sequence[PlannedCategories]:
        return category_plan(session, wanted())

    report = write_back_categories(backends, store, plan, MANAGED)
    assert (report.planned, report.written, report.failed) == (4, 4, 0)
    assert report.master_added == {ALICE.email: NAMES, BOB.email: NAMES}
    assert world.categories_by_name(BOB.email)["Dana Dunn"] == (
        "Lunch club",
        "Customer",
        "Value: Superior",
        "Potential: High",
    )
    patches = world.ops("contacts.patch")
    world.sync_over_graph(ALICE.email, BOB.email)  # our own writes come back through sync ...
    again = write_back_categories(backends, store, plan, MANAGED)  # ... and cause no new write
    assert again.written == 0 and again.failed == 0 and world.ops("contacts.patch") == patches

    # A pair under review: the newer person's contacts get the duplicate flag, and lose it once decided.
    people = dict(world.env.rows("SELECT address, person_id FROM email_addresses"))
    a_id, b_id = sorted((people[DANA.email], people[GINA.email]))
    with store.session() as session:
        session.add(MatchCandidate(kind=MatchKind.PERSON, a_id=a_id, b_id=b_id, score=0.9))
    newer = "Gina Gmail" if b_id == people[GINA.email] else "Dana Dunn"
    contacts = 1 if newer == "Gina Gmail" else 2  # Dana is in both mailboxes
    assert mark_possible_duplicates(backends, store, "Possible duplicate") == (contacts, 0)
    assert world.categories_by_name(ALICE.email)[newer][-1] == "Possible duplicate"
    with store.session() as session:
        session.execute(sa.update(MatchCandidate).values(status=MatchStatus.REJECTED))
    assert mark_possible_duplicates(backends, store, "Possible duplicate") == (0, contacts)
    assert "Possible duplicate" not in world.categories_by_name(ALICE.email)[newer]


@pytest.fixture
def followup_world(make_env: EnvFactory, tmp_path: Path) -> Iterator[tuple[GraphWorld, Any]]:
    env = make_env(followups_company())
    w = start_world(env)
    path = tmp_path / "relsync.toml"
    write_fake_config(path, env.ex.url, env.ex.username, env.ex.password, [ALICE.email, BOB.email], "contoso.example")
    text = path.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{env.store.url}"')
    path.write_text(text + FOLLOWUP_RULES.format(extra=""), encoding="utf-8")
    yield w, load_config(path, environ={})
    stop_world(w)


def test_the_follow_up_job_writes_tasks_through_the_graph_seam(followup_world: tuple[GraphWorld, Any]) -> None:
    world, loaded = followup_world
    world.sync_over_graph(ALICE.email, BOB.email)
    backends = Backends(graph=world.client, backend_of=lambda _address: "graph")
    store = world.env.store
    classify_and_write_back(backends, store, loaded, now=START)
    first = run_followups(loaded, now=START, connection=backends, store=store)
    assert first.planned_created == 3
    assert first.owners[ALICE.email].created == 2 and first.owners[BOB.email].created == 1
    assert all(o.error is None and o.failed == 0 for o in first.owners.values())
    alice = {f["Subject"]: f for f in _tasks(world, ALICE.email).values()}
    fab = alice["Follow up: Dana Dunn, Fabrikam (weekly: face to face, telephone, e-mail)"]
    assert fab["Importance"] == "High" and fab["Categories"] == ("Follow-up",) and fab["ReminderIsSet"] is True
    colour = int(loaded.config.followups.category_colour.removeprefix("Preset"))
    assert ("Follow-up", str(colour)) in world.master_list(ALICE.email)

    reads, writes = world.ops("todo"), world.graph.stats.to_json()["writes_total"]
    rerun = run_followups(loaded, now=START + timedelta(hours=1), connection=backends, store=store)
    assert rerun.planned_created == 0 and sum(o.created for o in rerun.owners.values()) == 0
    assert len(_tasks(world, ALICE.email)) == 2 and len(_tasks(world, BOB.email)) == 1
    assert world.graph.stats.to_json()["writes_total"] == writes  # a rerun writes nothing ...
    assert world.ops("todo") > reads  # ... but reads the task states back

    # ... and what staff do in Outlook is seen: Bob completes his, Alice deletes Gina's.
    ((bob_id, bob_task),) = _tasks(world, BOB.email).items()
    when = datetime.combine(bob_task["DueDate"].date(), time(15), tzinfo=UTC)
    world.env.mb(BOB.email).update(
        bob_id, Status="Completed", IsComplete=True, PercentComplete=100.0, CompleteDate=when
    )
    gina_id = next(i for i, f in _tasks(world, ALICE.email).items() if "Gina" in f["Subject"])
    world.env.mb(ALICE.email).delete(gina_id)
    after = run_followups(loaded, now=when + timedelta(hours=1), connection=backends, store=store)
    assert after.owners[BOB.email].staff_completed == 1 and after.owners[ALICE.email].dismissed == 1
    assert after.owners[BOB.email].created == 1  # the next one, a cadence later
    assert all(o.error is None for o in after.owners.values())
