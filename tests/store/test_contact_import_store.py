"""Contact import batches in the store, on SQLite and PostgreSQL: apply a plan, then undo it exactly."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from mapping.contact_import.clean import ContactRow, clean_row
from mapping.contact_import.plan import DEFAULT_PRECEDENCE
from mapping.hygiene import normalise_company_name
from mapping.identity import DEFAULT_THRESHOLDS
from mapping.store import audit
from mapping.store.contact_import import import_contacts
from mapping.store.import_undo import ImportUndoError, undo_batch
from mapping.store.models import EmailAddress, MatchCandidate, Organisation, OrganisationDomain, Person
from mapping.store.store import Store

TABLES = ("people", "organisations", "email_addresses", "phones", "postal_addresses", "match_candidates")


def _rows() -> list[ContactRow]:
    cells = [
        {
            "full_name": "ROE, JANE",
            "email": "Jane.Roe@acme.example",
            "company": "ACME Corp.",
            "source": "Fair",
            "mobile": "0170 1234567",
            "street": "1 Main St",
            "city": "Berlin",
            "postcode": "10115",
        },
        {"full_name": "Omar Haddad", "email": "omar@haddad-trading.example", "company": "Haddad Trading GmbH"},
        {"full_name": "Jane Roe", "email": "janeroe77@gmail.com"},
    ]
    out = []
    for n, c in enumerate(cells):
        r = clean_row(n + 2, c, "DE")
        assert isinstance(r, ContactRow)
        out.append(r)
    return out


def _dump(store: Store) -> dict[str, Any]:
    with store.session() as s:
        return {t: [tuple(r) for r in s.execute(sa.text(f"SELECT * FROM {t} ORDER BY id"))] for t in TABLES}


def _import(store: Store, dry_run: bool | None) -> tuple[Any, int | None]:
    with store.session() as s:
        plan, batch, _, _ = import_contacts(
            s,
            _rows(),
            thresholds=DEFAULT_THRESHOLDS,
            precedence=DEFAULT_PRECEDENCE,
            file_name="crm.csv",
            file_hash="f" * 64,
            profile="generic",
            dry_run=dry_run,
        )
        return plan, batch


def test_a_batch_applies_and_undoes_exactly_on_both_databases(store: Store) -> None:
    with store.session() as s:
        acme = Organisation(
            name="Acme Corp",
            normalised_name=normalise_company_name("Acme Corp"),
            domains=[OrganisationDomain(domain="acme.example")],
        )
        s.add(
            Person(
                display_name="Jane Roe",
                given_name="Jane",
                surname="Roe",
                organisation=acme,
                emails=[EmailAddress(address="jane.roe@acme.example", original="jane.roe@acme.example")],
            )
        )
    before = _dump(store)

    plan, batch = _import(store, dry_run=None)  # a file never imported: a dry run
    assert batch is None and _dump(store) == before
    assert plan.counts()["rows_merged_into_existing"] == 1 and plan.counts()["people_to_create"] == 2

    plan, batch = _import(store, dry_run=False)
    assert batch is not None
    with store.session() as s:
        jane = s.scalars(sa.select(Person).where(Person.display_name == "Jane Roe").order_by(Person.id)).first()
        assert jane is not None and jane.user_fields == {"Source": "Fair"}
        assert {p.e164 for p in jane.phones} == {"+491701234567"} and jane.postal_addresses[0].city == "Berlin"
        assert s.scalar(sa.select(sa.func.count()).select_from(MatchCandidate)) == 1  # the gmail Jane: review
        assert s.scalar(sa.select(Organisation.name).where(Organisation.name.like("Haddad%"))) == "Haddad Trading GmbH"
    after = _dump(store)

    assert _import(store, dry_run=None)[1] is None  # imported before: a real run, with nothing to change
    assert _dump(store) == after

    with store.session() as s:
        undo_batch(s, batch)
    assert _dump(store) == before
    with store.session() as s, pytest.raises(ImportUndoError, match="already undone"):
        undo_batch(s, batch)
    with store.session() as s:  # the batch and its undo are in the audit log, by id and counts only
        entries = list(audit.entries(s, kind="import"))
        assert [(e.action, e.subject) for e in entries] == [
            ("contacts", f"import_batch:{batch}"),
            ("undo", f"import_batch:{batch}"),
        ]
        assert entries[0].detail is not None and entries[0].detail["created"]["people"] == 2
        assert "crm.csv" not in str([e.detail for e in entries]) and audit.verify(s).ok
