"""Log lines carry colour codes only on a terminal, and never with NO_COLOR (https://no-color.org)."""

from __future__ import annotations

import io
import logging
import re

import pytest
import structlog

from scheduler.logs import configure_logging, wants_colour

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert wants_colour(True, {}) is True
    assert wants_colour(False, {}) is False
    assert wants_colour(True, {"NO_COLOR": "1"}) is False
    assert wants_colour(True, {"NO_COLOR": ""}) is True  # no-color.org: set *and non-empty*


def test_console_lines_to_a_file_like_stream_are_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO", "console", stream=out)
        structlog.get_logger("relsync.test").info("synced", mailbox="a@contoso.example")
        logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    text = out.getvalue()
    assert "synced" in text and "Running upgrade" in text
    assert not ANSI.search(text)
