"""Schema migrations, with Alembic configured in code (no alembic.ini to ship or find).

Public functions, each taking a database URL:

* :func:`upgrade` / :func:`downgrade` move the schema to a revision (``"head"``, ``"base"``, ``"0001"``).
* :func:`current` says which revision the database is at (``None``: never migrated).
* :func:`check` lists, as sentences, how the database differs from the models; empty means clean.
* :func:`ensure_ready` is what every command that needs the store calls first: a new embedded SQLite
  store is created and migrated in place; anything else not at the newest revision raises
  :class:`StoreNotReady`, one sentence naming ``relsync db upgrade`` (see :func:`readiness`).

The scripts live in the package (``mapping/store/migrations``), so an installed relsync can migrate
its database without the source tree. Each call runs in one transaction: on PostgreSQL and on
SQLite (see :func:`mapping.store.engine.make_engine`) a failed migration leaves nothing half-done.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from mapping.store import (  # noqa: F401  (their tables join Base.metadata)
    models_addin,
    models_business,
    models_history,
    models_import_outlook,
    models_imports,
    models_privacy,
)
from mapping.store.engine import make_engine
from mapping.store.models import Base
from mapping.store.readiness import StoreNotReady, readiness

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic ``Config`` for the packaged scripts, optionally bound to an open connection.

    Exposed for tooling (e.g. ``command.revision(cfg, autogenerate=True)`` when writing a migration).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Readable ids ("0002_add_relationships.py") sort in order in the versions folder.
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _connection(url: str) -> Iterator[sa.Connection]:
    # Foreign keys off on SQLite: batch-mode table rebuilds must not cascade deletes.
    engine = make_engine(url, sqlite_foreign_keys=False)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (creating the schema on an empty database)."""
    with _connection(url) as conn:
        command.upgrade(alembic_config(conn), revision)
        _check_foreign_keys(conn)


def downgrade(url: str, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision``; ``"base"`` drops every relsync table."""
    with _connection(url) as conn:
        command.downgrade(alembic_config(conn), revision)
        _check_foreign_keys(conn)


def current(url: str) -> str | None:
    """The revision the database is at, or ``None`` when it has never been migrated."""
    with _connection(url) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    """The newest revision shipped with this version of relsync."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:  # two heads means two unmerged migration branches: a packaging bug
        raise RuntimeError(f"expected one migration head, found {sorted(heads)}")
    return heads[0]


def check(url: str) -> list[str]:
    """How the database at ``url`` differs from the models, one sentence per difference.

    First whether it is at the newest revision, then (when it is) Alembic's autogenerate comparison
    of the live schema with :data:`mapping.store.models.Base.metadata`: tables, columns, types,
    nullability, indexes, unique constraints and foreign keys. An empty list means clean. The
    database is only read, never changed.
    """
    expected = head()
    with _connection(url) as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "target_metadata": Base.metadata},
        )
        at = ctx.get_current_revision()
        if at != expected:
            return [
                f"database is at revision {at or 'none (never migrated)'}, "
                f"this relsync needs {expected}: run `relsync db upgrade`"
            ]
        diffs = _flatten(compare_metadata(ctx, Base.metadata))
        return [_describe(diff, conn.dialect) for diff in diffs]


def ensure_ready(url: str) -> None:
    """Make sure the store at ``url`` can be used: create a new SQLite store's schema, else raise
    :class:`StoreNotReady` unless it is at the newest revision."""
    newest = head()
    with _connection(url) as conn:
        # Read alembic's table directly: MigrationContext logs two INFO lines per call, which would
        # land in every command's output.
        tables = set(sa.inspect(conn).get_table_names())
        revision = None
        if "alembic_version" in tables:
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        has_tables = bool(tables)
        dialect = conn.dialect.name
    known = revision is None or _known_revision(revision)
    action = readiness(dialect, revision, has_tables, newest, known)
    if action == "create":
        upgrade(url)
    elif action is not None:
        raise StoreNotReady(action)


def _known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for an unknown id; any of them means "unknown"
        return False


def _check_foreign_keys(conn: sa.Connection) -> None:
    """With foreign keys off during a SQLite migration, verify afterwards that none dangle."""
    if conn.dialect.name != "sqlite":
        return
    bad = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if bad:
        # Raising rolls the whole migration back.
        raise RuntimeError(f"migration left dangling foreign keys: {bad[:5]}")


def _flatten(diffs: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    # compare_metadata() groups column modifications of one column in a nested list.
    for diff in diffs:
        if isinstance(diff, list):
            yield from diff
        else:
            yield diff


def _show(value: Any, dialect: sa.Dialect) -> str:
    # Types as the database spells them ("VARCHAR(50)", "TIMESTAMP WITH TIME ZONE").
    if isinstance(value, sa.types.TypeEngine):
        try:
            return str(value.compile(dialect=dialect))
        except sa.exc.CompileError:
            return repr(value)
    return repr(value)


def _describe(diff: tuple[Any, ...], dialect: sa.Dialect) -> str:
    """One autogenerate diff tuple as a sentence an admin can act on."""
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        table = diff[1]
        return (
            f"table {table.name} is missing from the database"
            if kind == "add_table"
            else f"table {table.name} is in the database but not in the models"
        )
    if kind in ("add_column", "remove_column"):
        _, _schema, tname, column = diff
        return (
            f"column {tname}.{column.name} is missing from the database"
            if kind == "add_column"
            else f"column {tname}.{column.name} is in the database but not in the models"
        )
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        cols = ", ".join(getattr(c, "name", None) or str(c) for c in index.expressions)
        where = "missing from the database" if kind == "add_index" else "in the database but not the models"
        return f"index {index.name} on {index.table.name} ({cols}) is {where}"
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        cols = ", ".join(c.name for c in constraint.columns)
        what = "foreign key" if kind.endswith("_fk") else "constraint"
        where = "missing from the database" if kind.startswith("add") else "in the database but not the models"
        return f"{what} {constraint.name} on {constraint.table.name} ({cols}) is {where}"
    if kind.startswith("modify_"):
        _, _schema, tname, cname, _existing, db_value, model_value = diff
        attribute = kind.removeprefix("modify_").replace("_", " ")
        return (
            f"column {tname}.{cname}: {attribute} is {_show(db_value, dialect)} in the database, "
            f"{_show(model_value, dialect)} in the models"
        )
    if kind in ("add_table_comment", "remove_table_comment"):
        return f"table comment differs on {diff[1].name}"
    return f"schema difference: {diff!r}"
