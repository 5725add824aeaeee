"""The Outlook add-in's store services, on SQLite and PostgreSQL: the cards for an item's addresses, and
the actions from the card (follow-up done, overrides, "not the same"), each recorded with who and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mapping.addin import triage
from mapping.next_offer import Suggestion
from mapping.store import audit
from mapping.store.addin import identity_hash, link_identity, linked_mailbox, pane_cards
from mapping.store.addin_actions import (
    AddinActionError,
    complete_follow_up,
    not_the_same,
    remove_override,
    set_override,
)
from mapping.store.business_offers import offers_of, record_offers
from mapping.store.classification import explain_relationship
from mapping.store.models import (
    CategoryOverride,
    EmailAddress,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionKind,
    MatchCandidate,
    MatchKind,
    MatchStatus,
    Organisation,
    Person,
    Relationship,
)
from mapping.store.models_business import RelationshipOffer
from mapping.store.store import Store

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ANNA, BEN = "anna@contoso.example", "ben@contoso.example"


def _seed(store: Store) -> dict[str, int]:
    anna = store.ensure_mailbox(ANNA, "Anna").id
    ben = store.ensure_mailbox(BEN, "Ben").id
    with store.session() as s:
        org = Organisation(name="Fabrikam", normalised_name="fabrikam")
        s.add(org)
        s.flush()
        jane = Person(
            display_name="Jane Doe",
            organisation_id=org.id,
            user_fields={"What matters": "Delivery on time,  and a single contact."},
        )
        old = Person(display_name="J. Doe", organisation_id=org.id)
        s.add_all([jane, old])
        s.flush()
        old.merged_into_id = jane.id
        s.add_all(
            [
                EmailAddress(address="jane@fabrikam.example", original="Jane@Fabrikam.example", person_id=jane.id),
                EmailAddress(address="jdoe@fabrikam.example", original="jdoe@fabrikam.example", person_id=old.id),
            ]
        )
        rel = Relationship(organisation_id=org.id, tier="Superior", owner=ANNA, owner_mailbox_id=anna)
        s.add(rel)
        s.flush()
        mine = FollowUp(
            our_id="fu-anna",
            relationship_id=rel.id,
            owner_mailbox_id=anna,
            organisation_id=org.id,
            method="e-mail",
            subject="Call Fabrikam",
            due_at=NOW + timedelta(days=9),
        )
        theirs = FollowUp(
            our_id="fu-ben",
            relationship_id=rel.id,
            owner_mailbox_id=ben,
            organisation_id=org.id,
            method="e-mail",
            subject="Visit Fabrikam",
            due_at=NOW + timedelta(days=2),
        )
        s.add_all([mine, theirs])
        pair = MatchCandidate(kind=MatchKind.PERSON, a_id=jane.id, b_id=old.id + 1000, score=0.8, evidence=[])
        s.add(pair)
        s.flush()
        return {"rel": rel.id, "mine": mine.id, "theirs": theirs.id, "pair": pair.id, "jane": jane.id}


def test_the_card_follows_addresses_to_relationships_merged_people_included(store: Store) -> None:
    ids = _seed(store)
    sorted_out = triage(
        ["JANE@fabrikam.example", "jdoe@fabrikam.example", "new@unknown.example", f"colleague@{ANNA.split('@')[1]}"],
        ["contoso.example"],
    )
    found = pane_cards(store, sorted_out, ANNA)
    assert [c.card.id for c in found.cards] == [ids["rel"]]
    card = found.cards[0]
    assert card.addresses == ("jane@fabrikam.example", "jdoe@fabrikam.example")
    assert card.card.owner == ANNA
    assert card.what_matters == "Delivery on time, and a single contact."
    assert card.open_follow_up is not None and card.open_follow_up.id == ids["mine"] and card.open_follow_up.mine
    assert found.unknown == ("new@unknown.example",)
    assert found.triage.internal == 1


def test_someone_elses_open_follow_up_is_shown_but_not_theirs_to_complete(store: Store) -> None:
    ids = _seed(store)
    found = pane_cards(store, triage(["jane@fabrikam.example"], ["contoso.example"]), "carl@contoso.example")
    shown = found.cards[0].open_follow_up
    assert shown is not None and shown.id == ids["theirs"] and not shown.mine  # the earliest due
    store.ensure_mailbox("carl@contoso.example", "Carl")
    with pytest.raises(AddinActionError, match="not one of"):
        complete_follow_up(store, ids["mine"], "carl@contoso.example", "done")
    with store.session() as s:
        assert s.get_one(FollowUp, ids["mine"]).status == FollowUpStatus.OPEN


def test_marking_done_closes_the_follow_up_for_the_outbox_and_counts_as_contact(store: Store) -> None:
    ids = _seed(store)
    said = complete_follow_up(store, ids["mine"], ANNA.upper(), "  Called,\n about the renewal ", now=NOW)
    assert "next run" in said
    with store.session() as s:
        f = s.get_one(FollowUp, ids["mine"])
        assert f.status == FollowUpStatus.COMPLETED and f.pending_write == "complete" and f.completed_at == NOW
        assert f.note == f"Done from the Outlook add-in by {ANNA} at 2026-06-15 12:00 UTC: Called, about the renewal"
        assert (
            s.scalar(
                sa.select(sa.func.count()).select_from(Interaction).where(Interaction.kind == InteractionKind.TASK)
            )
            == 1
        )
    with pytest.raises(AddinActionError, match="already completed"):
        complete_follow_up(store, ids["mine"], ANNA, "")
    with pytest.raises(AddinActionError, match="at most"):
        complete_follow_up(store, ids["theirs"], BEN, "x" * 1001)


def test_an_override_from_the_card_is_the_same_record_as_one_set_in_outlook_and_removable(store: Store) -> None:
    ids = _seed(store)
    with pytest.raises(AddinActionError, match="not a tier"):
        set_override(store, ids["rel"], "tier", "Gold", BEN, allowed=("Superior", "Standard"))
    with pytest.raises(AddinActionError, match="cannot be overridden"):
        set_override(store, ids["rel"], "status", "active", BEN)
    set_override(store, ids["rel"], "tier", "standard", BEN, allowed=("Superior", "Standard"))
    set_override(store, ids["rel"], "tier", "Superior", ANNA, allowed=("Superior", "Standard"))
    with pytest.raises(AddinActionError, match="not a staff mailbox"):
        set_override(store, ids["rel"], "owner", "stranger@contoso.example", ANNA)
    set_override(store, ids["rel"], "owner", BEN.upper(), ANNA)
    with store.session() as s:
        live = {
            (str(o.dimension), o.value)
            for o in s.scalars(sa.select(CategoryOverride).where(CategoryOverride.removed_at.is_(None)))
        }
        assert live == {("tier", "Superior"), ("owner", BEN)}
        shown = explain_relationship(s, s.get_one(Relationship, ids["rel"]))["overrides"]
    assert [(o["dimension"], o["value"], o["mailbox"], o["removed_at"] is None) for o in shown] == [
        ("tier", "Standard", BEN, False),
        ("tier", "Superior", ANNA, True),
        ("owner", BEN, ANNA, True),
    ]
    remove_override(store, ids["rel"], "tier", BEN)
    with pytest.raises(AddinActionError, match="no tier override"):
        remove_override(store, ids["rel"], "tier", BEN)


def test_not_the_same_rejects_the_pending_pair_once_recording_who(store: Store) -> None:
    ids = _seed(store)
    assert [
        d.candidate_id
        for d in pane_cards(store, triage(["jane@fabrikam.example"], ()), ANNA).cards[0].pending_duplicates
    ] == [ids["pair"]]
    not_the_same(store, ids["pair"], ANNA)
    with store.session() as s:
        pair = s.get_one(MatchCandidate, ids["pair"])
        assert pair.status is MatchStatus.REJECTED and pair.decided_by == f"addin:{ANNA}"
        assert pair.decided_at is not None
    with pytest.raises(AddinActionError, match="not waiting"):
        not_the_same(store, ids["pair"], ANNA)
    assert pane_cards(store, triage(["jane@fabrikam.example"], ()), ANNA).cards[0].pending_duplicates == ()


def test_an_exchange_identity_is_linked_to_one_mailbox_and_relinked_by_the_newest_sign_in(store: Store) -> None:
    key = identity_hash("https://mail.contoso.example/autodiscover/metadata/json/1", "uid-1")
    assert key != identity_hash("https://other.example/autodiscover/metadata/json/1", "uid-1")
    assert linked_mailbox(store, key) is None
    link_identity(store, key, ANNA.upper(), f"web:{ANNA}")
    assert linked_mailbox(store, key) == ANNA
    link_identity(store, key, BEN, f"web:{BEN}")
    assert linked_mailbox(store, key) == BEN


def test_the_card_shows_what_to_offer_next_as_the_last_follow_up_run_kept_it(store: Store) -> None:
    ids = _seed(store)
    rid = ids["rel"]
    item = triage(["jane@fabrikam.example"], ["contoso.example"])
    assert pane_cards(store, item, ANNA).cards[0].next_offer == ()  # nothing kept yet: nothing to suggest
    widget = Suggestion("Widget Pro", 0.4, 8, 20, "industry=retail")
    cable = Suggestion("Cable kit", 0.25, 5, 20, "industry=retail")
    with store.session() as s:
        assert record_offers(s, {rid: [widget, cable]}, NOW) == 1
    assert pane_cards(store, item, ANNA).cards[0].next_offer == (widget, cable)
    with store.session() as s:  # unchanged: nothing rewritten, the date stays
        assert record_offers(s, {rid: [widget, cable]}, NOW + timedelta(days=1)) == 0
        row = s.get(RelationshipOffer, rid)
        assert row is not None and row.updated_at == NOW
    with store.session() as s:
        assert record_offers(s, {rid: [cable]}, NOW + timedelta(days=2)) == 1
        assert offers_of(s, rid) == (cable,)
    with store.session() as s:  # nothing to suggest any more: the row goes
        assert record_offers(s, {}, NOW + timedelta(days=3)) == 1
        assert s.scalar(sa.select(sa.func.count()).select_from(RelationshipOffer)) == 0
    assert pane_cards(store, item, ANNA).cards[0].next_offer == ()


def test_an_override_from_the_console_names_who_set_it_and_is_audited(store: Store) -> None:
    from mapping.store.models_privacy import AuditEntry

    ids = _seed(store)
    said = set_override(
        store, ids["rel"], "tier", "superior", "Boss@Contoso.example", ("Superior", "Standard"), console=True
    )
    assert "overridden to 'Superior'" in said
    with pytest.raises(AddinActionError, match="without control characters"):
        set_override(store, ids["rel"], "owner", "a\x00b", "boss@contoso.example", console=True)
    with store.session() as s:
        rel = s.get(Relationship, ids["rel"])
        assert rel is not None
        shown = explain_relationship(s, rel)["overrides"]
        assert [(o["dimension"], o["value"], o["mailbox"]) for o in shown] == [
            ("tier", "Superior", "web:boss@contoso.example")
        ]
    remove_override(store, ids["rel"], "tier", "boss@contoso.example", console=True)
    with store.session() as s:
        entries = s.execute(
            sa.select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject).where(AuditEntry.kind == "override")
        ).all()
        assert [tuple(e) for e in entries] == [
            ("web:boss@contoso.example", "set", f"relationship:{ids['rel']}"),
            ("web:boss@contoso.example", "removed", f"relationship:{ids['rel']}"),
        ]
        assert audit.verify(s).ok
