"""Writing many rows as sets: one statement per table, without SQLAlchemy's per-row work.

The one bulk-write path of the store: a sync page's rows (:mod:`mapping.store.apply`) and a contact
import's (:mod:`mapping.store.contact_import`). A Core ``executemany`` still runs every row's every
value through SQLAlchemy's parameter machinery (about half of a page's cost in the writer process,
profiled), and ``INSERT ... RETURNING`` over many rows is a multi-row ``VALUES`` built in Python (most
of a 100,000-row import's insert time, measured). Here the rows go to the driver as plain tuples:
each value passes only the column type's own bind processor (the same conversion SQLAlchemy applies:
a UTC timestamp, an enum's stored value, JSON text), then

- SQLite: one ``executemany`` of the INSERT (or UPDATE);
- PostgreSQL: ``COPY ... FROM STDIN`` for inserts, the fastest way in
  (https://www.postgresql.org/docs/current/populate.html#POPULATE-COPY-FROM), and one
  ``UPDATE ... FROM unnest(...)`` for updates by primary key.

Where new ids are needed they are drawn as the rows go in: on PostgreSQL from the table's own sequence
first (``nextval``, in one query; concurrent writers never collide) and copied in with the rows; on
SQLite read back from ``last_insert_rowid()``: SQLite gives a row without an id one more than the
largest id the table has had (https://www.sqlite.org/autoinc.html), so the rows of one executemany in
a write transaction get consecutive ids in row order (checked by a count, never guessed).

Columns a row leaves out take their Python-side default (``created_at`` and the like, once per
statement); a default only SQL could apply is refused. ``json_none`` says what ``None`` in a JSON
column means, and every caller says it: ``"null"`` the JSON value ``null`` (what the ORM stores for an
attribute set to ``None``: the sync's rows), ``"sql"`` SQL ``NULL`` (an attribute left unset: the
import's rows). A database error comes out as SQLAlchemy's exception (``IntegrityError`` with the
driver's error in ``orig``), so the race retry of :func:`mapping.store.apply.page.apply_page` sees a
lost insert race on PostgreSQL as before.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from mapping.store.models import Base

_TABLES = Base.metadata.tables

Processor = Callable[[Any], Any] | None
#: What ``None`` in a JSON column means (see the module text).
JsonNone = Literal["null", "sql"]


@functools.lru_cache(maxsize=256)  # per engine (dialect), table, columns and meaning of a JSON None
def _processors(
    dialect: Dialect, table: str, columns: tuple[str, ...], json_none: JsonNone
) -> tuple[tuple[Processor, bool], ...]:
    """Each column's bind processor, and whether it may be applied once per distinct value: a pure
    function of a hashable value whose equal values convert alike (an enum, a boolean, a timestamp:
    equal instants are one UTC value), not JSON (``True == 1`` but they dump differently)."""
    t = _TABLES[table]
    out: list[tuple[Processor, bool]] = []
    for name in columns:
        column_type = t.c[name].type
        base = column_type.impl if isinstance(column_type, sa.TypeDecorator) else column_type
        by_value = isinstance(base, sa.Enum | sa.Boolean | sa.DateTime)
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if json_none == "sql" and isinstance(base, sa.JSON) and process is not None:
            process = functools.partial(_unless_none, process)
        out.append((process, by_value))
    return tuple(out)


def _unless_none(process: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else process(value)


def _defaults(table: str, columns: tuple[str, ...]) -> dict[str, object]:
    """The Python-side defaults of the columns a row leaves out (callables called once, now)."""
    out: dict[str, object] = {}
    for column in _TABLES[table].columns:
        default = column.default
        if column.key in columns or default is None or column.primary_key:
            continue
        if isinstance(default, sa.ColumnDefault) and default.is_scalar:
            out[column.key] = default.arg
        elif isinstance(default, sa.ColumnDefault) and default.is_callable:
            out[column.key] = default.arg(None)
        else:  # a SQL expression or a sequence: a plain INSERT or a COPY would leave the column NULL
            raise ValueError(f"{table}.{column.key}: a default only SQL can apply; give the column's value")
    return out


def _converted(
    dialect: Dialect, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[object]], json_none: JsonNone
) -> list[tuple[object, ...]]:
    processors = _processors(dialect, table, columns, json_none)
    if all(process is None for process, _ in processors):
        return [tuple(row) for row in rows]
    # Column by column: an enum's or a timestamp's few distinct values (the page's ``now``, a role)
    # are converted once each and looked up for every row, instead of a processor call per value.
    values: list[Sequence[object]] = list(zip(*rows, strict=True))
    for i, (process, by_value) in enumerate(processors):
        if process is None:
            continue
        if by_value:
            converted = {value: process(value) for value in set(values[i])}
            values[i] = [converted[value] for value in values[i]]
        else:
            values[i] = [process(value) for value in values[i]]
    return list(zip(*values, strict=True))


def _raise_as_sqlalchemy(dialect: Dialect, statement: str, exc: Exception) -> None:
    dbapi = dialect.loaded_dbapi
    if isinstance(exc, dbapi.Error):
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi.Error, dialect=dialect) from exc
    raise exc


def _grouped(rows: Sequence[Mapping[str, object]]) -> list[tuple[tuple[str, ...], list[int]]]:
    """The rows' positions by the columns they set (in any key order), each with its columns in
    the order its first row names them: one statement per set of columns, rows in their order."""
    groups: dict[frozenset[str], tuple[tuple[str, ...], list[int]]] = {}
    by_order: dict[tuple[str, ...], list[int]] = {}  # the same key order as a row before: no frozenset
    for n, row in enumerate(rows):
        positions = by_order.get(order := tuple(row))
        if positions is None:
            group = groups.get(keys := frozenset(order))
            if group is None:
                group = groups[keys] = (order, [])
            positions = by_order[order] = group[1]
        positions.append(n)
    return list(groups.values())


def _values(
    rows: Sequence[Mapping[str, object]], columns: tuple[str, ...], positions: list[int]
) -> list[tuple[object, ...]]:
    if len(columns) == 1:
        return [(rows[n][columns[0]],) for n in positions]
    get = operator.itemgetter(*columns)
    return [get(rows[n]) for n in positions]


def insert_rows(session: Session, table: str, rows: Sequence[Mapping[str, object]], *, json_none: JsonNone) -> None:
    """Insert ``rows`` (dicts of column values; rows setting the same columns go in one statement)."""
    for columns, positions in _grouped(rows):
        insert_tuples(session, table, columns, _values(rows, columns, positions), json_none=json_none)


def insert_tuples(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]], *, json_none: JsonNone
) -> None:
    """Insert ``rows`` (tuples of values in the order of ``columns``) in one statement."""
    if not rows:
        return
    defaults = _defaults(table, tuple(columns))
    names = (*columns, *defaults)
    if defaults:
        extra = tuple(defaults.values())
        rows = [(*row, *extra) for row in rows]
    connection = session.connection()
    dialect = connection.dialect
    values = _converted(dialect, table, names, rows, json_none)
    if dialect.name == "postgresql":
        _copy(connection, dialect, table, names, values)
        return
    statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    connection.exec_driver_sql(statement, values)


def insert_rows_with_ids(
    session: Session, table: str, rows: Sequence[Mapping[str, object]], *, json_none: JsonNone
) -> list[int]:
    """Insert ``rows`` like :func:`insert_rows` and return their new ids (``id`` column), in row order."""
    ids = [0] * len(rows)
    for columns, positions in _grouped(rows):
        got = insert_tuples_with_ids(session, table, columns, _values(rows, columns, positions), json_none=json_none)
        for n, row_id in zip(positions, got, strict=True):
            ids[n] = row_id
    return ids


def insert_tuples_with_ids(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]], *, json_none: JsonNone
) -> list[int]:
    """Insert ``rows`` like :func:`insert_tuples` and return their new ids, in row order.

    Without a RETURNING per row (SQLAlchemy's sorted ``insertmanyvalues`` rendered every row's every
    value through its compiler: most of a contacts page's CPU on PostgreSQL):

    - PostgreSQL: the ids are drawn from the column's sequence first (``nextval``, as the column
      default would, so concurrent writers never collide), then the rows go in by COPY with them;
    - SQLite: one ``executemany``; one writer at a time gives consecutive rowids, the last of
      which ``last_insert_rowid()`` names (checked: exactly ``len(rows)`` rows hold that range).
    """
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        drawn = connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, len(rows))
        )
        ids = sorted(int(row_id) for (row_id,) in drawn)
        with_ids = [(row_id, *row) for row_id, row in zip(ids, rows, strict=True)]
        insert_tuples(session, table, ("id", *columns), with_ids, json_none=json_none)
        return ids
    insert_tuples(session, table, columns, rows, json_none=json_none)
    last = int(connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
    first = last - len(rows) + 1
    count = connection.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE id BETWEEN ? AND ?", (first, last))
    if count.scalar_one() != len(rows):
        raise RuntimeError(f"the ids of the rows just inserted into {table} are not consecutive")
    return list(range(first, last + 1))


def _copy(
    connection: sa.Connection, dialect: Dialect, table: str, names: Sequence[str], values: list[tuple[object, ...]]
) -> None:
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN"
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except Exception as exc:
        _raise_as_sqlalchemy(dialect, statement, exc)
    finally:
        cursor.close()


def update_tuples(
    session: Session,
    table: str,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    json_none: JsonNone,
) -> None:
    """``UPDATE table SET columns... WHERE key = ...`` for each row ``(key value, *column values)``,
    in one statement."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = (key, *columns)
    values = _converted(dialect, table, names, rows, json_none)
    if dialect.name == "postgresql":
        t = _TABLES[table]
        casts = []
        for name in names:
            column_type = t.c[name].type
            impl = column_type.dialect_impl(dialect)
            casts.append(f"%s::{impl.compile(dialect=dialect)}[]")
        assignments = ", ".join(f"{name} = v.{name}" for name in columns)
        statement = (
            f"UPDATE {table} AS t SET {assignments} FROM unnest({', '.join(casts)}) AS v({', '.join(names)})"
            f" WHERE t.{key} = v.{key}"
        )
        connection.exec_driver_sql(statement, (*(list(c) for c in zip(*values, strict=True)),))
        return
    assignments = ", ".join(f"{name} = ?" for name in columns)
    statement = f"UPDATE {table} SET {assignments} WHERE {key} = ?"
    connection.exec_driver_sql(statement, [(*row[1:], row[0]) for row in values])
