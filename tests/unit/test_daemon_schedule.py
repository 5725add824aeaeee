"""The daemon's timing: interval with jitter, jittered doubling back-off, the slow schedule; ``[daemon]``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.backoff import Schedule
from scheduler.config import ConfigError, parse_config
from tests.unit.configtext import MINIMAL

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SCHEDULE = Schedule(interval=900, jitter=60, backoff_base=30, backoff_max=1800, attention_after=5, slow_interval=3600)


def _delay(ok: bool, failures: int, seed: int) -> tuple[float, int]:
    due, after = SCHEDULE.next_due(NOW, ok, failures, random.Random(seed))
    return (due - NOW).total_seconds(), after


@given(failures=st.integers(0, 50), seed=st.integers())
def test_a_success_clears_failures_and_comes_back_after_the_interval_plus_jitter(failures: int, seed: int) -> None:
    delay, after = _delay(True, failures, seed)
    assert after == 0 and 900 <= delay <= 960


@given(failures=st.integers(0, 3), seed=st.integers())
def test_a_failure_backs_off_by_a_jittered_doubling_delay(failures: int, seed: int) -> None:
    delay, after = _delay(False, failures, seed)
    cap = 30 * 2**failures
    assert after == failures + 1 and cap / 2 <= delay <= cap


@given(failures=st.integers(4, 500), seed=st.integers())
def test_a_mailbox_that_keeps_failing_goes_on_the_slow_schedule_and_is_never_abandoned(
    failures: int, seed: int
) -> None:
    delay, after = _delay(False, failures, seed)
    assert after == failures + 1 and 3600 <= delay <= 3660


def test_the_back_off_never_exceeds_its_cap() -> None:
    wide = Schedule(interval=900, jitter=0, backoff_base=30, backoff_max=100, attention_after=50, slow_interval=3600)
    delays = [(wide.next_due(NOW, False, n, random.Random(n))[0] - NOW) for n in range(40)]
    assert max(delays) <= timedelta(seconds=100) and min(delays) >= timedelta(seconds=15)


def test_daemon_section_defaults_name_the_worker_host_and_pid() -> None:
    daemon = parse_config(MINIMAL, Path("relsync.toml")).daemon
    assert daemon.worker_id.rsplit(":", 1)[1].isdigit()
    assert (daemon.lease_seconds, daemon.metrics_listen, daemon.followups_schedule) == (
        120,
        "127.0.0.1:9464",
        "0 6 * * *",
    )


def test_bad_daemon_settings_are_each_reported_with_their_key() -> None:
    text = MINIMAL + (
        '\n[daemon]\nfollowups_schedule = "every morning"\nmetrics_listen = "9464"\n'
        "backoff_base_seconds = 60\nbackoff_max_seconds = 10\nlease_seconds = 0\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("relsync.toml"))
    problems = "\n".join(info.value.problems)
    assert "daemon.followups_schedule: not a cron expression" in problems
    assert "daemon.metrics_listen: metrics address '9464' is not host:port" in problems
    assert "daemon.lease_seconds" in problems
