"""The declarative base and the column conventions every table shares (see the package docstring)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC ``datetime`` in Python.

    Binding a naive datetime raises ``ValueError`` (wrapped by SQLAlchemy in ``StatementError``):
    a naive value has no defined instant and would silently shift by the server's offset. Aware values
    in any zone are converted to UTC. PostgreSQL stores ``timestamp with time zone``; SQLite stores the
    UTC wall time as text and gets its ``tzinfo`` back on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused (attach a time zone): {value.isoformat()}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite's DATETIME is text without an offset: store the UTC wall time.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        # PostgreSQL answers in the session's TimeZone; normalise so callers always see UTC.
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant as an aware UTC datetime (the default for every timestamp column)."""
    return datetime.now(UTC)


def _enum(cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A portable enum column type: VARCHAR plus a CHECK constraint named ``ck_<table>_<name>``."""
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(m.value) for m in cls),
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    """Declarative base; its ``metadata`` is what migrations and ``check()`` compare against."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _created() -> Any:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def _updated() -> Any:
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)
