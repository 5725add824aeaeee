"""Follow-up tasks end to end, over simulated months: the fake Exchange's Tasks folders are what staff see.

Three relationships, each owned by the staff member who has two-way interactions with it:
Fabrikam (Dana; Alice mailed both ways) Superior and High potential, Northwind (Erin; Bob met her)
Average, and Gina (a person of her own; Alice met her) Marginal. Business rules in the config set the
tiers, so the real classification runs. Time travels: the job runs with a ``now`` of the test's
choosing, and "staff" complete or delete tasks in the fake between runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from mapping.store.models import FollowUp, FollowUpStatus, OwnershipChange
from scheduler.cli import write_fake_config
from scheduler.config import LoadedConfig, load_config
from scheduler.followups_job import FollowUpRunReport, run_followups
from scheduler.jobs import classify_and_write_back
from tests.e2e.syncenv import (
    ALICE,
    BOB,
    DANA,
    ERIN,
    GINA,
    T0,
    EnvFactory,
    HandCompany,
    SyncEnv,
    contact,
    meeting,
    message,
)

RULES = """
[classification]
write_back = false

[followups]
working_days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
{extra}

[[rules]]
name = "Fabrikam is our best customer"
when = 'name == "Fabrikam"'
set = {{ tier = "Superior", potential = "High", status = "active", type = "customer" }}

[[rules]]
name = "Northwind is average"
when = 'name == "Northwind"'
set = {{ tier = "Average", potential = "Average", status = "active", type = "customer" }}

[[rules]]
name = "Gina is marginal"
when = 'name == "Gina Gmail"'
set = {{ tier = "Marginal", potential = "Low", status = "active", type = "customer" }}
"""

CADENCE = {"Fabrikam": relativedelta(days=7), "Northwind": relativedelta(months=1), "Gina": relativedelta(months=3)}


def company() -> HandCompany:
    gina = contact(2, "Gina Gmail", GINA.email)
    del gina.fields["CompanyName"]  # a private person, not an organisation's contact
    return HandCompany(
        items={
            (ALICE.email, "contacts"): [contact(1, "Dana Dunn", DANA.email), gina],
            (BOB.email, "contacts"): [contact(3, "Erin Estrada", ERIN.email)],
            (ALICE.email, "inbox"): [message(1, "Offer", DANA, [ALICE], ConversationId="C1")],
            (ALICE.email, "sentitems"): [message(2, "RE: Offer", ALICE, [DANA], ConversationId="C1")],
            (BOB.email, "calendar"): [meeting(3, "Review", T0 + timedelta(days=1), BOB, [ERIN])],
            (ALICE.email, "calendar"): [meeting(4, "Golf", T0 + timedelta(days=2), ALICE, [GINA])],
        }
    )


@dataclass
class Follow:
    env: SyncEnv
    loaded: LoadedConfig

    def sync(self) -> None:
        for who in (ALICE, BOB):
            report = self.env.sync(who.email)
            assert report.ok, report

    def classify(self, now: datetime) -> None:
        classify_and_write_back(self.env.connection, self.env.store, self.loaded, now=now)

    def run(self, now: datetime) -> FollowUpRunReport:
        return run_followups(self.loaded, now=now, connection=self.env.connection, store=self.env.store)

    def tasks(self, owner: str) -> dict[str, dict[str, Any]]:
        """Item id -> fields of every task in the owner's Tasks folder."""
        return {i: dict(s.fields) for i, s in self.env.mb(owner).items("tasks")}

    def open_tasks(self, owner: str) -> dict[str, dict[str, Any]]:
        return {i: f for i, f in self.tasks(owner).items() if f.get("Status") != "Completed"}

    def task_of(self, owner: str, name: str) -> tuple[str, dict[str, Any]]:
        hits = [(i, f) for i, f in self.open_tasks(owner).items() if name in f["Subject"]]
        assert len(hits) == 1, (name, self.tasks(owner))
        return hits[0]

    def complete(self, owner: str, item_id: str, when: datetime) -> None:
        self.env.mb(owner).update(
            item_id, Status="Completed", IsComplete=True, PercentComplete=100.0, CompleteDate=when
        )

    def follow_ups(self, *where: Any) -> list[FollowUp]:
        with self.env.store.session() as s:
            rows = list(s.scalars(sa.select(FollowUp).where(*where).order_by(FollowUp.id)))
            s.expunge_all()
            return rows


@pytest.fixture
def follow(make_env: EnvFactory, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Follow]:
    env = make_env(company())
    path = tmp_path / "relsync.toml"
    write_fake_config(path, env.ex.url, env.ex.username, env.ex.password, [ALICE.email, BOB.email], "contoso.example")
    extra = getattr(request, "param", "")
    text = path.read_text(encoding="utf-8").replace('url = "sqlite:///relsync.db"', f'url = "{env.store.url}"')
    path.write_text(text + RULES.format(extra=extra), encoding="utf-8")
    f = Follow(env, load_config(path, environ={}))
    f.sync()
    f.classify(START)
    yield f


START = datetime.combine((T0 + timedelta(days=5)).date(), time(10), tzinfo=UTC)


def _due(fields: dict[str, Any]) -> date:
    due = fields["DueDate"]
    return due.date() if isinstance(due, datetime) else due


ZONES = 'time_zones = { "alice@contoso.example" = "Europe/Berlin", "bob@contoso.example" = "America/New_York" }'


@pytest.mark.parametrize("follow", [ZONES], indirect=True)
def test_each_tier_gets_its_tasks_exactly_at_its_cadence_for_eight_months(follow: Follow) -> None:
    """Eight months cross a change of daylight saving time in both Berlin and New York, whenever the
    test runs: due days keep the cadence, reminders stay at 08:00 / 09:00 on the owner's wall clock."""
    zone = {ALICE.email: ZoneInfo("Europe/Berlin"), BOB.email: ZoneInfo("America/New_York")}
    reminder = {"Fabrikam": time(8), "Northwind": time(9), "Gina": time(9)}
    offsets: set[timedelta | None] = set()
    follow.run(START)
    owners = {"Fabrikam": ALICE.email, "Northwind": BOB.email, "Gina": ALICE.email}
    dues: dict[str, list[date]] = {name: [] for name in owners}
    end = START + timedelta(days=240)
    now = START
    while True:
        open_now = {name: follow.task_of(owner, name) for name, owner in owners.items()}
        for name, (_, fields) in open_now.items():
            if not dues[name] or dues[name][-1] != _due(fields):
                dues[name].append(_due(fields))
            local = fields["ReminderDueBy"].astimezone(zone[owners[name]])
            assert (local.date(), local.time()) == (_due(fields), reminder[name]), name
            offsets.add(local.utcoffset())
        next_due = min(_due(f) for _, f in open_now.values())
        now = datetime.combine(next_due, time(10), tzinfo=UTC)
        if now > end:
            break
        for name, (item_id, fields) in open_now.items():  # staff do what is due today
            if _due(fields) == next_due:
                follow.complete(owners[name], item_id, now)
        follow.run(now)

    # The first due date is a cadence after the last two-way interaction; each next one a cadence
    # after the task before was done (on its due date).
    first = {
        "Fabrikam": (T0 + timedelta(hours=2)).date(),
        "Northwind": (T0 + timedelta(days=1)).date(),
        "Gina": (T0 + timedelta(days=2)).date(),
    }
    for name, got in dues.items():
        expected = [first[name] + CADENCE[name]]
        while expected[-1] + CADENCE[name] <= end.date() + CADENCE[name] and len(expected) < len(got):
            expected.append(expected[-1] + CADENCE[name])
        assert got == expected, name
    assert len(dues["Fabrikam"]) >= 34 and len(dues["Northwind"]) >= 7 and len(dues["Gina"]) >= 2
    assert len(offsets) == 4  # both zones were seen on both sides of a DST change
    # Never two open follow-ups for one relationship, in the store or in Outlook.
    assert len(follow.follow_ups(FollowUp.status == FollowUpStatus.OPEN)) == 3
    assert len(follow.open_tasks(ALICE.email)) == 2 and len(follow.open_tasks(BOB.email)) == 1
    # Each completion is an interaction of kind task, one per completed follow-up.
    completed = follow.follow_ups(FollowUp.status == FollowUpStatus.COMPLETED)
    assert follow.env.count("interactions", "kind = 'task'") == len(completed) == sum(map(len, dues.values())) - 3


def test_the_task_says_who_what_how_and_when_and_high_potential_comes_first(follow: Follow) -> None:
    follow.run(START)
    _, fab = follow.task_of(ALICE.email, "Fabrikam")
    assert fab["Subject"] == "Follow up: Dana Dunn, Fabrikam (weekly: face to face, telephone, e-mail)"
    assert fab["Importance"] == "High" and fab["Categories"] == ("Follow-up",)
    assert "Type: customer; value: Superior" in fab["Body"] and "Last interactions:" in fab["Body"]
    assert f"E-mail ({ALICE.email}): RE: Offer" in fab["Body"]
    assert fab["ReminderIsSet"] is True
    assert fab["ReminderDueBy"] == datetime.combine(_due(fab), time(8), tzinfo=UTC)  # High: the earlier reminder
    _, erin = follow.task_of(BOB.email, "Northwind")
    assert erin["Subject"] == "Follow up: Erin Estrada, Northwind (monthly: telephone, e-mail)"
    assert erin["Importance"] == "Normal" and erin["ReminderDueBy"].time() == time(9)
    _, gina = follow.task_of(ALICE.email, "Gina")
    assert gina["Subject"] == "Follow up: Gina Gmail (quarterly: e-mail)"


def test_a_rerun_creates_nothing_and_writes_nothing(follow: Follow) -> None:
    first = follow.run(START)
    assert first.planned_created == 3
    ops = dict(follow.env.ex.stats.to_json()["operations"])
    again = follow.run(START + timedelta(hours=1))
    assert (again.planned_created, again.planned_updated, again.planned_cancelled) == (0, 0, 0)
    after = follow.env.ex.stats.to_json()["operations"]
    for write in ("CreateItem", "UpdateItem", "DeleteItem"):
        assert after.get(write, 0) == ops.get(write, 0), write
    assert len(follow.tasks(ALICE.email)) == 2 and len(follow.tasks(BOB.email)) == 1


def _conversation(follow: Follow, owner: Any, other: Any, n: int, when: datetime) -> None:
    inbound = message(
        n,
        f"Question {n}",
        other,
        [owner],
        ConversationId=f"C{n}",
        DateTimeSent=when,
        DateTimeReceived=when,
        InternetMessageId=f"<in{n}@e2e.example>",
    )
    outbound = message(
        n + 1,
        f"RE: Question {n}",
        owner,
        [other],
        ConversationId=f"C{n}",
        DateTimeSent=when + timedelta(hours=1),
        DateTimeReceived=when + timedelta(hours=1),
        InternetMessageId=f"<out{n}@e2e.example>",
    )
    follow.env.mb(owner.email).create("inbox", inbound)
    follow.env.mb(owner.email).create("sentitems", outbound)


def test_a_real_interaction_completes_the_open_task_with_a_note_and_plans_the_next(follow: Follow) -> None:
    follow.run(START)
    item_id, before = follow.task_of(ALICE.email, "Fabrikam")
    talked = START + timedelta(days=2)
    _conversation(follow, ALICE, DANA, 100, talked)
    follow.sync()
    report = follow.run(START + timedelta(days=3))
    assert report.planned_completed == 1 and report.planned_created == 1
    done = follow.tasks(ALICE.email)[item_id]
    assert done["Status"] == "Completed"
    assert f"Done: e-mail on {talked.date().isoformat()} with {ALICE.email}" in done["Body"]
    _, nxt = follow.task_of(ALICE.email, "Fabrikam")
    assert _due(nxt) == (talked + timedelta(hours=1)).date() + timedelta(days=7)
    assert _due(nxt) != _due(before)


@pytest.mark.parametrize("follow", ['on_interaction = "reschedule"'], indirect=True)
def test_with_reschedule_a_real_interaction_moves_the_open_task_instead(follow: Follow) -> None:
    follow.run(START)
    item_id, _ = follow.task_of(ALICE.email, "Fabrikam")
    talked = START + timedelta(days=2)
    _conversation(follow, ALICE, DANA, 100, talked)
    follow.sync()
    follow.run(START + timedelta(days=3))
    same_id, moved = follow.task_of(ALICE.email, "Fabrikam")
    assert same_id == item_id and _due(moved) == (talked + timedelta(hours=1)).date() + timedelta(days=7)


def test_a_task_staff_delete_dismisses_its_period_and_the_next_comes_a_cadence_later(follow: Follow) -> None:
    follow.run(START)
    item_id, fields = follow.task_of(BOB.email, "Northwind")
    due = _due(fields)
    follow.env.mb(BOB.email).delete(item_id)
    report = follow.run(datetime.combine(due, time(12), tzinfo=UTC))
    assert report.owners[BOB.email].dismissed == 1
    (dismissed,) = follow.follow_ups(FollowUp.status == FollowUpStatus.DISMISSED)
    assert dismissed.closed_reason == "dismissed"
    _, nxt = follow.task_of(BOB.email, "Northwind")
    assert _due(nxt) == due + relativedelta(months=1)


def test_staff_completion_is_recorded_as_an_interaction_with_the_owner_and_the_contact(follow: Follow) -> None:
    follow.run(START)
    item_id, fields = follow.task_of(BOB.email, "Northwind")
    when = datetime.combine(_due(fields), time(15), tzinfo=UTC)
    follow.complete(BOB.email, item_id, when)
    report = follow.run(when + timedelta(hours=1))
    assert report.owners[BOB.email].staff_completed == 1
    rows = follow.env.rows(
        "SELECT p.address, p.role FROM interactions i JOIN interaction_participants p ON p.interaction_id = i.id "
        "WHERE i.kind = 'task' ORDER BY p.role"
    )
    assert {tuple(r) for r in rows} == {(BOB.email, "from"), (ERIN.email, "to")}
    _, nxt = follow.task_of(BOB.email, "Northwind")
    assert _due(nxt) == _due(fields) + relativedelta(months=1)


def test_an_owner_change_moves_the_task_and_is_recorded(follow: Follow) -> None:
    follow.run(START)
    old_id, fields = follow.task_of(ALICE.email, "Fabrikam")
    # Bob has had 6 two-way e-mails with Dana (before Alice's last one, so the due day stays), Alice 2:
    # over the margin of 3.
    for n in (200, 210, 220):
        _conversation(follow, BOB, DANA, n, T0 - timedelta(days=3, hours=n // 10))
    follow.sync()
    follow.run(START + timedelta(hours=2))
    assert old_id not in follow.tasks(ALICE.email)  # removed from Alice's list (to Deleted Items)
    _, moved = follow.task_of(BOB.email, "Fabrikam")
    assert _due(moved) == _due(fields)
    with follow.env.store.session() as s:
        change = s.scalars(sa.select(OwnershipChange).order_by(OwnershipChange.id.desc())).first()
        assert change is not None and change.source == "interactions"
        assert change.evidence is not None and change.evidence["two_way_interactions"]
    (cancelled,) = follow.follow_ups(FollowUp.status == FollowUpStatus.CANCELLED)
    assert cancelled.closed_reason == "owner_changed"


def test_one_e_mail_does_not_flip_the_owner(follow: Follow) -> None:
    follow.run(START)
    _conversation(follow, BOB, DANA, 300, START - timedelta(hours=5))  # Bob 2, Alice 2: Alice stays
    follow.sync()
    follow.run(START + timedelta(hours=2))
    follow.task_of(ALICE.email, "Fabrikam")
    assert "Fabrikam" not in " ".join(f["Subject"] for f in follow.tasks(BOB.email).values())


def test_an_owner_mailbox_that_refuses_writes_does_not_stop_the_others(follow: Follow) -> None:
    for _ in range(3):  # CreateItem in Bob's mailbox fails, also on exchangelib's own retries
        follow.env.ex.faults.add("http_503", operation="CreateItem", mailbox=BOB.email, times=None)
    report = follow.run(START)
    assert report.owners[BOB.email].error
    assert len(follow.tasks(ALICE.email)) == 2 and follow.tasks(BOB.email) == {}
    follow.env.ex.faults.clear()
    follow.run(START + timedelta(hours=1))  # the outbox still holds Bob's task: it is written now
    follow.task_of(BOB.email, "Northwind")


def test_a_relationship_without_owner_is_reported_not_skipped(follow: Follow) -> None:
    with follow.env.store.session() as s:
        s.execute(sa.text("DELETE FROM interaction_participants WHERE address = :a"), {"a": ERIN.email})
    report = follow.run(START)
    assert any("no owner" in message for _, message in report.problems)
    assert follow.tasks(BOB.email) == {}


def test_a_store_with_no_record_of_its_tasks_adopts_them_and_moves_an_overdue_one(follow: Follow) -> None:
    """A store restored from before the tasks were made (or rebuilt) finds them in the owners' folders:
    nothing is created twice; a task whose due day the plan now puts elsewhere is updated in place."""
    follow.run(START)
    ids = {who: set(follow.tasks(who)) for who in (ALICE.email, BOB.email)}
    with follow.env.store.session() as s:
        s.execute(sa.text("DELETE FROM item_links WHERE folder = 'tasks'"))
        s.execute(sa.text("DELETE FROM follow_ups"))
    later = START + timedelta(days=10)  # Fabrikam's weekly task is overdue: the plan says today
    report = follow.run(later)
    assert report.planned_created == 3
    assert report.owners[ALICE.email].adopted == 2 and report.owners[BOB.email].adopted == 1
    assert sum(o.created for o in report.owners.values()) == 0 and report.owners[ALICE.email].updated == 1
    assert {who: set(follow.tasks(who)) for who in ids} == ids
    _, fab = follow.task_of(ALICE.email, "Fabrikam")
    assert _due(fab) == later.date()
    assert len(follow.follow_ups(FollowUp.pending_write.is_not(None))) == 0
    again = follow.run(later + timedelta(hours=1))
    assert sum(o.created + o.updated + o.adopted for o in again.owners.values()) == 0
