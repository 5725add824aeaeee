"""Inserting many rows at once: ``COPY`` on PostgreSQL, an executemany elsewhere.

An import or a large page writes tens of thousands of rows to a table. An executemany sends each row as
a statement of its own (psycopg pipelines them, but the server still parses, plans and executes one
statement per row), and ``INSERT ... RETURNING`` over many rows is a multi-row ``VALUES`` the driver
builds in Python. ``COPY ... FROM STDIN`` streams the rows into the table in one statement, the fastest
way into PostgreSQL (https://www.postgresql.org/docs/current/populate.html#POPULATE-COPY-FROM). Where the
new ids are needed, they are taken from the table's own sequence first (``nextval``, in one query) and
copied in with the rows, so the rows get the ids an ``INSERT`` would have given them, in row order.

Rows are what a Core ``insert()`` takes (column name to Python value); the column types' own bind
processing turns the values into what the database stores (enums, JSON, the store's UTC datetimes), and
the Python-side column defaults fill what a row leaves out, so a row copied in is the row an insert
writes. Small batches take the ordinary executemany: below :data:`COPY_MIN_ROWS` rows the extra
statements of ``COPY`` cost more than they save.

On SQLite, many rows go through the driver's own executemany of one plain ``INSERT``, the values bound
the same way (the column types' processors, the Python-side defaults), without SQLAlchemy's per-row
parameter handling and multi-row ``VALUES ... RETURNING`` (measured: most of a 100,000-row import's
insert time). The new ids are read back from ``last_insert_rowid()``: SQLite gives a row without an id
one more than the largest id the table has had (https://www.sqlite.org/autoinc.html), so the rows of one
executemany in a write transaction get consecutive ids in row order (checked by a count).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.store.batching import CHUNK

#: At and above this many rows, PostgreSQL gets a ``COPY``.
COPY_MIN_ROWS = 1000
#: At and above this many rows, SQLite gets the driver's executemany (no extra statement to amortise).
SQLITE_MIN_ROWS = 100

#: JSON whose ``None`` is SQL ``NULL``.
_JSON_NULL = sa.JSON(none_as_null=True)


def insert_rows(session: Session, table: sa.Table, rows: Iterable[dict[str, Any]], *, ids: bool = True) -> list[int]:
    """Insert ``rows`` (each with the same keys) into ``table`` in the session's transaction; their new
    ids in row order (with ``ids=False`` none are read back, and the list is empty).

    ``None`` in a JSON column is SQL ``NULL`` on both paths (not the JSON value ``null``), as an unset
    attribute is for the ORM.
    """
    connection = session.connection()
    dialect = connection.dialect.name
    copies = dialect in ("postgresql", "sqlite")
    it = iter(rows)
    first = list(itertools.islice(it, max(COPY_MIN_ROWS, 1) if copies else CHUNK))
    if not first:
        return []
    if dialect == "postgresql" and len(first) >= COPY_MIN_ROWS:
        return _copy(connection, table, [*first, *it], ids)
    if dialect == "sqlite" and len(first) >= SQLITE_MIN_ROWS and "id" not in first[0]:
        return _sqlite_many(connection, table, first, it, ids)
    # A JSON column's value goes in through a bind parameter of its own type (JSON None as SQL NULL);
    # it cannot share the column's name, which SQLAlchemy keeps for the VALUES clause.
    json = [name for name in first[0] if isinstance(table.c[name].type, sa.JSON)]
    insert = table.insert().values({name: sa.bindparam(f"_json_{name}", type_=_JSON_NULL) for name in json})
    if ids:
        insert = insert.returning(table.c.id, sort_by_parameter_order=True)

    def params(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not json:
            return chunk
        return [{**{k: v for k, v in r.items() if k not in json}, **{f"_json_{k}": r[k] for k in json}} for r in chunk]

    made: list[int] = []
    chunk = first
    while chunk:
        for start in range(0, len(chunk), CHUNK):
            result = connection.execute(insert, params(chunk[start : start + CHUNK]))
            if ids:
                made.extend(result.scalars())
        chunk = list(itertools.islice(it, CHUNK))
    return made


def update_rows(session: Session, table: sa.Table, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """``UPDATE table SET columns WHERE id = row["id"]`` for every row, in the session's transaction.

    On PostgreSQL, many rows are copied into a temporary table and applied by one ``UPDATE ... FROM``;
    otherwise (and for a few rows) one executemany. ``None`` in a JSON column is SQL ``NULL``.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "sqlite" and len(rows) >= SQLITE_MIN_ROWS:
        preparer = connection.dialect.identifier_preparer
        sql = (
            f"UPDATE {preparer.format_table(table)} SET {', '.join(f'{preparer.quote(c)} = ?' for c in columns)} "
            f"WHERE {preparer.quote('id')} = ?"
        )
        bind = _binder(connection.dialect, table, [*columns, "id"])
        for start in range(0, len(rows), CHUNK * 4):
            connection.exec_driver_sql(
                sql, [bind([r[c] for c in columns] + [r["id"]]) for r in rows[start : start + CHUNK * 4]]
            )
        return
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        changes = sa.Table(
            f"relsync_update_{table.name}",
            sa.MetaData(),
            sa.Column("id", table.c.id.type, primary_key=True),
            *(sa.Column(c, table.c[c].type) for c in columns),
            prefixes=["TEMPORARY"],
        )
        changes.create(connection)
        try:
            _copy(connection, changes, [{"id": r["id"], **{c: r[c] for c in columns}} for r in rows], ids=False)
            connection.execute(
                sa.update(table).values({c: changes.c[c] for c in columns}).where(table.c.id == changes.c.id)
            )
        finally:
            changes.drop(connection)
        return
    json = {c for c in columns if isinstance(table.c[c].type, sa.JSON)}
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("_target"))
        .values({c: sa.bindparam(f"v_{c}", type_=_JSON_NULL if c in json else None) for c in columns})
    )
    params = [{"_target": r["id"], **{f"v_{c}": r[c] for c in columns}} for r in rows]
    for start in range(0, len(params), CHUNK):
        connection.execute(statement, params[start : start + CHUNK])


def _binder(dialect: sa.Dialect, table: sa.Table, columns: Sequence[str]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A row's values (in ``columns`` order) as the driver takes them: each column type's bind processing,
    ``None`` left as SQL ``NULL`` (also in a JSON column). A column's value that is the very object the
    row before had (the batch's one timestamp, an enum member) is processed once, not once per row."""
    active = [
        (n, p)
        for n, name in enumerate(columns)
        if (p := table.c[name].type._cached_bind_processor(dialect)) is not None
    ]
    if not active:
        return tuple
    last_in: list[Any] = [None] * len(columns)
    last_out: list[Any] = [None] * len(columns)

    def bind(values: Sequence[Any]) -> tuple[Any, ...]:
        row = list(values)
        for n, process in active:
            v = row[n]
            if v is None:
                continue
            if v is last_in[n]:
                row[n] = last_out[n]
                continue
            row[n] = out = process(v)
            if not isinstance(v, dict | list):  # a container could change between rows: never reused
                last_in[n], last_out[n] = v, out
        return tuple(row)

    return bind


def _sqlite_many(
    connection: sa.Connection, table: sa.Table, first: list[dict[str, Any]], rest: Iterable[dict[str, Any]], ids: bool
) -> list[int]:
    """``first`` and then ``rest`` by the driver's executemany, a chunk at a time (see the module text)."""
    names = list(first[0])
    defaults = _defaults(table, names)
    columns = names + [name for name, _ in defaults]
    bind = _binder(connection.dialect, table, columns)
    preparer = connection.dialect.identifier_preparer
    quoted = preparer.format_table(table)
    names_sql = ", ".join(preparer.quote(c) for c in columns)
    sql = f"INSERT INTO {quoted} ({names_sql}) VALUES ({', '.join('?' * len(columns))})"
    made: list[int] = []
    it = iter(rest)
    chunk = first
    while chunk:
        connection.exec_driver_sql(
            sql, [bind([*(row[name] for name in names), *(make() for _, make in defaults)]) for row in chunk]
        )
        if ids:
            last = int(connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
            low = last - len(chunk) + 1
            count = connection.exec_driver_sql(
                f"SELECT count(*) FROM {quoted} WHERE {preparer.quote('id')} BETWEEN ? AND ?", (low, last)
            ).scalar_one()
            if count != len(chunk):  # not consecutive (a table at the largest rowid): never guess ids
                raise RuntimeError(f"{table.name}: the inserted rows' ids are not consecutive")
            made.extend(range(low, last + 1))
        chunk = list(itertools.islice(it, CHUNK * 4))
    return made


def _copy(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], ids: bool) -> list[int]:
    dialect = connection.dialect
    names = list(rows[0])
    defaults = _defaults(table, names)
    new_ids: list[int] = []
    if ids:
        sequence = connection.scalar(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        new_ids = sorted(
            connection.scalars(
                sa.text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                {"s": sequence, "n": len(rows)},
            )
        )
    columns = (["id"] if ids else []) + names + [name for name, _ in defaults]
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type._cached_bind_processor(dialect) for name in columns
    ]
    preparer = dialect.identifier_preparer
    copy_sql = f"COPY {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)}) FROM STDIN"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(copy_sql) as copy:
            for n, row in enumerate(rows):
                values: list[Any] = [new_ids[n]] if ids else []
                values.extend(row[name] for name in names)
                values.extend(make() for _, make in defaults)
                copy.write_row([v if p is None or v is None else p(v) for v, p in zip(values, processors, strict=True)])
    finally:
        cursor.close()
    return new_ids


def _same(value: Any) -> Any:
    return value


def _defaults(table: sa.Table, given: Sequence[str]) -> list[tuple[str, Callable[[], Any]]]:
    """The Python-side defaults (``Column(default=...)``) of the columns the rows leave out, as an
    insert would apply them; server defaults apply by themselves."""
    out: list[tuple[str, Callable[[], Any]]] = []
    for column in table.columns:
        default = column.default
        if column.name in given or column.primary_key or default is None:
            continue
        if default.is_scalar:
            out.append((column.name, functools.partial(_same, default.arg)))  # type: ignore[attr-defined]
        elif default.is_callable:
            # SQLAlchemy wrapped the callable to take an execution context, which none of ours reads.
            out.append((column.name, functools.partial(default.arg, None)))  # type: ignore[attr-defined]
        else:  # a SQL expression or a sequence: not something a COPY can apply
            raise ValueError(f"{table.name}.{column.name}: a default COPY cannot apply; give the column's value")
    return out


__all__ = ["COPY_MIN_ROWS", "SQLITE_MIN_ROWS", "insert_rows", "update_rows"]
