"""The reports' charts as inline SVG, rendered on the server with matplotlib (its SVG backend, no GUI).

Each function takes a result of :mod:`mapping.reports` and returns one ``<svg>`` element as text, ready
to place inside an HTML page (the web console's pages, ``relsync report --html``):

* deterministic: the same result gives the same bytes (a fixed ``svg.hashsalt`` for the ids matplotlib
  derives from content, no date or creator metadata, text kept as ``<text>`` rather than glyph paths);
* self-contained and quiet: no XML declaration, DOCTYPE, comments, ``<metadata>`` block or namespace
  URLs (HTML's parser puts inline ``<svg>`` in the SVG namespace by itself), so no ``http`` appears;
* every id is prefixed with the chart's ``name``, so several charts on one page never share an id;
* names are never read as math (a customer called "$5 Deals" stays text);
* cached: the results are frozen (hashable) dataclasses, so a page shown again with the same numbers
  reuses the SVG instead of drawing it again (the drawing is most of an overview page's time).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from mapping.reports import Breakdown, Movement, Overview, Pareto

_RC: Any = {
    "svg.hashsalt": "relsync",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
}
_ACCENT = "#1f5f9f"
_MARK = "#c0392b"


def _clean(svg: str, name: str) -> str:
    """The bare ``<svg>`` element: no prolog, comments, metadata or namespace URLs; ids prefixed."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href=", "href=")
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{name}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{name}-{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{name}-{m.group(1)}"', svg)
    svg = re.sub(r"\n\s*\n", "\n", svg)
    return svg.strip() + "\n"


def _render(fig: Figure, name: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _clean(buffer.getvalue(), name)


def _figure(width: float, height: float, left_labels: Sequence[str] = (), bottom: float = 0.55) -> Figure:
    """A figure with fixed margins (inches): room for the longest left label and a bottom axis label.

    Fixed margins, not constrained layout: laying out by measuring every text twice costs more than
    the rest of the drawing, and these charts' shapes are known in advance.
    """
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height))
    left = 0.75 + 0.068 * max((len(label) for label in left_labels), default=0)
    fig.subplots_adjust(
        left=min(left / width, 0.6), right=1 - 0.3 / width, bottom=bottom / height, top=1 - 0.35 / height
    )
    return fig


@lru_cache(maxsize=64)
def pareto_svg(result: Pareto, name: str = "pareto") -> str:
    """Share of revenue (y) by share of customers (x), largest first, with the mark and who is inside."""
    with matplotlib.rc_context(_RC):
        fig = _figure(6.0, 3.6, bottom=0.5)
        ax = fig.add_subplot()
        xs = [100 * p.customer_share for p in result.curve]
        ys = [100 * p.revenue_share for p in result.curve]
        ax.plot(xs, ys, color=_ACCENT, linewidth=2)
        ax.plot([0, 100], [0, 100], color="#999999", linewidth=0.8, linestyle=":")
        mark = 100 * result.mark
        ax.axhline(mark, color=_MARK, linewidth=1, linestyle="--")
        if result.customers:
            inside = 100 * result.inside_customer_share
            ax.axvline(inside, color=_MARK, linewidth=1, linestyle="--")
            ax.annotate(
                f"{len(result.inside)} of {result.customers} customers ({inside:.1f} %)\n"
                f"bring {100 * result.inside_revenue_share:.1f} % of revenue",
                xy=(inside, mark),
                xytext=(min(inside + 5, 55), max(mark - 30, 5)),
                arrowprops={"arrowstyle": "->", "color": _MARK},
                color=_MARK,
            )
        else:
            ax.text(50, 50, "no revenue in the period", ha="center", va="center")
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 102)
        ax.set_xlabel("share of customers, largest first (%)")
        ax.set_ylabel("share of revenue (%)")
        ax.set_title(f"Pareto curve: who brings {mark:.0f} % of revenue")
        ax.grid(True, linewidth=0.3)
        return _render(fig, name)


def matrix_svg(
    rows: Sequence[str],
    columns: Sequence[str],
    counts: Sequence[Sequence[int]],
    title: str,
    row_label: str,
    column_label: str,
    name: str,
) -> str:
    """A counted matrix as a heat map with each count written in its cell (any sequences: they are
    turned into tuples for the cache)."""
    return _matrix_svg(
        tuple(rows), tuple(columns), tuple(tuple(row) for row in counts), title, row_label, column_label, name
    )


@lru_cache(maxsize=64)
def _matrix_svg(
    rows: tuple[str, ...],
    columns: tuple[str, ...],
    counts: tuple[tuple[int, ...], ...],
    title: str,
    row_label: str,
    column_label: str,
    name: str,
) -> str:
    with matplotlib.rc_context(_RC):
        fig = _figure(
            max(3.5, 1.1 * len(columns) + 2.2),
            max(2.2, 0.45 * len(rows) + 1.4),
            left_labels=[f"{label}  " for label in rows],
            bottom=0.75,
        )
        ax = fig.add_subplot()
        if not rows or not columns:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "nothing to show yet", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(title)
            return _render(fig, name)
        peak = max((max(row) for row in counts if row), default=0)
        ax.imshow([list(row) for row in counts], cmap="Blues", vmin=0, vmax=max(peak, 1), aspect="auto")
        for i, row in enumerate(counts):
            for j, value in enumerate(row):
                ax.text(
                    j,
                    i,
                    str(value),
                    ha="center",
                    va="center",
                    color="white" if peak and value > peak * 0.6 else "black",
                )
        ax.set_xticks(range(len(columns)), list(columns))
        ax.set_yticks(range(len(rows)), list(rows))
        ax.set_xlabel(column_label)
        ax.set_ylabel(row_label)
        ax.set_title(title)
        return _render(fig, name)


@lru_cache(maxsize=64)
def tier_potential_svg(result: Overview, name: str = "tier-potential") -> str:
    """Relationships by tier (rows, best first) and potential (columns, highest first)."""
    return matrix_svg(
        result.tiers,
        result.potentials,
        result.matrix,
        "Tier x potential: work the most promising first",
        "tier",
        "potential",
        name,
    )


@lru_cache(maxsize=64)
def movement_svg(result: Movement, name: str = "movement") -> str:
    """Relationships by tier at the start (rows) and at the end (columns) of the range."""
    return matrix_svg(
        result.tiers,
        result.tiers,
        result.matrix,
        f"Tier movement {result.start.isoformat()} to {result.end.isoformat()}",
        f"tier on {result.start.isoformat()}",
        f"tier on {result.end.isoformat()}",
        name,
    )


@lru_cache(maxsize=64)
def revenue_svg(result: Breakdown, name: str | None = None) -> str:
    """Net revenue per label as horizontal bars, largest on top."""
    with matplotlib.rc_context(_RC):
        bars = result.bars or ()
        labels = [b.label[:40] for b in bars]
        fig = _figure(6.0, max(1.6, 0.3 * len(bars) + 1.0), left_labels=labels, bottom=0.4)
        ax = fig.add_subplot()
        amounts = [float(b.amount) for b in bars]
        ax.barh(range(len(bars)), amounts, color=_ACCENT)
        ax.set_yticks(range(len(bars)), labels)
        ax.invert_yaxis()
        for i, b in enumerate(bars):
            ax.text(float(b.amount), i, f" {b.amount:,.0f} ({100 * b.share:.0f} %)", va="center", fontsize=8)
        if not bars:
            ax.text(0.5, 0.5, "no revenue in the period", ha="center", va="center", transform=ax.transAxes)
        ax.margins(x=0.25)
        ax.set_xticks([])  # each bar is labelled with its amount and share: no amount axis to measure
        ax.set_title(f"Revenue by {result.dimension}")
        return _render(fig, name or f"revenue-{result.dimension}")


__all__ = ["matrix_svg", "movement_svg", "pareto_svg", "revenue_svg", "tier_potential_svg"]
