"""The ``relsync`` command group, its context and what every command module shares.

Command modules (one per command group: ``db``, ``fake``, ``sync``, ``demo``, ``classify``, ...) import
only from here and register themselves on :data:`cli`; :mod:`scheduler.cli.main` imports them all and
holds the entry point that turns errors into sentences and exit codes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from scheduler.config import LoadedConfig, load_config
from scheduler.logs import configure_logging

DEFAULT_CONFIG = "relsync.toml"


class Context:
    def __init__(self, config_path: str) -> None:
        self.config_path = Path(config_path)
        self._loaded: LoadedConfig | None = None
        self._store_ready = False

    def config(self, store: bool = True) -> LoadedConfig:
        """The loaded config; with ``store`` (every command that reads or writes the store) the store
        is made ready first: a new SQLite store is created, any other not at the newest schema is a
        :class:`~mapping.store.readiness.StoreNotReady` sentence (``db`` commands pass ``store=False``)."""
        if self._loaded is None:
            self._loaded = load_config(self.config_path)
            logging_cfg = self._loaded.config.logging
            configure_logging(logging_cfg.level, logging_cfg.format)
            from scheduler.privacy_key import register

            register(self._loaded)  # audit entries and suppression hashes use the configured key
        if store and not self._store_ready:
            from mapping.store.migrate import ensure_ready

            ensure_ready(self._loaded.config.store.url)
            self._store_ready = True
        return self._loaded


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    default=lambda: os.environ.get("RELSYNC_CONFIG", DEFAULT_CONFIG),
    show_default=f"$RELSYNC_CONFIG or {DEFAULT_CONFIG}",
    help="The TOML configuration file.",
)
@click.option(
    "--no-color",
    "no_color",
    is_flag=True,
    help="No colour codes in logs and tables (as NO_COLOR=1 does; files and pipes never get them).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str, no_color: bool) -> None:
    """relsync: your Exchange mailboxes as one clean relationship store."""
    if no_color:
        # One switch for everything that colours: the log renderer and rich both honour NO_COLOR.
        os.environ["NO_COLOR"] = "1"
    ctx.obj = Context(config_path)


def terminal_console() -> Any:
    """A console as wide as the terminal, or 140 columns when writing to a file or pipe."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=140)
