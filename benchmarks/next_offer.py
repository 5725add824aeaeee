"""How fast are next-offer suggestions for a large sales history? Run by hand:

    .venv/bin/python benchmarks/next_offer.py [--relationships 100000] [--transactions 1000000] [--seed 7]

Generates ``--relationships`` seeded :class:`Profile` records (40 industries, 5 sizes, 4 tiers, a tenth
with unknown industry or size) and ``--transactions`` purchases spread over them with a Pareto-like
skew (few customers buy a lot), naming 300 products in skewed popularity, each product written in
up to four spellings as an accounting system would ("Widget Pro 2", "WIDGET-PRO-2", "Widget Pro II",
"widget pro2"), and each industry favouring its own products.

Times, each step and the total: mapping the spellings through the catalogue
(:meth:`Catalogue.resolve_many`) and :func:`mapping.next_offer.suggest_all` (top 3). Prints the peak
memory (max resident set size of this process, generation included).

Goal: under 30 s and under 1 GB for 100,000 relationships over 1,000,000 transactions on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapping.catalogue import parse_catalogue  # noqa: E402
from mapping.next_offer import OfferSettings, Profile, suggest_all  # noqa: E402

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--relationships", type=int, default=100_000)
    ap.add_argument("--transactions", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rnd = random.Random(args.seed)

    t0 = time.perf_counter()
    words = [f"{a}{b}{c}".capitalize() for a in "pt" for b in "aeiou" for c in "lmnrsx"]  # 60 letter-only words
    # Numbers whose Roman numerals have two letters or more (a lone "V" stays a letter, as in "Model X").
    products = [
        f"{family} {w} {(2, 3, 4, 6, 7, 8, 9)[(i * 3 + j) % 7]}"
        for i, family in enumerate(["Widget", "Gadget", "Gizmo", "Sprocket", "Valve"])
        for j, w in enumerate(words)
    ]
    lines = ["[products]"]
    for p in products:
        base, num = p.rsplit(" ", 1)
        lines.append(f'"{p}" = ["{base.upper().replace(" ", "-")}-{num}"]')
    catalogue, problems = parse_catalogue("\n".join(lines), "bench.toml")
    assert not problems, problems[:3]

    def spellings(p: str) -> list[str]:
        base, num = p.rsplit(" ", 1)
        return [p, f"{base.upper().replace(' ', '-')}-{num}", f"{base} {ROMAN[int(num) - 1]}", f"{base.lower()}{num}"]

    spelled = [spellings(p) for p in products]
    industries = [f"industry {i}" for i in range(40)]
    sizes = ["micro", "small", "medium", "large", "enterprise"]
    tiers = ["Superior", "Average", "Marginal", "Eliminate"]
    profiles = [
        Profile(
            i,
            None if rnd.random() < 0.05 else rnd.choice(industries),
            None if rnd.random() < 0.05 else rnd.choice(sizes),
            rnd.choice(tiers),
        )
        for i in range(args.relationships)
    ]
    weights = [1 / (k + 1) for k in range(len(products))]
    ids = [int(args.relationships * rnd.paretovariate(1.2)) % args.relationships for _ in range(args.transactions)]
    favourite = {ind: rnd.sample(range(len(products)), 15) for ind in industries}
    general = rnd.choices(range(len(products)), weights=weights, k=args.transactions)
    raw: list[str] = []
    for rid, g in zip(ids, general, strict=True):
        ind = profiles[rid].industry
        k = rnd.choice(favourite[ind]) if ind is not None and rnd.random() < 0.4 else g
        raw.append(rnd.choice(spelled[k]))
    gen = time.perf_counter() - t0
    print(
        f"generated {args.relationships:,} relationships, {args.transactions:,} transactions, "
        f"{len({r for r in raw}):,} spellings of {len(products)} products in {gen:.1f} s"
    )

    t1, c1 = time.perf_counter(), time.process_time()
    canonical = catalogue.resolve_many(raw)
    t2 = time.perf_counter()
    suggestions = suggest_all(profiles, zip(ids, canonical, strict=True), OfferSettings(top=3))
    t3, c3 = time.perf_counter(), time.process_time()
    assert set(canonical) == set(products), "every spelling maps to its canonical product"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with_any = len(suggestions)
    print(f"catalogue mapping:   {t2 - t1:6.2f} s")
    print(f"suggestions (top 3): {t3 - t2:6.2f} s  ({with_any:,} relationships with suggestions)")
    print(
        f"total:               {t3 - t1:6.2f} s  (CPU {c3 - c1:.2f} s; goal < 30 s; load average "
        f"{os.getloadavg()[0]:.2f} on 2 cores)"
    )
    print(f"peak memory (RSS):   {peak_mb:6.0f} MB (goal < 1024 MB)")
    sample = next(iter(suggestions.items()))
    print(f"e.g. relationship {sample[0]}: " + "; ".join(s.line() for s in sample[1]))


if __name__ == "__main__":
    main()
