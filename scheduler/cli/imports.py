"""``relsync import transactions FILE.csv``: sales history from the accounting system."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mapping.store.store import Store
from scheduler.cli.group import Context, cli, pass_ctx


@cli.group("import")
def import_group() -> None:
    """Import data from other systems into the store."""


@import_group.command("transactions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@pass_ctx
def import_transactions_cmd(ctx: Context, file: Path, as_json: bool) -> None:
    """Import sales history (CSV: date, customer, amount, currency, kind[, product, external_id]).

    Each customer (e-mail, domain, company name or external id) is matched through identity
    resolution; unmatched rows are kept and listed, and matched on a later import once the store
    knows them. Bad lines are reported with their line number and the rest imports. Importing the
    same file again adds nothing. Exit status 1 when any line had an error.
    """
    from mapping.sales_history import parse_sales_history
    from mapping.store.sales_history import import_sales_history, rematch_unmatched
    from scheduler.jobs import thresholds

    loaded = ctx.config()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}): "
                                   "export the CSV as UTF-8") from None
    parsed = parse_sales_history(text)
    limits = thresholds(loaded)
    store = Store(loaded.config.store.url)
    try:
        with store.session() as s:
            # Earlier unmatched rows first: the store may know their customers by now.
            rematched = rematch_unmatched(s, limits)
            result = import_sales_history(s, parsed.rows, file.name, limits)
            result.errors = parsed.errors
            result.rematched = rematched
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        how = ", ".join(f"{n} by {method.replace('_', ' ')}" for method, n in sorted(result.matched_by.items()))
        click.echo(f"{file.name}: imported {result.imported} transaction(s)" + (f" (matched {how})" if how else "")
                   + f", {result.duplicates} already imported (skipped), {len(result.unmatched)} unmatched, "
                   f"{len(result.errors)} error(s)")
        if result.rematched:
            click.echo(f"matched {result.rematched} earlier unmatched transaction(s)")
        for u in result.unmatched:
            click.echo(f"unmatched: line {u.line}: {u.customer}: {u.reason}")
        for e in result.errors:
            click.echo(f"relsync: {file}: {e}", err=True)
    if result.errors:
        raise SystemExit(1)
