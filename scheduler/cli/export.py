"""``relsync export``: the store as JSON lines or CSV, to stdout or to a file that is replaced only whole.

The file named by ``-o`` is never opened before the export is complete: rows go to a temporary file
beside it (mode 0600), renamed into place when the last row is written (:mod:`mapping.files`). So an
export that fails (store unreachable, disk full) leaves the file that was there untouched, and a
target that is one of relsync's own files (the SQLite store, the config, a secret) is refused first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

import click

from mapping.export_format import write_csv, write_jsonl
from mapping.files import FileWriteError, replace_atomically
from mapping.store import services
from mapping.store.engine import sqlite_file
from mapping.store.store import Store
from scheduler.cli.group import Context, cli, pass_ctx
from scheduler.config import LoadedConfig

OUTPUT_LABEL = "--output"


@cli.command("export")
@click.argument("what", type=click.Choice(["people", "organizations", "interactions", "relationships"]))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File (default: stdout), replaced only when the export is complete; created 0600.",
)
@click.option(
    "--raw",
    is_flag=True,
    help="CSV cells exactly as stored: no quote before a value starting with =, +, -, @, tab or CR "
    "(for machine consumers; spreadsheets would run such cells as formulas).",
)
@pass_ctx
def export(ctx: Context, what: str, fmt: str, output: Path | None, raw: bool) -> None:
    """Export people, organizations, interactions or relationships (type, status, value %, tier, potential,
    owner, key dates) as JSON lines or CSV (lists joined with "; "; cells a spreadsheet would run as a
    formula start with a quote unless --raw)."""
    loaded = ctx.config()
    if output is not None:
        refuse_own_files(output, loaded)
    store = Store(loaded.config.store.url)
    try:
        if output is None:
            _write(store, what, fmt, raw, sys.stdout)
        else:
            with replace_atomically(output, label=OUTPUT_LABEL, newline="") as stream:
                _write(store, what, fmt, raw, stream)
    finally:
        store.dispose()


def _write(store: Store, what: str, fmt: str, raw: bool, stream: TextIO) -> None:
    rows = services.export_rows(store, what)
    if fmt == "jsonl":
        write_jsonl(rows, stream)
    else:
        write_csv(rows, stream, neutralise=not raw)


def own_files(loaded: LoadedConfig) -> dict[Path, str]:
    """relsync's own files (that an export must never replace), each with what it is."""
    config = loaded.config
    files: dict[Path, str] = {loaded.path: "the config file"}
    database = sqlite_file(config.store.url)
    if database is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            files[database.with_name(database.name + suffix)] = "the SQLite store (store.url)"
    secrets = {
        "exchange.password_file": config.exchange.password_file if config.exchange else None,
        "exchange.oauth.client_secret_file": config.exchange.oauth.client_secret_file
        if config.exchange and config.exchange.oauth
        else None,
        "exchange.oauth.certificate_file": config.exchange.oauth.certificate_file
        if config.exchange and config.exchange.oauth
        else None,
        "graph.client_secret_file": config.graph.client_secret_file if config.graph else None,
        "graph.certificate_file": config.graph.certificate_file if config.graph else None,
        "identity.calibration_file": config.identity.calibration_file,
    }
    for key, path in secrets.items():
        if path is not None:
            files[path] = f"the file {key} names"
    return files


def refuse_own_files(output: Path, loaded: LoadedConfig) -> None:
    """Raise :class:`FileWriteError` when ``output`` is (or links to) one of relsync's own files."""
    target = Path(os.path.realpath(output))
    for path, what in own_files(loaded).items():
        same = target == Path(os.path.realpath(path))
        if not same and output.exists() and path.exists():
            try:
                same = os.path.samefile(output, path)  # a hard link is the same file too
            except OSError:
                same = False
        if same:
            raise FileWriteError(
                output, f"is {what}, which the export would replace", "choose another file for the export", OUTPUT_LABEL
            )
