"""A year of sales history for a generated company, as the accounting system's CSV export would give it.

Deterministic for a seed: customers and partners order a few times to many times a year (a long tail,
as real books have), some return goods, a few partners earn referral credits; prospects and vendors
buy nothing. Rows name the customer as relsync's importer accepts: mostly the organisation's e-mail
domain, sometimes a contact's address or the company name as the books spell it.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta

from connector.fake.company.generator import FakeCompany

PRODUCTS = ("Turbines", "Spare parts", "Maintenance", "Consulting", "Training", "Licences")


def sales_csv(company: FakeCompany, seed: int | None = None) -> str:
    """The CSV text (``date,customer,amount,currency,kind,product``) of the last 365 days."""
    rng = random.Random(f"sales-{company.seed if seed is None else seed}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "customer", "amount", "currency", "kind", "product"])
    today = company.anchor.date()
    for org in company.organisations:
        if org.kind not in ("customer", "partner"):
            continue
        # A long tail: most buy a little, a few buy a lot (Pareto-shaped order counts and sizes).
        orders = min(40, int(rng.paretovariate(1.3)))
        size = rng.choice((800, 2_000, 5_000, 12_000))
        for _ in range(orders):
            day = today - timedelta(days=rng.randint(1, 364))
            amount = round(size * rng.lognormvariate(0, 0.6), 2)
            key = _customer_key(rng, company, org.index)
            writer.writerow([day.isoformat(), key, f"{amount:.2f}", "EUR", "order", rng.choice(PRODUCTS)])
            if rng.random() < 0.08:
                back = day + timedelta(days=rng.randint(3, 30))
                if back < today:
                    writer.writerow([back.isoformat(), key, f"{amount * rng.uniform(0.1, 1):.2f}", "EUR", "return",
                                     ""])
        if org.kind == "partner" and rng.random() < 0.5:
            day = today - timedelta(days=rng.randint(1, 364))
            writer.writerow([day.isoformat(), org.domain, f"{rng.randint(2, 20) * 100:.2f}", "EUR",
                             "referral_credit", ""])
    return out.getvalue()


def _customer_key(rng: random.Random, company: FakeCompany, org: int) -> str:
    o = company.organisations[org]
    roll = rng.random()
    if roll < 0.15 and o.people:
        return company.people[rng.choice(o.people)].email
    if roll < 0.25:
        return o.name
    return o.domain
