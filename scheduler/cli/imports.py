"""``relsync import transactions FILE.csv`` (sales history from the accounting system), ``relsync import
contacts FILE`` (people and organisations from a legacy CRM or a spreadsheet), ``import undo BATCH`` and
``import list``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

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
    from mapping.store import services
    from scheduler.jobs import thresholds

    loaded = ctx.config()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}): export the CSV as UTF-8"
        ) from None
    parsed = parse_sales_history(text)
    limits = thresholds(loaded)
    store = Store(loaded.config.store.url)
    try:
        result = services.import_sales(store, parsed.rows, file.name, limits)
        result.errors = parsed.errors
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        how = ", ".join(f"{n} by {method.replace('_', ' ')}" for method, n in sorted(result.matched_by.items()))
        click.echo(
            f"{file.name}: imported {result.imported} transaction(s)"
            + (f" (matched {how})" if how else "")
            + f", {result.duplicates} already imported (skipped), {len(result.unmatched)} unmatched, "
            f"{len(result.errors)} error(s)"
        )
        if result.rematched:
            click.echo(f"matched {result.rematched} earlier unmatched transaction(s)")
        for u in result.unmatched:
            click.echo(f"unmatched: line {u.line}: {u.customer}: {u.reason}")
        for e in result.errors:
            click.echo(f"relsync: {file}: {e}", err=True)
    if result.errors:
        raise SystemExit(1)


PROFILE_NAMES = ("generic", "outlook", "act", "goldmine", "maximizer", "salesforce", "hubspot", "dynamics")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@import_group.command("contacts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--profile",
    type=click.Choice(PROFILE_NAMES),
    default=None,
    help="The product that wrote the file (its export columns); default: [import] profile, generic.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Map a column to a field (repeatable); adds to or overrides the profile.",
)
@click.option(
    "--dry-run",
    "dry_run",
    is_flag=True,
    default=None,
    help="Only report what would happen (the default for a file never imported before).",
)
@click.option("--apply", "apply_", is_flag=True, help="Import a file never imported before without a dry run first.")
@click.option("--sheet", default=None, help="The sheet of an .xlsx workbook (default: the first).")
@click.option(
    "--to-outlook",
    "to_outlook",
    default=None,
    metavar="OWNER_OR_RULE",
    help="Real runs: create the imported people who are in no staff mailbox yet as Outlook contacts, in this "
    "mailbox, or with 'owner' in the mailbox of each row's owner column.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@pass_ctx
def import_contacts_cmd(
    ctx: Context,
    file: Path,
    profile: str | None,
    maps: tuple[str, ...],
    dry_run: bool | None,
    apply_: bool,
    sheet: str | None,
    to_outlook: str | None,
    as_json: bool,
) -> None:
    """Import people and organisations from a CRM export or spreadsheet (CSV or .xlsx).

    Rows are cleaned (e-mails, E.164 phones, names, legal forms, addresses), matched against the store
    and each other with identity resolution: sure duplicates merge, doubtful ones go to the review
    queue. The first import of a file is a dry run unless --apply; a real run is a batch that
    `relsync import undo BATCH` takes back. Exit status 1 when rows were refused (they are listed).
    """
    from mapping.contact_import.reading import read_table
    from mapping.contact_import.report import build_report, parse_map, prepare, report_lines
    from mapping.store import services
    from scheduler.jobs import thresholds

    if dry_run and apply_:
        raise click.UsageError("--dry-run and --apply contradict each other: give one")
    overrides = parse_map(maps)
    loaded = ctx.config()
    settings = loaded.config.import_
    chosen = profile or settings.profile
    file_hash = _sha256(file)
    rule = _outlook_rule(loaded, to_outlook, dry_run, apply_, file_hash) if to_outlook is not None else None
    table = read_table(file, sheet)
    prepared = prepare(table, chosen, overrides, loaded.config.organisation.default_region)
    table.rows = []  # the cleaned rows are all that is needed from here (a large file's cells go)
    store = Store(loaded.config.store.url)
    try:
        plan, batch, earlier, dry = services.import_contacts(
            store,
            prepared.rows,
            thresholds=thresholds(loaded),
            precedence=settings.precedence,
            file_name=file.name,
            file_hash=file_hash,
            profile=chosen,
            dry_run=True if dry_run else (False if apply_ else None),
            summary={"rows_read": prepared.rows_read, "rows_refused": len(prepared.refused)},
        )
        outlook = None
        if rule is not None and not dry:
            from scheduler.cli.imports_outlook import create_in_outlook

            merged_into = [p.target for p in plan.people if p.target is not None]
            outlook = create_in_outlook(loaded, store, [batch] if batch else earlier, merged_into, rule)
    finally:
        store.dispose()
    report = build_report(file.name, chosen, table, prepared, plan, dry_run=dry, batch=batch, earlier=earlier)
    if outlook is not None:
        report["to_outlook"] = outlook
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        for line in report_lines(report):
            click.echo(line)
        if not dry and batch is None:
            click.echo("nothing to change: the store already holds everything in this file")
        elif batch is not None:
            click.echo(f"undo with: relsync import undo {batch}")
        if outlook is not None:
            from scheduler.cli.imports_outlook import summary_lines

            for line in summary_lines(outlook):
                click.echo(line)
    if prepared.refused:
        raise SystemExit(1)


def _outlook_rule(loaded: Any, to_outlook: str, dry_run: bool | None, apply_: bool, file_hash: str) -> str:
    """The checked ``--to-outlook`` rule; refused on a dry run (it writes into mailboxes)."""
    from mapping.contact_import.to_outlook import check_rule
    from mapping.store.import_outlook import file_imported

    if dry_run:
        raise click.UsageError(
            "--to-outlook creates Outlook contacts, which a dry run never does: drop --dry-run (or --to-outlook)"
        )
    if not apply_:
        store = Store(loaded.config.store.url)
        try:
            first = not file_imported(store, file_hash)
        finally:
            store.dispose()
        if first:
            raise click.UsageError(
                "--to-outlook needs a real run, and the first import of a file is a dry run: "
                "check the dry run's report, then add --apply"
            )
    return check_rule(to_outlook, loaded.config.mailboxes.addresses)


@import_group.command("undo")
@click.argument("batch", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_ctx
def import_undo_cmd(ctx: Context, batch: int, as_json: bool) -> None:
    """Undo a contact import batch: remove what it created, restore what it changed.

    Refused (exit status 2, saying which) when later changes depend on the batch."""
    from mapping.store import services
    from scheduler.cli.imports_outlook import remove_from_outlook

    loaded = ctx.config()
    store = Store(loaded.config.store.url)
    try:
        outlook = remove_from_outlook(loaded, store, batch)
        result = services.undo_import(store, batch, outlook)
    finally:
        store.dispose()
    contacts = {
        "removed": sum(1 for o in outlook if o[2] == "removed"),
        "kept": sum(1 for o in outlook if o[2] == "kept"),
    }
    if as_json:
        click.echo(
            json.dumps(
                {
                    "batch": result.batch_id,
                    "removed": result.removed,
                    "restored": result.restored,
                    "outlook_contacts": contacts,
                }
            )
        )
        return
    removed = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in result.removed.items() if n) or "nothing"
    restored = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in result.restored.items() if n) or "nothing"
    click.echo(f"batch {batch} undone: removed {removed}; restored {restored}")
    if outlook:
        click.echo(
            f"outlook contacts: {contacts['removed']} removed, {contacts['kept']} kept (changed by staff since "
            "relsync created them: theirs now; `relsync resync` reads them in again)"
        )


@import_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the batches as JSON.")
@pass_ctx
def import_list_cmd(ctx: Context, as_json: bool) -> None:
    """List contact import batches, newest first."""
    from mapping.store import services

    loaded = ctx.config()
    store = Store(loaded.config.store.url)
    try:
        rows = services.import_batches(store)
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = f"undone {r['undone_at'][:16]}" if r["undone_at"] else "active"
        summary = r["summary"]
        click.echo(
            f"batch {r['batch']}: {r['file']} ({r['profile']}) at {r['imported_at'][:16]}, {state}: "
            f"{summary.get('people_to_create', 0)} created, {summary.get('people_changed', 0)} changed"
        )
