"""What relsync writes into a mailbox, the same over EWS and over Microsoft Graph (see conftest.py):
master categories with colours, managed categories on contacts (the user's own kept, unchanged ones not
written), one contact's categories, and follow-up tasks (create, find again by our id, update,
complete with a note, read back what staff did, delete)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.errors import ExchangeError
from connector.fake.model import ItemSpec
from connector.writer import Created, NewTask, PlannedCategories, TaskChange
from mapping.store.migrate import upgrade
from mapping.store.store import Store
from scheduler.cli import write_fake_config
from scheduler.config import load_config
from scheduler.followups_job import FollowUpRunReport, run_followups
from scheduler.jobs import classify_and_write_back
from tests.contract.contractenv import World, WorldFactory
from tests.e2e.syncenv import ALICE, DANA, DOMAIN, ERIN, HandCompany, contact, message

MANAGED = ("Customer", "Value: Superior", "Prospect")


def synced(make_world: WorldFactory) -> World:
    c = HandCompany(
        items={
            (ALICE.email, "contacts"): [
                contact(1, "Dana Dunn", DANA.email, Categories=("Golf buddy",)),
                contact(2, "Erin Estrada", ERIN.email, Categories=("Prospect",)),
            ]
        }
    )
    w = make_world(c)
    assert w.sync(folders=["contacts"]).ok
    return w


def links(w: World) -> dict[str, tuple[int, str, str | None, tuple[str, ...]]]:
    """Display name -> (link id, item id, change key, categories) as the store saw them over this backend."""
    rows = w.rows(
        "SELECT p.display_name, l.id, l.item_id, l.change_key, l.categories FROM item_links l "
        "JOIN people p ON p.id = l.entity_id WHERE l.folder = 'contacts'"
    )
    out = {}
    for name, link_id, item_id, change_key, categories in rows:
        cats = categories if isinstance(categories, list) else json.loads(categories or "[]")
        out[name] = (link_id, item_id, change_key, tuple(cats))
    return out


def categories_in_mailbox(w: World, name: str) -> tuple[str, ...]:
    (spec,) = [s for _, s in w.mb().items("contacts") if s.fields.get("DisplayName") == name]
    return tuple(spec.fields.get("Categories") or ())


def test_master_categories_are_added_once_with_their_colours(make_world: WorldFactory) -> None:
    w = synced(make_world)
    writer = w.writer()
    assert writer.ensure_master_categories([("Customer", 4), ("Value: Superior", 7)]) == ["Customer", "Value: Superior"]
    assert writer.ensure_master_categories([("customer", 4), ("Value: Superior", 7)]) == []
    assert w.writer().ensure_master_categories([("Follow-up", -1), ("Customer", 4)]) == ["Follow-up"]


def test_managed_categories_are_written_and_the_users_own_are_kept(make_world: WorldFactory) -> None:
    w = synced(make_world)
    seen = links(w)
    plan = [
        PlannedCategories(seen[name][0], ALICE.email, seen[name][1], seen[name][2], seen[name][3], wanted)
        for name, wanted in (("Dana Dunn", ("Customer", "Value: Superior")), ("Erin Estrada", ("Prospect",)))
    ]
    results = {r.item_id: r for r in w.writer().write_categories(plan, MANAGED, 100)}
    dana, erin = results[seen["Dana Dunn"][1]], results[seen["Erin Estrada"][1]]
    assert dana.ok and dana.changed and set(dana.categories) == {"Golf buddy", "Customer", "Value: Superior"}
    assert dana.change_key and dana.change_key != seen["Dana Dunn"][2]
    assert erin.ok and not erin.changed  # already right: nothing written
    assert set(categories_in_mailbox(w, "Dana Dunn")) == {"Golf buddy", "Customer", "Value: Superior"}
    # the next sync sees our own write come back, with the change key we recorded from the write
    assert w.sync(folders=["contacts"]).ok


def test_a_stale_change_key_is_read_again_and_merged_not_written_over(make_world: WorldFactory) -> None:
    w = synced(make_world)
    seen = links(w)
    link_id, item_id, change_key, current = seen["Dana Dunn"]
    # Staff add a category after our last sync: our change key is stale now.
    dana_id = next(i for i, s in w.mb().items("contacts") if s.fields.get("DisplayName") == "Dana Dunn")
    w.mb().update(dana_id, Categories=("Golf buddy", "VIP"))
    plan = [PlannedCategories(link_id, ALICE.email, item_id, change_key, current, ("Customer",))]
    (result,) = w.writer().write_categories(plan, MANAGED, 100)
    assert result.ok, result.error
    assert set(categories_in_mailbox(w, "Dana Dunn")) == {"Golf buddy", "VIP", "Customer"}


def test_one_contacts_categories_are_added_and_removed(make_world: WorldFactory) -> None:
    w = synced(make_world)
    item_id = links(w)["Erin Estrada"][1]
    added = w.writer().update_categories(item_id, add=["Possible duplicate"], remove=[])
    assert added.changed and set(added.categories) == {"Prospect", "Possible duplicate"}
    removed = w.writer().update_categories(item_id, add=[], remove=["Possible duplicate"])
    assert removed.changed and removed.categories == ("Prospect",)
    assert w.writer().update_categories(item_id, add=[], remove=["Possible duplicate"]).changed is False
    assert categories_in_mailbox(w, "Erin Estrada") == ("Prospect",)


def task(our_id: str, subject: str, due_in_days: int = 7) -> NewTask:
    due = (datetime.now(UTC) + timedelta(days=due_in_days)).date()
    reminder = datetime.combine(due, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    return NewTask(our_id, subject, f"About {subject}.", due, reminder, "High", ("Follow-up",))


def tasks_in_mailbox(w: World) -> dict[str, dict[str, Any]]:
    return {str(s.fields.get("Subject")): dict(s.fields) for _, s in w.mb().items("tasks")}


def test_follow_up_tasks_are_created_found_again_updated_completed_and_deleted(make_world: WorldFactory) -> None:
    w = synced(make_world)
    writer = w.writer()
    created = writer.create_tasks([task("fu-1", "Follow up: Dana Dunn"), task("fu-2", "Follow up: Erin Estrada")])
    assert not any(isinstance(c, ExchangeError) for c in created)
    first, second = created
    assert not isinstance(first, ExchangeError) and not isinstance(second, ExchangeError)
    in_mailbox = tasks_in_mailbox(w)
    assert set(in_mailbox) == {"Follow up: Dana Dunn", "Follow up: Erin Estrada"}
    assert in_mailbox["Follow up: Dana Dunn"]["Importance"] == "High"
    assert tuple(in_mailbox["Follow up: Dana Dunn"]["Categories"]) == ("Follow-up",)

    # a run that died after creating finds them again by our id (and nothing else)
    found = w.writer().find_tasks(["fu-1", "fu-2", "fu-3"])
    assert {k: v.item_id for k, v in found.items()} == {"fu-1": first.item_id, "fu-2": second.item_id}

    new_due = (datetime.now(UTC) + timedelta(days=14)).date()
    (key,) = writer.update_tasks(
        [TaskChange(first.item_id, first.change_key, subject="Follow up: Dana Dunn (CFO)", due=new_due)]
    )
    assert isinstance(key, str)  # the task is there: its new change key (None would mean gone)
    assert "Follow up: Dana Dunn (CFO)" in tasks_in_mailbox(w)
    (done,) = writer.update_tasks([TaskChange(second.item_id, None, complete_note="Done: call on Monday.")])
    assert not isinstance(done, ExchangeError)
    erin = tasks_in_mailbox(w)["Follow up: Erin Estrada"]
    assert erin["Status"] == "Completed" and "About Follow up: Erin Estrada." in erin["Body"]
    assert "Done: call on Monday." in erin["Body"]

    states = {s.item_id: s.state for s in writer.read_task_states([first.item_id, second.item_id])}
    assert states == {first.item_id: "open", second.item_id: "completed"}
    assert writer.delete_tasks([first.item_id]) == [None]
    assert writer.delete_tasks([first.item_id]) == [None]  # already gone is not an error
    assert [s.state for s in writer.read_task_states([first.item_id])] == ["gone"]
    assert set(tasks_in_mailbox(w)) == {"Follow up: Erin Estrada"}
    trash = [str(spec.fields.get("Subject")) for _, spec in w.mb().items("deleteditems")]
    # EWS moves a deleted task to Deleted Items (staff can take it back); To Do has none.
    assert trash == (["Follow up: Dana Dunn (CFO)"] if w.graph is None else [])
    # A hard delete (an erasure's) leaves it nowhere staff can see: not in Tasks, not in Deleted Items.
    assert writer.delete_tasks([second.item_id], hard=True) == [None]
    assert tasks_in_mailbox(w) == {}
    assert [str(spec.fields.get("Subject")) for _, spec in w.mb().items("deleteditems")] == trash


def test_a_task_staff_complete_in_outlook_reads_back_as_completed(make_world: WorldFactory) -> None:
    w = synced(make_world)
    writer = w.writer()
    (made,) = writer.create_tasks([task("fu-9", "Follow up: Dana Dunn")])
    assert not isinstance(made, ExchangeError)
    when = datetime.now(UTC).replace(microsecond=0)
    ews_id = next(i for i, s in w.mb().items("tasks") if s.fields.get("Subject") == "Follow up: Dana Dunn")
    w.mb().update(ews_id, Status="Completed", IsComplete=True, PercentComplete=100.0, CompleteDate=when)
    (state,) = writer.read_task_states([made.item_id])
    assert state.state == "completed"
    assert state.completed_at is not None and abs((state.completed_at - when).total_seconds()) < 86400


def test_only_open_tasks_carrying_our_id_are_listed_for_adoption(make_world: WorldFactory) -> None:
    w = synced(make_world)
    writer = w.writer()
    made = writer.create_tasks([task("fu-open", "Follow up: Dana Dunn", 3), task("fu-done", "Follow up: Erin")])
    assert not any(isinstance(m, ExchangeError) for m in made)
    done_id = next(i for i, s in w.mb().items("tasks") if s.fields.get("Subject") == "Follow up: Erin")
    w.mb().update(done_id, Status="Completed", IsComplete=True, PercentComplete=100.0)
    w.mb().create("tasks", ItemSpec("Task", {"Subject": "Staff's own task", "Status": "NotStarted"}))
    (found,) = w.writer().list_our_tasks()
    assert isinstance(made[0], Created)
    assert (found.our_id, found.subject, found.item_id) == ("fu-open", "Follow up: Dana Dunn", made[0].item_id)
    assert found.due == (datetime.now(UTC) + timedelta(days=3)).date()


REBUILD_RULES = """
[classification]

[followups]
working_days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

[[rules]]
name = "Fabrikam is our best customer"
when = 'name == "Fabrikam"'
set = { tier = "Superior", potential = "High", status = "active", type = "customer" }
"""


def test_a_rebuilt_store_adopts_the_tasks_and_categories_already_in_the_mailbox(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    """A store lost and rebuilt from the mailboxes: the tasks and categories an earlier store wrote are
    taken over, not written again (issue 13: 23 tasks became 46)."""
    w = make_world(
        HandCompany(
            items={
                (ALICE.email, "contacts"): [contact(1, "Dana Dunn", DANA.email, Categories=("Golf buddy",))],
                (ALICE.email, "inbox"): [message(1, "Offer", DANA, [ALICE], ConversationId="C1")],
                (ALICE.email, "sentitems"): [message(2, "RE: Offer", ALICE, [DANA], ConversationId="C1")],
            }
        )
    )
    path = tmp_path / "relsync.toml"
    write_fake_config(path, w.ex.url, w.ex.username, w.ex.password, [ALICE.email], DOMAIN)
    path.write_text(path.read_text(encoding="utf-8") + REBUILD_RULES, encoding="utf-8")
    loaded = load_config(path, environ={})
    backends = w.backends()
    # Today at 09:00, so the three runs an hour apart fall on one day: a run after midnight plans from
    # another day and rightly moves the task's dates (the test failed between 22:00 and 24:00 UTC).
    now = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)

    def run_once(when: datetime) -> FollowUpRunReport:
        assert w.sync().ok
        classify_and_write_back(backends, w.store, loaded, now=when)
        return run_followups(loaded, now=when, connection=backends, store=w.store)

    first = run_once(now)
    assert first.owners[ALICE.email].created == 1
    before = {i: dict(s.fields) for i, s in w.mb().items("tasks")}
    contact_before = dict(next(s for _, s in w.mb().items("contacts")).fields)
    assert set(contact_before["Categories"]) >= {"Golf buddy", "Customer", "Value: Superior"}

    # The store is lost; a new, empty one is made and the mailbox synced into it again.
    w.store.dispose()
    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    upgrade(rebuilt)
    w.store = Store(rebuilt)
    writes = w.writes()
    again = run_once(now + timedelta(hours=1))
    assert again.planned_created == 1 and again.owners[ALICE.email].adopted == 1
    assert again.owners[ALICE.email].created == 0
    assert {i: dict(s.fields) for i, s in w.mb().items("tasks")} == before  # the same task, untouched
    assert dict(next(s for _, s in w.mb().items("contacts")).fields) == contact_before
    assert w.writes() == writes  # nothing written: not the task, not the categories, not the master list
    (our_id,) = [r[0] for r in w.rows("SELECT our_id FROM follow_ups WHERE created_in_exchange_at IS NOT NULL")]
    assert [t.our_id for t in w.writer().list_our_tasks()] == [our_id]

    third = run_once(now + timedelta(hours=2))
    assert third.planned_created == 0 and third.owners[ALICE.email].created == 0
    assert w.writes() == writes and len(list(w.mb().items("tasks"))) == 1


def test_contacts_are_created_stamped_found_again_synced_and_removed_only_while_unchanged(
    make_world: WorldFactory,
) -> None:
    from connector.writer import NewContact

    w = synced(make_world)
    writer = w.writer()
    made = writer.create_contacts(
        [
            NewContact("ct-1", "Quinn Arbour", given="Quinn", surname="Arbour", emails=("quinn@arbour.example",)),
            NewContact("ct-2", "Rhea Solberg", emails=("rhea@solberg.example",), mobile="+447700900123"),
        ]
    )
    first, second = made
    assert isinstance(first, Created) and isinstance(second, Created)
    # a run that died after creating finds them again by our id (and nothing else)
    found = w.writer().find_contacts(["ct-1", "ct-2", "ct-3"])
    assert {k: v.item_id for k, v in found.items()} == {"ct-1": first.item_id, "ct-2": second.item_id}
    # sync reads them like any contact staff made
    assert w.sync(folders=["contacts"]).ok
    assert {"Quinn Arbour", "Rhea Solberg"} <= set(links(w))
    # staff edit Rhea: only Quinn is removed; a second removal finds Quinn gone
    mb = w.mb()
    (rhea,) = [i for i, s in mb.items("contacts") if s.fields.get("DisplayName") == "Rhea Solberg"]
    mb.update(rhea, JobTitle="Buyer")
    assert writer.remove_contacts([first, second]) == ["removed", "changed"]
    assert writer.remove_contacts([first]) == ["gone"]
    names = {s.fields.get("DisplayName") for _, s in mb.items("contacts")}
    assert "Quinn Arbour" not in names and "Rhea Solberg" in names
