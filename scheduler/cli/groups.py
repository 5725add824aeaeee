"""``relsync groups``: the domain families that may be one parent group, and the admin's confirmation.

``relsync groups families`` lists every family (``acme`` of ``acme.com``, ``acme.de``, ``acme.co.uk``)
two or more organisations share, with the parent a confirmation picks; ``relsync groups confirm
FAMILY [--parent NAME]`` makes the family one group under that parent (the others its subsidiaries);
``relsync groups unconfirm FAMILY`` withdraws it. See README, "Business case".
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime

import click

from mapping.store.business_groups import FamilyView, GroupFamilies
from mapping.store.store import Store
from scheduler.cli.group import Context, cli, pass_ctx


def _actor() -> str:
    try:
        return f"{getpass.getuser()} (cli)"
    except OSError:
        return "cli"


def _families(store: Store, ctx: Context) -> GroupFamilies:
    loaded = ctx.config()
    return GroupFamilies(
        store,
        value_period_days=loaded.classification.value_period_days,
        currency=loaded.config.classification.currency,
    )


def _as_json(f: FamilyView) -> dict[str, object]:
    return {
        "family": f.family,
        "parent": f.parent,
        "confirmed": f.confirmed,
        "members": [{"name": name, "domains": list(domains)} for name, domains in f.members],
    }


@cli.group("groups")
def groups() -> None:
    """Parent groups from domain families the admin confirms."""


@groups.command("families")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list, one object per family).")
@click.option("--pending", is_flag=True, help="Only families not confirmed yet.")
@pass_ctx
def families(ctx: Context, as_json: bool, pending: bool) -> None:
    """List the domain families two or more organisations share, and the parent each would have."""
    store = Store(ctx.config().config.store.url)
    try:
        found = _families(store, ctx).families(datetime.now(UTC))
    finally:
        store.dispose()
    if pending:
        found = [f for f in found if not f.confirmed]
    if as_json:
        click.echo(json.dumps([_as_json(f) for f in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("no domain family is shared by two organisations")
    for f in found:
        state = "confirmed" if f.confirmed else "candidate"
        click.echo(f"{f.family} ({state}): parent {f.parent}")
        for name, domains in f.members:
            click.echo(f"  {name}: {', '.join(domains)}")


@groups.command("confirm")
@click.argument("family")
@click.option("--parent", help="The member that is the parent (its name); default: the one listed.")
@pass_ctx
def confirm(ctx: Context, family: str, parent: str | None) -> None:
    """Make FAMILY one parent group: its other organisations become the parent's subsidiaries."""
    store = Store(ctx.config().config.store.url)
    try:
        done = _families(store, ctx).confirm(family, parent, _actor(), datetime.now(UTC))
    finally:
        store.dispose()
    others = [name for name, _ in done.members if name != done.parent]
    click.echo(f"family {done.family} confirmed: {done.parent} is the parent of {', '.join(others)}")


@groups.command("unconfirm")
@click.argument("family")
@pass_ctx
def unconfirm(ctx: Context, family: str) -> None:
    """Withdraw FAMILY's confirmation (its organisations stand alone unless another source links them)."""
    store = Store(ctx.config().config.store.url)
    try:
        gone = _families(store, ctx).unconfirm(family)
    finally:
        store.dispose()
    if not gone:
        raise click.ClickException(f"family {family!r} was not confirmed (see `relsync groups families`)")
    click.echo(f"family {family.strip().casefold()} no longer confirmed")
