"""``relsync serve``: the web console (see README, "Web console")."""

from __future__ import annotations

import click

from scheduler.cli.group import Context, cli, pass_ctx


@cli.command("serve")
@click.option("--listen", default=None, metavar="HOST:PORT",
              help="Where to listen (default: web.listen in the config, 127.0.0.1:8080).")
@pass_ctx
def serve(ctx: Context, listen: str | None) -> None:
    """Serve the web console: reports, relationships, the duplicates review and sync health.

    People sign in as [web] says (Entra ID, a trusted proxy header, or the demo's loopback sign-in) and
    see the pages their role in [web.roles] allows. Stop with Ctrl-C.
    """
    import uvicorn

    from mapping.store.store import Store
    from scheduler.config_web import is_loopback, split_listen
    from scheduler.report_settings import report_settings
    from scheduler.web.app import WebConfigError, create_app

    loaded = ctx.config()
    web = loaded.config.web
    where = listen or web.listen
    try:
        host, port = split_listen(where)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}. Fix: give host:port", param_hint="--listen") from None
    if web.auth == "dev" and not is_loopback(host):
        raise WebConfigError(f'web.auth = "dev" signs people in without a password, so it only listens on '
                             f"loopback, not {host}: use --listen 127.0.0.1:{port}, or auth = \"oidc\" / \"header\"")
    base = loaded.path.parent
    cert = str(base / web.tls_certificate) if web.tls_certificate else None
    key = str(base / web.tls_key) if web.tls_key else None
    store = Store(loaded.config.store.url)
    app = create_app(web, store, loaded.config.mailboxes.addresses, report_settings(loaded))
    scheme = "https" if cert else "http"
    click.echo(f"relsync web console on {scheme}://{'[' + host + ']' if ':' in host else host}:{port}/ "
               f"(sign-in: {web.auth}); Ctrl-C stops it", err=True)
    try:
        uvicorn.run(app, host=host, port=port, ssl_certfile=cert, ssl_keyfile=key, log_level="warning",
                    proxy_headers=False, server_header=False, access_log=False)
    finally:
        store.dispose()
