"""The set-based apply of a contact import writes what applying the plan person by person wrote before
(the expected rows and batch items below are what that version left), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from mapping.contact_import.clean import ContactRow, clean_row
from mapping.contact_import.plan import DEFAULT_PRECEDENCE
from mapping.hygiene import normalise_company_name
from mapping.identity import DEFAULT_THRESHOLDS
from mapping.store.contact_import import import_contacts
from mapping.store.import_undo import ImportUndoError, undo_batch
from mapping.store.models import EmailAddress, Organisation, OrganisationDomain, Person, PostalAddress
from mapping.store.store import Store

PEOPLE = "SELECT display_name, given_name, surname, job_title, department, organisation_id, user_fields FROM people"


FAIR, WEB = {"Source": "Fair"}, {"Source": "Web"}


def _rows() -> list[ContactRow]:
    cells = [
        # Two rows of one store person the engine keeps apart (different mailboxes at one domain): both
        # merge into her, the later one's values after the earlier one's.
        {"full_name": "ROE, JANE", "email": "Jane.Roe@acme.example", "job_title": "Buyer", "source": "Fair"},
        {"full_name": "Jane Roe", "email": "j.roe@acme.example", "job_title": "CTO", "source": "Web"},
        # A known person with a new address (she has one: 'take' replaces it) and a department.
        {
            "full_name": "Omar Haddad",
            "email": "omar@haddad.example",
            "department": "Sales",
            "street": "2 Hafenstr.",
            "city": "Hamburg",
            "postcode": "20457",
            "company": "Haddad Trading GmbH",
        },
        # A known person without an organisation, now at a new one.
        {"full_name": "Li Wei", "email": "li.wei@wei.example", "company": "Wei Robotics"},
        {"full_name": "Nia Okafor", "email": "nia@okafor.example", "company": "Okafor Foods", "phone": "030 1234567"},
    ]
    out = []
    for n, c in enumerate(cells):
        r = clean_row(n + 2, c, "DE")
        assert isinstance(r, ContactRow)
        out.append(r)
    return out


def _seed(store: Store) -> None:
    with store.session() as s:
        acme = Organisation(
            name="Acme Corp",
            normalised_name=normalise_company_name("Acme Corp"),
            domains=[OrganisationDomain(domain="acme.example")],
        )
        haddad = Organisation(name="Haddad Trading", normalised_name=normalise_company_name("Haddad Trading"))
        s.add_all(
            [
                Person(
                    display_name="Jane Roe",
                    given_name="Jane",
                    surname="Roe",
                    organisation=acme,
                    emails=[
                        EmailAddress(address="jane.roe@acme.example", original="jane.roe@acme.example"),
                        EmailAddress(address="j.roe@acme.example", original="j.roe@acme.example"),
                    ],
                ),
                Person(
                    display_name="Omar Haddad",
                    given_name="Omar",
                    surname="Haddad",
                    organisation=haddad,
                    emails=[EmailAddress(address="omar@haddad.example", original="omar@haddad.example")],
                    postal_addresses=[PostalAddress(street="1 Alter Wall", city="Hamburg", postal_code="20457")],
                ),
                Person(
                    display_name="Li Wei",
                    given_name="Li",
                    surname="Wei",
                    emails=[EmailAddress(address="li.wei@wei.example", original="li.wei@wei.example")],
                ),
            ]
        )


def test_the_set_based_apply_writes_what_the_person_by_person_apply_wrote(store: Store) -> None:
    _seed(store)
    seeded = _snapshot(store)
    with store.session() as s:
        plan, batch, _, _ = import_contacts(
            s,
            _rows(),
            thresholds=DEFAULT_THRESHOLDS,
            precedence={**DEFAULT_PRECEDENCE, "address": "take", "job_title": "take", "attributes": "take"},
            file_name="crm.csv",
            file_hash="a" * 64,
            profile="generic",
            dry_run=False,
        )
    assert batch is not None
    assert [p.target for p in plan.people if not p.creates] == [1, 1, 2, 3]
    with store.session() as s:
        people = [tuple(r) for r in s.execute(sa.text(PEOPLE + " ORDER BY id"))]
        orgs: dict[int, str] = dict(s.execute(sa.text("SELECT id, name FROM organisations")).all())
        street = s.execute(sa.text("SELECT street, city, postal_code FROM postal_addresses WHERE person_id = 2")).one()
        items = [
            (t, r, a, _part(before, after), _part(after, before))
            for t, r, a, before, after in s.execute(
                sa.text(
                    "SELECT table_name, record_id, action, before, after FROM import_batch_items"
                    " WHERE action = 'changed' ORDER BY id"
                )
            )
        ]
    jane, omar, li, nia = people
    assert jane[:5] == ("Jane Roe", "Jane", "Roe", "CTO", None) and jane[5] == 1
    assert _fields(jane[6]) == {"Source": "Web"}  # the later row's values win, as one update after the other
    assert omar[3:6] == (None, "Sales", 2) and tuple(street) == ("2 Hafenstr.", "Hamburg", "20457")
    assert orgs[li[5]] == "Wei Robotics" and orgs[nia[5]] == "Okafor Foods" and nia[0] == "Nia Okafor"
    assert items == [
        ("people", 1, "changed", {"job_title": None, "user_fields": None}, {"job_title": "Buyer", "user_fields": FAIR}),
        ("people", 1, "changed", {"job_title": "Buyer", "user_fields": FAIR}, {"job_title": "CTO", "user_fields": WEB}),
        ("people", 2, "changed", {"department": None}, {"department": "Sales"}),
        ("postal_addresses", 1, "changed", {"street": "1 Alter Wall"}, {"street": "2 Hafenstr."}),
        ("people", 3, "changed", {"organisation_id": None}, {"organisation_id": li[5]}),
    ]
    with store.session() as s:
        created = s.execute(
            sa.text(
                "SELECT table_name, count(*), count(before), count(after) FROM import_batch_items"
                " WHERE action = 'created' GROUP BY table_name ORDER BY table_name"
            )
        ).all()
    # What the batch created: two organisations and Nia (her e-mail and phone go with her); nothing
    # before or after (SQL NULL).
    assert [tuple(r) for r in created] == [("organisations", 2, 0, 0), ("people", 1, 0, 0)]
    # Undo restores the store as seeded: Jane's two changes by this batch are not "changed since".
    with store.session() as s:
        undo_batch(s, batch)
    assert _snapshot(store) == seeded
    with store.session() as s, pytest.raises(ImportUndoError, match="already undone"):
        undo_batch(s, batch)


def _snapshot(store: Store) -> tuple[Any, ...]:
    with store.session() as s:
        return (
            [(*r[:6], _fields(r[6])) for r in s.execute(sa.text(PEOPLE + " ORDER BY id"))],
            [tuple(r) for r in s.execute(sa.text("SELECT id, name FROM organisations ORDER BY id"))],
            [tuple(r) for r in s.execute(sa.text("SELECT person_id, street, city FROM postal_addresses ORDER BY id"))],
            [tuple(r) for r in s.execute(sa.text("SELECT person_id, address FROM email_addresses ORDER BY id"))],
        )


def _part(values: Any, other: Any) -> dict[str, Any]:
    """The values of the columns both name, but ``updated_at`` (a clock) and unchanged ones, for comparing."""
    values, other = _fields(values), _fields(other)
    return {k: v for k, v in values.items() if k != "updated_at" and other.get(k) != v}


def _fields(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value
