"""How fast is follow-up planning with every key-date trigger? Run by hand:

    .venv/bin/python benchmarks/planning_triggers.py [--count 100000] [--seed 7]

Takes the seeded population of ``benchmarks/followup_planning.py`` (tiers, potentials, statuses, owners
in eight time zones, open follow-ups in every state) and gives every customer an order history of 1 to
15 orders with its own rhythm (weekly to yearly), so some have a large order in the last days
(thank-you), some have lapsed relative to their own interval (win-back), a tenth were referred by
another relationship and some of those first bought recently (acknowledge the referral); a third of
the open follow-ups already carry a trigger from an earlier run.

Times, separately and together:

(a) triggers: :func:`mapping.keydates.thank_you_triggers`, :func:`mapping.keydates.win_back_trigger`
    (per tier settings) and :func:`mapping.referrals.referral_ack_triggers`;
(b) planning: :func:`mapping.trigger_planning.plan_all_with_triggers` (cadence plus merged triggers).

Goal: (a) + (b) under 5 s for 100,000 relationships on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from followup_planning import NOW, make_inputs, policy  # noqa: E402

from mapping.keydates import KeyDatePolicy, KeyDateSettings, Order, thank_you_triggers, win_back_trigger  # noqa: E402
from mapping.referrals import referral_ack_triggers  # noqa: E402
from mapping.trigger_planning import Trigger, plan_all_with_triggers  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    pol = policy("complete")
    inputs = make_inputs(args.count, args.seed, pol)
    today = NOW.date()
    orders: dict[int, list[Order]] = {}
    for inp in inputs:
        if inp.type != "customer":
            continue
        rhythm = rnd.choice([7, 30, 90, 365])
        last = today - timedelta(days=rnd.randint(0, 3 * rhythm))
        n = rnd.randint(1, 15)
        orders[inp.relationship_id] = [
            Order(
                f"SO-{inp.relationship_id}-{k}",
                last - timedelta(days=k * rhythm + rnd.randint(0, rhythm // 7)),
                Decimal(rnd.choice([200, 1500, 8000, 25000, 60000])),
            )
            for k in range(n)
        ]
    ids = [inp.relationship_id for inp in inputs]
    referrer_of = {rid: rnd.choice(ids) for rid in ids if rnd.random() < 0.1}
    referrer_of = {a: b for a, b in referrer_of.items() if a != b}
    first_order = {rid: min(o.day for o in os_) for rid, os_ in orders.items()}
    names = {inp.relationship_id: inp.name for inp in inputs}
    kd = KeyDatePolicy(KeyDateSettings(), {"Marginal": KeyDateSettings(thank_you_min_amount=Decimal(50000))})

    start, cpu0 = time.perf_counter(), time.process_time()
    new: dict[int, list[Trigger]] = {}
    for inp in inputs:
        os_ = orders.get(inp.relationship_id)
        if not os_:
            continue
        s = kd.settings_for(inp.tier)
        found = thank_you_triggers(inp.relationship_id, os_, today, s)
        wb = win_back_trigger(inp.relationship_id, [o.day for o in os_], today, s)
        if wb is not None:
            found.append(wb)
        if found:
            new[inp.relationship_id] = found
    for t in referral_ack_triggers(referrer_of, first_order, today, 14, names):
        new.setdefault(t.relationship_id, []).append(t)
    triggers_s, triggers_cpu = time.perf_counter() - start, time.process_time() - cpu0
    carried: dict[int, list[Trigger]] = {}
    for inp in inputs:
        if inp.open is not None and inp.open.kind == "cadence" and rnd.random() < 0.33:
            carried[inp.relationship_id] = [
                Trigger(inp.relationship_id, "win_back", "win-back:2026-01-01", today, "Win them back.")
            ]

    start, cpu0 = time.perf_counter(), time.process_time()
    actions = plan_all_with_triggers(inputs, pol, NOW, new, carried)
    plan_s, plan_cpu = time.perf_counter() - start, time.process_time() - cpu0

    kinds = Counter(t.kind for ts in new.values() for t in ts)
    acts = Counter(type(a).__name__ for a in actions)
    print(f"relationships: {len(inputs):,}   customers with orders: {len(orders):,}   referred: {len(referrer_of):,}")
    print(
        "new triggers:",
        ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())),
        f"  open follow-ups carrying one: {len(carried):,}",
    )
    print(f"(a) triggers: {triggers_s:6.3f} s   (CPU {triggers_cpu:.3f} s)")
    print(f"(b) planning: {plan_s:6.3f} s   (CPU {plan_cpu:.3f} s)")
    total = triggers_s + plan_s
    print(
        f"total:        {total:6.3f} s   (CPU {triggers_cpu + plan_cpu:.3f} s)   goal < 5 s -> "
        f"{'OK' if total < 5 else 'MISSED'}   (load average {os.getloadavg()[0]:.2f}: wall time suffers when "
        "other work shares the 2 cores)"
    )
    print("actions:", ", ".join(f"{k} {v:,}" for k, v in sorted(acts.items())))


if __name__ == "__main__":
    main()
