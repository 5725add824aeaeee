"""The page appliers' set lookups and id-returning inserts (mapping.store.batching.among,
mapping.store.bulk.insert_rows_with_ids) find and number rows as IN lists and RETURNING do."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mapping.store.batching import among
from mapping.store.bulk import insert_rows_with_ids
from mapping.store.models import Base, EmailAddress, Person
from mapping.store.store import Store

_TABLES = Base.metadata.tables
_numbers = itertools.count(1)
_NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
_local = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=12)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], phases=_NO_SHRINK
)
@given(stored=st.lists(_local, min_size=1, max_size=8, unique=True), asked=st.lists(_local, max_size=8))
def test_among_finds_exactly_the_rows_an_in_list_finds(store: Store, stored: list[str], asked: list[str]) -> None:
    batch = next(_numbers)
    addresses = [f"{local}'\"@{batch}.example" for local in stored]
    wanted = sorted({*(f"{local}'\"@{batch}.example" for local in asked), addresses[0]})
    with store.session() as s:
        person = s.execute(sa.insert(Person).values(display_name="Set").returning(Person.id)).scalar_one()
        s.execute(sa.insert(EmailAddress), [{"address": a, "original": a, "person_id": person} for a in addresses])
    with store.session() as s:
        by_address = set(s.scalars(sa.select(EmailAddress.id).where(among(s, EmailAddress.address, wanted))))
        by_in = set(s.scalars(sa.select(EmailAddress.id).where(EmailAddress.address.in_(wanted))))
        by_person = set(s.scalars(sa.select(EmailAddress.id).where(among(s, EmailAddress.person_id, [person, -1]))))
        of_person = set(s.scalars(sa.select(EmailAddress.id).where(EmailAddress.person_id == person)))
    assert by_address == by_in and by_address
    assert by_person == of_person


def test_rows_inserted_with_ids_get_the_ids_they_are_stored_under_in_row_order(store: Store) -> None:
    # Rows setting different columns (and the same columns in another order) go in as separate
    # statements: each row still gets its own id back, in the order given.
    rows: list[dict[str, object]] = []
    for n in range(7):
        if n % 3 == 0:
            rows.append({"display_name": f"Person {n}"})
        elif n % 3 == 1:
            rows.append({"display_name": f"Person {n}", "user_fields": {"n": str(n)}})
        else:
            rows.append({"user_fields": {"n": str(n)}, "display_name": f"Person {n}"})
    with store.session() as s:
        s.execute(sa.insert(Person).values(display_name="Before"))  # ids need not start at 1
        ids = insert_rows_with_ids(s, "people", rows, json_none="null")
    assert len(set(ids)) == len(rows)
    t = _TABLES["people"]
    with store.engine.connect() as c:
        stored: dict[int, str] = {
            i: n for i, n in c.execute(sa.select(t.c.id, t.c.display_name).where(t.c.id.in_(ids)))
        }
        unset = c.scalar(sa.select(sa.func.count()).where(t.c.id == ids[0], t.c.user_fields.is_(None)))
    assert [stored[i] for i in ids] == [row["display_name"] for row in rows]
    assert unset == 1  # a column a row leaves out is SQL NULL, not JSON null
