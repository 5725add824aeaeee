"""The console's report pages: Overview, Tier movement, Cadence compliance, Data quality.

Numbers come from the report store services (:mod:`mapping.store.insights`,
:mod:`mapping.store.insights_quality`), charts from :mod:`scheduler.charts` (inline SVG rendered
here, no script). Dates come from the query string; a date that is not one, a range that ends before it
starts, or a day in the future is a sentence above the form (status 400), never an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mapping.reports.errors import ReportInputError
from mapping.store.insights import ReportSettings, compliance_report, movement_report, overview_report
from mapping.store.insights_quality import quality_report
from scheduler import charts
from scheduler.web.render import render
from scheduler.web.security import User, guarded

MOVEMENT_DAYS = 90
PAGES = ("overview", "movement", "compliance", "quality")


@dataclass(frozen=True)
class _Dates:
    values: dict[str, date | None]
    raw: dict[str, str]
    problem: str = ""


def _dates(request: Request, *names: str) -> _Dates:
    raw = {n: request.query_params.get(n, "")[:40] for n in names}
    values: dict[str, date | None] = {}
    for name in names:
        text = raw[name].strip()
        if not text:
            values[name] = None
            continue
        try:
            values[name] = date.fromisoformat(text)
        except ValueError:
            return _Dates(
                {n: None for n in names},
                raw,
                f"{name.replace('_', ' ')} {text!r} is not a date: write it as YYYY-MM-DD",
            )
    return _Dates(values, raw)


async def _report(
    request: Request, user: User, template: str, dates: _Dates, compute: Callable[[], dict[str, Any]]
) -> Response:
    """Render ``template`` with what ``compute`` returns, or with the problem of the input."""
    context: dict[str, Any] = {"dates": dates.raw, "problem": dates.problem}
    if not dates.problem:
        try:
            context.update(await run_in_threadpool(compute))
        except ReportInputError as exc:
            context["problem"] = str(exc).replace("--as-of", "the day")
    status = 400 if context["problem"] else 200
    return render(request, template, context, user, status_code=status)


def _settings(request: Request) -> ReportSettings:
    settings: ReportSettings = request.app.state.report_settings
    return settings


@guarded("overview")
async def overview_page(request: Request, user: User) -> Response:
    dates = _dates(request, "as_of")
    store, settings = request.app.state.store, _settings(request)

    def compute() -> dict[str, Any]:
        report = overview_report(store, settings, dates.values["as_of"])
        return {
            "report": report,
            "pareto_svg": Markup(charts.pareto_svg(report.pareto)),
            "matrix_svg": Markup(charts.tier_potential_svg(report.overview)),
            "revenue_svgs": [
                (b.dimension, Markup(charts.revenue_svg(b, f"revenue-{b.dimension}"))) for b in report.revenue
            ],
        }

    return await _report(request, user, "overview.html", dates, compute)


@guarded("movement")
async def movement_page(request: Request, user: User) -> Response:
    dates = _dates(request, "start", "end")
    store, settings = request.app.state.store, _settings(request)

    def compute() -> dict[str, Any]:
        end = dates.values["end"] or datetime.now(UTC).date()
        start = dates.values["start"] or end - timedelta(days=MOVEMENT_DAYS)
        movement = movement_report(store, start, end, settings)
        return {"movement": movement, "movement_svg": Markup(charts.movement_svg(movement))}

    return await _report(request, user, "movement.html", dates, compute)


@guarded("compliance")
async def compliance_page(request: Request, user: User) -> Response:
    dates = _dates(request, "as_of")
    store, settings = request.app.state.store, _settings(request)

    def compute() -> dict[str, Any]:
        return {"owners": compliance_report(store, settings, dates.values["as_of"])}

    return await _report(request, user, "compliance.html", dates, compute)


@guarded("quality")
async def quality_page(request: Request, user: User) -> Response:
    store = request.app.state.store

    def compute() -> dict[str, Any]:
        return {"quality": quality_report(store)}

    return await _report(request, user, "quality.html", _Dates({}, {}), compute)


ROUTES = [
    Route("/overview", overview_page, methods=["GET"]),
    Route("/movement", movement_page, methods=["GET"]),
    Route("/compliance", compliance_page, methods=["GET"]),
    Route("/quality", quality_page, methods=["GET"]),
]
