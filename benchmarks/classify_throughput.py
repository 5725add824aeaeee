"""How fast does relsync classify a population of relationships, next to a raw baseline? Run by hand:

    .venv/bin/python benchmarks/classify_throughput.py [--count 100000] [--seed 7] [--no-rules]

Generates ``--count`` seeded :class:`RelationshipFacts` (a Pareto-shaped revenue: most earn little, a
few earn most; a quarter have no orders; some losses), then times, side by side:

(a) baseline: a plain loop computing each net revenue (orders - returns + referral credits) and sorting
    them with ids as tie-breaker, which is the floor of any exact ranking;
(b) relsync: ``mapping.classify.classify_all`` with the default configuration and four business rules
    of typical shapes (a low-cardinality one on industry, one on type and tier, one on size and source,
    one on a number: net revenue), compiled by ``mapping.rules.compile_rules``.

``--business`` adds the business case (issue 16): a tenth of the relationships referred by another
(a tenth of the referred revenue credited), a twentieth of them in parent groups of three to five
taking their group's tier, and growth in order value as a potential signal.

``--worst`` adds a fifth rule on a field unique to every relationship (its name), which defeats the
memoisation of rule outcomes: the price of one such rule is rule_engine's ~25 us per evaluation.

Goal: (b) under 10 s for 100,000 relationships on this 2-core machine. Prints both, and the ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapping.classify import classify_all  # noqa: E402
from mapping.classify_business import BusinessLinks  # noqa: E402
from mapping.classify_config import ClassificationConfig  # noqa: E402
from mapping.potential_signals import GrowthSettings  # noqa: E402
from mapping.relationship_records import RelationshipFacts  # noqa: E402
from mapping.rules import RuleSpec, compile_rules  # noqa: E402

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
INDUSTRIES = ["Government", "Retail", "Manufacturing", "Health", "Finance", None]
SIZES = ["small", "medium", "large", "enterprise", None]
SOURCES = ["campaign", "referral", "web", "phone", None]

RULES = [
    RuleSpec("government to carol", 'industry == "Government"', {"owner": "carol@example.com"}),
    RuleSpec(
        "superior customers are high potential", 'type == "customer" and tier == "Superior"', {"potential": "High"}
    ),
    RuleSpec("large referred leads are prospects", 'size == "large" and source == "referral"', {"type": "prospect"}),
    RuleSpec("big spenders to dave", "net_revenue > 50000", {"owner": "dave@example.com"}),
]


def make_facts(count: int, seed: int) -> list[RelationshipFacts]:
    rnd = random.Random(seed)
    out: list[RelationshipFacts] = []
    for i in range(count):
        has_orders = rnd.random() < 0.75
        orders = Decimal(int(rnd.paretovariate(1.16) * 1000)) if has_orders else Decimal(0)
        returns = Decimal(int(float(orders) * rnd.random() * 0.3)) if rnd.random() < 0.2 else Decimal(0)
        if rnd.random() < 0.02:
            returns = orders + Decimal(rnd.randint(1, 5000))  # a loss
        last = NOW - timedelta(days=rnd.randint(0, 800))
        out.append(
            RelationshipFacts(
                id=f"rel-{i:07d}",
                kind="organization" if i % 3 else "person",
                name=f"Relationship {i}",
                orders=orders,
                returns=returns,
                referral_credits=Decimal(rnd.choice([0, 0, 0, 250])),
                transaction_count=rnd.randint(1, 40) if has_orders else 0,
                order_count=rnd.randint(1, 30) if has_orders else 0,
                first_contact_at=last - timedelta(days=rnd.randint(0, 2000)),
                latest_transaction_at=last if has_orders else None,
                latest_interaction_at=last,
                latest_inbound_at=last - timedelta(days=rnd.randint(0, 60)) if rnd.random() < 0.7 else None,
                inbound_recent=rnd.randint(0, 10),
                outbound_recent=rnd.randint(0, 10),
                meetings_recent=rnd.randint(0, 2),
                inbound_previous=rnd.randint(0, 10),
                outbound_previous=rnd.randint(0, 10),
                meetings_previous=rnd.randint(0, 2),
                size=rnd.choice(SIZES),
                industry=rnd.choice(INDUSTRIES),
                geography=rnd.choice(["US", "DE", "GB", None]),
                products=tuple(rnd.sample(["crm", "erp", "support"], rnd.randint(0, 2))),
                source=rnd.choice(SOURCES),
                referrals_made=rnd.choice([0, 0, 0, 1, 4]),
                user_fields={"Source": "trade show"} if rnd.random() < 0.05 else {},
                overrides={"tier": "Superior"} if rnd.random() < 0.01 else {},
            )
        )
    return out


def baseline(facts: list[RelationshipFacts]) -> float:
    """Wall time of the floor: net revenue of each, then the exact sort (largest first, ties by id)."""
    start = time.perf_counter()
    nets = [(f.orders - f.returns + f.referral_credits, f.id) for f in facts]
    nets.sort(key=lambda pair: (-pair[0], pair[1]))
    return time.perf_counter() - start


def business_links(facts: list[RelationshipFacts], seed: int) -> BusinessLinks:
    """Seeded referrals (a tenth) and parent groups (a twentieth, three to five members each)."""
    rnd = random.Random(f"business-{seed}")
    ids = [f.id for f in facts]
    referrer_of = {rid: rnd.choice(ids) for rid in ids if rnd.random() < 0.1}
    root_of: dict[str, str] = {}
    members = rnd.sample(ids, len(ids) // 20)
    while members:
        size = min(len(members), rnd.randint(3, 5))
        root, *subsidiaries = members[:size]
        members = members[size:]
        root_of.update((m, root) for m in subsidiaries)
    return BusinessLinks(referrer_of, Decimal("0.1"), root_of, "group", GrowthSettings())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-rules", action="store_true")
    parser.add_argument(
        "--worst", action="store_true", help="add a rule on a field unique to each relationship (no memoisation)"
    )
    parser.add_argument("--business", action="store_true", help="with referrals, group tiers and growth")
    args = parser.parse_args()
    facts = make_facts(args.count, args.seed)
    business = business_links(facts, args.seed) if args.business else None
    config = ClassificationConfig()
    specs = [*RULES, RuleSpec("names ending in 9", 'name =~ ".*9$"', {"potential": "Low"})] if args.worst else RULES
    rules = () if args.no_rules else compile_rules(specs, config)

    raw = min(baseline(facts) for _ in range(3))
    start, cpu_start = time.perf_counter(), time.process_time()
    result = classify_all(facts, config, rules, now=NOW, business=business)
    ours, cpu = time.perf_counter() - start, time.process_time() - cpu_start

    tiers: dict[str, int] = {}
    for c in result:
        tiers[c.tier] = tiers.get(c.tier, 0) + 1
    fired = sum(1 for c in result if c.fired_rules)
    print(f"relationships: {len(facts):,}   rules: {len(rules)}   (fired on {fired:,})")
    print(f"(a) baseline, net revenue + exact sort: {raw:8.3f} s")
    print(f"(b) relsync classify_all:               {ours:8.3f} s   ({len(facts) / ours:,.0f} / s; CPU {cpu:.3f} s)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (wall time suffers when other work shares the 2 cores)")
    print(f"ratio (b)/(a): {ours / raw:.1f}x      goal: (b) < 10 s for 100,000 -> {'OK' if ours < 10 else 'MISSED'}")
    print("tiers:", ", ".join(f"{k} {v:,}" for k, v in sorted(tiers.items())))


if __name__ == "__main__":
    main()
