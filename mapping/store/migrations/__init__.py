"""Alembic migrations of the relationship store; run them through :mod:`mapping.store.migrate`."""
