"""Fixtures shared by every suite: the EWS schema and a real database per backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA_DIR = ROOT.parent / "shared" / "ews-schema"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Hypothesis profiles: "dev" explores new examples on every run (and remembers failures in .hypothesis/);
# "ci" is derandomized, so a CI run is reproducible from its commit alone, prints the blob to replay a
# failure, and keeps no example database. HYPOTHESIS_PROFILE picks one; CI=true picks "ci".
settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def _schema_dir() -> Path:
    return Path(os.environ.get("RELSYNC_EWS_SCHEMA_DIR", str(DEFAULT_SCHEMA_DIR)))


@pytest.fixture(scope="session")
def ews_schema() -> etree.XMLSchema:
    """Microsoft's EWS schema (messages.xsd importing types.xsd), loaded offline."""
    path = _schema_dir() / "messages.xsd"
    if not path.is_file():
        msg = (
            f"EWS schema not found at {path}: set RELSYNC_EWS_SCHEMA_DIR to the folder holding "
            "messages.xsd, types.xsd and xml.xsd"
        )
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.parse(str(path), parser))


def _pg_admin_url() -> str:
    return os.environ.get("RELSYNC_TEST_PG_URL", DEFAULT_PG_URL)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of the PostgreSQL server; skipped (failed in CI) when it is not reachable."""
    url = _pg_admin_url()
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any connect failure means "no server here"
        msg = f"PostgreSQL not reachable at {url}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return url


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards.

    A database per test (not a schema) keeps parallel runs by several developers and CI apart.
    """
    name = f"relsync_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'relsync.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(autouse=True)
def audit_key() -> Iterator[None]:
    """Every store write is audited with a keyed hash: tests that load no configuration use this key
    (a command or daemon under test registers its own configuration's key, as in production)."""
    from mapping.store import audit

    audit.use_key(b"relsync test audit key (not a secret)")
    audit.set_actor(None)
    yield
