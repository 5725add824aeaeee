"""Whether a command may use a store as it is (mapping.store.readiness.readiness): a pure decision."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mapping.store.readiness import readiness

HEAD = "0009"


def test_a_store_at_the_newest_revision_is_used_as_it_is() -> None:
    assert readiness("sqlite", HEAD, True, HEAD, True) is None
    assert readiness("postgresql", HEAD, True, HEAD, True) is None


def test_a_brand_new_sqlite_store_is_created() -> None:
    assert readiness("sqlite", None, False, HEAD, True) == "create"


def test_a_brand_new_postgresql_store_is_left_to_the_admin() -> None:
    assert readiness("postgresql", None, False, HEAD, True) == (
        "the store (store.url) has no relsync tables yet. Fix: run `relsync db upgrade` once"
    )


def test_an_older_schema_names_both_revisions_and_db_upgrade() -> None:
    said = readiness("sqlite", "0007", True, HEAD, True)
    assert said == (
        "the store (store.url) is at schema revision 0007, this relsync needs 0009. "
        "Fix: run `relsync db upgrade` (with every daemon stopped)"
    )


def test_a_newer_schema_is_not_called_older() -> None:
    said = readiness("postgresql", "0042", True, HEAD, False)
    assert said is not None and "does not know" in said and "needs" not in said


def test_tables_without_a_revision_are_someone_elses_database() -> None:
    said = readiness("sqlite", None, True, HEAD, True)
    assert said is not None and "no relsync schema revision" in said


@given(
    st.sampled_from(["sqlite", "postgresql"]),
    st.one_of(st.none(), st.sampled_from(["0001", "0008", "0042"])),
    st.booleans(),
    st.booleans(),
)
def test_only_a_new_sqlite_store_is_ever_changed(dialect: str, revision: str | None, tables: bool, known: bool) -> None:
    said = readiness(dialect, revision, tables, HEAD, known)
    if said == "create":
        assert dialect == "sqlite" and revision is None and not tables
    else:
        # Every other answer is one sentence with its fix.
        assert said is not None and said.count(". Fix: ") == 1 and "\n" not in said
