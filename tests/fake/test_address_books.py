"""The generated company's address books are as real ones are: several addresses and phone kinds,
people who changed company, shared role addresses; deterministic per seed.

Outlook contacts hold up to three e-mail addresses (EmailAddress1..3,
https://learn.microsoft.com/exchange/client-developer/web-service-reference/entry-emailaddress) and
phone numbers keyed by PhoneNumberKeyType
(https://learn.microsoft.com/exchange/client-developer/web-service-reference/entry-phonenumber).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.fake.company.addressbook import ROLE_LOCAL_PARTS
from connector.fake.company.generator import FakeCompany, build_company
from connector.fake.company.names import FREEMAIL_DOMAINS

from .conftest import AccountFactory, ServerFactory

#: PhoneNumberKeyType's values (Microsoft's schema, types.xsd).
PHONE_KEYS = {
    "AssistantPhone",
    "BusinessFax",
    "BusinessPhone",
    "BusinessPhone2",
    "Callback",
    "CarPhone",
    "CompanyMainPhone",
    "HomeFax",
    "HomePhone",
    "HomePhone2",
    "Isdn",
    "MobilePhone",
    "OtherFax",
    "OtherTelephone",
    "Pager",
    "PrimaryPhone",
    "RadioPhone",
    "Telex",
    "TtyTddPhone",
}


@pytest.fixture(scope="module")
def small() -> FakeCompany:
    return build_company(seed=42, mailboxes=4, scale="small")


def contacts(company: FakeCompany) -> list[tuple[int, dict[str, object], dict[str, object]]]:
    return [
        (m, item.extra, item.fields)
        for m, mb in enumerate(company.mailboxes())
        for item in company.folder(mb.email, "contacts")
    ]


def domain(address: str) -> str:
    return address.rsplit("@", 1)[1].lower()


def test_some_contacts_carry_work_private_and_old_employer_addresses(small: FakeCompany) -> None:
    org_domains = {o.domain for o in small.organisations}
    three = 0
    for _, extra, fields in contacts(small):
        emails = fields["EmailAddresses"]
        assert isinstance(emails, dict) and set(emails) <= {"EmailAddress1", "EmailAddress2", "EmailAddress3"}
        if len(emails) < 3 or extra["kind"] != "person":
            continue
        three += 1
        person = small.people[int(extra["person"])]  # type: ignore[call-overload]
        work, private, former = emails["EmailAddress1"], emails["EmailAddress2"], emails["EmailAddress3"]
        assert work == person.email
        assert domain(private) in FREEMAIL_DOMAINS
        assert domain(former) in org_domains and domain(former) != domain(person.email)
    assert three >= 2
    counts = Counter(len(f["EmailAddresses"]) for _, _, f in contacts(small))  # type: ignore[arg-type]
    assert counts[2] >= 20, counts


def test_contacts_carry_several_kinds_of_phone_number(small: FakeCompany) -> None:
    kinds: Counter[str] = Counter()
    for _, _, fields in contacts(small):
        kinds.update(list(fields.get("PhoneNumbers", {})))  # type: ignore[call-overload]
    assert set(kinds) <= PHONE_KEYS
    assert {"BusinessPhone", "MobilePhone", "HomePhone", "CompanyMainPhone", "BusinessFax"} <= set(kinds), kinds
    assert len(kinds) >= 6


def test_a_person_who_changed_company_keeps_one_old_address_in_every_book(small: FakeCompany) -> None:
    seen: dict[int, set[str]] = {}
    for _, extra, fields in contacts(small):
        if extra["kind"] != "person":
            continue
        person = small.people[int(extra["person"])]  # type: ignore[call-overload]
        work_domain = domain(person.email)
        for address in fields["EmailAddresses"].values():  # type: ignore[attr-defined]
            if domain(address) not in FREEMAIL_DOMAINS and domain(address) != work_domain:
                seen.setdefault(person.index, set()).add(address)
    assert len(seen) >= 5, "some people moved from another organisation"
    assert all(len(old) == 1 for old in seen.values())
    work_addresses = {p.email for p in small.people}
    assert not {a for old in seen.values() for a in old} & work_addresses, "an old address is nobody's work address"


@pytest.mark.parametrize("scale", ["tiny", "small"])
def test_every_book_has_shared_role_addresses_of_its_organisations(scale: str) -> None:
    company = build_company(seed=7, mailboxes=3, scale=scale)
    domains = {o.domain: o for o in company.organisations}
    for m, mb in enumerate(company.mailboxes()):
        roles = [item.fields for item in company.folder(mb.email, "contacts") if item.extra["kind"] == "role"]
        assert roles, f"mailbox {m} has no role address"
        for fields in roles:
            (address,) = fields["EmailAddresses"].values()
            local, dom = address.split("@")
            assert local in ROLE_LOCAL_PARTS and dom in domains
            assert "GivenName" not in fields and "Surname" not in fields
            assert fields["CompanyName"] == domains[dom].name


def test_planted_people_are_left_as_their_cases_describe_them(small: FakeCompany) -> None:
    planted = {c.person for case in small.planted for c in case.contacts if c.person >= 0}
    for _, extra, fields in contacts(small):
        if extra["kind"] == "person" and extra["person"] in planted:
            emails = fields["EmailAddresses"]
            assert isinstance(emails, dict) and len(emails) <= 2
            phones = fields.get("PhoneNumbers", {})
            assert isinstance(phones, dict) and set(phones) <= {"BusinessPhone", "MobilePhone"}


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_address_books_are_deterministic_per_seed_and_addresses_stay_unique(seed: int) -> None:
    one, two = build_company(seed, 2, "tiny"), build_company(seed, 2, "tiny")
    assert [f for _, _, f in contacts(one)] == [f for _, _, f in contacts(two)]
    owners: dict[str, int] = {}
    for _, extra, fields in contacts(one):
        if extra["kind"] != "person":
            continue
        for address in fields["EmailAddresses"].values():  # type: ignore[attr-defined]
            # No address is shared by two different people (a private or old address never collides).
            assert owners.setdefault(address.lower(), int(extra["person"])) == extra["person"]  # type: ignore[call-overload]


def test_exchangelib_reads_the_richer_contacts_over_ews(
    make_server: ServerFactory, account_for: AccountFactory
) -> None:
    company = build_company(7, 3, "small")
    ex = make_server(company)
    owner = next(
        mb
        for mb in company.mailboxes()
        if any(len(i.fields["EmailAddresses"]) == 3 for i in company.folder(mb.email, "contacts"))
    )
    acc = account_for(ex, email=owner.email)
    served = list(acc.contacts.all().only("display_name", "email_addresses", "phone_numbers"))
    assert len(served) == len(company.folder(owner.email, "contacts"))
    assert max(len(c.email_addresses or []) for c in served) == 3
    labels = {p.label for c in served for p in c.phone_numbers or []}
    assert {"HomePhone", "CompanyMainPhone", "BusinessFax"} <= labels
    roles = [c for c in served if c.email_addresses and c.email_addresses[0].email.split("@")[0] in ROLE_LOCAL_PARTS]
    assert roles
    assert ex.violations == []
