"""What does the business case add to each classification pass? Run by hand:

    .venv/bin/python benchmarks/business_links.py [--organisations 100000] [--url sqlite:///...]

Seeds a throwaway store (SQLite by default; ``--url`` for PostgreSQL) with ``--organisations``
organisations (one domain and one contact each, a tenth of the contacts naming a referrer in "Referred
By", a twentieth naming a parent in "Parent Organization"), 20,000 referral-credit rows naming the
customer referred (by domain), two parent rules and one confirmed domain family, then times
:func:`mapping.store.business.links` (every referral and parent source resolved: what
``classify_relationships`` runs before :func:`mapping.classify.classify_all`).

Goal (ours): a few seconds for 100,000 relationships, small beside classification itself (< 10 s).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from mapping.business_policy import BusinessPolicy  # noqa: E402
from mapping.group_sources import ParentRule  # noqa: E402
from mapping.store.business import links  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.models import (  # noqa: E402
    Organisation,
    OrganisationDomain,
    Person,
    Relationship,
    Transaction,
    TransactionKind,
)
from mapping.store.models_business import GroupFamily  # noqa: E402
from mapping.store.store import Store  # noqa: E402

NOW = datetime(2026, 6, 30, tzinfo=UTC)


def seed(store: Store, n: int, rnd: random.Random) -> None:
    with store.session() as s:
        s.execute(
            sa.insert(Organisation),
            [{"id": i, "name": f"Company {i}", "normalised_name": f"company {i}"} for i in range(1, n + 1)],
        )
        s.execute(
            sa.insert(OrganisationDomain),
            [{"organisation_id": i, "domain": f"company{i}.example"} for i in range(1, n + 1)]
            + [{"organisation_id": 1, "domain": "acme.com"}, {"organisation_id": 2, "domain": "acme.de"}],
        )
        people = []
        for i in range(1, n + 1):
            fields: dict[str, str] = {}
            if rnd.random() < 0.1:
                fields["Referred By"] = f"Company {rnd.randint(1, n)}"
            if rnd.random() < 0.05:
                fields["Parent Organization"] = f"Company {rnd.randint(1, n)}"
            people.append({"organisation_id": i, "display_name": f"Contact {i}", "user_fields": fields or None})
        s.execute(
            sa.insert(Person).values(user_fields=sa.bindparam("user_fields", type_=sa.JSON(none_as_null=True))), people
        )
        s.execute(sa.insert(Relationship), [{"id": i, "organisation_id": i} for i in range(1, n + 1)])
        s.execute(
            sa.insert(Transaction),
            [
                {
                    "occurred_on": date(2026, 5, 1),
                    "customer_key": f"company{i}.example",
                    "organisation_id": i,
                    "kind": TransactionKind.REFERRAL_CREDIT,
                    "amount": Decimal(100),
                    "currency": "EUR",
                    "referred_key": f"company{rnd.randint(1, n)}.example",
                    "source_file": "sales.csv",
                    "source_line": k + 2,
                    "fingerprint": f"fp{k}",
                }
                for k, i in enumerate(rnd.sample(range(1, n + 1), min(20_000, n)))
            ],
        )
        s.add(GroupFamily(family="acme", parent_relationship_id=1, confirmed_by="bench", confirmed_at=NOW))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--organisations", type=int, default=100_000)
    ap.add_argument("--url")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        store = Store(url)
        start = time.perf_counter()
        seed(store, args.organisations, random.Random(7))
        print(f"seeded {args.organisations:,} organisations in {time.perf_counter() - start:.1f} s")
        policy = BusinessPolicy(
            parent_rules=(
                ParentRule("Company 3", name="Company 3?"),
                ParentRule("Company 4", domain="company4?.example"),
            )
        )
        best = None
        for _ in range(2):
            with store.session() as s:
                start, cpu = time.perf_counter(), time.process_time()
                found = links(s, policy)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            best = wall if best is None else min(best, wall)
            print(f"links(): {wall:.2f} s (CPU {cpu:.2f} s)")
        print(
            f"referrals {len(found.referrer_of):,}, "
            f"group members {sum(1 for c, r in found.root_of.items() if c != r):,}, "
            f"problems {len(found.problems):,}; best {best:.2f} s; load average {os.getloadavg()[0]:.2f} on 2 cores"
        )
        store.dispose()


if __name__ == "__main__":
    main()
