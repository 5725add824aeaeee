"""The one root of every error a user can see, and the exit codes they map to.

Every layer raises a subclass of :class:`RelsyncError` for what a user can fix or must know (a bad
config key, a store on an old schema, a file that cannot be written, Exchange refusing); the CLI's
entry point (``scheduler.cli.main``) turns each into its sentence(s) on stderr and its exit code, in one
place. Anything else is a bug and keeps its traceback.

Exit codes (documented in the README, a promise to scripts):

- ``EXIT_FAILED`` (1): the command ran and something failed (a mailbox needs attention, ...).
- ``EXIT_USAGE`` (2): configuration, arguments or input files: fix them and run again.
- ``EXIT_STORE`` (3): the database: unreachable, or on a schema this relsync cannot use.
- ``EXIT_EXCHANGE`` (4): Exchange or Graph refused or could not be reached: try again later.
"""

from __future__ import annotations

from typing import ClassVar

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STORE = 3
EXIT_EXCHANGE = 4


class RelsyncError(Exception):
    """Base of every user-visible error. ``topic`` prefixes the sentence ("config", "store", ...)."""

    exit_code: ClassVar[int] = EXIT_FAILED
    topic: ClassVar[str] = ""

    def sentences(self) -> list[str]:
        """The lines the user reads (without the leading ``relsync:``), one per problem."""
        return [f"{self.topic}: {self}" if self.topic else str(self)]
