"""The retention run on a real store (SQLite and PostgreSQL): what is past its period goes, with its
participants, viewers and links; key dates follow what remains; the run is audited; dry runs count only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mapping.privacy.retention import RetentionPolicy
from mapping.store import audit
from mapping.store.models import (
    Direction,
    EntityType,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    ItemKind,
    ItemLink,
    Organisation,
    ParticipantRole,
    Person,
    Relationship,
    RelationshipStatus,
)
from mapping.store.privacy_retention import run_retention
from mapping.store.store import Store
from scheduler.config import ConfigError, load_config

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
POLICY = RetentionPolicy(email_days=365, meeting_days=730, archived_relationship_days=100)


def _seed(store: Store) -> dict[str, int]:
    mailbox = store.ensure_mailbox("ann@contoso.example", "Ann")
    with store.session() as s:
        org = Organisation(name="Acme", normalised_name="acme")
        old_org = Organisation(name="Oldco", normalised_name="oldco")
        jane = Person(display_name="Jane Roe", organisation=org)
        s.add_all([org, old_org, jane])
        s.flush()
        for n, (kind, days) in enumerate(
            [
                (InteractionKind.EMAIL, 10),
                (InteractionKind.EMAIL, 400),
                (InteractionKind.MEETING, 400),
                (InteractionKind.MEETING, 800),
                (InteractionKind.TASK, 5000),
            ]
        ):
            i = Interaction(
                kind=kind,
                occurred_at=NOW - timedelta(days=days),
                direction=Direction.INBOUND,
                participants=[
                    InteractionParticipant(person_id=jane.id, address="jane@acme.example", role=ParticipantRole.TO)
                ],
            )
            s.add(i)
            s.flush()
            s.add(
                ItemLink(
                    mailbox_id=mailbox.id,
                    folder="inbox",
                    item_id=f"item-{n}",
                    item_kind=ItemKind.MESSAGE,
                    entity_type=EntityType.INTERACTION,
                    entity_id=i.id,
                )
            )
        s.add(
            Relationship(
                organisation_id=org.id,
                status=RelationshipStatus.ACTIVE,
                first_contact_at=NOW - timedelta(days=6000),
                latest_interaction_at=NOW - timedelta(days=10),
            )
        )
        s.add(
            Relationship(
                organisation_id=old_org.id,
                status=RelationshipStatus.ARCHIVE,
                latest_interaction_at=NOW - timedelta(days=200),
            )
        )
        return {"org": org.id, "old": old_org.id}


def test_a_dry_run_counts_and_changes_nothing(store: Store) -> None:
    _seed(store)
    report = run_retention(store, POLICY, NOW, dry_run=True)
    assert report.interactions == {"email": 1, "meeting": 1} and report.archived_relationships == 1
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Interaction)) == 5
        assert list(audit.entries(s, kind="retention")) == []


def test_applying_removes_exactly_what_is_past_its_period_and_audits_it(store: Store) -> None:
    ids = _seed(store)
    report = run_retention(store, POLICY, NOW, dry_run=False)
    assert report.interactions == {"email": 1, "meeting": 1} and report.archived_relationships == 1
    with store.session() as s:
        left = sorted((i.kind.value, round((NOW - i.occurred_at).days)) for i in s.scalars(sa.select(Interaction)))
        assert left == [("email", 10), ("meeting", 400), ("task", 5000)]  # tasks have no period: kept
        assert s.scalar(sa.select(sa.func.count()).select_from(InteractionParticipant)) == 3
        assert s.scalar(sa.select(sa.func.count()).select_from(ItemLink)) == 3
        assert s.scalar(sa.select(Relationship.id).where(Relationship.organisation_id == ids["old"])) is None
        entries = list(audit.entries(s, kind="retention"))
        assert [e.action for e in entries] == ["interactions_removed", "interactions_removed", "run"]
        assert [e.detail["kind"] for e in entries[:2] if e.detail] == ["email", "meeting"]
        assert entries[-1].detail is not None and entries[-1].detail["interactions"] == {"email": 1, "meeting": 1}
        assert audit.verify(s).ok


def test_key_dates_follow_the_interactions_that_remain(store: Store) -> None:
    ids = _seed(store)
    with store.session() as s:
        s.execute(sa.delete(Interaction).where(Interaction.occurred_at > NOW - timedelta(days=20)))
        s.execute(
            sa.update(Relationship)
            .where(Relationship.organisation_id == ids["org"])
            .values(latest_interaction_at=NOW - timedelta(days=400))
        )
    report = run_retention(store, RetentionPolicy(meeting_days=300, email_days=300), NOW, dry_run=False)
    assert report.key_dates_updated == 1
    with store.session() as s:
        rel = s.scalars(sa.select(Relationship).where(Relationship.organisation_id == ids["org"])).one()
        assert rel.latest_interaction_at == NOW - timedelta(days=5000)  # only the old task remains
        assert rel.first_contact_at == NOW - timedelta(days=6000)


@pytest.mark.parametrize("days", ["0", "-30"])
def test_a_period_of_zero_or_less_is_refused_at_config_load(tmp_path: Path, days: str) -> None:
    config = tmp_path / "relsync.toml"
    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text(encoding="utf-8")
    config.write_text(
        example.replace("[privacy.retention]\n", f"[privacy.retention]\nemail_days = {days}\n"), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as exc:
        load_config(config)
    assert any("privacy.retention.email_days" in p and "greater than 0" in p for p in exc.value.problems)
