"""A year of sales history for a generated company, as the accounting system's CSV export would give it.

Deterministic for a seed: customers and partners order a few times to many times a year (a long tail,
as real books have), some return goods, a few partners earn referral credits; prospects and vendors
buy nothing. Rows name the customer as relsync's importer accepts: mostly the organisation's e-mail
domain, sometimes a contact's address or the company name as the books spell it. Product names are
written as the books write them, several spellings per product (:data:`SPELLINGS`); the catalogue
that maps them back (:func:`catalogue_csv`) is written beside the config.

The planted business case (:mod:`connector.fake.company.business`) gets its own rows, dated from
``today`` (the day the demo runs): a large order two days ago (thank-you), monthly orders that
stopped five months ago (win-back), a referred customer's first order three days ago, and a parent
group buying well over a quarter of everything (concentration).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connector.fake.company.generator import FakeCompany

#: Canonical products and the spellings the books use for each (the first is the canonical name).
SPELLINGS: dict[str, tuple[str, ...]] = {
    "Turbines": ("Turbines", "Turbine", "TURBINES"),
    "Spare parts": ("Spare parts", "Spare Parts Kit"),
    "Maintenance": ("Maintenance", "Maintenance contract"),
    "Consulting": ("Consulting", "Consulting services"),
    "Training": ("Training", "TRAINING-DAY"),
    "Widget Pro 2": ("Widget Pro 2", "WIDGET-PRO-2", "Widget Pro II"),
}
PRODUCTS = tuple(SPELLINGS)
#: The large order the thank-you follow-up names.
THANK_YOU_ORDER = "INV-BC-1001"


def catalogue_csv() -> str:
    """The product catalogue (``product,alias``) that maps every spelling to its canonical product."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["product", "alias"])
    for product, spellings in SPELLINGS.items():
        for alias in spellings[1:]:
            writer.writerow([product, alias])
    return out.getvalue()


def sales_csv(company: FakeCompany, seed: int | None = None, today: date | None = None) -> str:
    """The CSV text (``date,customer,amount,currency,kind,product,external_id,referred``) of the last 365 days
    (from the company's anchor), with the business case's rows dated from ``today`` (default: the anchor)."""
    rng = random.Random(f"sales-{company.seed if seed is None else seed}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "customer", "amount", "currency", "kind", "product", "external_id", "referred"])
    anchor = company.anchor.date()
    case = company.business
    controlled = case.controlled if case is not None else frozenset()
    total = Decimal(0)
    for org in company.organisations:
        if org.kind not in ("customer", "partner") or org.index in controlled:
            continue
        # A long tail: most buy a little, a few buy a lot (Pareto-shaped order counts and sizes).
        orders = min(40, int(rng.paretovariate(1.3)))
        size = rng.choice((800, 2_000, 5_000, 12_000))
        for _ in range(orders):
            day = anchor - timedelta(days=rng.randint(1, 364))
            amount = round(size * rng.lognormvariate(0, 0.6), 2)
            key = _customer_key(rng, company, org.index)
            writer.writerow([day.isoformat(), key, f"{amount:.2f}", "EUR", "order", _spelling(rng), "", ""])
            total += Decimal(f"{amount:.2f}")
            if rng.random() < 0.08:
                back = day + timedelta(days=rng.randint(3, 30))
                if back < anchor:
                    writer.writerow(
                        [back.isoformat(), key, f"{amount * rng.uniform(0.1, 1):.2f}", "EUR", "return", "", "", ""]
                    )
        if org.kind == "partner" and rng.random() < 0.5:
            day = anchor - timedelta(days=rng.randint(1, 364))
            writer.writerow(
                [day.isoformat(), org.domain, f"{rng.randint(2, 20) * 100:.2f}", "EUR", "referral_credit", "", "", ""]
            )
    if case is not None:
        _business_rows(writer, company, rng, max(today or anchor, anchor), total)
    return out.getvalue()


def _business_rows(writer: Any, company: FakeCompany, rng: random.Random, today: date, total: Decimal) -> None:
    case = company.business
    assert case is not None
    orgs = company.organisations

    def order(org: int, day: date, amount: Decimal, product: str, external_id: str = "") -> None:
        writer.writerow([day.isoformat(), orgs[org].domain, f"{amount:.2f}", "EUR", "order", product, external_id, ""])

    # Thank-you: monthly orders, the latest a large one two days ago.
    for k in range(10, 0, -1):
        order(case.thank_you, today - timedelta(days=2 + 30 * k), Decimal(3000 + 100 * k), "Turbines")
    order(case.thank_you, today - timedelta(days=2), Decimal(30000), "Turbines", THANK_YOU_ORDER)
    # Win-back: an order every month for ten months, then nothing for five.
    for k in range(10):
        order(case.win_back, today - timedelta(days=150 + 30 * k), Decimal(2500), "Spare parts")
    # Referral: the referred customer's first order, three days ago, and the referrer's credit for it
    # as the books record it (the referral credit names the customer referred: column "referred").
    order(case.referred, today - timedelta(days=3), Decimal(4000), "Maintenance")
    credit_day = (today - timedelta(days=2)).isoformat()
    writer.writerow(
        [credit_day, orgs[case.referrer].domain, "200.00", "EUR", "referral_credit", "", "", orgs[case.referred].domain]
    )
    # The group buys half again as much as everyone else together (60 % of all revenue).
    members = (case.parent, *case.subsidiaries)
    share = (total * Decimal("1.5") / (len(members) * 6)).quantize(Decimal("0.01"))
    for n, org in enumerate(members):
        for k in range(6):
            order(org, today - timedelta(days=20 + 50 * k + n), share, PRODUCTS[(n + k) % len(PRODUCTS)])


def _spelling(rng: random.Random) -> str:
    return rng.choice(SPELLINGS[rng.choice(PRODUCTS)])


def _customer_key(rng: random.Random, company: FakeCompany, org: int) -> str:
    o = company.organisations[org]
    roll = rng.random()
    if roll < 0.15 and o.people:
        return company.people[rng.choice(o.people)].email
    if roll < 0.25:
        return o.name
    return o.domain
