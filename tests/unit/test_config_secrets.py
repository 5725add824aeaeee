"""Secrets around the store URL: masked wherever a URL is quoted, hidden from logs when the environment holds one."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from mapping.store.urls import check_store_url, masked_url
from scheduler.config import ConfigError, load_config
from scheduler.logs import configure_logging
from tests.unit.configtext import MINIMAL


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://relsync:s3cr%40t@db:5432/relsync", "postgresql+psycopg://relsync:***@db:5432/relsync"),
        ("postgresql+psycopg://relsync:s3cret@db:54x/relsync", "postgresql+psycopg://relsync:***@db:54x/relsync"),
        ("mysql://relsync:s3cret@db/relsync", "mysql://relsync:***@db/relsync"),
        ("sqlite:///relsync.db", "sqlite:///relsync.db"),
    ],
)
def test_a_store_url_is_shown_with_its_password_masked_even_when_unparsable(url: str, shown: str) -> None:
    assert masked_url(url) == shown
    assert "s3cr" not in (check_store_url(url) or "")


def test_a_password_from_RELSYNC_STORE_URL_never_reaches_a_log_line(tmp_path: Path) -> None:
    path = tmp_path / "relsync.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    url = "postgresql+psycopg://relsync:pa55-from-env@db.example.com/relsync"
    loaded = load_config(path, {"RELSYNC_STORE_URL": url, "RELSYNC_TEST_PW": "x"})
    assert loaded.config.store.url == url
    stream, root = io.StringIO(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json", stream)
        logging.getLogger("sqlalchemy.pool").warning("could not connect to %s", url)
    finally:
        root.handlers[:], root.level = handlers, level
    assert "pa55-from-env" not in stream.getvalue() and "[redacted]" in stream.getvalue()


def test_the_same_url_in_the_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "relsync.toml"
    path.write_text(
        '[store]\nurl = "postgresql+psycopg://relsync:pa55-in-file@db/relsync"\n' + MINIMAL, encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    (problem,) = info.value.problems
    assert "store.url: secrets must not be written in the config file" in problem and "RELSYNC_STORE_URL" in problem
    assert "pa55-in-file" not in problem
