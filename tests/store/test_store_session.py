"""The Store seam: one transaction per session, rollback on error, SQLite set up like a server."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mapping.store.migrate import upgrade
from mapping.store.models import MailboxBackend, Person, StaffMailbox
from mapping.store.store import Store


class Boom(Exception):
    pass


def test_a_session_commits_when_the_block_ends(store: Store) -> None:
    with store.session() as s:
        s.add(Person(display_name="Dee"))

    with store.session() as s:
        assert s.scalars(sa.select(Person.display_name)).all() == ["Dee"]


def test_a_session_rolls_back_everything_when_the_block_raises(store: Store) -> None:
    with pytest.raises(Boom), store.session() as s:
        s.add(Person(display_name="Eve"))
        s.flush()  # written to the database inside the transaction ...
        raise Boom

    with store.session() as s:  # ... and gone after the rollback
        assert s.scalars(sa.select(Person)).all() == []


def test_a_savepoint_rolls_back_alone(store: Store) -> None:
    # A sync step can isolate one bad item; on SQLite this needs SQLAlchemy, not sqlite3, to BEGIN.
    with store.session() as s:
        s.add(Person(display_name="kept"))
        with pytest.raises(Boom), s.begin_nested():
            s.add(Person(display_name="dropped"))
            s.flush()
            raise Boom

    with store.session() as s:
        assert s.scalars(sa.select(Person.display_name)).all() == ["kept"]


def test_ensure_mailbox_creates_once_and_ignores_case(store: Store) -> None:
    first = store.ensure_mailbox(" Ann@Corp.Example ", "Ann", MailboxBackend.GRAPH)
    again = store.ensure_mailbox("ann@corp.example", "Somebody else")

    assert first.id == again.id
    assert again.address == "ann@corp.example"
    assert again.display_name == "Ann" and again.backend is MailboxBackend.GRAPH
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(StaffMailbox)) == 1


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    store = Store(sqlite_url)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        store.dispose()


def test_repr_hides_the_password() -> None:
    store = Store("postgresql+psycopg://relsync:s3cret@db.example/relsync")
    try:
        assert "s3cret" not in repr(store)
    finally:
        store.dispose()
