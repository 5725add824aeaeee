"""``UTCDateTime``: any aware instant survives a round trip as aware UTC; naive values never get in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapping.store.engine import make_engine
from mapping.store.models import UTCDateTime

metadata = sa.MetaData()
stamps = sa.Table(
    "stamps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime()),
)

# Leave a day of slack at both ends of datetime's range, so conversion to UTC cannot overflow.
aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones())


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=aware)
def test_any_aware_datetime_round_trips_as_the_same_instant_in_utc(engine: sa.Engine, value: datetime) -> None:
    # One database for all examples (the fixture is per test): each example cleans up after itself.
    with engine.begin() as conn:
        conn.execute(stamps.insert().values(at=value))
        got = conn.execute(sa.select(stamps.c.at)).scalar_one()
        conn.execute(stamps.delete())

    assert got.tzinfo is UTC
    # Compare in UTC: equality across zones is False for fold=1 and gap times (PEP 495).
    assert got == value.astimezone(UTC)


@given(value=st.datetimes())
def test_any_naive_datetime_is_refused(value: datetime) -> None:
    with pytest.raises(ValueError, match="naive datetime refused"):
        UTCDateTime().process_bind_param(value, sa.create_mock_engine("sqlite://", print).dialect)


def test_null_stays_null(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(stamps.insert().values(at=None))
        assert conn.execute(sa.select(stamps.c.at)).scalar_one() is None
