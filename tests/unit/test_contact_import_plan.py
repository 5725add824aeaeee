"""Hygiene on the way in and the import plan: the identity hard cases, precedence, and within-file merges."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mapping.contact_import.clean import ContactRow, Postal, case_name, clean_row, legal_form, split_address
from mapping.contact_import.plan import PersonPlan, StorePerson, company_key, plan_import
from mapping.contact_import.profiles import PROFILES, column_fields
from mapping.identity import OrgCandidate
from mapping.identity.people import separate_mailboxes


def row(line: int, **cells: str) -> ContactRow:
    cleaned = clean_row(line, cells, "DE")
    assert isinstance(cleaned, ContactRow), cleaned
    return cleaned


def test_names_are_split_and_cased_and_every_fix_is_reported() -> None:
    r = row(
        2,
        full_name="SMITH, JOHN",
        email=" John.Smith@Example.COM ",
        phone="(030) 1234567",
        company="EXAMPLE.COM, INC.",
        address="1 Main St, Springfield, IL 62701, USA",
    )
    assert (r.given, r.surname, r.display_name) == ("John", "Smith", "John Smith")
    assert r.emails == ("john.smith@example.com",)
    assert [p.e164 for p in r.phones] == ["+49301234567"]
    assert r.company == "Example.com, Inc." and r.legal_form == "Inc."
    assert r.postal == Postal("1 Main St", "Springfield", "IL", "62701", "USA")
    assert "name 'SMITH, JOHN' -> 'John Smith'" in r.fixes
    assert any(f.startswith("phone '(030) 1234567' -> +49301234567") for f in r.fixes)
    assert case_name("O'BRIEN") == "O'Brien" and case_name("MCDONALD") == "McDonald"
    assert case_name("van der Berg") == "van der Berg"  # mixed case is kept as typed


def test_bad_values_are_refused_and_reported_but_the_row_stays() -> None:
    r = row(5, given_name="ann", surname="lee", email="not an address", mobile="call me")
    assert r.display_name == "Ann Lee" and r.emails == () and r.phones == ()
    assert r.refused == ("e-mail 'not an address': not a valid address", "mobile 'call me': not a phone number")


def test_legal_forms_and_addresses_in_their_parts() -> None:
    assert legal_form("Acme GmbH & Co. KG") == ("Acme", "GmbH & Co. KG")
    assert legal_form("E.ON")[1] is None
    assert split_address("Hauptstr. 5, 10115 Berlin") == Postal("Hauptstr. 5", "Berlin", None, "10115", None)


@given(st.text(max_size=40))
def test_name_casing_is_idempotent(text: str) -> None:
    assert case_name(case_name(text)) == case_name(text)


def test_every_profile_maps_its_documented_name_and_email_columns() -> None:
    for name, layout in PROFILES.items():
        headers = list(layout) or ["Name", "Email"]
        fields, unknown = column_fields(headers, name, {})
        assert {"email"} <= set(fields.values()) and unknown == [], name
        assert set(fields.values()) & {"full_name", "given_name"}, name


def test_company_keys_of_the_hard_cases_match() -> None:
    assert company_key("Example.com, Inc.") == company_key("Example") == "example"
    assert company_key("A&B") == company_key("A and B")
    assert company_key("E.ON") == company_key("EON")
    assert company_key("Acme Widgets") != company_key("Acme")


def _plan(
    rows: list[ContactRow], orgs: list[OrgCandidate], people: list[StorePerson], **kw: object
) -> list[PersonPlan]:
    return list(plan_import(rows, orgs, people, **kw).people)  # type: ignore[arg-type]


def test_org_hard_cases_merge_into_the_store_organisation() -> None:
    orgs = [OrgCandidate("1", "Example"), OrgCandidate("2", "A and B"), OrgCandidate("3", "EON")]
    rows = [
        row(2, full_name="Ann Lee", company="Example.com, Inc."),
        row(3, full_name="Bob Ray", company="A&B"),
        row(4, full_name="Cy Doe", company="E.ON"),
    ]
    plan = plan_import(rows, orgs, [])
    assert {k: v[0] for k, v in plan.org_merges.items()} == {"example": 1, "a and b": 2, "eon": 3}
    assert plan.new_orgs == () and [p.org for p in plan.people] == [1, 2, 3]


def test_two_colleagues_with_similar_names_at_one_domain_never_merge() -> None:
    store = [
        StorePerson(
            1,
            "Jon Miller",
            "Jon",
            None,
            "Miller",
            organisation_id=1,
            organisation_name="Acme",
            emails=("jon.miller@acme.example",),
            postal=Postal("1 Main St", "Springfield", None, "62701"),
        )
    ]
    rows = [
        row(
            2,
            full_name="John Miller",
            email="john.miller@acme.example",
            company="Acme",
            street="99 Other Rd",
            city="Shelbyville",
            postcode="62565",
        ),
        row(3, full_name="Janet Miller", email="janet.miller@acme.example", company="Acme"),
        row(4, full_name="Jane Miller", email="jane.miller@acme.example", company="Acme"),
    ]
    people = _plan(rows, [OrgCandidate("1", "Acme", domains=("acme.example",))], store)
    assert all(p.creates for p in people) and len(people) == 3
    assert separate_mailboxes(["jon.miller@acme.example"], ["john.miller@acme.example"])
    assert not separate_mailboxes(["jon@gmail.com"], ["jon.miller@acme.example"])


def test_precedence_keep_take_fill() -> None:
    store = [
        StorePerson(
            1,
            "Ann Lee",
            "Ann",
            None,
            "Lee",
            job_title="Buyer",
            emails=("ann@a.example",),
            user_fields={"Source": "Fair"},
        )
    ]
    r = row(
        2,
        full_name="Ann Lee",
        email="ann@a.example",
        job_title="Head of Buying",
        department="Purchasing",
        source="Web",
        industry="Retail",
    )
    fill = _plan([r], [], store)[0]
    assert fill.target == 1
    assert {(c.field, c.before, c.after) for c in fill.changes} == {
        ("department", None, "Purchasing"),
        ("user_field:Industry", None, "Retail"),
    }
    take = _plan([r], [], store, precedence={"job_title": "take", "attributes": "take"})[0]
    assert ("job_title", "Buyer", "Head of Buying") in {(c.field, c.before, c.after) for c in take.changes}
    assert take.user_fields["Source"] == "Web"
    keep = _plan(
        [r],
        [],
        store,
        precedence=dict.fromkeys(("name", "job_title", "department", "organisation", "address", "attributes"), "keep"),
    )[0]
    assert keep.changes == () and not keep.changed


def test_rows_of_one_person_merge_within_the_file_and_new_orgs_are_shared() -> None:
    rows = [
        row(2, full_name="Ann Lee", email="ann@a.example", company="A&B Ltd"),
        row(3, full_name="LEE, ANN", email="ann@a.example", mobile="0170 1234567", company="A and B"),
        row(4, full_name="Bob Ray", email="bob@a.example", company="A & B"),
    ]
    plan = plan_import(rows, [], [])
    assert [p.lines for p in plan.people] == [(2, 3), (4,)]
    assert plan.people[0].new_phones[0].e164 == "+491701234567"
    assert len(plan.new_orgs) == 1 and plan.people[0].org == plan.people[1].org == plan.new_orgs[0].key
    assert plan.counts()["rows_merged_within_file"] == 1
