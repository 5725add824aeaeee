"""``relsync demo``: a generated company on the fake Exchange, synced, valued and planned, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scheduler.cli.fake import start_fake_graph, write_fake_config
from scheduler.cli.group import cli
from scheduler.cli.sync import print_sync_summary
from scheduler.config import LoadedConfig, load_config
from scheduler.fake_files import write_sales_history
from scheduler.logs import configure_logging


@cli.command("demo")
@click.option("--dir", "directory", default=".demo", show_default=True, type=click.Path(path_type=Path))
@click.option("--seed", default=7, show_default=True)
@click.option("--mailboxes", default=5, show_default=True)
@click.option("--scale", default="small", show_default=True)
@click.option(
    "--backend",
    type=click.Choice(["ews", "graph"]),
    default="ews",
    show_default=True,
    help="Reach the fake mailboxes over EWS or over Microsoft Graph.",
)
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
        write_fake_config(
            config_path,
            server.url,
            server.username,
            server.password,
            addresses,
            company.domain,
            graph=graph,
            label="--dir",
        )
        _add_demo_console(config_path, addresses)
        loaded = load_config(config_path)
        configure_logging("WARNING", "console")
        where = server.url if graph is None else f"{graph.graph_url} (Microsoft Graph)"
        click.echo(f"fake Exchange at {where} with {len(addresses)} mailboxes (seed {seed}, {scale})")
        upgrade(loaded.config.store.url)
        click.echo(f"store: {loaded.config.store.url}")
        from scheduler.jobs import run_sync

        reports = run_sync(loaded)
        print_sync_summary(reports, as_json=False)
        # The accounting system's year of sales, so value tiers (and so the follow-up cadence) mean
        # something; then the main job again, incremental, to classify with it.
        sales = write_sales_history(config_path, company, label="--dir")
        click.echo(f"sales history: {_import_sales(loaded, sales)} transactions imported from {sales}")
        run_sync(loaded)
        _print_store_totals(loaded.config.store.url)
        _print_business(loaded)
        click.echo(f"config written to {config_path}: try `relsync --config {config_path} status`")
        click.echo(
            f"web console: `relsync --config {config_path} serve`, then open http://127.0.0.1:8080/ and "
            f"sign in as {addresses[0]} (admin; demo sign-in, loopback only)"
        )
        click.echo(
            "Outlook add-in: the relationship card's pane is served at /addin/pane.html by `serve`; "
            f"`relsync --config {config_path} addin manifest --url https://<your host>` writes its manifest "
            '(README, "Outlook add-in")'
        )
        for stop in graph.stoppers if graph is not None else ():
            stop()


def _add_demo_console(config_path: Path, addresses: list[str]) -> None:
    """A ``[web]`` section for the demo: the password-free demo sign-in on loopback, and the demo's
    staff mailboxes as its users (the first an admin, the second a manager, the rest staff)."""
    from mapping.files import write_text_atomically

    admin, manager, staff = addresses[:1], addresses[1:2], addresses[2:]
    section = (
        '\n# The web console (`relsync serve`): demo sign-in, loopback only. See README, "Web console".\n'
        f'[web]\nauth = "dev"\nlisten = "127.0.0.1:8080"\n\n[web.roles]\nadmin = {json.dumps(admin)}\n'
        f"manager = {json.dumps(manager)}\nstaff = {json.dumps(staff)}\n"
    )
    write_text_atomically(config_path, config_path.read_text(encoding="utf-8") + section, label="--dir")


def _import_sales(loaded: LoadedConfig, path: Path) -> int:
    from mapping.sales_history import parse_sales_history
    from mapping.store import services
    from mapping.store.store import Store
    from scheduler.jobs import thresholds

    parsed = parse_sales_history(path.read_text(encoding="utf-8"))
    store = Store(loaded.config.store.url)
    try:
        return services.import_sales(store, parsed.rows, path.name, thresholds(loaded)).imported
    finally:
        store.dispose()


def _print_store_totals(url: str) -> None:
    from mapping.store.reports import store_totals
    from mapping.store.store import Store

    store = Store(url)
    try:
        totals = store_totals(store)
    finally:
        store.dispose()
    click.echo("store now holds: " + ", ".join(f"{n} {label}" for label, n in totals.counts.items()))
    click.echo(
        f"duplicates: {totals.merged} merged by rule, {totals.queued} waiting for review (`relsync duplicates list`)"
    )
    click.echo(
        f"follow-ups: {totals.open_follow_ups} open tasks in {totals.owners_with_follow_ups} owners' "
        "Tasks folders (`relsync followups`)"
    )


def _print_business(loaded: LoadedConfig) -> None:
    """What the business case put into Outlook: trigger tasks by kind, the concentration warning."""
    from datetime import UTC, datetime

    from mapping.store.store import Store
    from scheduler.followups_job import business_store

    store = Store(loaded.config.store.url)
    try:
        summary = business_store(store, loaded).summary(datetime.now(UTC))
    finally:
        store.dispose()
    kinds = {"thank_you": "thank-you", "win_back": "win-back", "referral_ack": "referral acknowledgement"}
    click.echo(
        "business case: "
        + ", ".join(f"{summary.open_by_kind.get(k, 0)} {label} task(s)" for k, label in kinds.items())
        + " (`relsync followups`; each task body says why now and what to offer next)"
    )
    for warning in summary.warnings:
        click.echo(f"concentration: {warning}")
    if summary.problems:
        click.echo(f"business case: {len(summary.problems)} item(s) skipped, e.g. {summary.problems[0]}")
