"""Configuration loading: every problem reported at once, with file, key and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.config import ConfigError, SecretError, load_config, parse_config, resolve_secret
from tests.unit.configtext import ews

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
[exchange]
endpoint = "https://mail.example.com/EWS/Exchange.asmx"
auth = "basic"
username = "svc@example.com"
password_env = "RELSYNC_TEST_PW"

[mailboxes]
addresses = ["Alice@Example.com"]

[organisation]
internal_domains = ["www.example.com"]
"""


def problems_of(text: str, name: str = "relsync.toml") -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path(name))
    return info.value.problems


def test_example_config_is_valid_and_complete() -> None:
    loaded = load_config(ROOT / "config.example.toml")
    assert loaded.config.store.url.endswith("/relsync.db")
    assert loaded.config.sync.page_size == 512
    assert loaded.config.privacy.store_bodies is False


def test_minimal_config_gets_documented_defaults() -> None:
    config = parse_config(MINIMAL, Path("relsync.toml"))
    assert config.store.url == "sqlite:///relsync.db"
    assert config.mailboxes.addresses == ["alice@example.com"]
    assert config.organisation.internal_domains == ["example.com"]
    assert config.sync.folders == ["contacts", "inbox", "sentitems", "calendar"]
    assert config.privacy.skip_private and config.privacy.skip_confidential


def test_every_problem_is_reported_at_once_with_file_key_and_fix() -> None:
    text = MINIMAL.replace('auth = "basic"', 'auth = "kerberos"') + "\n[sync]\npage_size = 9000\nfolderz = []\n"
    problems = problems_of(text, "/etc/relsync.toml")
    joined = "\n".join(problems)
    assert len(problems) >= 3
    assert all(p.startswith("/etc/relsync.toml: ") and "Fix: " in p for p in problems)
    assert "exchange.auth" in joined and "'kerberos'" in joined
    assert "sync.page_size" in joined
    assert "sync.folderz: unknown key" in joined


def test_missing_section_is_named() -> None:
    problems = problems_of(MINIMAL.replace('[mailboxes]\naddresses = ["Alice@Example.com"]', ""))
    assert any(p.startswith("relsync.toml: mailboxes: ") and "add this key" in p for p in problems)


def test_inline_password_is_refused_without_echoing_it() -> None:
    text = MINIMAL.replace('password_env = "RELSYNC_TEST_PW"', 'password = "hunter2"')
    problems = problems_of(text)
    assert len(problems) == 1
    assert "exchange.password: secrets must not be written" in problems[0]
    assert "password_env" in problems[0]
    assert "hunter2" not in problems[0]


def test_inline_oauth_client_secret_is_refused() -> None:
    text = MINIMAL + '\n[exchange.oauth]\ntenant_id = "t"\nclient_id = "c"\nclient_secret = "s3cret"\n'
    problems = problems_of(text)
    assert "exchange.oauth.client_secret" in problems[0] and "s3cret" not in problems[0]


def test_oauth_needs_exactly_one_credential() -> None:
    oauth = '\n[exchange.oauth]\ntenant_id = "t"\nclient_id = "c"\n'
    text = MINIMAL.replace('auth = "basic"', 'auth = "oauth"') + oauth
    problems = problems_of(text)
    assert any("exchange.oauth" in p and "exactly one of client_secret_env" in p for p in problems)


OAUTH = MINIMAL.replace('auth = "basic"', 'auth = "oauth"') + (
    '\n[exchange.oauth]\ntenant_id = "t"\nclient_id = "c"\nclient_secret_file = "secret"\n'
)


def test_oauth_files_and_ca_bundle_resolve_beside_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "relsync.toml"
    path.parent.mkdir()
    path.write_text(OAUTH + 'ca_bundle = "pki/ca.pem"\n')
    oauth = ews(load_config(path).config).oauth
    assert oauth is not None
    assert oauth.ca_bundle == tmp_path / "conf" / "pki" / "ca.pem"
    assert oauth.client_secret_file == tmp_path / "conf" / "secret"


def test_oauth_ca_bundle_defaults_to_the_system_cas() -> None:
    oauth = ews(parse_config(OAUTH, Path("relsync.toml"))).oauth
    assert oauth is not None and oauth.ca_bundle is None


def test_oauth_authority_host_must_be_https() -> None:
    problems = problems_of(OAUTH + 'authority_host = "http://login.example"\n')
    assert any("exchange.oauth.authority_host: must be an https:// URL" in p for p in problems)


def test_oauth_needs_impersonation() -> None:
    problems = problems_of(OAUTH.replace('auth = "oauth"', 'auth = "oauth"\naccess_type = "delegate"'))
    assert any("exchange: auth = 'oauth' uses app-only tokens" in p and "impersonation" in p for p in problems)


def test_toml_syntax_error_names_file_and_line() -> None:
    problems = problems_of("[store\nurl = 1", "bad.toml")
    assert problems[0].startswith("bad.toml: not valid TOML") and "line 1" in problems[0]


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert "no such file" in info.value.problems[0] and "config.example.toml" in info.value.problems[0]


def test_relative_sqlite_path_is_beside_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "relsync.toml"
    path.parent.mkdir()
    path.write_text(MINIMAL)
    assert load_config(path).config.store.url == f"sqlite:///{tmp_path / 'conf' / 'relsync.db'}"


def test_duplicate_mailbox_is_an_error() -> None:
    text = MINIMAL.replace('["Alice@Example.com"]', '["alice@example.com", "ALICE@example.com"]')
    assert any("listed twice: alice@example.com" in p for p in problems_of(text))


def test_secret_comes_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELSYNC_TEST_PW", "pw")
    assert resolve_secret("RELSYNC_TEST_PW", None, "exchange.password_env") == "pw"
    monkeypatch.delenv("RELSYNC_TEST_PW")
    with pytest.raises(SecretError, match="RELSYNC_TEST_PW is not set"):
        resolve_secret("RELSYNC_TEST_PW", None, "exchange.password_env")


def test_secret_comes_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s\n")
    assert resolve_secret(None, secret, "exchange.password_file") == "s"
    with pytest.raises(SecretError, match="cannot read"):
        resolve_secret(None, tmp_path / "missing", "exchange.password_file")
