"""The fake company's planted duplicates and hard negatives, read from its Outlook contacts."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from connector.fake.company.generator import FakeCompany, PlantedCase, build_company
from mapping.identity import OrgCandidate, PersonCandidate, score_orgs, score_people

ORG_KINDS = ("org_alias", "www_domain", "legal_form", "public_suffix", "hard_negative_org")
PERSON_KINDS = ("nickname", "two_addresses", "same_customer", "hard_negative_person")


@pytest.fixture(scope="module")
def company() -> FakeCompany:
    return build_company(7, 3, "small")


def _contacts(company: FakeCompany, case: PlantedCase) -> list[dict[str, Any]]:
    return [company.folder(loc.mailbox, "contacts")[loc.index].fields for loc in case.contacts]


def _org(i: int, f: dict[str, Any]) -> OrgCandidate:
    emails = tuple((f.get("EmailAddresses") or {}).values())
    return OrgCandidate(id=str(i), name=f.get("CompanyName") or "", domains=emails, website=f.get("BusinessHomePage"))


def _person(i: int, f: dict[str, Any]) -> PersonCandidate:
    return PersonCandidate(
        id=str(i),
        display_name=f.get("DisplayName") or "",
        given=f.get("GivenName"),
        surname=f.get("Surname"),
        emails=tuple((f.get("EmailAddresses") or {}).values()),
        phones=tuple((f.get("PhoneNumbers") or {}).values()),
        org_name=f.get("CompanyName"),
    )


def test_every_planted_kind_is_covered(company: FakeCompany) -> None:
    # own_domain (a colleague kept as a contact) is not identity resolution: the sync skips our own domain.
    assert {c.kind for c in company.planted} == {*ORG_KINDS, *PERSON_KINDS, "own_domain"}


@pytest.mark.parametrize("kind", ORG_KINDS)
def test_planted_organisation_cases(company: FakeCompany, kind: str) -> None:
    case = company.planted_case(kind)
    orgs = [_org(i, f) for i, f in enumerate(_contacts(company, case))]
    for a, b in itertools.combinations(orgs, 2):
        score = score_orgs(a, b)
        expected = "merge" if case.should_merge else "apart"
        assert score.decision == expected, f"{case.description}: {a.name!r} / {b.name!r}\n{score.explain()}"


@pytest.mark.parametrize("kind", PERSON_KINDS)
def test_planted_person_cases(company: FakeCompany, kind: str) -> None:
    case = company.planted_case(kind)
    people = [_person(i, f) for i, f in enumerate(_contacts(company, case))]
    assert len(people) >= 2
    for a, b in itertools.combinations(people, 2):
        score = score_people(a, b)
        expected = "merge" if case.should_merge else "apart"
        assert score.decision == expected, f"{case.description}\n{score.explain()}"


def test_people_of_the_org_alias_case_are_two_people(company: FakeCompany) -> None:
    """The org_alias contacts are Dana and Raj at IBM: one organisation, two people."""
    a, b = (_person(i, f) for i, f in enumerate(_contacts(company, company.planted_case("org_alias"))))
    assert score_people(a, b).decision == "apart"
