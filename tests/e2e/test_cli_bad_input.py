"""Bad input through the real ``relsync`` entry point: one sentence naming the file, key or argument and
the fix, the documented exit code (2: configuration or usage), never a traceback, never a secret."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from exchangelib.protocol import close_connections

from connector.fake.company.generator import build_company
from connector.fake.ews.server import FakeExchange
from mapping.store import models as m
from mapping.store.migrate import upgrade
from mapping.store.store import Store
from scheduler.cli import write_fake_config

ROOT = Path(__file__).resolve().parents[2]
RELSYNC = [sys.executable, "-m", "scheduler.cli"]
SECRET = "Tr0ub4dor&3-never-shown"

BASE = """
[store]
url = "sqlite:///relsync.db"

[exchange]
endpoint = "https://mail.example.com/EWS/Exchange.asmx"
auth = "basic"
username = "svc@example.com"
password_file = "relsync.password"

[mailboxes]
addresses = ["alice@example.com"]

[organisation]
internal_domains = ["example.com"]
"""


def relsync(
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RELSYNC_") or k == "RELSYNC_TEST_PG_URL"}
    return subprocess.run(
        [*RELSYNC, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=config.parent,
        env={**environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def refused(result: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> str:
    """The result is one clear refusal: the exit code, every needle in stderr, no traceback."""
    out = result.stdout + result.stderr
    assert result.returncode == code, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    for needle in needles:
        assert needle in result.stderr, result.stderr[-3000:]
    return result.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A valid config beside its 0600 password file and an upgraded SQLite store."""
    path = tmp_path / "relsync.toml"
    path.write_text(BASE, encoding="utf-8")
    secret = tmp_path / "relsync.password"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    secret.chmod(0o600)
    upgrade(f"sqlite:///{tmp_path / 'relsync.db'}")
    return path


# ----------------------------------------------------------------------------------- the config file
def test_a_config_file_that_is_not_utf8_is_named_with_where_the_bad_byte_is(config: Path) -> None:
    config.write_bytes(BASE.replace("alice", "al\xefce").encode("latin-1"))
    refused(relsync(config, "status"), f"{config}: not UTF-8 text", "line 12", "Fix: save the file as UTF-8")


def test_a_config_file_starting_with_a_bom_says_so(config: Path) -> None:
    config.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    refused(relsync(config, "status"), f"{config}: starts with a UTF-8 byte-order mark (BOM)", "without BOM")


def test_a_config_file_saved_as_utf16_says_so(config: Path) -> None:
    config.write_text(BASE, encoding="utf-16")
    refused(relsync(config, "status"), "UTF-16", "Fix: save it as UTF-8")


# ----------------------------------------------------------------------------------------- secrets
def test_a_secret_file_that_is_not_utf8_is_refused_without_any_of_its_bytes(config: Path) -> None:
    (config.parent / "relsync.password").write_bytes(b"Tr0ub4dor\xff\xfe3-never-shown\n")
    err = refused(relsync(config, "run-once"), "exchange.password_file", "relsync.password is not UTF-8 text")
    assert "Tr0ub4dor" not in err and "never-shown" not in err and "0xff" not in err and "position" not in err


def test_an_endless_secret_file_is_refused_at_once(config: Path) -> None:
    config.write_text(BASE.replace('"relsync.password"', '"/dev/zero"'), encoding="utf-8")
    refused(relsync(config, "run-once", timeout=30), "exchange.password_file: /dev/zero is larger than 64 KiB")


def test_a_huge_secret_file_is_refused(config: Path) -> None:
    (config.parent / "relsync.password").write_text("x" * 200_000, encoding="utf-8")
    refused(relsync(config, "run-once"), "relsync.password is larger than 64 KiB")


def test_a_secret_pasted_where_an_environment_variable_name_belongs_is_not_echoed(config: Path) -> None:
    config.write_text(
        BASE.replace('password_file = "relsync.password"', f'password_env = "{SECRET}"'), encoding="utf-8"
    )
    err = refused(relsync(config, "status"), "exchange.password_env: must be the name of an environment variable")
    assert SECRET not in err
    # The same through the environment override.
    err = refused(
        relsync(config, "status", env={"RELSYNC_EXCHANGE__PASSWORD_ENV": SECRET}),
        "environment variable RELSYNC_EXCHANGE__PASSWORD_ENV",
    )
    assert SECRET not in err


# ------------------------------------------------------------------------------------------- store.url
def test_a_password_in_store_url_in_the_file_is_refused_like_every_other_secret(config: Path) -> None:
    url = f"postgresql+psycopg://relsync:{SECRET}@db.example.com:5432/relsync"
    config.write_text(BASE.replace('url = "sqlite:///relsync.db"', f'url = "{url}"'), encoding="utf-8")
    err = refused(
        relsync(config, "status"), "store.url: secrets must not be written in the config file", "RELSYNC_STORE_URL"
    )
    assert SECRET not in err


def test_an_unparsable_store_url_names_the_key_and_masks_the_password(config: Path) -> None:
    config.write_text(
        BASE.replace('url = "sqlite:///relsync.db"', 'url = "postgresql+psycopg://db:5432x/r"'), encoding="utf-8"
    )
    refused(relsync(config, "db", "upgrade"), "store.url: not a database URL: its port is not a number")
    # From the environment (where a password may be), the URL is quoted masked, as SQLAlchemy masks it.
    bad = f"postgresql+psycopg://relsync:{SECRET}@db:5432x/relsync"
    err = refused(
        relsync(config, "db", "upgrade", env={"RELSYNC_STORE_URL": bad}), "RELSYNC_STORE_URL", "relsync:***@db:5432x"
    )
    assert SECRET not in err
    err = refused(
        relsync(config, "status", env={"RELSYNC_STORE_URL": f"mysql://relsync:{SECRET}@db/relsync"}),
        "only sqlite:/// and postgresql+psycopg:// URLs are supported",
        "mysql://relsync:***@db/relsync",
    )
    assert SECRET not in err


# ---------------------------------------------------------------------------------------------- rules
def _with_rule(config: Path, when: str) -> None:
    config.write_text(
        BASE + f'\n[[rules]]\nname = "r"\nwhen = \'{when}\'\nset = {{ tier = "Marginal" }}\n', encoding="utf-8"
    )


def test_a_rule_using_the_clock_is_refused_at_start_up_with_its_line(config: Path) -> None:
    _with_rule(config, "days_since_transaction == null and $now > $now")
    refused(relsync(config, "status"), "(line 17)", "uses $now", "days_since_")


def test_a_rule_nested_thousands_deep_is_refused_at_start_up_not_a_recursion_error(config: Path) -> None:
    _with_rule(config, " and ".join(["value > 1.0"] * 3000))
    refused(relsync(config, "status"), "(line 17)", "nested too deeply")
    _with_rule(config, "not " * 3000 + "true")
    refused(relsync(config, "status"), "nested too deeply")


# -------------------------------------------------------------------------------------------- explain
def _store_with_organisations(url: str) -> None:
    upgrade(url)
    store = Store(url)
    try:
        with store.session() as s:
            for name in ("Contoso Ltd", "Fabrikam Inc", "100% Organic Foods"):
                org = m.Organisation(name=name, normalised_name=name.casefold())
                s.add(org)
                s.flush()
                s.add(m.Relationship(organisation_id=org.id))
    finally:
        store.dispose()


def _config_for(config: Path, url: str) -> Path:
    config.write_text(BASE.replace('url = "sqlite:///relsync.db"', f'url = "{url}"'), encoding="utf-8")
    return config


def test_explain_percent_matches_a_percent_sign_not_everyone(config: Path, db_url: str) -> None:
    _store_with_organisations(db_url)
    _config_for(config, db_url)
    for query in ("%", "0% org"):
        found = relsync(config, "explain", query, "--json")
        assert found.returncode == 0, found.stderr
        assert '"name": "100% Organic Foods"' in found.stdout
        assert "Contoso" not in found.stdout and "Fabrikam" not in found.stdout
    nobody = relsync(config, "explain", "_", "--json")
    assert nobody.returncode == 1 and "no organisation or person matches '_'" in nobody.stderr, nobody.stdout


def test_explain_with_a_100000_character_argument_is_a_usage_error(config: Path) -> None:
    err = refused(relsync(config, "explain", "a" * 100_000), "NAME_OR_EMAIL", "100,000 characters")
    assert len(err) < 1000


# ----------------------------------------------------------------------------------------- duplicates
@pytest.mark.parametrize("pair_id", ["2147483648", "99999999999999999999", "0"])
def test_a_duplicate_pair_id_too_large_for_the_database_is_a_usage_error(
    config: Path, db_url: str, pair_id: str
) -> None:
    upgrade(db_url)
    _config_for(config, db_url)
    for command in ("show", "merge", "reject", "unmerge"):
        refused(
            relsync(config, "duplicates", command, pair_id), "Invalid value for 'PAIR_ID'", "relsync duplicates list"
        )


# ------------------------------------------------------------------------------------- metrics_listen
def test_a_metrics_address_the_daemon_refuses_is_a_configuration_error(config: Path) -> None:
    config.write_text(BASE + '\n[daemon]\nmetrics_listen = "0.0.0.0:9464"\n', encoding="utf-8")
    refused(relsync(config, "daemon"), "daemon.metrics_listen: metrics address '0.0.0.0:9464' is not a loopback")
    config.write_text(BASE + '\n[daemon]\nmetrics_listen = "localhost"\n', encoding="utf-8")
    refused(relsync(config, "status"), "daemon.metrics_listen", "is not host:port")


def test_a_metrics_port_in_use_refuses_the_daemon_naming_the_key(config: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config.write_text(BASE + f'\n[daemon]\nmetrics_listen = "127.0.0.1:{port}"\n', encoding="utf-8")
        refused(
            relsync(config, "daemon"),
            f"{config}: daemon.metrics_listen: cannot listen on '127.0.0.1:{port}'",
            "Fix: choose a free port",
        )


# ------------------------------------------------------------------ a secret file others can read
@pytest.fixture
def fake_config(tmp_path: Path) -> Iterator[Path]:
    company = build_company(seed=13, mailboxes=1, scale="tiny")
    server = FakeExchange(company).start()
    try:
        path = tmp_path / "fake.toml"
        write_fake_config(
            path, server.url, server.username, server.password, [mb.email for mb in company.mailboxes()], company.domain
        )
        upgrade(f"sqlite:///{tmp_path / 'fake.db'}")
        yield path
    finally:
        close_connections()
        server.stop()


def test_a_secret_file_readable_by_others_is_used_with_a_warning_naming_it(fake_config: Path) -> None:
    secret = fake_config.with_name("fake.password")
    password = secret.read_text().strip()
    secret.chmod(0o644)
    run = relsync(fake_config, "run-once", "--json", timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"{secret} can be read by group or others" in run.stderr and "chmod 600" in run.stderr
    assert password not in run.stderr + run.stdout
    secret.chmod(0o600)
    quiet = relsync(fake_config, "run-once", "--json", timeout=120)
    assert quiet.returncode == 0 and "can be read by group or others" not in quiet.stderr
