"""Configuration from the environment: RELSYNC_STORE_URL and RELSYNC_<SECTION>__<KEY> override the file,
are validated like it, and every problem names the variable and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scheduler.cli import main
from scheduler.config import ConfigError, load_config
from scheduler.config_env import override_key, parse_value
from tests.unit.configtext import MINIMAL, ews

FILE = '[store]\nurl = "sqlite:///from-file.db"\n' + MINIMAL


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "relsync.toml"
    path.write_text(FILE, encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env)
    return info.value.problems


def test_store_url_from_the_environment_wins_over_the_file(config_file: Path) -> None:
    url = "postgresql+psycopg://relsync@db.example:5432/relsync"
    loaded = load_config(config_file, {"RELSYNC_STORE_URL": url})
    assert loaded.config.store.url == url
    assert loaded.env_overrides == ("RELSYNC_STORE_URL",)
    assert load_config(config_file, {"RELSYNC_STORE__URL": url}).config.store.url == url


def test_without_overrides_the_file_is_used(config_file: Path) -> None:
    loaded = load_config(config_file, {"RELSYNC_CONFIG": "elsewhere.toml", "RELSYNC_TEST_PG_URL": "x", "HOME": "/"})
    assert loaded.config.store.url.endswith("/from-file.db")
    assert loaded.env_overrides == ()


def test_every_kind_of_key_can_be_overridden(config_file: Path) -> None:
    loaded = load_config(
        config_file,
        {
            "RELSYNC_SYNC__PAGE_SIZE": "100",
            "RELSYNC_SYNC__INTERVAL_MINUTES": "2.5",
            "RELSYNC_PRIVACY__SKIP_PRIVATE": "false",
            "RELSYNC_MAILBOXES__ADDRESSES": '["B@Example.com", "c@example.com"]',
            "RELSYNC_EXCHANGE__USERNAME": "12345",  # a string key keeps digits as text
            "RELSYNC_LOGGING__FORMAT": "json",
            "RELSYNC_SYNC__FOLDERS": "['inbox']",
        },
    )
    config = loaded.config
    assert config.sync.page_size == 100 and config.sync.interval_minutes == 2.5
    assert config.privacy.skip_private is False
    assert config.mailboxes.addresses == ["b@example.com", "c@example.com"]
    assert ews(config).username == "12345"
    assert config.logging.format == "json"
    assert config.sync.folders == ["inbox"]
    assert len(loaded.env_overrides) == 7


def test_a_nested_table_can_be_built_from_the_environment(config_file: Path) -> None:
    loaded = load_config(
        config_file,
        {
            "RELSYNC_EXCHANGE__AUTH": "oauth",
            "RELSYNC_EXCHANGE__USERNAME": '""',
            "RELSYNC_EXCHANGE__OAUTH__TENANT_ID": "contoso.onmicrosoft.com",
            "RELSYNC_EXCHANGE__OAUTH__CLIENT_ID": "00000000-0000-0000-0000-000000000001",
            "RELSYNC_EXCHANGE__OAUTH__CLIENT_SECRET_ENV": "RELSYNC_CLIENT_SECRET",
        },
    )
    oauth = ews(loaded.config).oauth
    assert oauth is not None and oauth.tenant_id == "contoso.onmicrosoft.com"
    assert oauth.client_secret_env == "RELSYNC_CLIENT_SECRET"


def test_a_bad_value_names_the_variable_the_key_and_the_fix(config_file: Path) -> None:
    found = problems(config_file, {"RELSYNC_SYNC__PAGE_SIZE": "lots", "RELSYNC_STORE_URL": "mysql://x"})
    assert len(found) == 2
    page = next(p for p in found if "PAGE_SIZE" in p)
    assert "environment variable RELSYNC_SYNC__PAGE_SIZE: sync.page_size" in page
    assert "'lots'" in page and "Fix: write a whole number" in page and "in RELSYNC_SYNC__PAGE_SIZE" in page
    store = next(p for p in found if "STORE_URL" in p)
    assert "only sqlite:/// and postgresql+psycopg://" in store and str(config_file) in store


def test_an_unknown_key_or_section_is_an_error_naming_the_variable(config_file: Path) -> None:
    found = problems(config_file, {"RELSYNC_SYNC__PAGESIZE": "1", "RELSYNC_NOPE__X": "1"})
    assert any(
        "RELSYNC_SYNC__PAGESIZE" in p and "unknown key" in p and "unset RELSYNC_SYNC__PAGESIZE" in p for p in found
    )
    assert any("RELSYNC_NOPE__X" in p and "unknown key" in p for p in found)


def test_a_key_below_a_plain_value_is_refused(config_file: Path) -> None:
    found = problems(config_file, {"RELSYNC_STORE__URL__X": "1"})
    assert found == [
        f"{config_file}: environment variable RELSYNC_STORE__URL__X: store.url is not a "
        "table in the config, so it has no key x. Fix: unset it or correct its name"
    ]
    # not in the file either: the validation says what the key should be, naming the variable
    found = problems(config_file, {"RELSYNC_SYNC__PAGE_SIZE__X": "1"})
    assert len(found) == 1 and "sync.page_size" in found[0] and "RELSYNC_SYNC__PAGE_SIZE__X" in found[0]


def test_secrets_are_refused_as_overrides_and_the_fix_is_the_env_indirection(config_file: Path) -> None:
    found = problems(config_file, {"RELSYNC_EXCHANGE__PASSWORD": "hunter2"})
    assert len(found) == 1
    assert "RELSYNC_EXCHANGE__PASSWORD" in found[0] and "RELSYNC_EXCHANGE__PASSWORD_ENV" in found[0]
    assert "hunter2" not in found[0]
    ok = load_config(config_file, {"RELSYNC_EXCHANGE__PASSWORD_ENV": "EWS_PW"})
    assert ews(ok.config).password_env == "EWS_PW"


def test_rules_come_only_from_the_file(config_file: Path) -> None:
    found = problems(config_file, {"RELSYNC_RULES__0": "x"})
    assert "[[rules]] cannot be set from the environment" in found[0]


def test_malformed_toml_in_a_variable_is_a_clear_error(config_file: Path) -> None:
    found = problems(config_file, {"RELSYNC_MAILBOXES__ADDRESSES": '["a@example.com"'})
    assert "environment variable RELSYNC_MAILBOXES__ADDRESSES: mailboxes.addresses: not a valid TOML value" in found[0]


def test_a_problem_in_a_section_the_environment_touched_says_so(config_file: Path) -> None:
    found = problems(config_file, {"RELSYNC_EXCHANGE__AUTH": "oauth"})
    assert any("exchange" in p and "[exchange.oauth]" in p and "RELSYNC_EXCHANGE__AUTH" in p for p in found)


def test_every_problem_of_file_and_environment_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "relsync.toml"
    path.write_text(FILE.replace('internal_domains = ["example.com"]', 'internal_domains = ["@bad"]'))
    found = problems(path, {"RELSYNC_SYNC__PAGE_SIZE": "0", "RELSYNC_X__": "1"})
    assert len(found) == 3
    assert any("organisation.internal_domains" in p and "environment" not in p for p in found)
    assert any("RELSYNC_SYNC__PAGE_SIZE" in p for p in found)
    assert any("RELSYNC_X__" in p and "empty part" in p for p in found)


def test_the_cli_reads_the_environment_and_exits_2_naming_the_variable(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELSYNC_CONFIG", str(config_file))
    monkeypatch.setenv("RELSYNC_SYNC__PAGE_SIZE", "999")
    with pytest.raises(SystemExit) as info:
        main(["status"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "environment variable RELSYNC_SYNC__PAGE_SIZE" in err and str(config_file) in err


NAME_PART = st.from_regex(r"[A-Z][A-Z0-9]{0,5}(_[A-Z0-9]{1,5}){0,2}", fullmatch=True)


@given(NAME_PART, NAME_PART, NAME_PART)
def test_override_names_map_to_lower_case_key_paths(section: str, table: str, key: str) -> None:
    assert override_key(f"RELSYNC_{section}__{key}") == (section.lower(), key.lower())
    assert override_key(f"RELSYNC_{section}__{table}__{key}") == (section.lower(), table.lower(), key.lower())
    assert override_key(f"RELSYNC_{section}") is None


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_plain_values_are_taken_as_text(text: str) -> None:
    assume(not text.strip().startswith(("[", "{", '"', "'")))
    assert parse_value(text) == text.strip()
