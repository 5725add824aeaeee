"""``relsync report``: the overview, tier movement and cadence compliance of one day, in the terminal,
as JSON, or as one self-contained HTML file to mail or archive (:mod:`scheduler.report_output`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from mapping.files import replace_atomically
from mapping.store.store import Store
from scheduler.cli.group import Context, cli, pass_ctx, terminal_console

HTML_LABEL = "--html"


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@cli.command("report")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one self-contained HTML file (inline charts, no scripts, no outside requests), "
    "replaced only when complete.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The report's day (YYYY-MM-DD, default today, never in the future): classification from "
    "history, revenue over the value period ending that day.",
)
@click.option(
    "--from",
    "movement_from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Where the tier movement range starts (YYYY-MM-DD, default 90 days before the report's day).",
)
@pass_ctx
def report(
    ctx: Context, html_file: Path | None, as_json: bool, as_of: datetime | None, movement_from: datetime | None
) -> None:
    """Relationships by type, status, tier and potential; who brings 80 % of revenue; revenue by source,
    industry, size and product; tier movement; cadence compliance per owner; data quality totals."""
    from scheduler.followups_job import business_store
    from scheduler.report_output import build_report, report_html, report_json
    from scheduler.report_settings import report_settings

    loaded = ctx.config()
    settings = report_settings(loaded)
    store = Store(loaded.config.store.url)
    try:
        full = build_report(
            store,
            settings,
            _day(as_of),
            _day(movement_from),
            datetime.now(UTC).date(),
            business=business_store(store, loaded),
        )
    finally:
        store.dispose()
    if html_file is not None:
        with replace_atomically(html_file, label=HTML_LABEL, mode=0o640) as stream:
            stream.write(report_html(full))
        if not as_json:
            click.echo(f"report written to {html_file}")
    if as_json:
        click.echo(json.dumps(report_json(full), indent=2, ensure_ascii=False))
        return
    if html_file is None:
        _print_summary(report_json(full))


def _print_summary(data: dict[str, Any]) -> None:
    from rich.table import Table

    console = terminal_console()
    overview = data["overview"]
    console.print(f"relsync report as of {data['as_of']}: {overview['total']} relationships")
    matrix = overview["tier_potential"]
    grid = Table(title="tier x potential")
    grid.add_column("tier")
    for potential in matrix["potentials"]:
        grid.add_column(potential, justify="right")
    for tier, row in zip(matrix["tiers"], matrix["matrix"], strict=True):
        grid.add_row(tier, *(str(n) for n in row))
    console.print(grid)
    pareto = data["pareto"]
    console.print(
        f"{len(pareto['inside'])} of {pareto['customers']} customers "
        f"({100 * pareto['inside_customer_share']:.1f} %) bring "
        f"{100 * pareto['inside_revenue_share']:.1f} % of revenue {pareto['total_revenue']} "
        f"({data['revenue_period']['from']} to {data['revenue_period']['to']})"
    )
    top = Table(title="who brings the revenue")
    top.add_column("customer")
    top.add_column("revenue", justify="right")
    for customer in pareto["inside"][:20]:
        top.add_row(customer["name"], customer["revenue"])
    console.print(top)
    movement = data["movement"]
    moves = Table(
        title=f"tier movement {movement['from']} to {movement['to']} "
        f"({len(movement['moves'])} moved, {movement['unchanged']} stayed)"
    )
    for column in ("relationship", "from", "to"):
        moves.add_column(column)
    for move in movement["moves"][:20]:
        moves.add_row(move["name"], move["from"], move["to"])
    console.print(moves)
    owners = Table(title="cadence compliance")
    for column in ("owner", "open", "due", "overdue", "on time %", "avg days overdue", "lapsed"):
        owners.add_column(column, justify="left" if column == "owner" else "right")
    for c in data["compliance"]:
        owners.add_row(
            c["owner"],
            str(c["open"]),
            str(c["due"]),
            str(c["overdue"]),
            "-" if c["on_time_percent"] is None else f"{c['on_time_percent']:.1f}",
            "-" if c["average_days_overdue"] is None else f"{c['average_days_overdue']:.1f}",
            str(c["lapsed"]),
        )
    console.print(owners)
    quality = Table(title="data quality")
    quality.add_column("list")
    quality.add_column("rows", justify="right")
    for key, total in data["data_quality"].items():
        quality.add_row(key.replace("_", " "), str(total))
    console.print(quality)
    for warning in data["concentration"]["warnings"]:
        console.print(f"concentration: {warning}", markup=False)
