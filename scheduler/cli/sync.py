"""``relsync run-once``, ``resync``, ``status`` and ``daemon``: running the main job and watching it."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from scheduler.cli.group import Context, cli, pass_ctx, terminal_console


@cli.command("run-once")
@click.option("--mailbox", "mailboxes", multiple=True, help="Only this mailbox (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def run_once(ctx: Context, mailboxes: tuple[str, ...], as_json: bool) -> None:
    """Run the main job once for every configured mailbox (or the ones given)."""
    from scheduler.jobs import run_main_job

    results = run_main_job(ctx.config(), only=list(mailboxes) or None)
    _print_results(results, as_json)
    if any(not r.ok for r in results):
        raise SystemExit(1)


def _print_results(results: list[Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="relsync: mailboxes")
    for column in ("mailbox", "state", "folders (items)", "detail"):
        table.add_column(column)
    for r in results:
        folders = ", ".join(f"{name} ({count})" for name, count in r.folders.items())
        table.add_row(r.mailbox, "ok" if r.ok else "needs attention", folders, r.detail)
    Console().print(table)


FOLDER_CHOICES = {"contacts": "contacts", "inbox": "inbox", "sent": "sentitems", "calendar": "calendar"}


@cli.command("resync")
@click.option("--mailbox", "mailboxes", multiple=True, help="Only this mailbox (repeatable).")
@click.option(
    "--folder",
    "folders",
    multiple=True,
    type=click.Choice(list(FOLDER_CHOICES)),
    help="Only this folder (repeatable).",
)
@click.option("--full", is_flag=True, help="Forget the saved sync state and sync from scratch (upserting).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of a table.")
@click.option(
    "--wait",
    "wait_seconds",
    default=60.0,
    show_default=True,
    help="Seconds to wait for a mailbox a daemon is syncing (its lease) before reporting who holds it.",
)
@pass_ctx
def resync(
    ctx: Context, mailboxes: tuple[str, ...], folders: tuple[str, ...], full: bool, as_json: bool, wait_seconds: float
) -> None:
    """Sync mailboxes now, with a progress bar per mailbox and folder and a summary table."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from scheduler.jobs import run_sync

    loaded = ctx.config()
    chosen: list[Any] = [FOLDER_CHOICES[f] for f in folders] or None  # type: ignore[assignment]
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=as_json or not console.is_terminal,
    ) as bar:
        tasks: dict[tuple[str, str], Any] = {}

        def progress(mailbox: str, folder: str, report: Any) -> None:
            key = (mailbox, folder)
            if key not in tasks:
                tasks[key] = bar.add_task(f"{mailbox} {folder}", total=None, detail="")
            r = report.result
            bar.update(tasks[key], advance=1, detail=f"{report.pages} pages, {r.items} items")

        reports = run_sync(
            loaded, only=list(mailboxes) or None, folders=chosen, full=full, progress=progress, lease_wait=wait_seconds
        )
    print_sync_summary(reports, as_json)
    if any(not r.ok for r in reports):
        raise SystemExit(1)


def print_sync_summary(reports: list[Any], as_json: bool) -> None:
    if as_json:
        out = []
        for r in reports:
            out.append(
                {
                    "mailbox": r.mailbox,
                    "ok": r.ok,
                    "error": r.error,
                    "folders": {
                        f.folder: {
                            "pages": f.pages,
                            "full_sync": f.full_sync,
                            "created": f.result.created,
                            "updated": f.result.updated,
                            "deleted": f.result.deleted,
                            "unlinked": f.unlinked,
                            "skipped": dict(f.result.skipped),
                            "retries": f.retries,
                            "throttled_seconds": round(f.throttled_seconds, 3),
                        }
                        for f in r.folders
                    },
                }
            )
        click.echo(json.dumps(out, indent=2))
        return
    from rich.table import Table

    table = Table(title="relsync: sync summary")
    for column in ("mailbox", "folder", "pages", "created", "updated", "deleted", "skipped", "state"):
        table.add_column(
            column, justify="right" if column in ("pages", "created", "updated", "deleted", "skipped") else "left"
        )
    for r in reports:
        if not r.folders:
            table.add_row(r.mailbox, "-", "", "", "", "", "", f"needs attention: {r.error}")
        for f in r.folders:
            state = "full" if f.full_sync else "incremental"
            table.add_row(
                r.mailbox,
                f.folder,
                str(f.pages),
                str(f.result.created),
                str(f.result.updated),
                str(f.result.deleted + f.unlinked),
                str(sum(f.result.skipped.values())),
                state,
            )
        if r.folders and r.error:
            table.add_row(r.mailbox, "", "", "", "", "", "", f"needs attention: {r.error}")
    console = terminal_console()
    console.print(table)
    reasons: Counter[str] = Counter()
    for r in reports:
        for f in r.folders:
            reasons.update(f.result.skipped)
    if reasons:
        console.print("not stored: " + ", ".join(f"{n} {reason}" for reason, n in reasons.most_common()))


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list, one object per mailbox).")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Per mailbox: state, last success, lag, items, errors in a row, throttling, the worker syncing it;
    then one line per mailbox that needs attention."""
    from datetime import UTC, datetime

    from mapping.store import services
    from mapping.store.store import Store
    from scheduler.followups_job import business_store, followup_policy, mailboxes
    from scheduler.status_view import print_status

    loaded = ctx.config()
    store = Store(loaded.config.store.url)
    unowned, concentration = 0, []
    shown: list[dict[str, Any]] = []
    try:
        if not as_json:
            concentration = business_store(store, loaded).concentration_warnings(datetime.now(UTC))
        rows = services.mailbox_status(store, datetime.now(UTC), configured=loaded.config.mailboxes.addresses)
        if not as_json and loaded.config.followups.enabled:
            active, policy = mailboxes(store, loaded)[0], followup_policy(loaded)
            unowned = services.follow_up_problem_count(store, policy, active)
            shown = services.follow_up_problems(store, policy, active, limit=10)
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    console = terminal_console()
    print_status(rows, console)
    if unowned:
        # A relationship whose plan calls for follow-ups nobody can receive is said, not skipped.
        console.print(
            f"follow-ups: {unowned} relationship(s) get no follow-up task"
            + (" (`relsync followups --problems` lists all):" if unowned > len(shown) else ":")
        )
        for p in shown:
            console.print(f"  {p['name']} ({p['tier']}): {p['problem']}", markup=False)
    for warning in concentration:
        console.print(f"concentration: {warning}", markup=False)


@cli.command("daemon")
@pass_ctx
def daemon(ctx: Context) -> None:
    """Run as a service: sync every mailbox on its schedule, classify, plan follow-ups; stop on SIGTERM.

    Several daemons may share one PostgreSQL store (each mailbox is leased to one at a time); on
    SQLite only one daemon may run.
    """
    from scheduler.daemon import run_daemon

    # A refusal to start (DaemonRefused) is a RelsyncError: the entry point says it, exit code 2.
    raise SystemExit(run_daemon(ctx.config()))
