"""Migrations: they round-trip, leave nothing behind, and ``check()`` reports drift in words."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mapping.store import migrate
from mapping.store.models import Base, EmailAddress, EntityType, ItemKind, ItemLink, Person
from mapping.store.store import Store

RELSYNC_TABLES = set(Base.metadata.tables)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _execute(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trips(db_url: str) -> None:
    assert migrate.current(db_url) is None

    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head() == "0019_rollup_row_count"
    assert _tables(db_url) == RELSYNC_TABLES | {"alembic_version"}

    migrate.downgrade(db_url, "base")
    assert migrate.current(db_url) is None
    # Alembic keeps its (now empty) version table; every relsync table is gone.
    assert _tables(db_url) <= {"alembic_version"}

    migrate.upgrade(db_url)
    assert migrate.current(db_url) == "0019_rollup_row_count"
    assert migrate.check(db_url) == []


def test_each_migration_steps_down_and_up_one_revision_at_a_time(db_url: str) -> None:
    migrate.upgrade(db_url, "0001")
    assert migrate.current(db_url) == "0001"
    migrate.upgrade(db_url, "0002")
    assert "match_candidates" in _tables(db_url)
    migrate.downgrade(db_url, "0001")
    assert migrate.current(db_url) == "0001"
    assert "match_candidates" not in _tables(db_url) and "merge_audit" not in _tables(db_url)
    migrate.upgrade(db_url, "0003")
    assert {"transactions", "relationships", "category_overrides"} <= _tables(db_url)
    migrate.downgrade(db_url, "0002")
    assert migrate.current(db_url) == "0002"
    assert not {"transactions", "relationships", "category_overrides"} & _tables(db_url)
    migrate.upgrade(db_url, "0004")
    assert "job_marks" in _tables(db_url)
    migrate.downgrade(db_url, "0003")
    assert "job_marks" not in _tables(db_url)
    migrate.upgrade(db_url, "0005")
    assert "written_categories" in _columns(db_url, "item_links") and "owner" in _columns(db_url, "relationships")
    migrate.downgrade(db_url, "0004")
    assert "written_categories" not in _columns(db_url, "item_links")
    assert "owner" not in _columns(db_url, "relationships")
    migrate.upgrade(db_url, "0006")
    assert "user_fields" in _columns(db_url, "people")
    migrate.downgrade(db_url, "0005")
    assert "user_fields" not in _columns(db_url, "people")
    migrate.upgrade(db_url, "0008")
    assert {"mailbox_leases", "job_leases"} <= _tables(db_url)
    migrate.downgrade(db_url, "0007")
    assert not {"mailbox_leases", "job_leases"} & _tables(db_url)
    migrate.upgrade(db_url, "0009")
    assert {"last_throttled_at", "last_throttled_seconds"} <= _columns(db_url, "staff_mailboxes")
    migrate.downgrade(db_url, "0008")
    assert "last_throttled_at" not in _columns(db_url, "staff_mailboxes")
    migrate.upgrade(db_url, "0010")
    assert "classification_history" in _tables(db_url)
    migrate.downgrade(db_url, "0009")
    assert "classification_history" not in _tables(db_url)
    migrate.upgrade(db_url, "0011")
    assert {"audit_log", "audit_head", "suppressions", "erasures"} <= _tables(db_url)
    migrate.downgrade(db_url, "0010")
    assert not {"audit_log", "audit_head", "suppressions", "erasures"} & _tables(db_url)
    migrate.upgrade(db_url, "0012")
    assert {"import_batches", "import_batch_items"} <= _tables(db_url)
    migrate.downgrade(db_url, "0011")
    assert not {"import_batches", "import_batch_items"} & _tables(db_url)
    migrate.upgrade(db_url, "0013")
    assert {"followup_triggers", "relationship_notes"} <= _tables(db_url)
    migrate.downgrade(db_url, "0012")
    assert not {"followup_triggers", "relationship_notes"} & _tables(db_url)
    migrate.upgrade(db_url, "0014")
    assert "addin_links" in _tables(db_url)
    migrate.downgrade(db_url, "0013")
    assert "addin_links" not in _tables(db_url)
    migrate.upgrade(db_url, "0015_offers")
    assert "relationship_offers" in _tables(db_url)
    migrate.downgrade(db_url, "0014")
    assert "relationship_offers" not in _tables(db_url)
    migrate.upgrade(db_url, "0016_business_sources")
    assert "group_families" in _tables(db_url) and "referred_key" in _columns(db_url, "transactions")
    migrate.downgrade(db_url, "0015_offers")
    assert "group_families" not in _tables(db_url) and "referred_key" not in _columns(db_url, "transactions")
    migrate.upgrade(db_url, "0017_console_rollup")
    assert {"sales_daily", "sales_rollup_mark"} <= _tables(db_url)
    assert "set_by" in _columns(db_url, "category_overrides")
    migrate.downgrade(db_url, "0016_business_sources")
    assert not {"sales_daily", "sales_rollup_mark"} & _tables(db_url)
    assert "set_by" not in _columns(db_url, "category_overrides")
    migrate.upgrade(db_url, "0018_import_outlook_contacts")
    assert "import_outlook_contacts" in _tables(db_url)
    migrate.downgrade(db_url, "0017_console_rollup")
    assert "import_outlook_contacts" not in _tables(db_url)
    migrate.upgrade(db_url, "0019_rollup_row_count")
    assert "transaction_count" in _columns(db_url, "sales_rollup_mark")
    migrate.downgrade(db_url, "0018_import_outlook_contacts")
    assert "transaction_count" not in _columns(db_url, "sales_rollup_mark")
    migrate.upgrade(db_url)
    assert migrate.check(db_url) == []


def test_check_is_clean_right_after_upgrade(db_url: str) -> None:
    migrate.upgrade(db_url)
    assert migrate.check(db_url) == []


def test_check_reports_a_database_that_was_never_migrated(db_url: str) -> None:
    lines = migrate.check(db_url)
    assert len(lines) == 1
    assert "never migrated" in lines[0] and migrate.head() in lines[0]


def test_check_reports_a_dropped_column(db_url: str) -> None:
    migrate.upgrade(db_url)
    _execute(db_url, "ALTER TABLE people DROP COLUMN nickname")

    assert migrate.check(db_url) == ["column people.nickname is missing from the database"]


def test_check_reports_an_extra_table_and_a_dropped_index(db_url: str) -> None:
    migrate.upgrade(db_url)
    _execute(db_url, "CREATE TABLE scratch (id INTEGER PRIMARY KEY)")
    _execute(db_url, "DROP INDEX ix_phones_e164")

    lines = migrate.check(db_url)

    assert "table scratch is in the database but not in the models" in lines
    assert any(line.startswith("index ix_phones_e164 on phones (e164) is missing") for line in lines)
    assert len(lines) == 2


def test_a_failed_upgrade_leaves_no_half_built_schema(db_url: str) -> None:
    # A stray "people" table makes 0001 fail part-way, after it created several tables.
    _execute(db_url, "CREATE TABLE people (id INTEGER PRIMARY KEY)")

    with pytest.raises(sa.exc.DatabaseError):
        migrate.upgrade(db_url)

    # Transactional DDL (on SQLite too): the tables created before the failure are rolled back.
    assert _tables(db_url) == {"people"}
    assert migrate.current(db_url) is None


def test_every_constraint_and_index_name_fits_postgresql_identifier_limit() -> None:
    # PostgreSQL silently truncates names over 63 bytes; the truncated name would then never match
    # the model's, and drops in a later migration would miss.
    names: list[str] = []
    for table in Base.metadata.tables.values():
        names += [str(c.name) for c in table.constraints if c.name is not None]
        names += [str(i.name) for i in table.indexes if i.name is not None]
    too_long = [n for n in names if len(n.encode()) > 63]
    assert names and not too_long


def test_downgrade_to_base_works_with_data_in_the_tables(db_url: str) -> None:
    migrate.upgrade(db_url)
    store = Store(db_url)
    try:
        mailbox = store.ensure_mailbox("ann@corp.example", "Ann")
        with store.session() as s:
            s.add(Person(display_name="Fay", emails=[EmailAddress(address="fay@x.com", original="fay@x.com")]))
            s.add(
                ItemLink(
                    mailbox_id=mailbox.id,
                    folder="contacts",
                    item_id="AAMk",
                    item_kind=ItemKind.CONTACT,
                    entity_type=EntityType.PERSON,
                    entity_id=1,
                )
            )
    finally:
        store.dispose()

    migrate.downgrade(db_url, "base")

    assert _tables(db_url) <= {"alembic_version"}


def test_check_reports_a_changed_type_and_nullability_on_postgresql(pg_url: str) -> None:
    migrate.upgrade(pg_url)
    _execute(pg_url, "ALTER TABLE interactions ALTER COLUMN occurred_at TYPE timestamp without time zone")
    _execute(pg_url, "ALTER TABLE people ALTER COLUMN display_name DROP NOT NULL")

    assert sorted(migrate.check(pg_url)) == [
        "column interactions.occurred_at: type is TIMESTAMP WITHOUT TIME ZONE in the database, "
        "TIMESTAMP WITH TIME ZONE in the models",
        "column people.display_name: nullable is True in the database, False in the models",
    ]
