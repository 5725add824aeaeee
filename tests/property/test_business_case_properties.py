"""Properties of issue 16's pure decisions: triggers merged into the plan, lapses, referral value, concentration."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.catalogue import normalise_product
from mapping.classify_config import ClassificationConfig
from mapping.followups import (
    Cadence,
    Close,
    Create,
    FollowUpPolicy,
    OpenFollowUp,
    PlanInput,
    Problem,
    Update,
    parse_cadence,
)
from mapping.keydates import KeyDateSettings, lapse
from mapping.next_offer import OfferSettings, Profile, suggest_all
from mapping.org_groups import ParentLink, concentration, group_revenue, resolve_groups
from mapping.referrals import ReferralClaim, referral_values, resolve_referrals
from mapping.trigger_planning import Merged, PlanAction, Trigger, TriggerKind, plan_with_triggers

CADENCES: dict[str, Cadence | Literal["handover"] | None] = {
    "Superior": parse_cadence("weekly"),
    "Average": parse_cadence("monthly"),
    "Marginal": parse_cadence("quarterly"),
    "Eliminate": "handover",
    "Dormant": None,
}
METHODS = {pc.name: pc.methods for pc in ClassificationConfig().potential_classes}
POLICY = FollowUpPolicy(cadences=CADENCES, methods=METHODS)
START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
KINDS: tuple[TriggerKind, ...] = ("thank_you", "win_back", "referral_ack")


@dataclasses.dataclass
class Day:
    triggers: list[TriggerKind]
    interaction: bool
    staff_completes: bool
    owner: int | None
    tier: str
    status: str


days = st.builds(
    Day,
    triggers=st.lists(st.sampled_from(KINDS), max_size=3),
    interaction=st.integers(0, 6).map(lambda n: n == 0),
    staff_completes=st.integers(0, 9).map(lambda n: n == 0),
    owner=st.sampled_from([1, 1, 1, 1, 2, None]),
    tier=st.sampled_from([*CADENCES, None]),
    status=st.sampled_from(["active", "active", "inactive", "archive"]),
)


def apply(op: OpenFollowUp | None, actions: list[PlanAction], now: datetime, next_id: int) -> OpenFollowUp | None:
    """The store: at most one open task per relationship; an action on a task that is not open is a bug."""
    open_ids = {op.id} if op else set()
    for a in actions:
        if isinstance(a, Close):
            assert a.follow_up_id in open_ids, a
            open_ids.discard(a.follow_up_id)
            op = None
        elif isinstance(a, Update):
            assert op is not None and a.follow_up_id in open_ids, a
            op = dataclasses.replace(
                op, cadence=a.cadence, due_date=a.due_date, method=a.method, importance=a.importance
            )
        elif isinstance(a, Create):
            assert not open_ids, ("a second open follow-up", actions)
            open_ids.add(next_id)
            op = OpenFollowUp(next_id, a.owner_mailbox_id, a.kind, a.cadence, a.due_date, a.method, a.importance, now)
    return op


@settings(max_examples=300, deadline=None)
@given(st.lists(days, min_size=1, max_size=40), st.sampled_from(["Europe/Berlin", "America/New_York", "UTC"]))
def test_never_two_open_follow_ups_whatever_mix_of_cadence_and_key_date_triggers(history: list[Day], zone: str) -> None:
    op: OpenFollowUp | None = None
    carried: list[Trigger] = []
    last: datetime | None = None
    next_id = 1
    for n, day in enumerate(history):
        now = START + timedelta(days=n)
        if day.interaction:
            last = now - timedelta(hours=1)
        if day.staff_completes and op is not None:
            op, carried = None, []
        new = [
            Trigger(7, k, f"{k}:{n}:{i}", now.date() + timedelta(days=i), f"{k} {n}")
            for i, k in enumerate(day.triggers)
        ]
        inp = PlanInput(7, "Acme", day.tier, "Average", day.status, day.owner, zone, last, open=op, type="customer")
        actions = plan_with_triggers(inp, POLICY, now, new, carried)
        assert sum(isinstance(a, Create) for a in actions) <= 1
        before = op
        op = apply(op, actions, now, next_id)
        next_id += 1
        if op is not None:
            assert op.owner_mailbox_id == day.owner
        merged = [a for a in actions if isinstance(a, Merged)]
        if new:  # a trigger is never lost silently: merged, skipped (handover) or waiting for an owner
            told = {k for m in merged for k in (*m.keys, *m.skipped)}
            assert {t.key for t in new} <= told or any(isinstance(a, Problem) for a in actions), actions
        if any(isinstance(a, Close) and a.status == "completed" for a in actions) or op is None:
            carried = []
        if merged:
            by_key = {t.key: t for t in [*carried, *new]}
            carried = [by_key[k] for k in merged[-1].keys]
        if op is None:
            carried = []
        # Planned as the store now holds it, a rerun (nothing new) changes nothing.
        again = dataclasses.replace(inp, open=op)
        rerun = plan_with_triggers(again, POLICY, now, (), carried)
        assert not [a for a in rerun if isinstance(a, Create | Close | Update)], (before, actions, op, rerun)


@settings(max_examples=300, deadline=None)
@given(
    interval=st.integers(60, 400),
    orders=st.integers(3, 12),
    jitter=st.lists(st.integers(-10, 10), min_size=12, max_size=12),
    gap_fraction=st.floats(0.0, 1.0),
)
def test_a_customer_whose_usual_interval_is_long_is_not_lapsed_after_a_short_gap(
    interval: int, orders: int, jitter: list[int], gap_fraction: float
) -> None:
    first = date(2020, 1, 1)
    order_days = [
        first + timedelta(days=i * interval + (jitter[i] if 0 < i < orders - 1 else 0)) for i in range(orders)
    ]
    s = KeyDateSettings()
    # "short": anything up to the customer's own usual interval (well below factor x interval).
    gap = int(gap_fraction * (interval - 20))
    result = lapse(order_days, max(order_days) + timedelta(days=gap), s)
    assert result is not None and not result.lapsed, result
    # And buying does lapse once the gap is well beyond factor x the usual interval.
    late = lapse(order_days, max(order_days) + timedelta(days=int(interval * s.win_back_factor) + 30), s)
    assert late is not None and late.lapsed


money = st.decimals(min_value=-(10**6), max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    own=st.dictionaries(st.integers(1, 12), money, min_size=1, max_size=12),
    pairs=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12)), max_size=30),
    share=st.decimals(min_value=0, max_value=1, places=2),
    bump=st.decimals(min_value=1, max_value=10**6, places=2),
)
def test_a_referrers_value_never_counts_its_own_revenue_twice(
    own: dict[int, Decimal], pairs: list[tuple[int, int]], share: Decimal, bump: Decimal
) -> None:
    referrer_of, problems = resolve_referrals((ReferralClaim(a, b, "test") for a, b in pairs), {})
    assert all(a != b for a, b in referrer_of.items())
    assert {p.referred_id for p in problems} >= {a for a, b in pairs if a == b}
    values = referral_values(own, referrer_of, share)
    for rid, v in values.items():
        assert v.own == own[rid]
        expected = sum(
            (max(own.get(c, Decimal(0)), Decimal(0)) for c, r in referrer_of.items() if r == rid), Decimal(0)
        )
        assert v.referred == expected
        # Own revenue counts exactly once: raising it raises the total by exactly as much.
        bumped = referral_values({**own, rid: own[rid] + bump}, referrer_of, share)[rid]
        assert bumped.total - v.total == bump


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers(1, 50), money, min_size=1, max_size=50))
def test_group_concentration_sums_to_100_percent(revenue: dict[int, Decimal]) -> None:
    shares = concentration(revenue, Decimal(25), {})
    assert {s.root_id for s in shares} == set(revenue)
    if any(r > 0 for r in revenue.values()):
        assert sum(s.percent for s in shares) == Decimal(100)
        assert sum(s.share for s in shares) == 1
    else:
        assert all(s.percent == 0 for s in shares)
    for s in shares:
        assert s.percent >= 0 and (s.warning is not None) == (s.share * 100 > 25)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 15), st.integers(1, 15)), max_size=30),
    st.dictionaries(st.integers(1, 15), money, max_size=15),
)
def test_parent_links_always_give_every_organisation_one_group_even_with_cycles(
    links: list[tuple[int, int]], revenue: dict[int, Decimal]
) -> None:
    root_of, _ = resolve_groups(revenue, [ParentLink(c, p, "test") for c, p in links], {})
    for _rid, root in root_of.items():
        assert root_of[root] == root  # a root is its own group
    assert set(revenue) <= set(root_of)
    groups = group_revenue(root_of, revenue)
    assert sum(groups.values(), Decimal(0)) == sum(revenue.values(), Decimal(0))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_normalising_a_product_name_twice_changes_nothing(name: str) -> None:
    once = normalise_product(name)
    assert normalise_product(once) == once


@st.composite
def any_open_task(draw: st.DrawFn) -> OpenFollowUp:
    kinds: list[Literal["cadence", "handover"]] = ["cadence", "cadence", "handover"]
    kind = draw(st.sampled_from(kinds))
    return OpenFollowUp(
        id=draw(st.integers(1, 1000)),
        owner_mailbox_id=draw(st.sampled_from([1, 2])),
        kind=kind,
        cadence=draw(st.sampled_from(["weekly", "monthly", "quarterly", None])) if kind == "cadence" else None,
        due_date=draw(st.dates(date(2026, 10, 1), date(2027, 3, 1))),
        method=draw(st.sampled_from([", ".join(m) for m in METHODS.values()])),
        importance=draw(st.sampled_from(["Normal", "High"])),
        planned_at=draw(st.datetimes(datetime(2026, 6, 1), datetime(2026, 11, 30), timezones=st.just(UTC))),
    )


triggers = st.builds(
    Trigger,
    st.just(7),
    st.sampled_from(KINDS),
    st.sampled_from([f"k{i}" for i in range(6)]),
    st.dates(date(2026, 11, 1), date(2027, 1, 31)),
    st.just("line"),
)


@settings(max_examples=500, deadline=None)
@given(
    tier=st.sampled_from([*CADENCES, None]),
    status=st.sampled_from(["active", "inactive", "archive", None]),
    owner=st.sampled_from([1, 2, None]),
    op=st.none() | any_open_task(),
    last=st.none() | st.datetimes(datetime(2026, 6, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
    new=st.lists(triggers, max_size=4),
    carried=st.lists(triggers, max_size=3),
    handover_done=st.booleans(),
    kind=st.sampled_from(["customer", "lead"]),
)
def test_one_step_with_any_triggers_from_any_state_keeps_one_open_follow_up_at_most(
    tier: str | None,
    status: str | None,
    owner: int | None,
    op: OpenFollowUp | None,
    last: datetime | None,
    new: list[Trigger],
    carried: list[Trigger],
    handover_done: bool,
    kind: str,
) -> None:
    now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    inp = PlanInput(
        7, "Acme", tier, "High", status, owner, "Europe/Berlin", last, open=op, handover_done=handover_done, type=kind
    )
    actions = plan_with_triggers(inp, POLICY, now, new, carried)
    assert sum(isinstance(a, Create) for a in actions) <= 1
    after = apply(op, actions, now, 10_000)
    if after is not None:
        assert after.owner_mailbox_id == owner
    for a in actions:
        if isinstance(a, Create | Update):
            assert a.due_date >= now.date() or a.due_date == (op.due_date if op else None)


@settings(max_examples=200, deadline=None)
@given(
    profiles=st.lists(
        st.builds(
            Profile,
            st.integers(1, 40),
            st.sampled_from(["a", "b", None]),
            st.sampled_from(["small", "large", None]),
            st.sampled_from(["Superior", None]),
        ),
        max_size=40,
        unique_by=lambda p: p.relationship_id,
    ),
    purchases=st.lists(st.tuples(st.integers(1, 45), st.sampled_from(["P1", "P2", "P3", "P4", ""])), max_size=120),
    top=st.integers(1, 3),
    min_peers=st.integers(1, 6),
)
def test_next_offer_never_suggests_what_a_customer_already_bought(
    profiles: list[Profile], purchases: list[tuple[int, str]], top: int, min_peers: int
) -> None:
    out = suggest_all(profiles, purchases, OfferSettings(top=top, min_peers=min_peers, min_support=0.1))
    bought = {(rid, p) for rid, p in purchases}
    for rid, suggestions in out.items():
        assert 1 <= len(suggestions) <= top
        assert [s.support for s in suggestions] == sorted((s.support for s in suggestions), reverse=True)
        for s in suggestions:
            assert (rid, s.product) not in bought and s.product
            assert 0.1 <= s.support <= 1 and s.buyers <= s.peers
