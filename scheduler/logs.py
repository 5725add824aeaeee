"""Structured logging: JSON lines for services, readable lines for people, never a secret.

Every log line is a structlog event. The sync binds ``mailbox`` and ``folder`` as context variables
(``structlog.contextvars``), so every line of a mailbox's sync says where it happened, lines of the
standard library's loggers (exchangelib, urllib3) included. The redaction processor is the last line
of defence: keys that look like secrets or bodies are replaced whatever the caller passed, and every
secret relsync has read (:func:`hide`) is cut out of every value and message.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

SECRET_KEYS = ("password", "secret", "token", "authorization", "private_key", "body")
REDACTED = "[redacted]"
#: Secret values read at run time (passwords, client secrets); never printed, whatever key holds them.
_SECRET_VALUES: set[str] = set()


def hide(secret: str) -> None:
    """Never let ``secret`` reach a log line, in any field or message (called when a secret is read)."""
    if len(secret) >= 4:  # shorter strings would blank out ordinary words; no real secret is that short
        _SECRET_VALUES.add(secret)


def _scrub(value: str) -> str:
    for secret in _SECRET_VALUES:
        if secret in value:
            value = value.replace(secret, REDACTED)
    return value


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(word in key.lower() for word in SECRET_KEYS):
            event[key] = REDACTED
        elif _SECRET_VALUES and isinstance(event[key], str):
            event[key] = _scrub(event[key])
        elif (
            _SECRET_VALUES
            and key not in ("_record", "_from_structlog")
            and not isinstance(event[key], int | float | bool | type(None))
        ):
            text = str(event[key])
            if _scrub(text) != text:
                event[key] = _scrub(text)
    return event


def wants_colour(is_terminal: bool, environ: Mapping[str, str]) -> bool:
    """Whether console log lines may carry ANSI colour codes: only on a terminal, and never when
    ``NO_COLOR`` is set to anything non-empty (https://no-color.org; ``relsync --no-color`` sets it)."""
    return is_terminal and not environ.get("NO_COLOR")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-less stream is no terminal
        return False


def configure_logging(level: str = "INFO", fmt: str = "console", stream: TextIO | None = None) -> None:
    """Route structlog and the standard library (exchangelib, alembic) to ``stream`` (stderr) in one format.

    Console lines are coloured only on a terminal (see :func:`wants_colour`): a file, a pipe or the
    journal gets plain text.
    """
    out = stream or sys.stderr
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=wants_colour(_is_terminal(out), os.environ))
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # JSON lines carry a traceback as text (the console renderer draws its own), redacted like the rest.
        *([structlog.processors.format_exc_info] if fmt == "json" else []),
        _redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces each of its plugins at INFO whenever it is imported: noise before every command.
    logging.getLogger("alembic.runtime.plugins").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # exchangelib logs request XML (with bodies) at DEBUG: never let it through.
    logging.getLogger("exchangelib").setLevel(max(logging.INFO, logging.getLevelName(level)))
