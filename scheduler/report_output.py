"""``relsync report``'s content: the overview, tier movement, cadence compliance and data quality
totals of one day, as JSON-friendly data and as one self-contained HTML file.

The HTML file has inline SVG charts (:mod:`scheduler.charts`) and one inline style sheet; no script, no
outside request, no ``http`` URL: links go to relsync's own pages (``/relationships/<id>``, relative to
the console, or below ``link_base``). Nothing in it depends on the clock beyond the report's day, so the
same store gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from mapping.reports import Breakdown, DataQuality, Movement, OwnerCompliance
from mapping.store.business_service import BusinessStore, GroupConcentration
from mapping.store.insights import (
    OverviewReport,
    ReportSettings,
    check_as_of,
    compliance_report,
    movement_report,
    overview_report,
)
from mapping.store.insights_quality import quality_report
from mapping.store.store import Store
from scheduler.charts import movement_svg, pareto_svg, revenue_svg, tier_potential_svg

#: Where a relationship's page is in the web console (``{id}``: the relationship id).
RELATIONSHIP_PATH = "/relationships/{id}"
#: How far back the movement range starts when no ``--from`` is given.
DEFAULT_MOVEMENT_DAYS = 90
#: How many Pareto customers the terminal and the HTML file list by name (JSON lists all).
NAMED_CUSTOMERS = 50


@dataclass(frozen=True, slots=True)
class FullReport:
    """Everything ``relsync report`` shows for one day."""

    overview: OverviewReport
    movement: Movement
    compliance: tuple[OwnerCompliance, ...]
    quality: DataQuality
    #: The parent groups' concentration (issue 16): the limit in percent, and the groups shown.
    concentration_limit: Decimal = Decimal(25)
    concentration: tuple[GroupConcentration, ...] = ()


def build_report(
    store: Store,
    settings: ReportSettings,
    as_of: date | None,
    movement_from: date | None,
    today: date,
    business: BusinessStore | None = None,
) -> FullReport:
    """Run every report service for ``as_of`` (default today); tier movement from ``movement_from``
    (default :data:`DEFAULT_MOVEMENT_DAYS` before) to ``as_of``; the parent groups' concentration over
    the value period ending that day when ``business`` is given. Bad days raise ``ReportInputError``."""
    day = check_as_of(as_of, today)
    start = movement_from if movement_from is not None else day - timedelta(days=DEFAULT_MOVEMENT_DAYS)
    movement = movement_report(store, start, day, settings, today=today)
    limit, groups = Decimal(25), list[GroupConcentration]()
    if business is not None:
        limit, groups = business.concentration(datetime.combine(day, time(12), UTC))
    return FullReport(
        overview=overview_report(store, settings, day, today=today),
        movement=movement,
        compliance=compliance_report(store, settings, day, today=today),
        quality=quality_report(store, limit=0),
        concentration_limit=limit,
        concentration=tuple(groups),
    )


# --- JSON -------------------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _breakdown_json(b: Breakdown) -> dict[str, Any]:
    return {
        "total": _money(b.total),
        "bars": [{"label": bar.label, "amount": _money(bar.amount), "share": round(bar.share, 4)} for bar in b.bars],
    }


def report_json(r: FullReport) -> dict[str, Any]:
    """The report as JSON-friendly data (amounts as decimal strings, shares 0..1, days ISO 8601)."""
    o, p = r.overview.overview, r.overview.pareto
    return {
        "as_of": r.overview.as_of.isoformat(),
        "revenue_period": {"from": r.overview.since.isoformat(), "to": r.overview.as_of.isoformat()},
        "overview": {
            "total": o.total,
            "by_type": dict(o.by_type),
            "by_status": dict(o.by_status),
            "by_tier": dict(o.by_tier),
            "by_potential": dict(o.by_potential),
            "tier_potential": {
                "tiers": list(o.tiers),
                "potentials": list(o.potentials),
                "matrix": [list(row) for row in o.matrix],
            },
        },
        "pareto": {
            "customers": p.customers,
            "total_revenue": _money(p.total),
            "mark": p.mark,
            "inside_customer_share": round(p.inside_customer_share, 4),
            "inside_revenue_share": round(p.inside_revenue_share, 4),
            "inside": [
                {"relationship_id": c.relationship_id, "name": c.name, "revenue": _money(c.revenue)} for c in p.inside
            ],
            "curve": [[round(pt.customer_share, 4), round(pt.revenue_share, 4)] for pt in p.curve],
        },
        "revenue": {b.dimension: _breakdown_json(b) for b in r.overview.revenue},
        "movement": {
            "from": r.movement.start.isoformat(),
            "to": r.movement.end.isoformat(),
            "tiers": list(r.movement.tiers),
            "matrix": [list(row) for row in r.movement.matrix],
            "unchanged": r.movement.unchanged,
            "moves": [
                {"relationship_id": m.relationship_id, "name": m.name, "from": m.before, "to": m.after}
                for m in r.movement.moves
            ],
        },
        "compliance": [
            {
                "owner": c.owner,
                "open": c.open,
                "due": c.due,
                "overdue": c.overdue,
                "done": c.done,
                "done_on_time": c.done_on_time,
                "on_time_percent": c.on_time_percent,
                "average_days_overdue": c.average_days_overdue,
                "lapsed": c.lapsed,
                "lapsed_by_tier": dict(c.lapsed_by_tier),
            }
            for c in r.compliance
        ],
        "data_quality": {q.key: q.total for q in r.quality.lists},
        "concentration": {
            "limit_percent": str(r.concentration_limit),
            "warnings": [g.warning for g in r.concentration if g.warning],
            "groups": [
                {
                    "relationship_id": g.root_id,
                    "name": g.name,
                    "organisations": g.members,
                    "revenue": _money(g.revenue),
                    "percent": str(g.percent),
                    "warning": g.warning,
                }
                for g in r.concentration
            ],
        },
    }


# --- HTML -------------------------------------------------------------------------------------------

_STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2em;color:#222;max-width:70em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f0f4f8}
.charts{display:flex;flex-wrap:wrap;gap:1em}.charts svg{max-width:100%;height:auto}
.note{color:#666;font-size:.9em}.warning{color:#a00;font-weight:bold}
"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _link(relationship_id: int, name: str, link_base: str) -> str:
    href = link_base.rstrip("/") + RELATIONSHIP_PATH.format(id=relationship_id)
    return f'<a href="{escape(href)}">{escape(name)}</a>'


def _counts(title: str, pairs: tuple[tuple[str, int], ...]) -> str:
    return f"<h3>{escape(title)}</h3>" + _table(["", "relationships"], [[escape(k), str(v)] for k, v in pairs])


def _number(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{suffix}"


def report_html(r: FullReport, link_base: str = "") -> str:
    """One self-contained HTML document (see the module docstring)."""
    o, p, mv = r.overview.overview, r.overview.pareto, r.movement
    day = r.overview.as_of.isoformat()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>relsync report {day}</title><style>{_STYLE}</style></head><body>",
        f"<h1>relsync report, as of {day}</h1>",
        f'<p class="note">Revenue from {r.overview.since.isoformat()} to {day}; {o.total} relationships.</p>',
        "<h2>Overview</h2>",
        '<div class="charts">' + tier_potential_svg(o) + "</div>",
        _counts("By type", o.by_type),
        _counts("By status", o.by_status),
        _counts("By tier", o.by_tier),
        _counts("By potential", o.by_potential),
        "<h2>Who brings the revenue</h2>",
        '<div class="charts">' + pareto_svg(p) + "</div>",
        f"<p>{len(p.inside)} of {p.customers} customers ({100 * p.inside_customer_share:.1f} %) bring "
        f"{100 * p.inside_revenue_share:.1f} % of the revenue of {_money(p.total)}.</p>",
        _table(
            ["customer", "revenue"],
            [[_link(c.relationship_id, c.name, link_base), _money(c.revenue)] for c in p.inside[:NAMED_CUSTOMERS]],
        ),
    ]
    if len(p.inside) > NAMED_CUSTOMERS:
        parts.append(f'<p class="note">and {len(p.inside) - NAMED_CUSTOMERS} more.</p>')
    parts.append("<h2>Revenue</h2>")
    parts.append('<div class="charts">' + "".join(revenue_svg(b) for b in r.overview.revenue) + "</div>")
    parts += [
        f"<h2>Tier movement from {mv.start.isoformat()} to {mv.end.isoformat()}</h2>",
        '<div class="charts">' + movement_svg(mv) + "</div>",
        f"<p>{len(mv.moves)} moved, {mv.unchanged} stayed.</p>",
        _table(
            ["relationship", "from", "to"],
            [[_link(m.relationship_id, m.name, link_base), escape(m.before), escape(m.after)] for m in mv.moves[:200]],
        ),
    ]
    if len(mv.moves) > 200:
        parts.append(f'<p class="note">and {len(mv.moves) - 200} more.</p>')
    parts += [
        "<h2>Cadence compliance per owner</h2>",
        _table(
            ["owner", "open", "due", "overdue", "done on time", "avg days overdue", "lapsed, no contact"],
            [
                [
                    escape(c.owner),
                    str(c.open),
                    str(c.due),
                    str(c.overdue),
                    _number(c.on_time_percent, " %"),
                    _number(c.average_days_overdue),
                    str(c.lapsed),
                ]
                for c in r.compliance
            ],
        ),
        "<h2>Data quality</h2>",
        _table(["list", "rows"], [[escape(q.title), str(q.total)] for q in r.quality.lists]),
        *_concentration_html(r, link_base),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _concentration_html(r: FullReport, link_base: str) -> list[str]:
    """The parent groups' concentration block: each warning, then the groups' shares."""
    if not r.concentration:
        return []
    parts = [f"<h2>Concentration (limit {escape(str(r.concentration_limit))} % of revenue)</h2>"]
    parts += [f'<p class="warning">Warning: {escape(g.warning)}.</p>' for g in r.concentration if g.warning]
    rows = [
        [_link(g.root_id, g.name, link_base), str(g.members), _money(g.revenue), f"{g.percent} %"]
        for g in r.concentration
    ]
    return [*parts, _table(["group", "organisations", "revenue", "share"], rows)]


__all__ = ["DEFAULT_MOVEMENT_DAYS", "RELATIONSHIP_PATH", "FullReport", "build_report", "report_html", "report_json"]
