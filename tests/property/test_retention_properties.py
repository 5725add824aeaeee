"""Retention, as properties over random interaction ages and policies: nothing younger than its period
is removed, everything older is, and a relationship's key dates stay consistent with what remains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.privacy.retention import KINDS, Dated, RetentionPolicy, key_dates, retain

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
periods = st.one_of(st.none(), st.integers(min_value=1, max_value=4000))
policies = st.builds(RetentionPolicy, periods, periods, periods, periods)
items = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(min_value=0, max_value=5000 * 86400)), max_size=60)


@given(policies, items)
def test_nothing_younger_than_its_period_goes_and_everything_older_does(
    policy: RetentionPolicy, raw: list[tuple[str, int]]
) -> None:
    dated = [Dated(n, kind, NOW - timedelta(seconds=age)) for n, (kind, age) in enumerate(raw)]
    removed, kept = retain(dated, policy, NOW)
    assert sorted(removed + kept) == list(range(len(dated)))
    for item in dated:
        days = policy.days(item.kind)
        older = days is not None and item.occurred_at < NOW - timedelta(days=days)
        assert (item.id in removed) == older


@given(policies, items, st.one_of(st.none(), st.integers(min_value=0, max_value=6000)))
def test_key_dates_follow_what_remains(
    policy: RetentionPolicy, raw: list[tuple[str, int]], first_age: int | None
) -> None:
    dated = [Dated(n, kind, NOW - timedelta(seconds=age)) for n, (kind, age) in enumerate(raw)]
    _, kept = retain(dated, policy, NOW)
    remaining = [d.occurred_at for d in dated if d.id in kept]
    first_contact = None if first_age is None else NOW - timedelta(days=first_age)
    first, latest = key_dates(remaining, first_contact)
    if remaining:
        assert latest == max(remaining)
        assert first is not None and first <= min(remaining) and first <= latest
    else:
        assert latest is None and first == first_contact


@pytest.mark.parametrize("days", [0, -1])
def test_a_period_of_zero_or_less_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="positive number of days"):
        RetentionPolicy(email_days=days)
