"""scheduler.charts: inline SVG that is deterministic, quiet (no http, no metadata) and safe to repeat."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from mapping.reports import ClassCount, CustomerRevenue, breakdown, overview, pareto, tier_movement
from scheduler.charts import movement_svg, pareto_svg, revenue_svg, tier_potential_svg

CUSTOMERS = [
    CustomerRevenue(i, name, Decimal(v))
    for i, (name, v) in enumerate(
        [("$5 Deals & <Co>", 500), ("Acme", 300), ("Bolt", 100), ("Crane", 60), ("Dyna", 40)], start=1
    )
]


def _all_charts() -> list[str]:
    o = overview(
        [ClassCount("customer", "active", "Superior", "High", 3), ClassCount("lead", "active", "Average", "Low", 2)],
        ("Superior", "Average"),
        ("High", "Low"),
    )
    return [
        pareto_svg(pareto(CUSTOMERS)),
        tier_potential_svg(o),
        revenue_svg(breakdown("product", [("Widgets", Decimal(10)), (None, Decimal(-2))])),
        movement_svg(tier_movement(date(2026, 1, 1), date(2026, 2, 1), {1: "Average"}, {1: "Superior"}, {})),
        pareto_svg(pareto([])),
        tier_potential_svg(overview([], ("Superior",))),  # an empty store: tiers but no potential yet
    ]


def test_the_same_results_give_the_same_bytes() -> None:
    assert _all_charts() == _all_charts()


def test_charts_are_bare_svg_elements_without_urls_metadata_or_prolog() -> None:
    for svg in _all_charts():
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert "http" not in svg and "<metadata" not in svg and "<!--" not in svg and "<?xml" not in svg
        assert "xlink:" not in svg


def test_names_are_text_not_math_and_escaped() -> None:
    assert "of 5 customers" in pareto_svg(pareto(CUSTOMERS))  # the annotation as text, not glyph paths
    bars = revenue_svg(breakdown("customer", [(c.name, c.revenue) for c in CUSTOMERS]))
    assert "$5 Deals &amp; &lt;Co&gt;" in bars


def test_every_id_carries_the_chart_name_so_charts_can_share_a_page() -> None:
    first, second = pareto_svg(pareto(CUSTOMERS), "one"), pareto_svg(pareto(CUSTOMERS), "two")
    ids_one = set(re.findall(r'id="([^"]+)"', first))
    ids_two = set(re.findall(r'id="([^"]+)"', second))
    assert ids_one and all(i.startswith("one-") for i in ids_one)
    assert not ids_one & ids_two
    for ref in re.findall(r"url\(#([^)]+)\)", first) + re.findall(r'href="#([^"]+)"', first):
        assert ref in ids_one
