"""How many worker processes a matching pass forks when the caller does not say."""

from __future__ import annotations

import os
import threading

import pytest

from mapping.identity import resolve


def test_resident_bytes_counts_memory_this_process_holds() -> None:
    before = resolve.resident_bytes()
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page, so it is resident
    assert resolve.resident_bytes() >= before + 48 * 1024 * 1024
    del block


def test_a_process_over_the_memory_budget_matches_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each worker would come to own about half of this process's heap: over the budget, none is forked.
    monkeypatch.setattr(resolve, "WORKER_MEMORY_BUDGET", resolve.resident_bytes())
    assert resolve.default_workers() == 1


def test_a_small_process_may_fork_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolve, "WORKER_MEMORY_BUDGET", 1 << 50)
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # as in a single-threaded CLI run
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert resolve.default_workers() == 2
