"""``relsync serve``: the web console (see README, "Web console")."""

from __future__ import annotations

import click

from scheduler.cli.group import Context, cli, pass_ctx


@cli.command("serve")
@click.option(
    "--listen",
    default=None,
    metavar="HOST:PORT",
    help="Where to listen (default: web.listen in the config, 127.0.0.1:8080).",
)
@pass_ctx
def serve(ctx: Context, listen: str | None) -> None:
    """Serve the web console: reports, relationships, the duplicates review and sync health.

    People sign in as [web] says (Entra ID, a trusted proxy header, or the demo's loopback sign-in) and
    see the pages their role in [web.roles] allows. Stop with Ctrl-C.
    """
    import uvicorn

    from mapping.store.store import Store
    from scheduler.web.server import console_app, listen_of, uvicorn_config

    loaded = ctx.config()
    try:
        where = listen_of(loaded, listen)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}. Fix: give host:port", param_hint="--listen") from None
    store = Store(loaded.config.store.url)
    try:
        app = console_app(loaded, store)
        click.echo(f"relsync web console on {where.url} (sign-in: {loaded.config.web.auth}); Ctrl-C stops it", err=True)
        uvicorn.Server(uvicorn_config(app, where)).run()
    finally:
        store.dispose()
