"""The business case's sections (``[keydates]`` ... ``[potential_signals]``): defaults as the example
file documents them, per-tier key dates, and every mistake one sentence naming file, key and fix."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from scheduler.config import ConfigError, LoadedConfig, load_config
from tests.unit.configtext import MINIMAL

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _load(tmp_path: Path, extra: str = "") -> LoadedConfig:
    path = tmp_path / "relsync.toml"
    path.write_text(MINIMAL + extra, encoding="utf-8")
    return load_config(path, environ={})


def _problems(tmp_path: Path, extra: str) -> str:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, extra)
    return str(err.value)


def test_without_the_sections_the_defaults_are_the_commented_ones_of_the_example_file(tmp_path: Path) -> None:
    b = _load(tmp_path).business
    # The example's commented block, uncommented, gives exactly the defaults.
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("# [keydates]") : text.index("\n[web]")]
    example = tomllib.loads("\n".join(ln.removeprefix("# ") for ln in block.splitlines() if not ln.startswith("# #")))
    kd = example["keydates"]
    assert b.keydates.default.thank_you_min_amount == Decimal(kd["thank_you_min_amount"])
    assert b.keydates.default.win_back_factor == kd["win_back_factor"]
    assert b.referral_field == example["referrals"]["user_field"] == "Referred By"
    assert b.referral_share == Decimal(str(example["referrals"]["value_share"]))
    assert b.concentration_percent == example["groups"]["concentration_warning_percent"]
    assert b.offers.top == example["next_offer"]["top"] and b.note_limit == example["what_matters"]["limit"]
    assert b.min_unanswered == example["contact_pressure"]["min_unanswered"]
    assert b.user_fields == ("Referred By", "Parent Organization", "What matters")


def test_a_tier_table_replaces_only_the_keys_it_names(tmp_path: Path) -> None:
    b = _load(
        tmp_path,
        "\n[keydates]\nthank_you_within_days = 5\n[keydates.tiers.Marginal]\n"
        "thank_you_min_amount = 50000\n[keydates.tiers.Eliminate]\nwin_back = false\n",
    ).business
    assert b.keydates.settings_for("Marginal").thank_you_min_amount == 50000
    assert b.keydates.settings_for("Marginal").thank_you_within_days == 5
    assert b.keydates.settings_for("Eliminate").win_back is False
    assert b.keydates.settings_for("Superior") == b.keydates.default


def test_a_win_back_factor_of_one_names_the_key(tmp_path: Path) -> None:
    message = _problems(tmp_path, "\n[keydates]\nwin_back_factor = 1.0\n")
    assert "keydates.win_back_factor must be above 1" in message and "Fix:" in message


def test_an_unknown_key_in_a_tier_table_names_the_tier_and_the_key(tmp_path: Path) -> None:
    message = _problems(tmp_path, "\n[keydates.tiers.Superior]\nthank_you_amount = 5\n")
    assert "keydates.tiers.Superior: unknown key thank_you_amount" in message


def test_a_referral_share_above_one_is_refused(tmp_path: Path) -> None:
    assert "referrals.value_share" in _problems(tmp_path, "\n[referrals]\nvalue_share = 1.5\n")


def test_a_missing_catalogue_file_names_the_key_and_the_path(tmp_path: Path) -> None:
    message = _problems(tmp_path, '\n[next_offer]\ncatalogue = "products.csv"\n')
    assert "next_offer.catalogue" in message and str(tmp_path / "products.csv") in message


def test_a_catalogue_with_nothing_usable_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "products.toml").write_text("[products\n", encoding="utf-8")
    assert "next_offer.catalogue" in _problems(tmp_path, '\n[next_offer]\ncatalogue = "products.toml"\n')


def test_a_duplicate_alias_is_kept_as_a_warning_and_the_catalogue_is_used(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(
        "product,alias\nWidget Pro 2,WP2\nGadget,WP2\nGadget,Gizmo\n", encoding="utf-8"
    )
    b = _load(tmp_path, '\n[next_offer]\ncatalogue = "products.csv"\n').business
    (problem,) = b.catalogue_problems
    assert "'WP2'" in problem.message and "products.csv line 3" in problem.message
    assert b.catalogue.resolve("wp2") == "Widget Pro 2" and b.catalogue.resolve("GIZMO") == "Gadget"


def test_parent_rules_and_import_columns_are_read(tmp_path: Path) -> None:
    b = _load(
        tmp_path,
        '\n[referrals]\nimport_column = ""\n[groups]\nimport_column = "parent"\n'
        '[[groups.rules]]\nname = "Acme *"\nparent = "Acme Holdings"\n'
        '[[groups.rules]]\ndomain = "*.globex.com"\nparent = "Globex"\n',
    ).business
    assert b.referral_import_field == "" and b.group_import_field == "Parent"
    assert [(r.parent, r.name, r.domain) for r in b.parent_rules] == [
        ("Acme Holdings", "Acme *", None),
        ("Globex", None, "*.globex.com"),
    ]
    assert b.stored_fields == ("Referred By", "Parent Organization", "What matters", "Parent")


def test_a_rule_with_both_or_no_pattern_and_an_unknown_import_column_name_their_keys(tmp_path: Path) -> None:
    message = _problems(
        tmp_path,
        '\n[referrals]\nimport_column = "referrer"\n[[groups.rules]]\nparent = "Acme Holdings"\n',
    )
    assert "referrals.import_column" in message and "unknown import column 'referrer'" in message
    assert "groups.rules" in message and "exactly one of name or domain" in message
