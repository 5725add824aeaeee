"""Engine creation shared by :class:`~mapping.store.store.Store` and the migration runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mapping.files import create_owner_only

SQLITE_BUSY_TIMEOUT_MS = 5000


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite ``url`` (None for another database or an in-memory one)."""
    u = sa.make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:" or u.query.get("uri"):
        return None
    return Path(u.database)


def make_engine(url: str, *, sqlite_foreign_keys: bool = True) -> Engine:
    """Create an engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``).

    SQLite gets, on every new connection: ``foreign_keys`` (off by default in SQLite, so ON DELETE
    would silently do nothing), WAL (readers do not block the writer: the CLI can read while the
    daemon syncs) and a busy timeout (a second writer waits instead of failing at once).

    ``sqlite_foreign_keys=False`` is for migrations only: Alembic's batch mode rebuilds a table with
    ``DROP TABLE``, which with foreign keys on would fire ``ON DELETE CASCADE`` into child tables.
    """
    u = sa.make_url(url)
    if u.get_backend_name() != "sqlite":
        # pool_pre_ping: a daemon outlives server restarts and idle-connection reaping.
        return sa.create_engine(u, pool_pre_ping=True)

    database = sqlite_file(url)
    if database is not None:
        # SQLite would create the file at 0644 (and its -wal/-shm at the file's mode): the store holds
        # people's names and mail subjects, so it is created readable by its owner only.
        create_owner_only(database)
    engine = sa.create_engine(u)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it would only BEGIN before DML and
        # commit behind our back before DDL); SQLAlchemy emits BEGIN below. This makes SAVEPOINT and
        # transactional DDL (a failed migration leaves nothing behind) work as on PostgreSQL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # PRAGMAs that cannot run inside a transaction: here we are in autocommit.
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if sqlite_foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if u.database and u.database != ":memory:":
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, much faster
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine
