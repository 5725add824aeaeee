"""Long passes and Python's cyclic garbage collector: paused where nothing forms cycles, or the heap
that was there before the pass left out of the collector's walks.

**Paused** (:func:`without_cyclic_gc`: matching, planning and writing a contact import). A pass
allocates hundreds of thousands of small objects (features, evidence, scores, pairs) and none of them
form reference cycles: reference counting frees every one of them. The cyclic collector, triggered by
the allocation count alone, would walk the growing heap again and again for nothing;
measured on FEBRL 4 (5,000 records matched against 5,000, EM-calibrated), that was a third of the
pass's CPU time (2.35-3.06 CPU-s with it, 1.54-1.79 without). The collector's previous state is
restored afterwards, also when the pass raises, and nested passes leave it to the outermost one.

**Frozen** (:func:`frozen_heap`, a mailbox sync). A sync does make cycles (SQLAlchemy sessions and
their objects, HTTP responses), so the collector must run, and memory stays flat over a 200,000-item
mailbox; but each of its full collections also walked everything the process held before the sync
(imports, caches, the daemon's state) that the sync will not free. Measured over the fake Graph
(`benchmarks/graph_sync_throughput.py`'s mailbox, 27,219 items, inline): seven full collections of
0.09-0.15 s each, about a sixth of the sync's CPU, 0.15 s in all with that heap frozen
(:func:`gc.freeze`: moved to a permanent generation the collector does not walk). The heap is given
back (:func:`gc.unfreeze`) when the last running sync ends, so garbage among it is collected then.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_cyclic_gc(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` with the cyclic collector paused while it runs (see the module text)."""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused


_frozen_lock = threading.Lock()
_frozen_depth = 0


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """While the block runs, full collections leave out the objects that existed when it started.

    Nests and may run in several threads at once (the daemon's syncs): the first block to start
    freezes, the last to end unfreezes. A block starting while others run freezes nothing more, so
    however long syncs overlap, what stays frozen is the one heap of the first (never each sync's
    young garbage again and again).
    """
    global _frozen_depth
    with _frozen_lock:
        _frozen_depth += 1
        if _frozen_depth == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_depth -= 1
            if _frozen_depth == 0:
                gc.unfreeze()
