"""Matching passes pause the cyclic garbage collector and always give it back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from mapping.identity import PersonCandidate, build_person_index, find_person_duplicates, match_new
from mapping.identity.gcpause import without_cyclic_gc


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_a_pass_runs_with_the_collector_paused_and_restores_it() -> None:
    seen: list[bool] = []

    @without_cyclic_gc
    def work(n: int) -> int:
        seen.append(gc.isenabled())
        return n * 2

    assert work(21) == 42 and seen == [False]
    assert gc.isenabled()


def test_the_collector_comes_back_when_the_pass_raises() -> None:
    @without_cyclic_gc
    def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        broken()
    assert gc.isenabled()


def test_a_nested_pass_leaves_the_collector_to_the_outer_one() -> None:
    @without_cyclic_gc
    def inner() -> bool:
        return gc.isenabled()

    @without_cyclic_gc
    def outer() -> tuple[bool, bool]:
        return inner(), gc.isenabled()

    assert outer() == (False, False)
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    people = [PersonCandidate(f"p{i}", f"Anna Berg{i % 3}", emails=(f"a{i % 3}@x.example",)) for i in range(6)]
    assert find_person_duplicates(people)
    assert match_new(people[:2], build_person_index(people[2:]))
    assert not gc.isenabled()
