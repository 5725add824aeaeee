"""Set-based lookups: the page appliers test membership with :func:`among` (the whole set as one bound
value, however many); other lookups bound their ``IN (...)`` lists with :func:`chunked`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

T = TypeVar("T", int, str)

#: SQLite allows 32,766 bound parameters per statement; stay far below it on every backend.
CHUNK = 500


def chunked(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """The distinct values, sorted (stable statements, deterministic order), in lists of ``size``."""
    items = sorted(set(values))
    for i in range(0, len(items), size):
        yield items[i : i + size]


def among(session: Session, column: Any, values: Iterable[int] | Iterable[str]) -> sa.ColumnElement[bool]:
    """``column IN values`` with the distinct values, sorted, bound as **one** value (ints or strings):
    one statement however many there are, so no chunks (no parameter limit applies).

    ``column.in_(values)`` costs, per value, a coercion when the statement is built and an expansion
    into a bound parameter of its own on every execution (SQLAlchemy's compiler, then psycopg's
    query parsing): a third of a page's client CPU on PostgreSQL, profiled. Here the list is one
    PostgreSQL array (``= ANY(...)``) or, on SQLite, one JSON text read by ``json_each``; both use
    ``column``'s index (checked with EXPLAIN). The column must not be NULL to match, as with IN; a
    caller on a partially indexed column adds ``column IS NOT NULL`` so a generic plan may use it.

    PostgreSQL may keep one generic plan for a statement psycopg prepared (run five times), costed while
    the tables were small: the page's item links and stored interactions, looked up this way, kept
    sequential scans (benchmarks/store_apply.py --pg), so those two join to ``unnest(...)`` of their keys
    instead. ``IN (SELECT unnest(...))`` here fixed the second and slowed the first 15-fold (measured).
    """
    distinct = sorted(set(values))  # type: ignore[type-var]
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, distinct, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    keys = sa.func.json_each(sa.bindparam(None, json.dumps(distinct), type_=sa.String)).table_valued("value")
    return column.in_(sa.select(keys.c.value))  # type: ignore[no-any-return]
