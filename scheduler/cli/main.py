"""The ``relsync`` entry point: every command module registered, and the one place where errors
become sentences.

Commands raise :class:`mapping.errors.RelsyncError` subclasses (config, secrets, store, files,
Exchange, daemon, review ...); :func:`main` prints each one's sentences on stderr after ``relsync:``
and exits with its code (2: configuration or input, 3: database, 4: Exchange, 1: anything else), so
scripts can tell "fix the file" from "try again later". A database failure is turned into its sentence
by the store (:func:`mapping.store.errors.store_failure`); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import click

from mapping.errors import RelsyncError
from mapping.store.errors import store_failure

# Each command module registers its commands on ``cli`` when imported.
from scheduler.cli import (  # noqa: F401
    addin,
    classify,
    db,
    demo,
    export,
    fake,
    followups,
    groups,
    identity,
    imports,
    privacy,
    report,
    sync,
    web,
)
from scheduler.cli.group import cli

__all__ = ["cli", "main"]


def _say(error: RelsyncError) -> None:
    for sentence in error.sentences():
        click.echo(f"relsync: {sentence}", err=True)
    raise SystemExit(error.exit_code) from None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``relsync`` console script."""
    try:
        cli.main(args=argv, prog_name="relsync", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("relsync: interrupted", err=True)
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except RelsyncError as exc:
        _say(exc)
    except Exception as exc:
        failure = store_failure(exc)
        if failure is None:
            raise
        _say(failure)
