"""Person matching: e-mail, nicknames, transliteration, initials, organisation and phone evidence."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mapping.identity import PersonCandidate, score_people


def person(
    name: str,
    *emails: str,
    company: str | None = None,
    phones: tuple[str, ...] = (),
    birth_date: str | None = None,
    postcode: str | None = None,
) -> PersonCandidate:
    return PersonCandidate(
        id=name + "|" + ",".join(emails),
        display_name=name,
        emails=emails,
        org_name=company,
        phones=phones,
        birth_date=birth_date,
        postcode=postcode,
    )


def test_the_same_email_address_is_certain() -> None:
    score = score_people(person("J. Smith", "john.smith@acme.com"), person("Johnny S", "JOHN.SMITH@acme.com"))
    assert score.decision == "merge" and score.score > 0.99


def test_a_shared_role_mailbox_is_not_certain() -> None:
    score = score_people(person("Anna Berg", "info@acme.com"), person("Peter Holm", "info@acme.com"))
    assert score.decision == "apart"


@pytest.mark.parametrize(
    ("a", "b"), [("Steve", "Stephen"), ("Bob", "Robert"), ("Bill", "William"), ("Liz", "Elizabeth")]
)
def test_nicknames_at_the_same_company_merge(a: str, b: str) -> None:
    x = person(f"{a} Miller", f"{a.lower()}@acme.com", company="Acme Corp")
    y = person(f"{b} Miller", f"{b.lower()}.miller@acme.com", company="ACME Corporation")
    score = score_people(x, y)
    assert score.decision == "merge", score.explain()
    assert any(e.kind == "given_name" and "nickname" in e.detail for e in score.evidence)


def test_nickname_alone_goes_to_review() -> None:
    assert score_people(person("Steve Miller"), person("Stephen Miller")).decision == "review"


def test_transliterated_names_meet() -> None:
    assert (
        score_people(person("Jürgen Müller", company="Bosch"), person("Jurgen Muller", company="Bosch GmbH")).decision
        == "merge"
    )
    assert score_people(person("Мария Иванова"), person("Mariya Ivanova")).decision == "review"


def test_initials_and_surname_first_forms() -> None:
    assert score_people(person("J. Smith", company="Acme"), person("John Smith", company="Acme")).decision == "review"
    assert score_people(person("Smith, John", company="Acme"), person("John Smith", company="Acme")).decision == "merge"
    assert score_people(person("K. Smith", company="Acme"), person("John Smith", company="Acme")).decision == "apart"


def test_local_part_evidence() -> None:
    score = score_people(person("J Smith", "jsmith@acme.com"), person("John Smith", "john.smith@acme.com"))
    assert score.decision in ("review", "merge")
    private = score_people(person("John Smith", "john.smith@gmail.com"), person("John Smith", "john.smith@acme.com"))
    assert any(e.kind == "email_local" for e in private.evidence)


def test_phone_in_any_format() -> None:
    x = person("Oliver Grant", company="Brightwater", phones=("0113 496 0584",))
    y = person("Oliver Grant", company="Brightwater Ltd", phones=("+44 1134960584",))
    score = score_people(x, y)
    assert any(e.kind == "phone" for e in score.evidence) and score.decision == "merge"


def test_same_common_name_at_different_companies_stays_apart() -> None:
    x = person("John Smith", "john.smith@acmebank.com", company="Acme Bank")
    y = person("John Smith", "john.smith@harbourview.co.uk", company="Harbourview Ltd")
    assert score_people(x, y).decision == "apart"


def test_different_people_at_one_company_stay_apart() -> None:
    x = person("Dana Whitfield", "dana.whitfield@ibm.com", company="IBM")
    y = person("Raj Patel", "raj.patel@ibm.com", company="IBM")
    assert score_people(x, y).decision == "apart"


def test_birth_date_decides_between_namesakes() -> None:
    a = person("Anna Berg", birth_date="1971-03-05", postcode="2000")
    assert score_people(a, person("Anna Berg", birth_date="19710305", postcode="2000")).decision == "merge"
    assert score_people(a, person("Anna Berg", birth_date="1990-11-23", postcode="2000")).decision == "apart"


@pytest.mark.parametrize("short", ["M Weber", "M. Weber", "Weber, M."])
def test_an_initial_before_a_surname_is_an_initial_not_a_title(short: str) -> None:
    same_company: dict[str, Any] = {"org_name": "Brightwater Ltd"}
    score = score_people(
        PersonCandidate("a", short, **same_company), PersonCandidate("b", "Martin Weber", **same_company)
    )
    kinds = {e.kind: e.weight for e in score.evidence}
    assert kinds["surname"] > 0 and kinds["given_name"] > 0  # "M." fits Martin; Weber is the surname
    assert score.decision != "apart"
    other = score_people(PersonCandidate("a", short), PersonCandidate("b", "Anna Weber"))
    assert other.decision == "apart"  # the initial does not fit Anna


def test_a_title_before_a_surname_leaves_the_given_name_unknown() -> None:
    score = score_people(PersonCandidate("a", "Dr Weber"), PersonCandidate("b", "Max Weber"))
    assert not any(e.kind == "given_name" for e in score.evidence)
    assert any(e.kind == "surname" and e.weight > 0 for e in score.evidence)


def test_two_colleagues_with_similar_names_and_their_own_addresses_at_one_company_never_merge() -> None:
    """Sync and import share the rule: "Jon Miller" and "John Miller" each with a mailbox at acme.com are two
    people, however alike the rest; at most staff see the pair in review."""
    a = person("Jon Miller", "jon.miller@acme.com", company="Acme", phones=("+1 425 555 0100",), postcode="98052")
    b = person("John Miller", "john.miller@acme.com", company="Acme", phones=("+1 425 555 0100",), postcode="98052")
    score = score_people(a, b)
    assert score.decision == "review"
    assert "different mailboxes at one company domain" in score.explain()


def test_one_address_in_common_still_merges_even_with_a_second_company_address() -> None:
    a = person("Jon Miller", "jon.miller@acme.com", "jm@acme.com", company="Acme")
    b = person("Jon Miller", "jon.miller@acme.com", company="Acme")
    assert score_people(a, b).decision == "merge"


NAMES = ["Jon", "John", "Johan", "Anna", "Ann", "Anne"]


@given(
    given_name=st.sampled_from(NAMES),
    other=st.sampled_from(NAMES),
    initial_a=st.booleans(),
    initial_b=st.booleans(),
    separator_a=st.sampled_from([".", "_", "-", ""]),
    separator_b=st.sampled_from([".", "_", "-", ""]),
    same_phone=st.booleans(),
)
def test_two_mailboxes_spelling_full_names_at_one_company_domain_are_never_merged_by_rule(
    given_name: str, other: str, initial_a: bool, initial_b: bool, separator_a: str, separator_b: str, same_phone: bool
) -> None:
    first_a = given_name[0] if initial_a else given_name
    first_b = other[0] if initial_b else other
    assume(first_a.lower() != first_b.lower())  # the same letters are the same mailbox spelled two ways
    phones = ("+49 30 1234567",)
    a = person(
        f"{given_name} Weber",
        f"{first_a.lower()}{separator_a}weber@brightwater.example",
        company="Brightwater",
        phones=phones,
    )
    b = person(
        f"{other} Weber",
        f"{first_b.lower()}{separator_b}weber@brightwater.example",
        company="Brightwater",
        phones=phones if same_phone else (),
    )
    assert score_people(a, b).decision != "merge"


def test_a_short_alias_beside_a_full_name_mailbox_is_one_person_with_two_addresses() -> None:
    steve = person("Steve Miller", "steve@acme.com", company="Acme")
    stephen = person("Stephen Miller", "stephen.miller@acme.com", company="Acme")
    assert score_people(steve, stephen).decision == "merge"


def test_namesakes_at_company_domains_that_differ_are_two_people_even_when_the_company_names_are_alike() -> None:
    a = person("John Smith", "john.smith@acme.com", company="Acme Corp")
    b = person("John Smith", "john.smith@acmebank.com", company="Acme Bank")
    score = score_people(a, b)
    assert score.decision == "apart"
    assert any(e.kind == "organisation" and e.weight < 0 for e in score.evidence)
    # Without company addresses, alike company names stay "probably one company, not proven".
    c, d = person("John Smith", company="Acme"), person("John Smith", company="Acme Manufacturing")
    assert not any(e.kind == "organisation" for e in score_people(c, d).evidence)
