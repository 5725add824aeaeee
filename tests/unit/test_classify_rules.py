"""Business rules: checked at load with errors naming the rule; run in order; overrides win."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mapping.classify import classify_all
from mapping.classify_config import ClassificationConfig
from mapping.relationship_records import RelationshipFacts
from mapping.rules import RULE_FIELDS, RulesError, RuleSpec, compile_rules, facts_context

NOW = datetime(2026, 11, 22, tzinfo=UTC)
CONFIG = ClassificationConfig()


def facts(id_: str = "r1", **kw: object) -> RelationshipFacts:
    return RelationshipFacts(id=id_, kind="organization", name=id_.upper(), **kw)  # type: ignore[arg-type]


def rejected(*specs: RuleSpec) -> str:
    with pytest.raises(RulesError) as info:
        compile_rules(specs, CONFIG)
    return str(info.value)


def test_a_rule_that_does_not_parse_is_named_with_its_line() -> None:
    message = rejected(
        RuleSpec("ok", 'industry == "Retail"', {"owner": "a@example.com"}, line=10),
        RuleSpec("broken", "net_revenue > ", {"tier": "Superior"}, line=14),
    )
    assert "rules[1] 'broken' (line 14)" in message
    assert "does not parse" in message
    assert "'ok'" not in message


def test_an_unknown_field_is_rejected_with_a_suggestion() -> None:
    message = rejected(RuleSpec("typo", "net_revenu > 100", {"tier": "Superior"}, line=3))
    assert "rules[0] 'typo' (line 3)" in message
    assert "unknown field 'net_revenu'" in message
    assert "did you mean 'net_revenue'" in message


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ({"tier": "Gold"}, "unknown tier 'Gold': one of Eliminate, Marginal, Average, Superior"),
        ({"potential": "Huge"}, "unknown potential 'Huge'"),
        ({"type": "friend"}, "unknown type 'friend'"),
        ({"status": "sleeping"}, "unknown status 'sleeping'"),
        ({"colour": "red"}, "cannot set 'colour'"),
        ({"owner": " "}, "set.owner must not be empty"),
        ({}, "'set' is empty"),
    ],
)
def test_bad_set_is_rejected(sets: dict[str, str], expected: str) -> None:
    message = rejected(RuleSpec("bad set", 'kind == "person"', sets, line=7))
    assert "rules[0] 'bad set' (line 7)" in message
    assert expected in message


def test_every_bad_rule_is_listed_at_once_and_without_a_line_by_position() -> None:
    with pytest.raises(RulesError) as info:
        compile_rules(
            [
                RuleSpec("one", "nope > 1", {"tier": "Superior"}),
                RuleSpec("two", "kind ==", {"tier": "Superior"}),
                RuleSpec("three", "kind", {"tier": "Superior"}),
                RuleSpec("one", 'kind == "person"', {"tier": "Superior"}),
            ],
            CONFIG,
        )
    keys = [p.key for p in info.value.problems]
    assert keys == ["rules[0] 'one'", "rules[1] 'two'", "rules[2] 'three'", "rules[3] 'one'"]
    assert "must be a condition" in str(info.value)
    assert "same name" in str(info.value)


def test_type_errors_and_unsafe_nullable_use_are_rejected_at_load() -> None:
    assert "not valid" in rejected(RuleSpec("types", 'net_revenue > "lots"', {"tier": "Superior"}))
    # size may be empty: a regex on it needs a default
    assert "nullable" in rejected(RuleSpec("regex", 'size =~ "lar.*"', {"tier": "Superior"}))
    compile_rules([RuleSpec("regex", '(size ?? "") =~ "lar.*"', {"tier": "Superior"})], CONFIG)


def test_set_values_are_matched_case_insensitively_and_canonicalised() -> None:
    (rule,) = compile_rules([RuleSpec("r", 'kind == "person"', {"tier": "superior", "type": "Sales Partner"})], CONFIG)
    assert rule.sets == (("tier", "Superior"), ("type", "sales partner"))


def test_every_rule_field_is_in_the_context() -> None:
    ctx = facts_context(facts(), CONFIG, NOW)
    classification_fields = {"type", "status", "value", "tier", "potential", "potential_score", "owner"}
    assert set(RULE_FIELDS) == set(ctx) | classification_fields


def test_rules_run_in_order_later_rules_win_and_see_earlier_results() -> None:
    rules = compile_rules(
        [
            RuleSpec("retail is high", 'industry == "Retail"', {"potential": "High", "owner": "a@example.com"}, 1),
            RuleSpec("big is superior", "net_revenue >= 1000", {"tier": "Superior", "owner": "b@example.com"}, 2),
            RuleSpec("chain", 'owner == "b@example.com" and potential == "High"', {"type": "vendor"}, 3),
        ],
        CONFIG,
    )
    result = classify_all(
        [
            facts("both", industry="Retail", orders=Decimal(1000)),
            facts("retail", industry="Retail"),
            facts("none"),
        ],
        CONFIG,
        rules,
        now=NOW,
    )
    both, retail, none = result
    assert both.fired_rules == ("retail is high (line 1)", "big is superior (line 2)", "chain (line 3)")
    assert (both.owner, both.potential, both.tier, both.type) == ("b@example.com", "High", "Superior", "vendor")
    assert retail.fired_rules == ("retail is high (line 1)",)
    assert (retail.owner, retail.potential, retail.type) == ("a@example.com", "High", "lead")
    assert none.fired_rules == () and none.owner is None


def test_rules_can_read_user_fields_and_products_and_dates() -> None:
    rules = compile_rules(
        [
            RuleSpec("trade show", 'user_fields&["Campaign"] == "trade show"', {"owner": "t@example.com"}),
            RuleSpec("crm users", '"crm" in products', {"potential": "High"}),
            RuleSpec("silent", "(days_since_interaction ?? 9999) > 400", {"status": "archive"}),
        ],
        CONFIG,
    )
    a, b = classify_all(
        [
            facts("a", user_fields={"Campaign": "trade show"}, products=("crm",)),
            facts("b", latest_interaction_at=NOW - timedelta(days=100)),
        ],
        CONFIG,
        rules,
        now=NOW,
    )
    assert a.owner == "t@example.com" and a.potential == "High" and a.status == "archive"
    assert b.owner is None and b.status == "inactive"


def test_a_rule_failing_at_run_time_does_not_fire_and_is_noted() -> None:
    rules = compile_rules([RuleSpec("strict lookup", 'user_fields["Campaign"] == "x"', {"tier": "Superior"})], CONFIG)
    (c,) = classify_all([facts()], CONFIG, rules, now=NOW)
    assert c.fired_rules == ()
    assert c.tier == "Eliminate"
    assert any("strict lookup" in n and "Campaign" in n for n in c.notes)


def test_overrides_win_over_rules_and_are_reported() -> None:
    rules = compile_rules([RuleSpec("all superior", "true", {"tier": "Superior", "type": "customer"})], CONFIG)
    (c,) = classify_all(
        [facts(overrides={"tier": "marginal", "type": "Vendor", "owner": "staff@example.com"})], CONFIG, rules, now=NOW
    )
    assert c.fired_rules == ("all superior",)
    assert (c.tier, c.type, c.owner) == ("Marginal", "vendor", "staff@example.com")
    assert set(c.overridden) == {"tier", "type", "owner"}


def test_an_override_naming_an_unknown_value_is_ignored_and_noted() -> None:
    (c,) = classify_all([facts(overrides={"tier": "Gold", "mood": "happy"})], CONFIG, now=NOW)
    assert c.tier == "Eliminate" and c.overridden == ()
    assert len(c.notes) == 2 and "Gold" in c.notes[0]


def test_memoised_rule_outcomes_match_a_fresh_evaluation() -> None:
    rules = compile_rules(
        [
            RuleSpec("size", 'size == "large"', {"potential": "High"}),
            RuleSpec("tier", 'tier == "Superior" and industry == "Retail"', {"owner": "x@example.com"}),
        ],
        CONFIG,
    )
    population = [
        facts(f"r{i}", size=["large", "small", None][i % 3], industry=["Retail", None][i % 2], orders=Decimal(i))
        for i in range(60)
    ]
    together = classify_all(population, CONFIG, rules, now=NOW)
    for f, c in zip(population, together, strict=True):
        alone = {x.id: x for x in classify_all(population, CONFIG, rules, now=NOW)}[f.id]
        assert (c.potential, c.owner, c.fired_rules) == (alone.potential, alone.owner, alone.fired_rules)
        assert (c.potential == "High") == (f.size == "large" or c.potential_score >= 55)
        assert (c.owner == "x@example.com") == (c.tier == "Superior" and f.industry == "Retail")


def test_explain_inputs_hold_the_facts_and_derived_figures() -> None:
    (c,) = classify_all(
        [facts(orders=Decimal(10), returns=Decimal(3), first_contact_at=NOW - timedelta(days=30))], CONFIG, now=NOW
    )
    assert c.inputs["net_revenue"] == Decimal(7)
    assert c.inputs["days_since_first_contact"] == 30
    assert c.inputs["name"] == "R1"


def test_key_prefix_and_heading_point_into_the_toml() -> None:
    with pytest.raises(RulesError) as info:
        compile_rules([RuleSpec("x", "nope", {"tier": "Superior"}, line=42)], CONFIG, key_prefix="classification.rules")
    assert str(info.value).startswith("invalid business rules:\n  classification.rules[0] 'x' (line 42): unknown field")
    assert info.value.problems[0].line == 42


def test_classify_all_restores_the_garbage_collector() -> None:
    import gc

    assert gc.isenabled()
    classify_all([facts()], CONFIG, now=NOW)
    assert gc.isenabled()
    gc.disable()
    try:
        classify_all([facts()], CONFIG, now=NOW)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_empty_population() -> None:
    assert classify_all([], CONFIG, now=NOW) == []


def test_pure_builtins_and_comprehension_variables_run_instead_of_failing_every_classification() -> None:
    rules = compile_rules(
        [
            RuleSpec("pi", "$pi > 3.0 and $abs(value) >= 0.0", {"potential": "High"}),
            RuleSpec("crm", '$any([p == "crm" for p in products])', {"owner": "c@example.com"}),
            RuleSpec("parsed", '$parse_float("2.5") > 2.0', {"type": "vendor"}),
        ],
        CONFIG,
    )
    a, b = classify_all([facts("a", products=("crm",)), facts("b")], CONFIG, rules, now=NOW)
    assert a.fired_rules == ("pi", "crm", "parsed") and a.owner == "c@example.com" and a.type == "vendor"
    assert b.fired_rules == ("pi", "parsed") and b.owner is None and not b.notes


@pytest.mark.parametrize("builtin", ["$now", "$today", "$random()"])
def test_builtins_that_read_the_clock_or_chance_are_refused_at_load_with_the_line(builtin: str) -> None:
    message = rejected(RuleSpec("moody", f"{builtin} != null", {"tier": "Superior"}, line=12))
    assert "(line 12)" in message and f"uses {builtin.removesuffix('()')}" in message


def test_a_when_nested_too_deeply_is_refused_at_load() -> None:
    message = rejected(RuleSpec("deep", " or ".join(['industry == "x"'] * 2000), {"tier": "Superior"}, line=3))
    assert "(line 3)" in message and "nested too deeply" in message
    shallow = compile_rules([RuleSpec("ok", " or ".join(['industry == "x"'] * 50), {"tier": "Superior"})], CONFIG)
    (c,) = classify_all([facts(industry="x")], CONFIG, shallow, now=NOW)
    assert c.tier == "Superior"
