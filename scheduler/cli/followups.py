"""``relsync followups``: the follow-up tasks relsync planned, by due date, and what stops others."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from mapping.store.store import Store
from scheduler.cli.group import Context, cli, pass_ctx, terminal_console


@cli.command("followups")
@click.option("--owner", help="Only this owner's follow-ups (a staff mailbox address).")
@click.option("--overdue", is_flag=True, help="Only open follow-ups whose due day has passed.")
@click.option("--all", "include_closed", is_flag=True, help="Also completed, dismissed and cancelled ones.")
@click.option(
    "--problems",
    is_flag=True,
    help="Instead: the relationships that should get follow-ups but have no owner who can receive them, "
    "and those over-contacted (more unanswered messages than their cadence calls for).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of objects).")
@pass_ctx
def followups(
    ctx: Context, owner: str | None, overdue: bool, include_closed: bool, problems: bool, as_json: bool
) -> None:
    """List follow-ups: owner, due day, subject, status, and whether the task is in Outlook yet."""
    from mapping.store import services
    from scheduler.followups_job import business_store, followup_policy, mailboxes

    loaded = ctx.config()
    store = Store(loaded.config.store.url)
    try:
        if problems:
            active = mailboxes(store, loaded)[0]
            found = services.follow_up_problems(store, followup_policy(loaded), active)
            # Over-contacted: written to more often than the cadence calls for, without an answer.
            found += [
                {
                    "relationship_id": p.relationship_id,
                    "name": p.name,
                    "tier": None,
                    "problem": p.line,
                    "over_contacted": True,
                    "unanswered": p.unanswered,
                    "allowed": p.allowed,
                }
                for p in business_store(store, loaded).over_contacted(followup_policy(loaded), datetime.now(UTC))
            ]
            if as_json:
                click.echo(json.dumps(found, indent=2, ensure_ascii=False))
                return
            for p in found:
                click.echo(
                    f"{p['name']} (over-contacted): {p['problem']}"
                    if p.get("over_contacted")
                    else f"{p['name']} ({p['tier']}): {p['problem']}"
                )
            return
        rows = services.follow_ups(
            store, datetime.now(UTC), owner=owner, overdue=overdue, include_closed=include_closed
        )
    finally:
        store.dispose()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "owner": r.owner,
                        "relationship_id": r.relationship_id,
                        "subject": r.subject,
                        "due": r.due.isoformat(),
                        "status": r.status,
                        "importance": r.importance,
                        "in_outlook": r.in_outlook,
                        "overdue": r.overdue,
                    }
                    for r in rows
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    from rich.table import Table

    table = Table(title=f"relsync: follow-ups ({len(rows)})")
    for column in ("due", "owner", "subject", "status", "importance", "in Outlook"):
        table.add_column(column)
    for r in rows:
        due = f"[red]{r.due.isoformat()}[/red]" if r.overdue else r.due.isoformat()
        table.add_row(due, r.owner, r.subject, r.status, r.importance, "yes" if r.in_outlook else "not yet")
    terminal_console().print(table)
