"""The ``relsync`` command line: the one place where errors become sentences.

Commands raise the connector's and the config's own exceptions; :func:`main` turns each into one
line on stderr and an exit code (2: configuration, 3: database, 4: Exchange, 1: anything else), so
scripts can tell "fix the file" from "try again later".
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import sqlalchemy.exc

from connector.errors import ExchangeError
from mapping.files import FileWriteError, describe_os_error, write_text_atomically
from mapping.store.readiness import StoreNotReady
from scheduler.config import ConfigError, LoadedConfig, SecretError, load_config
from scheduler.fake_files import write_sales_history
from scheduler.logs import configure_logging

DEFAULT_CONFIG = "relsync.toml"


class Context:
    def __init__(self, config_path: str) -> None:
        self.config_path = Path(config_path)
        self._loaded: LoadedConfig | None = None
        self._store_ready = False

    def config(self, store: bool = True) -> LoadedConfig:
        """The loaded config; with ``store`` (every command that reads or writes the store) the store
        is made ready first: a new SQLite store is created, any other not at the newest schema is a
        :class:`~mapping.store.readiness.StoreNotReady` sentence (``db`` commands pass ``store=False``)."""
        if self._loaded is None:
            self._loaded = load_config(self.config_path)
            logging_cfg = self._loaded.config.logging
            configure_logging(logging_cfg.level, logging_cfg.format)
        if store and not self._store_ready:
            from mapping.store.migrate import ensure_ready

            ensure_ready(self._loaded.config.store.url)
            self._store_ready = True
        return self._loaded


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    default=lambda: os.environ.get("RELSYNC_CONFIG", DEFAULT_CONFIG),
    show_default=f"$RELSYNC_CONFIG or {DEFAULT_CONFIG}",
    help="The TOML configuration file.",
)
@click.option(
    "--no-color", "no_color", is_flag=True,
    help="No colour codes in logs and tables (as NO_COLOR=1 does; files and pipes never get them).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str, no_color: bool) -> None:
    """relsync: your Exchange mailboxes as one clean relationship store."""
    if no_color:
        # One switch for everything that colours: the log renderer and rich both honour NO_COLOR.
        os.environ["NO_COLOR"] = "1"
    ctx.obj = Context(config_path)


# --------------------------------------------------------------------------------------------- db
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


# ------------------------------------------------------------------------------------ fake-exchange
@cli.command("fake-exchange")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", default=0, show_default=True, help="0 picks a free port.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated company.")
@click.option("--mailboxes", default=5, show_default=True, help="Number of staff mailboxes.")
@click.option("--scale", default="small", show_default=True, help="tiny, small, medium or large.")
@click.option(
    "--backend",
    type=click.Choice(["ews", "graph"]),
    default="ews",
    show_default=True,
    help="How the written config reaches the mailboxes: EWS, or Microsoft Graph (with a fake token service).",
)
@click.option(
    "--write-config",
    "write_config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a relsync config pointing at this server (SQLite store and sales.csv beside it).",
)
def fake_exchange(
    host: str, port: int, seed: int, mailboxes: int, scale: str, backend: str, write_config_path: Path | None
) -> None:
    """Serve a generated company over EWS (and, with --backend graph, over Microsoft Graph too, with
    a token service msal accepts) on loopback until interrupted.

    Prints one JSON line: {"endpoint", "username", "password", "mailboxes"}; with --backend graph also
    "graph_url", "authority_host", "tenant_id", "client_id" and "ca_file" (the client secret is only
    written to the 0600 file beside the config); with --write-config also "sales_history", the
    company's sales export written beside the config (for `relsync import transactions`).
    """
    from connector.fake.company.generator import SCALES, build_company
    from connector.fake.ews.server import FakeExchange

    if scale not in SCALES:
        raise click.BadParameter(f"choose one of {', '.join(SCALES)}", param_hint="--scale")
    if mailboxes < 1:
        raise click.BadParameter("at least 1", param_hint="--mailboxes")
    company = build_company(seed=seed, mailboxes=mailboxes, scale=scale)
    server = FakeExchange(company, host=host, port=port)
    server.start()
    stoppers: list[Callable[[], None]] = [server.stop]
    addresses = [m.email for m in company.mailboxes()]
    line: dict[str, Any] = {
        "endpoint": server.url, "username": server.username, "password": server.password, "mailboxes": addresses,
    }
    try:
        graph: FakeGraphEndpoint | None = None
        if backend == "graph":
            graph = start_fake_graph(server, host)
            stoppers[:0] = graph.stoppers
            line.update(graph.public())
        if write_config_path is not None:
            write_fake_config(write_config_path, server.url, server.username, server.password, addresses,
                              company.domain, graph=graph)
            line["sales_history"] = str(write_sales_history(write_config_path, company))
        # Handlers first: whoever reads the line may signal us the moment it arrives.
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        click.echo(json.dumps(line), nl=True)
        sys.stdout.flush()
        stop.wait()
    finally:
        for stopper in stoppers:
            stopper()


@dataclass
class FakeGraphEndpoint:
    """A running fake Graph and its token service, as a written config needs them."""

    graph_url: str
    authority_host: str
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    ca_file: str
    stoppers: list[Callable[[], None]]

    def public(self) -> dict[str, str]:
        return {"graph_url": self.graph_url, "authority_host": self.authority_host, "tenant_id": self.tenant_id,
                "client_id": self.client_id, "ca_file": self.ca_file}


def start_fake_graph(exchange: Any, host: str = "127.0.0.1", scope: set[str] | None = None) -> FakeGraphEndpoint:
    """Start a fake Graph serving ``exchange``'s mailboxes and a fake token service for it (``scope``:
    the only mailboxes the app may read, as RBAC for Applications would limit it)."""
    import secrets as random_secrets

    from connector.fake.graph.server import FakeGraph
    from connector.fake.tokens import FakeTokenService

    client_id = "relsync-fake-app"
    client_secret = random_secrets.token_urlsafe(24)
    idp = FakeTokenService(exchange=exchange, clients={client_id: client_secret}).start()
    try:
        graph = FakeGraph(exchange, host=host, scope=scope).start()
    except BaseException:
        idp.stop()
        raise
    # Both certificates go into one CA file: the config trusts it for the token service and for Graph.
    ca_file = Path(str(graph.ca_file)).with_name("relsync-fake-ca.pem")
    write_text_atomically(ca_file, Path(str(idp.ca_file)).read_text() + Path(str(graph.ca_file)).read_text())
    return FakeGraphEndpoint(graph.base_url, idp.authority_host, idp.tenant, client_id, client_secret,
                             str(ca_file), [graph.stop, idp.stop])


def write_fake_config(
    path: Path, endpoint: str, username: str, password: str, mailboxes: list[str], domain: str,
    graph: FakeGraphEndpoint | None = None, label: str = "--write-config",
) -> None:
    """Write a complete config for the fake server; the password (or the app's client secret, with
    ``graph``) goes to a 0600 file beside it. ``label``: the argument that named ``path``, for errors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise describe_os_error(path, exc, label) from None
    secret = path.with_name(path.stem + (".client-secret" if graph else ".password"))
    # Created 0600 from the first byte (never a moment readable by others), and renamed into place.
    write_text_atomically(secret, (graph.client_secret if graph else password) + "\n", label=label)
    store = path.with_name(path.stem + ".db")
    if graph is None:
        connection = f"""[exchange]
backend = "ews"
endpoint = "{endpoint}"
server_version = "Exchange2016"
auth = "basic"
access_type = "impersonation"
username = "{username}"
password_file = "{secret.name}"
timeout_seconds = 30
max_connections = 4
verify_tls = true
"""
        backend = "ews"
    else:
        connection = f"""[graph]
base_url = "{graph.graph_url}"
tenant_id = "{graph.tenant_id}"
client_id = "{graph.client_id}"
client_secret_file = "{secret.name}"
authority_host = "{graph.authority_host}"
ca_bundle = "{graph.ca_file}"
timeout_seconds = 30
"""
        backend = "graph"
    text = f"""# Written by `relsync fake-exchange --write-config`: a relsync config for the fake Exchange.
[store]
url = "sqlite:///{store.name}"

{connection}
[mailboxes]
addresses = {json.dumps(mailboxes)}
backend = "{backend}"

[organisation]
internal_domains = ["{domain}"]
default_region = "US"

[logging]
level = "INFO"
format = "console"
"""
    write_text_atomically(path, text, label=label)


# ------------------------------------------------------------------------------------------ jobs
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
    "--folder", "folders", multiple=True, type=click.Choice(list(FOLDER_CHOICES)),
    help="Only this folder (repeatable).",
)
@click.option("--full", is_flag=True, help="Forget the saved sync state and sync from scratch (upserting).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of a table.")
@click.option("--wait", "wait_seconds", default=60.0, show_default=True,
              help="Seconds to wait for a mailbox a daemon is syncing (its lease) before reporting who holds it.")
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
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
        console=console, transient=False, disable=as_json or not console.is_terminal,
    ) as bar:
        tasks: dict[tuple[str, str], Any] = {}

        def progress(mailbox: str, folder: str, report: Any) -> None:
            key = (mailbox, folder)
            if key not in tasks:
                tasks[key] = bar.add_task(f"{mailbox} {folder}", total=None, detail="")
            r = report.result
            bar.update(tasks[key], advance=1, detail=f"{report.pages} pages, {r.items} items")

        reports = run_sync(loaded, only=list(mailboxes) or None, folders=chosen, full=full, progress=progress,
                           lease_wait=wait_seconds)
    _print_sync_summary(reports, as_json)
    if any(not r.ok for r in reports):
        raise SystemExit(1)


def _print_sync_summary(reports: list[Any], as_json: bool) -> None:
    if as_json:
        out = []
        for r in reports:
            out.append({
                "mailbox": r.mailbox, "ok": r.ok, "error": r.error,
                "folders": {
                    f.folder: {
                        "pages": f.pages, "full_sync": f.full_sync, "created": f.result.created,
                        "updated": f.result.updated, "deleted": f.result.deleted, "unlinked": f.unlinked,
                        "skipped": dict(f.result.skipped), "retries": f.retries,
                        "throttled_seconds": round(f.throttled_seconds, 3),
                    }
                    for f in r.folders
                },
            })
        click.echo(json.dumps(out, indent=2))
        return
    from rich.table import Table

    table = Table(title="relsync: sync summary")
    for column in ("mailbox", "folder", "pages", "created", "updated", "deleted", "skipped", "state"):
        table.add_column(column, justify="right" if column in ("pages", "created", "updated", "deleted",
                                                                "skipped") else "left")
    for r in reports:
        if not r.folders:
            table.add_row(r.mailbox, "-", "", "", "", "", "", f"needs attention: {r.error}")
        for f in r.folders:
            state = "full" if f.full_sync else "incremental"
            table.add_row(r.mailbox, f.folder, str(f.pages), str(f.result.created), str(f.result.updated),
                          str(f.result.deleted + f.unlinked), str(sum(f.result.skipped.values())), state)
        if r.folders and r.error:
            table.add_row(r.mailbox, "", "", "", "", "", "", f"needs attention: {r.error}")
    console = _console()
    console.print(table)
    reasons: Counter[str] = Counter()
    for r in reports:
        for f in r.folders:
            reasons.update(f.result.skipped)
    if reasons:
        console.print("not stored: " + ", ".join(f"{n} {reason}" for reason, n in reasons.most_common()))


def _console() -> Any:
    """A console as wide as the terminal, or 140 columns when writing to a file or pipe."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=140)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list, one object per mailbox).")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Per mailbox: state, last success, lag, items, errors in a row, throttling, the worker syncing it;
    then one line per mailbox that needs attention."""
    from datetime import UTC, datetime

    from mapping.store.followups import count_followup_problems, followup_problems
    from mapping.store.reports import mailbox_status
    from mapping.store.store import Store
    from scheduler.followups_job import followup_policy, mailboxes
    from scheduler.status_view import print_status

    loaded = ctx.config()
    store = Store(loaded.config.store.url)
    unowned, shown = 0, []
    try:
        with store.session() as s:
            rows = mailbox_status(s, datetime.now(UTC), configured=loaded.config.mailboxes.addresses)
        if not as_json and loaded.config.followups.enabled:
            active, policy = mailboxes(store, loaded)[0], followup_policy(loaded)
            with store.session() as s:
                unowned = count_followup_problems(s, policy, active)
                shown = followup_problems(s, policy, active, limit=10)
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    console = _console()
    print_status(rows, console)
    if unowned:
        # A relationship whose plan calls for follow-ups nobody can receive is said, not skipped.
        console.print(f"follow-ups: {unowned} relationship(s) get no follow-up task"
                      + (" (`relsync followups --problems` lists all):" if unowned > len(shown) else ":"))
        for p in shown:
            console.print(f"  {p['name']} ({p['tier']}): {p['problem']}", markup=False)


@cli.command("daemon")
@pass_ctx
def daemon(ctx: Context) -> None:
    """Run as a service: sync every mailbox on its schedule, classify, plan follow-ups; stop on SIGTERM.

    Several daemons may share one PostgreSQL store (each mailbox is leased to one at a time); on
    SQLite only one daemon may run.
    """
    from scheduler.daemon import DaemonRefused, run_daemon

    try:
        raise SystemExit(run_daemon(ctx.config()))
    except DaemonRefused as exc:
        click.echo(f"relsync: daemon: {exc}", err=True)
        raise SystemExit(2) from None


@cli.command("demo")
@click.option("--dir", "directory", default=".demo", show_default=True, type=click.Path(path_type=Path))
@click.option("--seed", default=7, show_default=True)
@click.option("--mailboxes", default=5, show_default=True)
@click.option("--scale", default="small", show_default=True)
@click.option("--backend", type=click.Choice(["ews", "graph"]), default="ews", show_default=True,
              help="Reach the fake mailboxes over EWS or over Microsoft Graph.")
def demo(directory: Path, seed: int, mailboxes: int, scale: str, backend: str) -> None:
    """Start the fake Exchange with a generated company, and run the main job against it."""
    from connector.fake.company.generator import build_company
    from connector.fake.ews.server import FakeExchange
    from mapping.store.migrate import upgrade

    company = build_company(seed=seed, mailboxes=mailboxes, scale=scale)
    with FakeExchange(company) as server:
        graph = start_fake_graph(server) if backend == "graph" else None
        config_path = directory / "relsync.toml"
        addresses = [m.email for m in company.mailboxes()]
        write_fake_config(config_path, server.url, server.username, server.password, addresses, company.domain,
                          graph=graph, label="--dir")
        loaded = load_config(config_path)
        configure_logging("WARNING", "console")
        where = server.url if graph is None else f"{graph.graph_url} (Microsoft Graph)"
        click.echo(f"fake Exchange at {where} with {len(addresses)} mailboxes (seed {seed}, {scale})")
        upgrade(loaded.config.store.url)
        click.echo(f"store: {loaded.config.store.url}")
        from scheduler.jobs import run_sync

        reports = run_sync(loaded)
        _print_sync_summary(reports, as_json=False)
        # The accounting system's year of sales, so value tiers (and so the follow-up cadence) mean
        # something; then the main job again, incremental, to classify with it.
        sales = write_sales_history(config_path, company, label="--dir")
        click.echo(f"sales history: {_import_sales(loaded, sales)} transactions imported from {sales}")
        run_sync(loaded)
        _print_store_totals(loaded.config.store.url)
        click.echo(f"config written to {config_path}: try `relsync --config {config_path} status`")
        for stop in graph.stoppers if graph is not None else ():
            stop()


def _import_sales(loaded: LoadedConfig, path: Path) -> int:
    from mapping.store.store import Store
    from mapping.store.transactions import import_transactions
    from mapping.transactions import parse_transactions
    from scheduler.jobs import thresholds

    parsed = parse_transactions(path.read_text(encoding="utf-8"))
    store = Store(loaded.config.store.url)
    try:
        with store.session() as s:
            return import_transactions(s, parsed.rows, path.name, thresholds(loaded)).imported
    finally:
        store.dispose()


def _print_store_totals(url: str) -> None:
    import sqlalchemy as sa

    from mapping.store import models as m
    from mapping.store.store import Store

    store = Store(url)
    try:
        with store.session() as s:
            counts = {
                label: s.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
                for label, model, where in (
                    ("people", m.Person, (m.Person.merged_into_id.is_(None),)),
                    ("organisations", m.Organisation, (m.Organisation.merged_into_id.is_(None),)),
                    ("interactions", m.Interaction, ()),
                    ("relationships", m.Relationship, ()),
                )
            }
            merged = s.scalar(sa.select(sa.func.count()).select_from(m.MergeAudit)
                              .where(m.MergeAudit.action == "merge", m.MergeAudit.undone_at.is_(None)))
            queued = s.scalar(sa.select(sa.func.count()).select_from(m.MatchCandidate)
                              .where(m.MatchCandidate.status == m.MatchStatus.PENDING))
            open_follow_ups = s.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(m.FollowUp.owner_mailbox_id)))
                .where(m.FollowUp.status == m.FollowUpStatus.OPEN, m.FollowUp.created_in_exchange_at.is_not(None))
            ).one()
    finally:
        store.dispose()
    click.echo("store now holds: " + ", ".join(f"{n} {label}" for label, n in counts.items()))
    click.echo(f"duplicates: {merged} merged by rule, {queued} waiting for review (`relsync duplicates list`)")
    click.echo(f"follow-ups: {open_follow_ups[0]} open tasks in {open_follow_ups[1]} owners' Tasks folders "
               "(`relsync followups`)")


# ------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``relsync`` console script."""
    try:
        cli.main(args=argv, prog_name="relsync", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("relsync: interrupted", err=True)
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"relsync: config: {problem}", err=True)
        raise SystemExit(2) from None
    except SecretError as exc:
        click.echo(f"relsync: config: {exc}", err=True)
        raise SystemExit(2) from None
    except StoreNotReady as exc:
        click.echo(f"relsync: store: {exc}", err=True)
        raise SystemExit(3) from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        click.echo(f"relsync: store: {type(exc).__name__}: {reason}", err=True)
        raise SystemExit(3) from None
    except FileWriteError as exc:
        # An output file that cannot be written (missing directory, read-only, full disk, the store
        # itself): a usage problem, said in one sentence; the file that was there is untouched.
        click.echo(f"relsync: {exc}", err=True)
        raise SystemExit(2) from None
    except ExchangeError as exc:
        where = f" ({exc.mailbox})" if exc.mailbox else ""
        click.echo(f"relsync: exchange{where}: {exc}", err=True)
        raise SystemExit(4) from None


# Command groups kept in their own modules register themselves on ``cli`` when imported.
from scheduler import cli_classify, cli_export, cli_followups, cli_identity, cli_import  # noqa: E402, F401

if __name__ == "__main__":
    # Run as ``python -m scheduler.cli``: this module is ``__main__``, so hand over to the imported
    # ``scheduler.cli``, the one the other command modules registered their commands on.
    from scheduler.cli import main as _main

    _main()
