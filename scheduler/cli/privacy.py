"""``relsync privacy ...`` (erase, suppress, export, retention) and ``relsync audit ...`` (verify, list,
export): the privacy operations and the audit log. Every store write here is audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mapping.errors import EXIT_FAILED
from mapping.store.privacy_service import PrivacyService
from mapping.store.store import Store
from scheduler.cli.group import Context, cli, pass_ctx


def _store(ctx: Context) -> Store:
    return Store(ctx.config().config.store.url)


def _write_json(path: Path, value: Any, label: str) -> None:
    from mapping.files import write_text_atomically

    write_text_atomically(path, json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n", label=label)


@cli.group()
def privacy() -> None:
    """Erase a person, export what is held about them, suppress addresses, apply retention."""


@privacy.command("erase")
@click.argument("email_or_id")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed (counts), change nothing.")
@click.option(
    "--keep-transactions/--delete-transactions",
    default=None,
    help="Keep accounting rows with the identity removed (default: [privacy] keep_transactions).",
)
@click.option(
    "--receipt",
    "receipt_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the erasure receipt (JSON, no personal data) to this file.",
)
@pass_ctx
def erase(
    ctx: Context, email_or_id: str, dry_run: bool, keep_transactions: bool | None, receipt_path: Path | None
) -> None:
    """Remove a person (address, id) or an organisation (org:ID, with its people) from the store and
    what relsync wrote about them into Exchange, and suppress their addresses from future syncs."""
    from scheduler.connect import open_backends
    from scheduler.privacy import erase as run_erase

    loaded = ctx.config()
    store = _store(ctx)
    try:
        outcome = run_erase(
            loaded,
            store,
            lambda: open_backends(loaded),
            email_or_id,
            dry_run=dry_run,
            keep_transactions=keep_transactions,
        )
    finally:
        store.dispose()
    if outcome.plan is not None:
        click.echo("dry run: nothing was changed. Would remove:")
        for what, count in outcome.plan.items():
            click.echo(f"  {what}: {count}")
        return
    if outcome.already:
        click.echo("already erased: the store holds nothing of them; receipt of that erasure follows", err=True)
    if receipt_path is not None:
        _write_json(receipt_path, outcome.receipt, "--receipt")
    click.echo(json.dumps(outcome.receipt, indent=2))


@privacy.command("suppress")
@click.argument("email")
@pass_ctx
def suppress(ctx: Context, email: str) -> None:
    """Never store EMAIL (kept as a keyed hash, not the address): sync skips their contacts and mail."""
    if "@" not in email:
        raise click.BadParameter("an e-mail address is needed (name@domain)", param_hint="EMAIL")
    store = _store(ctx)
    try:
        added = PrivacyService(store).suppress(email, "admin", "relsync privacy suppress")
    finally:
        store.dispose()
    click.echo("suppressed" if added else "already suppressed")


@cli.group("audit")
def audit_group() -> None:
    """Verify, list and export the audit log of relsync's writes and decisions."""


@audit_group.command("verify")
@pass_ctx
def audit_verify(ctx: Context) -> None:
    """Check the chain of keyed hashes; exit 1 naming the first changed, removed or reordered entry."""
    store = _store(ctx)
    try:
        verdict = PrivacyService(store).verify_audit()
    finally:
        store.dispose()
    if not verdict.ok:
        click.echo(f"relsync: audit: {verdict.sentence}", err=True)
        raise SystemExit(EXIT_FAILED)
    click.echo(verdict.sentence)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is no date. Fix: write it as 2026-12-01 or 2026-12-01T08:00", param_hint="--since"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@audit_group.command("list")
@click.option("--since", help="Only entries at or after this date/time (ISO 8601, UTC unless given).")
@click.option("--kind", help="Only entries of this kind (exchange_write, merge, override, import, erasure, ...).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_ctx
def audit_list(ctx: Context, since: str | None, kind: str | None, as_json: bool) -> None:
    """Show the audit log, oldest first."""
    from mapping.store.audit import AuditRow

    def show(row: AuditRow) -> None:
        if as_json:
            click.echo(json.dumps(row.as_dict(), sort_keys=True))
        else:
            click.echo(
                f"{row.seq:>6} {row.at.isoformat(timespec='seconds')} {row.actor} {row.kind}/"
                f"{row.action} {row.subject or '-'} {row.outcome}" + (f"  ({row.reason})" if row.reason else "")
            )

    store = _store(ctx)
    try:
        PrivacyService(store).audit_entries(show, since=_since(since), kind=kind)
    finally:
        store.dispose()


@audit_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", help="Only entries at or after this date/time (ISO 8601).")
@pass_ctx
def audit_export(ctx: Context, file: Path, since: str | None) -> None:
    """Write the audit log to FILE as JSON lines (for a SIEM), with each entry's hash."""
    from mapping.files import replace_atomically

    store = _store(ctx)
    try:
        with replace_atomically(file, label="FILE") as out:
            count = PrivacyService(store).audit_entries(
                lambda row: out.write(json.dumps(row.as_dict(), sort_keys=True) + "\n"), since=_since(since)
            )
    finally:
        store.dispose()
    click.echo(f"{count} audit entries written to {file}")


@privacy.command("export")
@click.argument("email_or_id")
@click.option(
    "--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True, help="The document's format."
)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (0600) instead of standard output.",
)
@pass_ctx
def export_subject(ctx: Context, email_or_id: str, fmt: str, output: Path | None) -> None:
    """Everything the store holds about a person (subject access): records, interactions' metadata,
    classification and its explanation, follow-ups, and the audit entries about them."""
    from scheduler.privacy import unknown_subject

    store = _store(ctx)
    try:
        document = PrivacyService(store).subject_access(email_or_id, fmt)
    finally:
        store.dispose()
    if document is None:
        raise unknown_subject(email_or_id, "nothing was exported")
    if output is not None:
        _write_json(output, document, "--output")
        click.echo(f"subject access export written to {output}", err=True)
    else:
        click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


@privacy.command("retention")
@click.option("--dry-run", "mode", flag_value="dry-run", help="Count what the policy would remove; change nothing.")
@click.option("--apply", "mode", flag_value="apply", help="Remove what is past its period ([privacy.retention]).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_ctx
def retention(ctx: Context, mode: str | None, as_json: bool) -> None:
    """Apply the retention policy: interactions past their kind's period, archived relationships past theirs."""
    from scheduler.privacy import run_retention

    if mode is None:
        raise click.UsageError("say --dry-run (count only) or --apply (remove)")
    store = _store(ctx)
    try:
        report = run_retention(ctx.config(), store, dry_run=mode == "dry-run")
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps(report.as_dict(), sort_keys=True))
        return
    verb = "would remove" if report.dry_run else "removed"
    for kind, count in sorted(report.interactions.items()):
        click.echo(f"{verb} {count} {kind} interaction(s)")
    click.echo(f"{verb} {report.archived_relationships} archived relationship(s)")
    if not report.interactions and ctx.config().config.privacy.retention.archived_relationship_days is None:
        click.echo("no retention period is configured ([privacy.retention]): nothing is ever removed")
