"""The set-based retention pass removes exactly what the pure decision selects (a Hypothesis property
over small random stores, on SQLite and PostgreSQL), with every row that depends on it and nothing else,
in windows of any size; relationships' key dates stay consistent with what remains; a pass killed
between windows leaves a whole store, and the next run finishes it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mapping.privacy.retention import KINDS, Dated, RetentionPolicy, archived_expired, cutoffs, retain
from mapping.store import audit
from mapping.store import privacy_retention as pr
from mapping.store.migrate import upgrade
from mapping.store.models import (
    Direction,
    EntityType,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    InteractionViewer,
    ItemKind,
    ItemLink,
    Organisation,
    ParticipantRole,
    Person,
    Relationship,
    RelationshipStatus,
)
from mapping.store.store import Store

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
DAY = 86400


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, int]]:
    """One store per backend for all examples (each example empties it first), with one mailbox."""
    admin: sa.Engine | None = None
    name = f"relsync_t_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('retention')) / 'relsync.db'}"
    else:
        server = str(request.getfixturevalue("pg_server_url"))
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    store = Store(url)
    mailbox = store.ensure_mailbox("ann@contoso.example", "Ann")
    try:
        yield store, mailbox.id
    finally:
        store.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


periods = st.one_of(st.none(), st.integers(min_value=1, max_value=60))
policies = st.builds(RetentionPolicy, periods, periods, periods, periods)


@st.composite
def stores(draw: st.DrawFn) -> tuple[RetentionPolicy, list[tuple[str, int, int]]]:
    """A policy and interactions (kind, age in seconds, which of four people is on it) whose ages are
    anywhere, on whole days, or a second either side of the policy's own cutoffs."""
    policy = draw(policies)
    edges = [
        d * DAY + delta for d in (policy.email_days, policy.meeting_days, policy.task_days) if d for delta in (-1, 0, 1)
    ]
    ages = st.one_of(
        st.integers(0, 90 * DAY),
        st.integers(0, 90).map(lambda d: d * DAY),
        *([st.sampled_from(edges)] if edges else []),
    )
    return policy, draw(st.lists(st.tuples(st.sampled_from(KINDS), ages, st.integers(0, 3)), max_size=30))


# Per person: in the organisation (or on their own), and their relationship's status.
people = st.lists(
    st.tuples(st.booleans(), st.sampled_from([RelationshipStatus.ACTIVE, RelationshipStatus.ARCHIVE])),
    min_size=4,
    max_size=4,
)


def _empty(store: Store) -> None:
    with store.session() as s:
        for model in (ItemLink, Relationship, InteractionViewer, InteractionParticipant, Interaction, Person):
            s.execute(sa.delete(model))
        s.execute(sa.delete(Organisation))


def _seed(
    store: Store, mailbox_id: int, raw: list[tuple[str, int, int]], who: list[tuple[bool, RelationshipStatus]]
) -> dict[str, Any]:
    """The random store, its relationships' key dates consistent with their interactions."""
    with store.session() as s:
        org = Organisation(name="Acme", normalised_name="acme")
        s.add(org)
        s.flush()
        persons = [
            Person(display_name=f"P{n}", organisation_id=org.id if in_org else None)
            for n, (in_org, _) in enumerate(who)
        ]
        s.add_all(persons)
        s.flush()
        dated: list[Dated] = []
        on: dict[int, int] = {}
        for n, (kind, age, person) in enumerate(raw):
            i = Interaction(
                kind=InteractionKind(kind), occurred_at=NOW - timedelta(seconds=age), direction=Direction.INBOUND
            )
            s.add(i)
            s.flush()
            s.add_all(
                [
                    InteractionParticipant(
                        interaction_id=i.id,
                        person_id=persons[person].id,
                        address=f"p{person}@acme.example",
                        role=ParticipantRole.FROM,
                    ),
                    InteractionParticipant(
                        interaction_id=i.id,
                        address="ann@contoso.example",
                        role=ParticipantRole.TO,
                        staff_mailbox_id=mailbox_id,
                    ),
                    InteractionViewer(interaction_id=i.id, mailbox_id=mailbox_id),
                    ItemLink(
                        mailbox_id=mailbox_id,
                        folder="inbox",
                        item_id=f"i{n}",
                        item_kind=ItemKind.MESSAGE,
                        entity_type=EntityType.INTERACTION,
                        entity_id=i.id,
                    ),
                ]
            )
            dated.append(Dated(i.id, kind, i.occurred_at))
            on[i.id] = person
        subjects: list[tuple[int | None, int | None, RelationshipStatus, list[int]]] = []
        members = [n for n, (in_org, _) in enumerate(who) if in_org]
        if members:
            subjects.append((org.id, None, who[members[0]][1], members))
        subjects += [(None, persons[n].id, status, [n]) for n, (in_org, status) in enumerate(who) if not in_org]
        relationships = {}
        for org_id, person_id, status, whose in subjects:
            times = [d.occurred_at for d in dated if on[d.id] in whose]
            r = Relationship(
                organisation_id=org_id,
                person_id=person_id,
                status=status,
                first_contact_at=min(times) if times else None,
                latest_interaction_at=max(times) if times else None,
                updated_at=NOW - timedelta(days=1000),
            )
            s.add(r)
            s.flush()
            relationships[r.id] = (status, r.latest_interaction_at or r.updated_at, whose)
        return {"dated": dated, "on": on, "relationships": relationships}


def _state(store: Store) -> dict[str, Any]:
    with store.session() as s:
        return {
            "interactions": set(s.scalars(sa.select(Interaction.id))),
            "participants": set(s.scalars(sa.select(InteractionParticipant.interaction_id))),
            "viewers": set(s.scalars(sa.select(InteractionViewer.interaction_id))),
            "links": set(
                s.scalars(sa.select(ItemLink.entity_id).where(ItemLink.entity_type == EntityType.INTERACTION))
            ),
            "relationships": {
                r.id: (r.first_contact_at, r.latest_interaction_at) for r in s.scalars(sa.select(Relationship))
            },
        }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=stores(), who=people, chunk=st.integers(1, 6))
@example(  # exactly on the cutoff is kept; a second older goes
    drawn=(
        RetentionPolicy(email_days=1, meeting_days=2),
        [("email", DAY, 0), ("email", DAY + 1, 1), ("meeting", 2 * DAY, 2)],
    ),
    who=[(False, RelationshipStatus.ACTIVE)] * 4,
    chunk=1,
)
def test_the_set_based_pass_removes_exactly_what_the_pure_decision_selects(
    shared_store: tuple[Store, int],
    drawn: tuple[RetentionPolicy, list[tuple[str, int, int]]],
    who: list[tuple[bool, RelationshipStatus]],
    chunk: int,
) -> None:
    store, mailbox_id = shared_store
    policy, raw = drawn
    _empty(store)
    seeded = _seed(store, mailbox_id, raw, who)
    removed, kept = retain(seeded["dated"], policy, NOW)

    report = pr.run_retention(store, policy, NOW, dry_run=False, chunk=chunk)

    after = _state(store)
    assert after["interactions"] == set(kept)
    # Every dependent row of a removed interaction went with it; every one of a kept interaction stayed.
    assert after["participants"] == after["viewers"] == after["links"] == set(kept)
    assert sum(report.interactions.values()) == len(removed)
    assert report.interactions == {
        k: sum(1 for d in seeded["dated"] if d.id in removed and d.kind == k) for k in cutoffs(policy, NOW)
    }
    gone = {
        rel_id
        for rel_id, (status, last, _) in seeded["relationships"].items()
        if archived_expired(status.value, last, policy, NOW)
    }
    assert set(after["relationships"]) == set(seeded["relationships"]) - gone
    assert report.archived_relationships == len(gone)
    for rel_id, (first, latest) in after["relationships"].items():
        whose = seeded["relationships"][rel_id][2]
        remaining = [d.occurred_at for d in seeded["dated"] if d.id in kept and seeded["on"][d.id] in whose]
        if remaining:
            assert latest == max(remaining) and first is not None and first <= min(remaining)
        else:
            assert latest is None
    with store.session() as s:
        assert audit.verify(s).ok


def test_a_dry_run_counts_what_the_pass_would_remove(shared_store: tuple[Store, int]) -> None:
    store, mailbox_id = shared_store
    _empty(store)
    raw = [("email", 40 * DAY, 0), ("email", 5 * DAY, 1), ("meeting", 50 * DAY, 2), ("task", 80 * DAY, 3)]
    _seed(store, mailbox_id, raw, [(False, RelationshipStatus.ACTIVE)] * 4)
    policy = RetentionPolicy(email_days=30, meeting_days=30)
    before = _state(store)
    dry = pr.run_retention(store, policy, NOW, dry_run=True, chunk=1)
    assert dry.interactions == {"email": 1, "meeting": 1} and _state(store) == before
    assert pr.run_retention(store, policy, NOW, dry_run=False, chunk=1).interactions == dry.interactions


def test_a_pass_killed_between_windows_leaves_a_whole_store_and_a_rerun_finishes(
    shared_store: tuple[Store, int],
) -> None:
    """The kill is simulated where it can land between transactions: after some windows committed."""
    store, mailbox_id = shared_store
    _empty(store)
    raw = [("email", (40 + n) * DAY, n % 4) for n in range(9)] + [("email", DAY, 0)]
    seeded = _seed(store, mailbox_id, raw, [(False, RelationshipStatus.ACTIVE)] * 4)
    policy = RetentionPolicy(email_days=30)
    with store.session() as s:
        plan = pr.windows(s, "email", NOW - timedelta(days=30), 2)
    assert len(plan) == 5
    for window in plan[:2]:  # two windows done, then the process dies
        with store.session() as s:
            assert pr.remove_window(s, window, NOW - timedelta(days=30)) == 2
    half = _state(store)
    assert half["participants"] == half["viewers"] == half["links"] == half["interactions"]
    assert len(half["interactions"]) == 6

    report = pr.run_retention(store, policy, NOW, dry_run=False, chunk=2)
    assert report.interactions == {"email": 5}
    after = _state(store)
    (young,) = (d.id for d in seeded["dated"] if d.occurred_at > NOW - timedelta(days=30))
    assert after["interactions"] == after["participants"] == {young}
    assert after["relationships"][min(after["relationships"])][1] == NOW - timedelta(days=1)
    # The relationships whose interactions all went have no latest interaction any more.
    assert sorted(latest is None for _, latest in after["relationships"].values()) == [False, True, True, True]


KILLED_RUN = """
import sys
from datetime import datetime
from mapping.privacy.retention import RetentionPolicy
from mapping.store import audit
from mapping.store.privacy_retention import run_retention
from mapping.store.store import Store

audit.use_key(b"relsync test audit key (not a secret)")
run_retention(Store(sys.argv[1]), RetentionPolicy(email_days=30), datetime.fromisoformat(sys.argv[2]), False, chunk=100)
"""


def _bulk_seed(store: Store, mailbox_id: int, n: int) -> set[int]:
    """``n`` e-mails, every other one past a 30-day period, each with two participants, a viewer and a
    link (plain inserts: fast); returns the ids that must stay."""
    rows, parts, viewers, links, young = [], [], [], [], set()
    for i in range(1, n + 1):
        old = i % 2 == 0
        if not old:
            young.add(i)
        at = NOW - timedelta(days=40 if old else 10, seconds=i)
        rows.append({"id": i, "kind": InteractionKind.EMAIL, "occurred_at": at, "direction": Direction.INBOUND})
        parts += [
            {"interaction_id": i, "address": f"c{i}@acme.example", "role": ParticipantRole.FROM},
            {"interaction_id": i, "address": "ann@contoso.example", "role": ParticipantRole.TO},
        ]
        viewers.append({"interaction_id": i, "mailbox_id": mailbox_id})
        links.append(
            {
                "mailbox_id": mailbox_id,
                "folder": "inbox",
                "item_id": f"k{i}",
                "item_kind": ItemKind.MESSAGE,
                "entity_type": EntityType.INTERACTION,
                "entity_id": i,
            }
        )
    with store.session() as s:
        for model, values in (
            (Interaction, rows),
            (InteractionParticipant, parts),
            (InteractionViewer, viewers),
            (ItemLink, links),
        ):
            s.execute(sa.insert(model), values)
    return young


def test_a_retention_run_killed_at_random_points_leaves_whole_interactions_and_a_rerun_finishes(
    shared_store: tuple[Store, int],
) -> None:
    store, mailbox_id = shared_store
    _empty(store)
    young = _bulk_seed(store, mailbox_id, 20_000)
    with store.session() as s:
        start = max((e.seq for e in audit.entries(s)), default=0)
    rng = random.Random(20)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    mid_run = 0
    for _ in range(3):
        with store.session() as s:
            left = int(s.scalar(sa.select(sa.func.count()).select_from(Interaction)) or 0)
        # Killed once a random share of what is left to remove has gone: mid-run, between or inside windows.
        target = left - rng.randint(1, left - len(young) - 1)
        proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, store.url, NOW.isoformat()], cwd=ROOT, env=env)
        while proc.poll() is None:
            with store.session() as s:
                if int(s.scalar(sa.select(sa.func.count()).select_from(Interaction)) or 0) <= target:
                    break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        state = _state(store)
        mid_run += len(young) < len(state["interactions"]) < left
        # Whatever the moment of the kill: each interaction is whole (with all its rows) or gone.
        assert young <= state["interactions"]
        assert state["participants"] == state["viewers"] == state["links"] == state["interactions"]
        with store.session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(InteractionParticipant)) == 2 * len(
                state["interactions"]
            )
            assert audit.verify(s).ok
    assert mid_run >= 2  # the kills did land while the run was removing
    pr.run_retention(store, RetentionPolicy(email_days=30), NOW, dry_run=False, chunk=100)
    assert _state(store)["interactions"] == young
    with store.session() as s:  # every removal is audited exactly once, whichever run made it
        entries = [e for e in audit.entries(s, kind="retention") if e.seq > start]
        assert sum(int(e.detail["removed"]) for e in entries if e.detail and "removed" in e.detail) == 10_000
        assert audit.verify(s).ok
