"""Rows inserted by :mod:`mapping.store.bulk` with ``json_none="sql"`` (the contact import's) are the rows
a Core insert writes with JSON ``None`` as SQL NULL, with the ids in row order, few rows or many (``COPY``
on PostgreSQL, the driver's executemany on SQLite): the column types' bind processing (enums, JSON, UTC
datetimes, non-ASCII text) and the Python-side column defaults apply alike; a default only SQL could
apply is refused. :func:`~mapping.store.bulk.update_tuples` changes exactly the rows and columns it is
given. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapping.store import bulk
from mapping.store.models import MatchCandidate, Person, Phone
from mapping.store.store import Store

NOW = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)
text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)


def _people(n: int, names: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "display_name": names[i % len(names)] or "x",
            "given_name": names[(i + 1) % len(names)] or None,
            "surname": None,
            "user_fields": None if i % 3 == 0 else {"Source": names[i % len(names)], "n": str(i)},
            "created_at": NOW + timedelta(seconds=i),
            "updated_at": NOW,
        }
        for i in range(n)
    ]


def _read(store: Store, table: sa.Table, ids: list[int]) -> list[tuple[Any, ...]]:
    with store.session() as s:
        rows = s.execute(sa.select(table).where(table.c.id.in_(ids)).order_by(table.c.id)).all()
    return [tuple(r)[1:] for r in rows]  # without the id


@pytest.mark.parametrize("n", [7, 1005], ids=["few", "many"])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(text, min_size=1, max_size=5))
def test_bulk_inserted_rows_equal_the_rows_a_core_insert_writes(store: Store, n: int, names: list[str]) -> None:
    table: sa.Table = Person.__table__  # type: ignore[assignment]
    rows = _people(n, names)
    with store.session() as s:
        ours = bulk.insert_rows_with_ids(s, "people", rows, json_none="sql")
    assert len(ours) == n and ours == sorted(ours)
    with store.session() as s:  # the same rows through SQLAlchemy's insert (JSON None as SQL NULL)
        json = sa.bindparam("uf", type_=sa.JSON(none_as_null=True))
        insert = table.insert().values(user_fields=json).returning(table.c.id, sort_by_parameter_order=True)
        params = [{**{k: v for k, v in r.items() if k != "user_fields"}, "uf": r["user_fields"]} for r in rows]
        theirs = list(s.execute(insert, params).scalars())
    assert _read(store, table, ours) == _read(store, table, theirs)
    with store.session() as s:  # the ids are the rows' own, in row order
        got = dict(s.execute(sa.select(Person.id, Person.created_at).where(Person.id.in_(ours))).all())
    assert [got[i] for i in ours] == [r["created_at"] for r in rows]


@pytest.mark.parametrize("n", [3, 1001], ids=["few", "many"])
def test_column_defaults_and_enums_apply_as_an_insert_applies_them(store: Store, n: int) -> None:
    with store.session() as s:
        person = bulk.insert_rows_with_ids(
            s, "people", [{"display_name": "Zoë Ø", "created_at": NOW}], json_none="sql"
        )[0]
        phones = bulk.insert_rows_with_ids(
            s,
            "phones",
            [{"person_id": person, "e164": f"+49301{i:07d}", "raw": f"030 1{i}"} for i in range(n)],
            json_none="sql",
        )
        bulk.insert_rows(
            s,
            "match_candidates",
            [{"kind": "person", "a_id": i, "b_id": i + 1, "score": 0.5} for i in range(n)],
            json_none="sql",
        )
    with store.session() as s:
        kinds = set(s.scalars(sa.select(Phone.kind).where(Phone.id.in_(phones[:500]))))
        stored = s.execute(sa.select(MatchCandidate.status, MatchCandidate.evidence)).all()
        updated = s.scalar(sa.select(Person.updated_at).where(Person.id == person))
    assert {k.value for k in kinds} == {"other"}  # the column default, as the enum's stored value
    assert len(stored) == n and {(str(st_.value), tuple(ev)) for st_, ev in stored} == {("pending", ())}
    assert updated is not None  # a callable default (utcnow) was called


@pytest.mark.parametrize("n", [5, 1003], ids=["few", "many"])
def test_bulk_updates_change_exactly_the_given_rows_and_columns(store: Store, n: int) -> None:
    table: sa.Table = Person.__table__  # type: ignore[assignment]
    with store.session() as s:
        ids = bulk.insert_rows_with_ids(s, "people", _people(n + 2, ["Ann", "Bo"]), json_none="sql")
    before = _read(store, table, ids)
    changes = [
        {"id": i, "display_name": f"Dr {k} Zoë", "user_fields": None if k % 2 else {"Source": f"s{k}"}}
        for k, i in enumerate(ids[:n])
    ]
    with store.session() as s:
        rows = [(c["id"], c["display_name"], c["user_fields"]) for c in changes]
        bulk.update_tuples(s, "people", "id", ("display_name", "user_fields"), rows, json_none="sql")
    with store.session() as s:
        got = {r.id: (r.display_name, r.user_fields, r.given_name) for r in s.execute(sa.select(table))}
        nulls = s.scalar(sa.select(sa.func.count()).where(table.c.id.in_(ids[:n]), table.c.user_fields.is_(None)))
    for k, i in enumerate(ids[:n]):
        assert got[i][:2] == (changes[k]["display_name"], changes[k]["user_fields"])
    assert nulls == sum(1 for c in changes if c["user_fields"] is None)  # SQL NULL, not JSON null
    assert _read(store, table, ids[n:]) == before[n:]  # rows not given are untouched
    assert [got[i][2] for i in ids] == [b[1] for b in before]  # columns not given are untouched


def test_bulk_insert_ids_are_the_rows_own_after_the_newest_rows_were_deleted(store: Store) -> None:
    """SQLite's driver executemany reads the ids back as consecutive from ``last_insert_rowid()``: still
    the ids the rows got when the table's newest rows are gone (an undone import)."""
    table: sa.Table = Person.__table__  # type: ignore[assignment]
    with store.session() as s:
        first = bulk.insert_rows_with_ids(s, "people", _people(300, ["Ann"]), json_none="sql")
        s.execute(sa.delete(table).where(table.c.id.in_(first[-50:])))
    rows = _people(2500, ["Bo", "Cy"])
    with store.session() as s:
        ours = bulk.insert_rows_with_ids(s, "people", rows, json_none="sql")
    assert len(ours) == len(rows) and len(set(ours)) == len(rows) and min(ours) > max(first[:-50])
    with store.session() as s:
        got = dict(s.execute(sa.select(table.c.id, table.c.created_at).where(table.c.id.in_(ours))).all())
    assert [got[i] for i in ours] == [r["created_at"] for r in rows]


def test_a_default_only_sql_could_apply_is_refused_not_left_null(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = sa.Table(
        "bulk_probe",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer, default=sa.text("1")),
    )
    monkeypatch.setattr(bulk, "_TABLES", {**bulk._TABLES, "bulk_probe": probe})
    with store.session() as s, pytest.raises(ValueError, match=r"bulk_probe\.n: a default only SQL can apply"):
        bulk.insert_rows(s, "bulk_probe", [{"id": 1}], json_none="sql")
