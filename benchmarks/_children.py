"""CPU seconds of processes from /proc: one process, or this process's children, running ones included
(a helper of the benchmarks).

``resource.getrusage(RUSAGE_CHILDREN)`` counts only children that ended and were waited for; a writer
process kept for reuse (mapping.store.page_writer) outlives the pass that used it, so its CPU is read
from /proc while it runs. Summed, the two give a pass's children CPU whether or not one ended within it.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Collection
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _seconds(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def process_cpu(pid: int | None) -> float:
    """CPU seconds process ``pid`` has used so far (all its threads), from /proc; 0.0 once it is gone."""
    fields = _stat(pid) if pid else None
    return _seconds(fields) if fields else 0.0


def _live(exclude: Collection[int]) -> dict[int, float]:
    """utime + stime of each running child of this process (not ``exclude``), by pid, from /proc."""
    me = os.getpid()
    out: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        fields = _stat(int(entry.name))
        if fields and int(fields[1]) == me:  # a zombie keeps its times until it is waited for
            out[int(entry.name)] = _seconds(fields)
    return out


def children_cpu(exclude: Collection[int] = ()) -> float:
    """CPU seconds of this process's children so far: the ended and waited-for ones, and the running
    ones but ``exclude`` (e.g. a fake server process timed on its own). Differences of two readings
    are what the children used in between, a child that ended in between included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + sum(_live(exclude).values())
