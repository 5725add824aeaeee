"""``[classification]`` and ``[[rules]]`` in the TOML file: defaults, custom classes, rule errors with lines."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mapping.classify_config import DEFAULT_POTENTIAL_CLASSES, DEFAULT_VALUE_CLASSES, ClassificationConfig
from scheduler.config import ConfigError, LoadedConfig, load_config
from scheduler.config_classification import rule_lines
from tests.unit.configtext import MINIMAL

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, extra: str, first: str = "") -> LoadedConfig:
    path = tmp_path / "relsync.toml"
    path.write_text(first + MINIMAL + extra, encoding="utf-8")
    return load_config(path)


def problems(tmp_path: Path, extra: str, first: str = "") -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, extra, first)
    return info.value.problems


def _without_owners(config: ClassificationConfig) -> ClassificationConfig:
    return replace(config, categories=replace(config.categories, owner_labels={}))


def test_without_the_sections_classification_uses_the_seeds_tables(tmp_path: Path) -> None:
    loaded = load(tmp_path, "")
    assert _without_owners(loaded.classification) == ClassificationConfig()
    # Every configured staff mailbox can be chosen as owner ("Owner: <address>" unless named).
    assert set(loaded.classification.categories.owner_labels.values()) == set(loaded.config.mailboxes.addresses)
    assert loaded.classification.value_classes == DEFAULT_VALUE_CLASSES
    assert loaded.classification.potential_classes == DEFAULT_POTENTIAL_CLASSES
    assert loaded.rules == ()


def test_the_example_config_builds_the_defaults(tmp_path: Path) -> None:
    loaded = load_config(ROOT / "config.example.toml")
    assert _without_owners(loaded.classification) == ClassificationConfig()
    assert loaded.rules == ()


def test_custom_classes_templates_user_fields_and_rules(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        """
[classification]
value_period_days = 730
engagement_window_days = 60
currency = "EUR"
value_classes = [
  { name = "Drop", upper = 0, colour = "Preset0" },
  { name = "Low", lower = 1, upper = 49, colour = "Preset1" },
  { name = "Mid", lower = 50, upper = 89, colour = "Preset2" },
  { name = "Top", lower = 90, upper = 100, colour = "Preset3" },
  { name = "Star", lower = 101, colour = "Preset4" },
]
potential_classes = [
  { name = "Cold", methods = ["e-mail"] },
  { name = "Warm", min_score = 30, methods = ["telephone", "e-mail"], colour = "Preset5" },
  { name = "Hot", min_score = 60, methods = ["visit"], colour = "Preset6" },
]
user_fields = { "Lead Source" = "source" }

[classification.status]
active_days = 30
inactive_days = 180

[classification.categories]
value_template = "Wert: {tier}"

[[rules]]
name = "government to carol"
when = 'industry == "Government"'
set = { owner = "carol@example.com", potential = "hot" }
""",
    )
    c = loaded.classification
    assert [v.name for v in c.value_classes] == ["Drop", "Low", "Mid", "Top", "Star"]
    assert c.potential_classes[2].methods == ("visit",)
    assert (c.status.active_days, c.status.inactive_days, c.value_period_days, c.engagement_window_days) == (
        30,
        180,
        730,
        60,
    )
    assert c.categories.value_template == "Wert: {tier}"
    assert dict(c.user_field_map) == {"source": "Lead Source"}
    assert loaded.config.classification.currency == "EUR"
    (rule,) = loaded.rules
    assert rule.name == "government to carol" and dict(rule.sets) == {"owner": "carol@example.com", "potential": "Hot"}
    text = (tmp_path / "relsync.toml").read_text(encoding="utf-8").splitlines()
    assert rule.line == text.index("[[rules]]") + 1


def test_every_bad_rule_is_reported_with_its_line_and_a_fix(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
[[rules]]
name = "fine"
when = 'tier == "Average"'
set = { tier = "Superior" }

[[rules]]
name = "does not parse"
when = 'tier == '
set = { tier = "Average" }

[[ rules ]]   # spaces and a comment are fine
name = "unknown field"
when = 'revnue > 10'
set = { tier = "Average" }

[[rules]]
name = "unknown tier"
when = 'true'
set = { tier = "Great", type = "friend", status = "dormant", potential = "Huge", colour = "red" }
""",
    )
    base = MINIMAL.count("\n")
    path = tmp_path / "relsync.toml"
    assert found[0].startswith(f"{path}: rules[1] 'does not parse' (line {base + 7}): 'when' does not parse")
    assert found[1].startswith(f"{path}: rules[2] 'unknown field' (line {base + 12}): unknown field 'revnue'")
    tier = [p for p in found if "rules[3] 'unknown tier'" in p]
    assert all(f"(line {base + 17})" in p for p in tier)
    assert any("unknown tier 'Great'" in p for p in tier) and any("unknown type 'friend'" in p for p in tier)
    assert any("unknown status 'dormant'" in p for p in tier) and any("unknown potential 'Huge'" in p for p in tier)
    assert any("cannot set 'colour'" in p for p in tier)
    assert all(". Fix: " in p for p in found)
    assert not any("'fine'" in p for p in found)


def test_a_rule_missing_a_key_is_a_plain_config_error(tmp_path: Path) -> None:
    found = problems(tmp_path, '\n[[rules]]\nname = "x"\nset = { tier = "Average" }\n')
    assert any("rules[0].when" in p and "add this key" in p for p in found)


def test_bad_classes_are_reported_by_key(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
[classification]
value_classes = [{ name = "A", upper = 0 }, { name = "B", lower = 1, upper = 100 }]
potential_classes = [{ name = "L" }, { name = "M", min_score = 50 }, { name = "H", min_score = 40 }]
user_fields = { "Industry" = "industry", "Branche" = "industry" }
""",
    )
    text = "\n".join(found)
    assert "classification.user_fields.Branche" in text
    assert "classification.value_classes: needs 3 to 5 classes, has 2" in text
    assert "classification.potential_classes[2].min_score: must be above 50" in text


def test_rule_lines_skip_headers_inside_multiline_strings() -> None:
    text = 'a = """\n[[rules]]\n"""\n[[rules]]\nname = "x"\n  [[rules]] # two\nb = \'\'\'\n[[rules]]\n\'\'\'\n'
    assert rule_lines(text) == [4, 6]


def test_rules_as_an_inline_array_get_no_line_rather_than_a_wrong_one(tmp_path: Path) -> None:
    found = problems(tmp_path, "", first="rules = [{ name = 'x', when = 'tier ==', set = { tier = 'Average' } }]\n")
    assert found[0].endswith(
        "Fix: correct the expression (rule_engine syntax: and, or, not, ==, !=, <, =~, ?? for empty fields)"
    )
    assert "(line" not in found[0] and "rules[0] 'x':" in found[0]
