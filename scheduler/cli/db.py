"""``relsync db ...``: create, migrate and check the store's schema."""

from __future__ import annotations

import click

from scheduler.cli.group import Context, cli, pass_ctx


@cli.group()
def db() -> None:
    """Create and check the relationship store's schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_ctx
def db_upgrade(ctx: Context, revision: str) -> None:
    """Create or migrate the store to the newest schema."""
    from mapping.store.migrate import current, upgrade

    url = ctx.config(store=False).config.store.url
    upgrade(url, revision)
    click.echo(f"store at revision {current(url)}")


@db.command("downgrade")
@click.argument("revision")
@pass_ctx
def db_downgrade(ctx: Context, revision: str) -> None:
    """Migrate the store back to REVISION ("base" removes every table)."""
    from mapping.store.migrate import current, downgrade

    url = ctx.config(store=False).config.store.url
    downgrade(url, revision)
    click.echo(f"store at revision {current(url) or 'base'}")


@db.command("check")
@pass_ctx
def db_check(ctx: Context) -> None:
    """Exit 1 when the database and the models differ (a missing migration, or a hand-made change)."""
    from mapping.store.migrate import check, current

    url = ctx.config(store=False).config.store.url
    drift = check(url)
    if drift:
        for line in drift:
            click.echo(line)
        raise SystemExit(1)
    click.echo(f"store at revision {current(url)}: models and migrations agree")
