"""The business case end to end against the fake Exchange, as `relsync demo` runs it.

The demo's company (seed 7, five mailboxes, small scale: a tiny one has too few recent two-way
threads for the planted customers to have owners, and a trigger without an owner is only reported).

The generated company plants a customer with a large order two days ago, one whose monthly buying
stopped five months ago, a referred customer's first order, a parent group holding 60 % of revenue
and product names spelt three ways with a catalogue beside the config
(:mod:`connector.fake.company.business`). After sync, import and sync again, the owners' Tasks folders
in the fake hold a thank-you task (naming the order, "What matters" on top), a win-back task and a
referral acknowledgement, task bodies carry next-offer lines, and `relsync status` warns of the
concentration; `relsync explain` shows each part.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.fake.company.business import NOTE, BusinessCase
from connector.fake.company.generator import build_company
from connector.fake.company.sales import THANK_YOU_ORDER
from connector.fake.ews.server import FakeExchange
from scheduler.cli.fake import write_fake_config
from scheduler.cli.main import main
from scheduler.config import load_config
from scheduler.fake_files import write_sales_history


@dataclass
class Demo:
    config: Path
    case: BusinessCase
    names: dict[int, str]
    tasks: list[dict[str, Any]]  # every task in every owner's Tasks folder

    def one(self, subject_part: str, name: str) -> dict[str, Any]:
        hits = [t for t in self.tasks if subject_part in t["Subject"] and name in t["Subject"]]
        assert len(hits) == 1, (subject_part, name, [t["Subject"] for t in self.tasks])
        return hits[0]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


Relsync = Callable[..., Run]


@pytest.fixture
def relsync(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Relsync:
    """Run ``relsync`` through its entry point in this process (errors to sentences and exit codes, as
    the installed command; a child interpreter per call cost two thirds of this module's time)."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from mapping.store.migrate import upgrade
    from scheduler.cli.demo import _import_sales
    from scheduler.jobs import run_sync

    company = build_company(seed=7, mailboxes=5, scale="small")
    case = company.business
    assert case is not None
    config = tmp_path_factory.mktemp("business") / "relsync.toml"
    with FakeExchange(company) as server:
        addresses = [m.email for m in company.mailboxes()]
        write_fake_config(config, server.url, server.username, server.password, addresses, company.domain)
        loaded = load_config(config)
        upgrade(loaded.config.store.url)
        run_sync(loaded)
        sales = write_sales_history(config, company)
        assert _import_sales(loaded, sales) > 0
        run_sync(loaded)
        tasks = [dict(spec.fields) for a in addresses for _, spec in server.mailboxes[a].items("tasks")]
    yield Demo(config, case, {o.index: o.name for o in company.organisations}, tasks)


def test_a_large_recent_order_gets_a_thank_you_task_naming_it_with_what_matters_on_top(demo: Demo) -> None:
    task = demo.one("Thank you", demo.names[demo.case.thank_you])
    body = task["Body"]
    assert body.startswith(f"What matters to them: {NOTE}")
    assert "Why now:" in body and THANK_YOU_ORDER in body


def test_a_customer_whose_monthly_buying_stopped_gets_a_win_back_task(demo: Demo) -> None:
    task = demo.one("Win back", demo.names[demo.case.win_back])
    assert "no order for" in task["Body"] and "usual interval 30 days" in task["Body"]


def test_the_referrer_is_asked_to_acknowledge_the_referred_customers_first_order(demo: Demo) -> None:
    task = demo.one("Acknowledge referral", demo.names[demo.case.referrer])
    assert f"referring {demo.names[demo.case.referred]}" in task["Body"]


def test_task_bodies_carry_next_offer_lines_in_catalogue_products(demo: Demo) -> None:
    bodies = [t["Body"] for t in demo.tasks if "Offer next (what similar customers buy):" in t["Body"]]
    assert bodies, "some task carries next-offer lines"
    for spelling in ("WIDGET-PRO-2", "Widget Pro II", "TRAINING-DAY", "Spare Parts Kit"):
        assert not any(spelling in b for b in bodies), "offers name catalogue products, not the books' spellings"


def test_the_offers_kept_for_the_outlook_card_are_the_lines_the_task_bodies_carry(demo: Demo) -> None:
    import sqlalchemy as sa

    from mapping.store.business_offers import offers_of
    from mapping.store.models_business import RelationshipOffer
    from mapping.store.store import Store

    heading = "Offer next (what similar customers buy):"
    blocks = []
    for body in (t["Body"] for t in demo.tasks if heading in t["Body"]):
        after = body.split(heading, 1)[1].splitlines()[1:]
        blocks.append([ln.strip() for ln in after if ln.startswith("  ")])
    store = Store(load_config(demo.config).config.store.url)
    try:
        with store.session() as s:
            kept = [
                [o.line() for o in offers_of(s, rid)] for rid in s.scalars(sa.select(RelationshipOffer.relationship_id))
            ]
    finally:
        store.dispose()
    assert blocks and kept
    for block in blocks:
        assert any(block[: len(k)] == k for k in kept), block


def test_never_two_open_trigger_tasks_for_one_relationship_and_owner(demo: Demo) -> None:
    open_subjects = [t["Subject"] for t in demo.tasks if t.get("Status") != "Completed"]
    for name in (demo.names[demo.case.thank_you], demo.names[demo.case.win_back], demo.names[demo.case.referrer]):
        assert sum(name in s for s in open_subjects) == 1, (name, open_subjects)


def test_status_warns_of_the_parent_groups_concentration(demo: Demo, relsync: Relsync) -> None:
    out = relsync("--config", str(demo.config), "status")
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("concentration:"))
    assert demo.names[demo.case.parent] in line and "above the 25 % concentration limit" in line


def test_explain_shows_referral_group_lapse_and_offers(demo: Demo, relsync: Relsync) -> None:
    out = relsync("--config", str(demo.config), "explain", demo.names[demo.case.referred], "--json")
    assert out.returncode == 0, out.stderr
    (referred,) = [e for e in json.loads(out.stdout) if e["name"] == demo.names[demo.case.referred]]
    assert referred["business"]["referrals"]["referred_by"] == demo.names[demo.case.referrer]
    out = relsync("--config", str(demo.config), "explain", demo.names[demo.case.win_back], "--json")
    (lapsed,) = [e for e in json.loads(out.stdout) if e["name"] == demo.names[demo.case.win_back]]
    assert lapsed["business"]["key_dates"]["lapse"]["lapsed"] is True
    sub = relsync("--config", str(demo.config), "explain", demo.names[demo.case.subsidiaries[0]])
    assert f"group: {demo.names[demo.case.parent]}" in sub.stdout
    assert f"group tier: {demo.names[demo.case.parent]} group value" in sub.stdout
    assert "classified individually" in sub.stdout  # [groups] subsidiary_tiers defaults to individual


def test_classification_credits_the_referrer_with_a_share_of_the_referred_customers_revenue(
    demo: Demo, relsync: Relsync
) -> None:
    out = relsync("--config", str(demo.config), "explain", demo.names[demo.case.referrer], "--json")
    assert out.returncode == 0, out.stderr
    (referrer,) = [e for e in json.loads(out.stdout) if e["name"] == demo.names[demo.case.referrer]]
    referrals = referrer["business"]["referrals"]
    assert referrals["referred_count"] == 1
    assert Decimal(referrer["referral_credit"]) == Decimal(referrals["credited"]) > 0


def test_the_report_warns_of_the_concentration_in_json_and_html(demo: Demo, relsync: Relsync, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    out = relsync("--config", str(demo.config), "report", "--json", "--html", str(html))
    assert out.returncode == 0, out.stderr
    concentration = json.loads(out.stdout)["concentration"]
    parent = demo.names[demo.case.parent]
    (warning,) = concentration["warnings"]
    assert parent in warning and "above the 25 % concentration limit" in warning
    top = concentration["groups"][0]
    assert top["name"] == parent and top["organisations"] == 3 and top["warning"] == warning
    page = html.read_text(encoding="utf-8")
    assert "<h2>Concentration (limit 25 % of revenue)</h2>" in page and f"Warning: {warning}." in page
