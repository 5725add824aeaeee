"""Properties of the scorers: symmetric, bounded, total on junk, and junk never merges."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mapping.identity import OrgCandidate, PersonCandidate, score_orgs, score_people
from mapping.identity.text import org_tokens

NAME_PARTS = st.sampled_from(
    [
        "Acme",
        "ACME",
        "Corp",
        "GmbH",
        "S.A.",
        "&",
        "and",
        "IBM",
        "International",
        "Business",
        "Machines",
        "Inc.",
        "Bank",
        "Steve",
        "Stephen",
        "Miller",
        "J.",
        "Smith",
        "Мария",
        "山田",
        "Müller",
        "Mueller",
        "",
        "!!",
        "Pty Ltd",
    ]
)
names = st.one_of(st.lists(NAME_PARTS, max_size=5).map(" ".join), st.text(max_size=40))
domains = st.sampled_from(["acme.com", "www.acme.com", "ibm.com", "gmail.com", "x.co.uk", "co.uk", "", "@@", "a@b"])
phones = st.sampled_from(["+1 555 123 4567", "555-123-4567", "0113 496 0584", "12", "", "x"])

orgs = st.builds(
    OrgCandidate,
    id=st.just("a"),
    name=names,
    domains=st.lists(domains, max_size=2).map(tuple),
    phones=st.lists(phones, max_size=2).map(tuple),
    city=st.one_of(st.none(), st.sampled_from(["Paris", "London", ""])),
)
people = st.builds(
    PersonCandidate,
    id=st.just("p"),
    display_name=names,
    emails=st.lists(st.sampled_from(["john@acme.com", "info@acme.com", "j@x.org", "bad", ""]), max_size=2).map(tuple),
    phones=st.lists(phones, max_size=2).map(tuple),
    org_name=st.one_of(st.none(), names),
    birth_date=st.one_of(st.none(), st.sampled_from(["1970-01-02", "19700102", "1970-02-01", "junk"])),
    addresses=st.lists(
        st.sampled_from(["21 la perouse street", "123 la perouse street", "12 Elm St", "12 elmst", "", "9"]), max_size=2
    ).map(tuple),
    postcode=st.one_of(st.none(), st.sampled_from(["3149", "3194", "4149", "", "31490"])),
    city=st.one_of(st.none(), st.sampled_from(["wallsend", "wallsgend", "keilor east", "keiloreast", ""])),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(orgs, orgs)
def test_org_score_is_symmetric_and_bounded(a: OrgCandidate, b: OrgCandidate) -> None:
    ab, ba = score_orgs(a, b), score_orgs(b, a)
    assert 0.0 <= ab.score <= 1.0
    assert abs(ab.score - ba.score) < 1e-12 and ab.decision == ba.decision


@FAST
@given(people, people)
@example(PersonCandidate("a", "and and"), PersonCandidate("b", "and Inc."))  # a swap was weighed one way only
@example(PersonCandidate("a", addresses=("12 Elm St",)), PersonCandidate("b", addresses=("12 Elm St", "")))  # length
def test_person_score_is_symmetric_and_bounded(a: PersonCandidate, b: PersonCandidate) -> None:
    ab, ba = score_people(a, b), score_people(b, a)
    assert 0.0 <= ab.score <= 1.0
    assert abs(ab.score - ba.score) < 1e-12 and ab.decision == ba.decision


JUNK = [
    "",
    " ",
    "!!!",
    "...",
    "GmbH",
    "S.A.",
    "Inc.",
    "Pty Ltd",
    "&",
    "The Company",
    "x" * 10_000,
    "Acme" * 2_500,
    "山田 Мария Acme",
    "\u0000\u200b",
    "a" + "\u0301" * 5000,
]


@FAST
@given(st.sampled_from(JUNK), st.sampled_from(JUNK))
def test_junk_org_names_never_merge_on_the_name_alone(x: str, y: str) -> None:
    score = score_orgs(OrgCandidate("a", x), OrgCandidate("b", y))
    if x == y and org_tokens(x) and len(x) < 256:
        return  # an ordinary repeated name ("Acme"*n is cut, not junk) may merge
    assert score.decision != "merge", score.explain()


def test_bad_org_names_do_not_crash_or_merge() -> None:
    for x in JUNK:
        for y in JUNK:
            score = score_orgs(OrgCandidate("a", x), OrgCandidate("b", y))
            assert 0.0 <= score.score <= 1.0
            if not org_tokens(x) or not org_tokens(y):
                assert score.decision == "apart"


def test_bad_person_names_do_not_crash_or_merge() -> None:
    for x in JUNK:
        for y in JUNK:
            score = score_people(PersonCandidate("a", x), PersonCandidate("b", y))
            assert score.decision != "merge", (x[:20], y[:20], score.explain())


@FAST
@given(st.text(max_size=300), st.text(max_size=300))
def test_arbitrary_text_never_raises(x: str, y: str) -> None:
    score_orgs(OrgCandidate("a", x, domains=(x,), phones=(y,)), OrgCandidate("b", y, website=y))
    score_people(
        PersonCandidate("a", x, given=x, emails=(x,), phones=(y,), org_name=y, birth_date=x),
        PersonCandidate("b", y, surname=y, emails=(y,)),
    )
