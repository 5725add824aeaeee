"""The ``relsync`` command line, a package: :mod:`~scheduler.cli.group` (the group and its context),
one module per command group, and :mod:`~scheduler.cli.main` (the entry point and its error table).

This face re-exports what scripts and tests use; command modules import from ``group`` instead.
"""

from scheduler.cli.fake import FakeGraphEndpoint, start_fake_graph, write_fake_config
from scheduler.cli.group import Context, cli, pass_ctx, terminal_console
from scheduler.cli.main import main

__all__ = [
    "Context",
    "FakeGraphEndpoint",
    "cli",
    "main",
    "pass_ctx",
    "start_fake_graph",
    "terminal_console",
    "write_fake_config",
]
