"""Organisation matching: legal forms, acronyms, domains, typos and hard negatives."""

from __future__ import annotations

import pytest

from mapping.identity import OrgCandidate, Thresholds, score_orgs
from mapping.identity.text import org_tokens


def org(name: str, *domains: str, website: str | None = None, phones: tuple[str, ...] = ()) -> OrgCandidate:
    return OrgCandidate(id=name, name=name, domains=domains, website=website, phones=phones)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Corp", "ACME Corporation"),
        ("Siemens AG", "Siemens Aktiengesellschaft"),
        ("Müller GmbH & Co. KG", "Mueller GmbH"),
        ("Nestlé S.A.", "Nestle SA"),
        ("Toyota Kabushiki Kaisha", "Toyota K.K."),
        ("Woolworths Pty Ltd", "Woolworths Limited"),
        ("Ericsson AB", "Ericsson"),
        ("Smith & Sons Ltd", "Smith and Sons Limited"),
        ("Philips N.V.", "Philips"),
        ("Fiat S.p.A.", "FIAT"),
        ("Renault S.A.S.", "Renault SAS"),
    ],
)
def test_legal_forms_and_spelling_of_one_name_merge(a: str, b: str) -> None:
    assert score_orgs(org(a), org(b)).decision == "merge"


def test_a_name_that_is_only_a_legal_form_has_no_words() -> None:
    for name in ("GmbH", "S.A.", "Inc.", "Pty Ltd", "The Company"):
        assert org_tokens(name) == ()


def test_acronym_alone_is_reviewed_and_merges_with_a_shared_domain() -> None:
    short, long_ = org("IBM"), org("International Business Machines, Inc.")
    assert score_orgs(short, long_).decision == "review"
    linked = score_orgs(org("IBM", "ibm.com"), org("International Business Machines, Inc.", "www.ibm.com"))
    assert linked.decision == "merge"
    assert {e.kind for e in linked.evidence} >= {"acronym", "domain"}


def test_acronym_against_the_other_sides_domain() -> None:
    score = score_orgs(org("International Business Machines"), org("Big Blue", "ibm.com"))
    assert any(e.kind == "domain" and e.weight > 0 for e in score.evidence) or score.decision == "apart"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://www.acme.co.uk/about", "sales@eu.acme.co.uk"),
        ("www.acme.com", "acme.com"),
        ("jane@mail.acme.com", "http://acme.com"),
    ],
)
def test_domain_spellings_meet_on_the_registrable_domain(a: str, b: str) -> None:
    score = score_orgs(org("Acme", a), org("ACME Limited", b))
    assert score.decision == "merge"
    assert any(e.kind == "domain" and e.weight > 0 for e in score.evidence)


def test_free_mail_and_public_suffixes_link_nothing() -> None:
    assert score_orgs(org("Brightwater Ltd", "gmail.com"), org("Harbourview Ltd", "gmail.com")).decision == "apart"
    assert score_orgs(org("Brightwater", "x.co.uk"), org("Harbourview", "y.co.uk")).decision == "apart"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Corp", "Acme Bank"),
        ("Alphabet", "Google"),
        ("Deutsche Bank AG", "Deutsche Telekom AG"),
        ("General Motors", "General Electric"),
        ("American Airlines", "American Express"),
        ("Bank of America", "Bank of China"),
    ],
)
def test_hard_negatives_stay_apart(a: str, b: str) -> None:
    assert score_orgs(org(a), org(b)).decision == "apart"


def test_alphabet_and_google_are_linked_only_by_data() -> None:
    linked = score_orgs(org("Alphabet Inc.", "abc.xyz", "google.com"), org("Google LLC", "www.google.com"))
    assert linked.decision != "apart"
    assert score_orgs(org("Alphabet Inc.", "abc.xyz"), org("Google LLC", "google.com")).decision == "apart"


def test_typos_are_reviewed_or_merged() -> None:
    assert score_orgs(org("Microsfot Corporation"), org("Microsoft Corp")).decision != "apart"
    assert score_orgs(org("Brightwater Logistics"), org("Brightwatter Logistics Ltd")).decision != "apart"


def test_evidence_explains_the_score() -> None:
    score = score_orgs(org("Acme Corp", "acme.com"), org("Acme Bank", "acmebank.com"))
    text = score.explain()
    assert "bank" in text and "domain" in text
    assert score.decision == "apart"


def test_thresholds_decide() -> None:
    a, b = org("IBM"), org("International Business Machines")
    assert score_orgs(a, b, Thresholds(merge=0.5, review=0.2)).decision == "merge"
    assert score_orgs(a, b, Thresholds(merge=0.99, review=0.98)).decision == "apart"
    with pytest.raises(ValueError):
        Thresholds(merge=0.3, review=0.5)


def test_qualifiers_and_catalogue_order_are_not_name_words() -> None:
    assert org_tokens("Spago (Los Angeles)") == ("spago",)
    assert org_tokens("Palm, The") == org_tokens("The Palm") == ("palm",)
    assert org_tokens("(Acme)") == ("acme",)  # nothing but a parenthesis: keep what there is


def test_a_shared_phone_number_and_address_outweigh_an_extra_word() -> None:
    a = OrgCandidate("a", "Fenix", phones=("213/848-6677",), addresses=("8358 Sunset Blvd.",))
    b = OrgCandidate("b", "Fenix at the Argyle", phones=("213-848-6677",), addresses=("8358 Sunset Blvd.",))
    assert score_orgs(a, b).decision != "apart"
    assert score_orgs(org("Fenix"), org("Fenix at the Argyle")).decision == "apart"


@pytest.mark.parametrize(
    ("a", "b"),
    [("AB Volvo", "Volvo"), ("AB Volvo", "Volvo AB"), ("Oy Karl Fazer Ab", "Karl Fazer"), ("UAB Bite", "Bite UAB")],
)
def test_a_legal_form_written_before_the_name_is_not_a_word_of_it(a: str, b: str) -> None:
    assert score_orgs(OrgCandidate("1", a), OrgCandidate("2", b)).decision == "merge"


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("HSBC", "Hongkong and Shanghai Banking Corporation"),  # the legal form is part of the acronym
        ("HSBC Holdings plc", "The Hongkong and Shanghai Banking Corporation Limited"),
        ("SAP", "Systeme, Anwendungen und Produkte in der Datenverarbeitung"),  # a qualifier left out
        ("3M", "Minnesota Mining and Manufacturing Company"),  # a digit counts its letter
        ("AT&T", "American Telephone and Telegraph"),  # initials joined by "&" are one word
        ("AT&T Inc.", "American Telephone & Telegraph Company"),
    ],
)
def test_acronyms_that_are_not_plain_first_letters_are_found(short: str, long: str) -> None:
    from mapping.identity import build_org_index, match_new

    score = score_orgs(OrgCandidate("1", short), OrgCandidate("2", long))
    assert score.decision == "review" and any(e.kind == "acronym" for e in score.evidence)
    # ... and blocking brings them together in the first place.
    pairs = match_new([OrgCandidate("1", short)], build_org_index([OrgCandidate("2", long)]))
    assert [p.b for p in pairs] == ["2"]


def test_initials_joined_by_an_ampersand_are_one_word_and_longer_words_are_not_joined() -> None:
    assert org_tokens("AT&T") == ("att",) and org_tokens("P & G") == ("pg",)
    assert org_tokens("Johnson & Johnson") == ("johnson", "and", "johnson")
    assert org_tokens("Smith & Co") == ("smith",)
    assert score_orgs(OrgCandidate("1", "AT&T"), OrgCandidate("2", "Acme Bank")).decision == "apart"
