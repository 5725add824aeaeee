"""Managed categories, the merge, and three-way override detection: worked examples."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from mapping.categories import (
    all_managed_names,
    detect_overrides,
    managed_categories,
    managed_colours,
    merge_categories,
    parse_managed,
)
from mapping.classify import classify_all
from mapping.classify_config import CategoryNames, ClassificationConfig
from mapping.relationship_records import RelationshipFacts

CONFIG = ClassificationConfig()
NAMES = CONFIG.categories
MANAGED = all_managed_names(CONFIG)
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_managed_categories_of_a_classification() -> None:
    (c,) = classify_all(
        [
            RelationshipFacts(
                "r", "organization", "R", orders=Decimal(5), size="enterprise", inbound_recent=9, outbound_recent=3
            )
        ],
        CONFIG,
        now=NOW,
    )
    assert managed_categories(c, NAMES) == ("Customer", "Value: Superior", "Potential: High")


def test_all_managed_names_and_colours() -> None:
    assert len(MANAGED) == 5 + 4 + 3
    assert {"Sales partner", "Value: Eliminate", "Potential: Low"} <= MANAGED
    colours = managed_colours(CONFIG)
    assert colours["Value: Superior"] == "Preset4" and colours["Customer"] == "Preset8"
    with_status = ClassificationConfig(categories=CategoryNames(status_template="Status: {status}"))
    assert "Status: Archive" in all_managed_names(with_status)


def test_merge_keeps_user_categories_and_replaces_managed() -> None:
    current = ["Golf", "Customer", "Value: Average", "VIP", "Potential: Low"]
    merged = merge_categories(current, ["Customer", "Value: Superior", "Potential: Low"], MANAGED)
    assert merged == ["Golf", "Customer", "VIP", "Potential: Low", "Value: Superior"]


def test_merge_of_a_correct_contact_is_the_contact_itself() -> None:
    current = ["Potential: High", "Golf", "Customer", "Value: Superior"]
    assert merge_categories(current, ["Customer", "Value: Superior", "Potential: High"], MANAGED) == current


def test_merge_is_case_insensitive_and_removes_duplicates_of_managed() -> None:
    merged = merge_categories(["value: superior", "golf", "Value: Superior", "LEAD"], ["Value: Superior"], MANAGED)
    assert merged == ["Value: Superior", "golf"]


def test_parse_managed() -> None:
    assert parse_managed("Value: Superior", NAMES) == ("tier", "Superior")
    assert parse_managed("potential: high", NAMES) == ("potential", "high")
    assert parse_managed("Vendor", NAMES) == ("type", "vendor")
    assert parse_managed("Golf", NAMES) is None


def test_staff_replacing_a_managed_category_is_an_override() -> None:
    written = ["Customer", "Value: Average", "Potential: Low"]
    current = ["Customer", "Value: Superior", "Potential: Low", "Golf"]
    assert detect_overrides(written, current, MANAGED, NAMES) == {"tier": "Superior"}


def test_staff_adding_vendor_next_to_ours_is_an_override_of_type() -> None:
    written = ["Customer", "Value: Average", "Potential: Low"]
    assert detect_overrides(written, [*written, "Vendor"], MANAGED, NAMES) == {"type": "vendor"}


def test_removing_ours_without_replacement_is_no_override() -> None:
    written = ["Customer", "Value: Superior", "Potential: Low"]
    assert detect_overrides(written, ["Customer", "Potential: Low"], MANAGED, NAMES) == {"tier": None}


def test_our_own_write_coming_back_is_never_an_override() -> None:
    written = ["Golf", "Customer", "Value: Superior", "Potential: Low"]
    assert detect_overrides(written, written, MANAGED, NAMES) == {}
    back = ["potential: low", "customer", "Golf", "VALUE: SUPERIOR"]
    assert detect_overrides(written, back, MANAGED, NAMES) == {}


def test_user_categories_are_never_overrides_and_no_baseline_claims_nothing() -> None:
    written = ["Customer"]
    assert detect_overrides(written, ["Customer", "Golf", "Value: Gold"], MANAGED, NAMES) == {}
    assert detect_overrides(None, ["Vendor", "Value: Superior"], MANAGED, NAMES) == {}


def test_two_added_for_one_dimension_the_later_wins() -> None:
    written = ["Lead"]
    current = ["Lead", "Value: Marginal", "Value: Superior"]
    assert detect_overrides(written, current, MANAGED, NAMES) == {"tier": "Superior"}


def test_override_round_trip_through_classification() -> None:
    f = RelationshipFacts("r", "organization", "R", orders=Decimal(1))
    (computed,) = classify_all([f, RelationshipFacts("s", "organization", "S", orders=Decimal(9))], CONFIG, now=NOW)[:1]
    written = list(managed_categories(computed, NAMES))
    assert written == ["Customer", "Value: Average", "Potential: Low"]
    staff = [c if c != "Value: Average" else "Value: Superior" for c in written]
    overrides: dict[str, str] = {
        k: v for k, v in detect_overrides(written, staff, MANAGED, NAMES).items() if v is not None
    }
    (again,) = classify_all(
        [
            RelationshipFacts("r", "organization", "R", orders=Decimal(1), overrides=overrides),
            RelationshipFacts("s", "organization", "S", orders=Decimal(9)),
        ],
        CONFIG,
        now=NOW,
    )[:1]
    assert again.tier == "Superior" and again.overridden == ("tier",)
    wanted = managed_categories(again, NAMES)
    merged = merge_categories(staff, wanted, MANAGED)
    assert merged == staff  # nothing to write: staff's choice is what we want
    assert detect_overrides(merged, merged, MANAGED, NAMES) == {}
