"""Fixtures for the store suites: a migrated database and a Store on it, per backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mapping.store.migrate import upgrade
from mapping.store.store import Store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A Store on a database upgraded to head (SQLite and PostgreSQL, via ``db_url``)."""
    upgrade(db_url)
    store = Store(db_url)
    try:
        yield store
    finally:
        store.dispose()
