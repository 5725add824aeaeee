"""Bounding ``IN (...)`` lists: every set-based lookup of the store goes through :func:`chunked`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T", int, str)

#: SQLite allows 32,766 bound parameters per statement; stay far below it on every backend.
CHUNK = 500


def chunked(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """The distinct values, sorted (stable statements, deterministic order), in lists of ``size``."""
    items = sorted(set(values))
    for i in range(0, len(items), size):
        yield items[i : i + size]
