"""Database failures as the user reads them: the store's side of the one error root.

SQLAlchemy's exceptions stay inside ``mapping/store``; the CLI asks :func:`store_failure` whether an
exception is a database failure and gets a :class:`StoreFailure` sentence (exit code 3) back, so no
other layer imports sqlalchemy to tell "the database said no" from a bug.
"""

from __future__ import annotations

import sqlalchemy.exc

from mapping.errors import EXIT_STORE, RelsyncError


class StoreFailure(RelsyncError):
    """The database refused or could not be reached: ``store: <kind>: <its first line>``."""

    exit_code = EXIT_STORE
    topic = "store"


def store_failure(exc: BaseException) -> StoreFailure | None:
    """The sentence for a database failure, or None when ``exc`` is not one. Only the driver's first
    line is kept: the rest repeats the statement and its parameters, which may hold personal data."""
    if not isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
        return None
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return StoreFailure(f"{type(exc).__name__}: {reason}")


# The database's exceptions under the store's names, so the scheduler can tell them apart (retry a
# conflict, wait out a busy SQLite, log a failure) without importing sqlalchemy; they are the very
# classes SQLAlchemy raises, so ``exc.orig`` (the driver's error) is there as before.
#: Any failure of the database.
DatabaseError = sqlalchemy.exc.SQLAlchemyError
#: Another transaction inserted the same key first (a unique violation): going again finds its row.
WriteConflict = sqlalchemy.exc.IntegrityError
#: The database could not do it now (SQLite "database is locked", a dropped connection).
StoreBusy = sqlalchemy.exc.OperationalError
