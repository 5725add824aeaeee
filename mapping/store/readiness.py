"""Whether a store can be used as it is: the decision, and the error a command shows when it cannot.

Kept apart from :mod:`mapping.store.migrate` (Alembic, SQLAlchemy) so the CLI can name the error
without importing either, and so the decision is a plain function tested without a database.
"""

from __future__ import annotations

from mapping.errors import EXIT_STORE, RelsyncError

__all__ = ["StoreNotReady", "readiness"]


class StoreNotReady(RelsyncError):
    """The store's schema is not the one this relsync needs; the message says what, and the fix."""

    exit_code = EXIT_STORE
    topic = "store"


def readiness(dialect: str, revision: str | None, has_tables: bool, newest: str, known: bool) -> str | None:
    """What to do with a store before a command uses it (a pure decision).

    ``"create"`` for a brand-new SQLite store (no tables, never migrated): the embedded default makes
    its own schema, so a new user's first command just works. ``None`` when it is at ``newest``.
    Otherwise the sentence to show: a PostgreSQL store is never changed behind the admin's back (its
    owner runs migrations on purpose, once, with every daemon stopped), nor is a store on an older
    schema, whatever the database (it holds data: upgrading is the documented, deliberate step).
    """
    if revision == newest:
        return None
    if revision is None and not has_tables:
        if dialect == "sqlite":
            return "create"
        return "the store (store.url) has no relsync tables yet. Fix: run `relsync db upgrade` once"
    if revision is None:
        return (
            "the store (store.url) has tables but no relsync schema revision. Fix: point store.url at "
            "relsync's database, or run `relsync db upgrade` on an empty one"
        )
    if not known:
        return (
            f"the store (store.url) is at schema revision {revision}, which this relsync does not know "
            "(a newer relsync migrated it). Fix: run that newer relsync, or `relsync db downgrade` with it"
        )
    return (
        f"the store (store.url) is at schema revision {revision}, this relsync needs {newest}. "
        "Fix: run `relsync db upgrade` (with every daemon stopped)"
    )
