"""The console's follow-up lists and sync health, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mapping.store.console import follow_ups, sync_health
from mapping.store.models import FollowUp, FollowUpStatus, Organisation, Relationship
from mapping.store.store import Store

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _seed(store: Store) -> tuple[int, int]:
    anna = store.ensure_mailbox("anna@contoso.example", "Anna").id
    ben = store.ensure_mailbox("ben@contoso.example", "Ben").id
    with store.session() as s:
        org = Organisation(name="Fabrikam", normalised_name="fabrikam")
        s.add(org)
        s.flush()
        rel = Relationship(organisation_id=org.id)
        s.add(rel)
        s.flush()
        for n, (owner, due, status) in enumerate(
            [
                (anna, NOW - timedelta(days=3), FollowUpStatus.OPEN),  # overdue
                (ben, NOW + timedelta(days=4), FollowUpStatus.OPEN),  # open, not yet due
            ]
        ):
            s.add(
                FollowUp(
                    our_id=f"fu-{n}",
                    relationship_id=rel.id,
                    owner_mailbox_id=owner,
                    organisation_id=org.id,
                    method="e-mail",
                    subject=f"Call Fabrikam {n}",
                    due_at=due,
                    status=status,
                )
            )
        s.flush()
        s.add(
            FollowUp(
                our_id="fu-done",
                relationship_id=rel.id,
                owner_mailbox_id=anna,
                organisation_id=org.id,
                method="e-mail",
                subject="Called",
                due_at=NOW - timedelta(days=30),
                status=FollowUpStatus.COMPLETED,
                completed_at=NOW - timedelta(days=31),
            )
        )
        return rel.id, org.id


def test_follow_ups_by_state_and_owner_name_their_relationship(store: Store) -> None:
    rel_id, _ = _seed(store)
    overdue = follow_ups(store, NOW, state="overdue")
    assert [(f.owner, f.relationship, f.overdue) for f in overdue] == [("anna@contoso.example", "Fabrikam", True)]
    assert overdue[0].relationship_id == rel_id
    assert [f.owner for f in follow_ups(store, NOW)] == ["anna@contoso.example", "ben@contoso.example"]
    everything = follow_ups(store, NOW, state="all")
    assert [f.subject for f in everything] == ["Called", "Call Fabrikam 0", "Call Fabrikam 1"]
    assert not everything[0].overdue  # completed is never overdue
    assert [f.subject for f in follow_ups(store, NOW, owner="BEN@contoso.example", state="all")] == ["Call Fabrikam 1"]
    assert follow_ups(store, NOW, owner="nobody@contoso.example") == []


def test_sync_health_lists_every_mailbox_and_the_configured_ones_never_synced(store: Store) -> None:
    _seed(store)
    rows = sync_health(store, NOW, configured=["anna@contoso.example", "ben@contoso.example", "new@contoso.example"])
    assert {r["mailbox"] for r in rows} == {"anna@contoso.example", "ben@contoso.example", "new@contoso.example"}
