"""Matching passes pause the cyclic garbage collector and always give it back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from mapping.heap import frozen_heap, without_cyclic_gc
from mapping.identity import PersonCandidate, build_person_index, find_person_duplicates, match_new


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


def test_a_frozen_heap_leaves_what_was_there_out_of_collections_and_gives_it_back() -> None:
    before: list[int] = [1]  # a container: tracked by the collector
    assert any(o is before for o in gc.get_objects())
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        assert not any(o is before for o in gc.get_objects())  # out of every generation the collector walks
    assert gc.get_freeze_count() == 0
    assert any(o is before for o in gc.get_objects())


def test_overlapping_frozen_heaps_freeze_once_and_give_it_back_when_the_last_ends() -> None:
    outer = frozen_heap()
    outer.__enter__()
    young: list[int] = [2]  # a container made while the first block runs
    with frozen_heap():
        assert any(o is young for o in gc.get_objects())  # the second block froze nothing more
    assert gc.get_freeze_count() > 0  # the first is still running
    outer.__exit__(None, None, None)
    assert gc.get_freeze_count() == 0


def test_a_frozen_heap_is_given_back_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), frozen_heap():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0
