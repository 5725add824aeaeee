"""Capture what relsync logs as the JSON lines a service writes (``logging.format = "json"``)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from scheduler.logs import configure_logging


class JsonLines:
    """The lines logged so far; ``take()`` returns them parsed and starts afresh."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    def take(self, include_fake: bool = False) -> list[dict[str, Any]]:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        # The fake Exchange runs in the test's process: its server thread's lines are not relsync's.
        return [line for line in lines if include_fake or not str(line.get("logger", "")).startswith("connector.fake")]


@contextmanager
def json_logs(level: str = "DEBUG") -> Iterator[JsonLines]:
    """Log JSON into a buffer (DEBUG: the most talkative level); logging is restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("exchangelib").level, structlog.get_config())
    buffer = io.StringIO()
    configure_logging(level, "json", stream=buffer)
    try:
        yield JsonLines(buffer)
    finally:
        root.handlers[:], root_level, exchangelib_level, config = saved
        root.setLevel(root_level)
        logging.getLogger("exchangelib").setLevel(exchangelib_level)
        structlog.configure(**config)
