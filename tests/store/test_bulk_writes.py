"""The set-based writes of a sync page (mapping.store.bulk) store what SQLAlchemy's Core
statements store, value for value: timestamps in UTC, enums by value, JSON, NULLs, non-ASCII text."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mapping.store.bulk import insert_rows, insert_tuples, update_tuples
from mapping.store.models import Base, Direction, EntityType, InteractionKind, ItemKind
from mapping.store.store import Store

_TABLES = Base.metadata.tables
_numbers = itertools.count(1)
#: A database round trip per example: a failure is reported as found, not shrunk for minutes.
_NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

_text = st.one_of(st.none(), st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40))
_when = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))]),
)
_interaction = st.fixed_dictionaries(
    {
        "subject": _text,
        "snippet": _text,
        "size_bytes": st.one_of(st.none(), st.integers(0, 2**31 - 1)),
        "occurred_at": _when,
        "ends_at": st.one_of(st.none(), _when),
        "is_cancelled": st.booleans(),
        "direction": st.sampled_from(list(Direction)),
    }
)


def _rows(store: Store, table: str, where: sa.ColumnElement[bool]) -> list[tuple[object, ...]]:
    t = _TABLES[table]
    columns = [c for c in t.c if c.key not in ("id", "created_at", "updated_at", "first_seen_at")]  # clock defaults
    with store.engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.select(*columns).where(where).order_by(t.c.id))]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], phases=_NO_SHRINK
)
@given(values=st.lists(_interaction, min_size=1, max_size=6), changed=st.lists(_interaction, min_size=1, max_size=6))
def test_interactions_written_as_sets_read_back_as_core_writes_them(
    store: Store, values: list[dict[str, object]], changed: list[dict[str, object]]
) -> None:
    t = _TABLES["interactions"]
    batch = next(_numbers)
    ours = [
        {"kind": InteractionKind.EMAIL, "internet_message_id": f"<{batch}.{i}@bulk>", **v} for i, v in enumerate(values)
    ]
    core = [
        {"kind": InteractionKind.EMAIL, "internet_message_id": f"<{batch}.{i}@core>", **v} for i, v in enumerate(values)
    ]
    with store.session() as s:
        insert_rows(s, "interactions", ours, json_none="null")
        s.execute(sa.insert(t), core)
    mine, theirs = t.c.internet_message_id.like(f"<{batch}.%@bulk>"), t.c.internet_message_id.like(f"<{batch}.%@core>")
    assert [r[2:] for r in _rows(store, "interactions", mine)] == [r[2:] for r in _rows(store, "interactions", theirs)]

    with store.engine.connect() as c:
        ids_mine = list(c.scalars(sa.select(t.c.id).where(mine).order_by(t.c.id)))
        ids_core = list(c.scalars(sa.select(t.c.id).where(theirs).order_by(t.c.id)))
    columns = tuple(changed[0])
    updates = [changed[i % len(changed)] for i in range(len(ids_mine))]
    with store.session() as s:
        update_tuples(
            s,
            "interactions",
            "id",
            columns,
            [(i, *(u[c] for c in columns)) for i, u in zip(ids_mine, updates, strict=True)],
            json_none="null",
        )
        for i, u in zip(ids_core, updates, strict=True):
            s.execute(sa.update(t).where(t.c.id == i).values(**u))
    assert [r[2:] for r in _rows(store, "interactions", mine)] == [r[2:] for r in _rows(store, "interactions", theirs)]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], phases=_NO_SHRINK
)
@given(categories=st.lists(st.one_of(st.none(), st.lists(_text.filter(bool), max_size=3))), seen=_when)
def test_links_written_as_sets_keep_json_and_null_categories(
    store: Store, categories: list[list[str] | None], seen: datetime
) -> None:
    t = _TABLES["item_links"]
    mailbox = store.ensure_mailbox("bulk@northwind.example", "Bulk").id
    batch = next(_numbers)
    columns = ("mailbox_id", "folder", "item_id", "item_kind", "entity_type", "entity_id", "categories", "last_seen_at")

    def rows(kind: str) -> list[tuple[object, ...]]:
        return [
            (mailbox, "inbox", f"{batch}-{kind}-{i}", ItemKind.MESSAGE, EntityType.INTERACTION, i, c, seen)
            for i, c in enumerate(categories)
        ]

    with store.session() as s:
        insert_tuples(s, "item_links", columns, rows("bulk"), json_none="null")
        for row in rows("core"):
            s.execute(sa.insert(t).values(dict(zip(columns, row, strict=True))))
    read_bulk = _rows(store, "item_links", t.c.item_id.like(f"{batch}-bulk-%"))
    read_core = _rows(store, "item_links", t.c.item_id.like(f"{batch}-core-%"))
    assert [r[:2] + r[3:] for r in read_bulk] == [r[:2] + r[3:] for r in read_core]
    with store.engine.connect() as c:
        stored = c.scalars(sa.select(t.c.categories).where(t.c.item_id.like(f"{batch}-bulk-%")).order_by(t.c.id))
        assert list(stored) == categories
