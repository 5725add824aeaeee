"""Type, status and potential as computed before rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mapping.classify import classify_all, default_status, default_type, methods_of_interaction, potential_score
from mapping.classify_config import ClassificationConfig, PotentialSignals
from mapping.relationship_records import RelationshipFacts

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
CONFIG = ClassificationConfig()


def facts(**kw: object) -> RelationshipFacts:
    return RelationshipFacts(id="r", kind="person", name="R", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, "lead"),
        ({"inbound_recent": 3}, "lead"),
        ({"outbound_previous": 3}, "lead"),
        ({"inbound_recent": 1, "outbound_previous": 1}, "prospect"),
        ({"meetings_recent": 1}, "prospect"),
        ({"order_count": 1}, "customer"),
        ({"orders": Decimal(5), "inbound_recent": 1}, "customer"),
        ({"referrals_made": 2, "inbound_recent": 1, "outbound_recent": 1}, "sales partner"),
        ({"referral_credits": Decimal(100)}, "sales partner"),
        ({"referrals_made": 2, "order_count": 1}, "customer"),
    ],
)
def test_default_type(kw: dict[str, object], expected: str) -> None:
    assert default_type(facts(**kw)) == expected


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, "inactive"),
        ({"first_contact_at": NOW - timedelta(days=5)}, "active"),
        ({"latest_interaction_at": NOW - timedelta(days=90)}, "active"),
        ({"latest_interaction_at": NOW - timedelta(days=91)}, "inactive"),
        (
            {"latest_interaction_at": NOW - timedelta(days=400), "latest_transaction_at": NOW - timedelta(days=10)},
            "active",
        ),
        ({"latest_transaction_at": NOW - timedelta(days=365)}, "inactive"),
        ({"latest_transaction_at": NOW - timedelta(days=366)}, "archive"),
        ({"latest_interaction_at": NOW + timedelta(days=3)}, "active"),
    ],
)
def test_default_status(kw: dict[str, object], expected: str) -> None:
    assert default_status(facts(**kw), CONFIG, NOW) == expected


def test_potential_signals_are_explained() -> None:
    f = facts(
        inbound_recent=6,
        outbound_recent=2,
        inbound_previous=1,
        outbound_previous=1,
        latest_inbound_at=NOW - timedelta(days=9),
        size="Large",
        referrals_made=6,
    )
    score, parts = potential_score(f, PotentialSignals(), NOW)
    contributions = dict(parts)
    assert contributions["engagement trend"] == pytest.approx(40 * 6 / 10)
    assert contributions["recent inbound interest"] == pytest.approx(27)
    assert contributions["size"] == pytest.approx(11.25)
    assert contributions["referrals made"] == pytest.approx(15)
    assert score == pytest.approx(sum(contributions.values()))
    (c,) = classify_all([f], CONFIG, now=NOW)
    assert c.potential == "High" and c.potential_signals == parts
    assert methods_of_interaction(c.potential, CONFIG) == ("face to face", "telephone", "e-mail")


def test_falling_engagement_lowers_potential_and_nothing_is_low() -> None:
    falling = facts(inbound_recent=0, inbound_previous=8, outbound_previous=8)
    nothing = facts()
    middling = facts(latest_inbound_at=NOW - timedelta(days=5), size="medium")
    a, b, c = classify_all([falling, nothing, middling], CONFIG, now=NOW)
    assert a.potential_score == pytest.approx(-40) and a.potential == "Low"
    assert b.potential_score == 0 and b.potential == "Low" and b.potential_signals == ()
    assert c.potential == "Average"


def test_small_numbers_do_not_make_a_trend() -> None:
    score, _ = potential_score(facts(inbound_recent=1), PotentialSignals(), NOW)
    assert score == pytest.approx(10)  # (1 - 0) / max(1, 4) * 40


def test_outlook_user_fields_supply_attributes() -> None:
    f = facts(industry="Retail", user_fields={"Industry": "Government", "Source": " ", "Referred By": "Ann"})
    (c,) = classify_all([f], CONFIG, now=NOW)
    assert c.inputs["industry"] == "Government"
    assert c.inputs["source"] is None
    assert c.inputs["referred_by"] == "Ann"
