"""Full blocked passes and incremental matching against an index."""

from __future__ import annotations

import pytest

from mapping.identity import (
    OrgCandidate,
    PersonCandidate,
    build_org_index,
    build_person_index,
    find_org_duplicates,
    find_person_duplicates,
    match_new,
    resolve,
)
from mapping.identity.blocking import build_blocks, candidate_pairs

ORGS = [
    OrgCandidate("1", "Acme Corp", domains=("acme.com",)),
    OrgCandidate("2", "ACME Corporation", website="https://www.acme.com"),
    OrgCandidate("3", "Acme Bank", domains=("acmebank.com",)),
    OrgCandidate("4", "IBM", domains=("ibm.com",)),
    OrgCandidate("5", "International Business Machines, Inc.", domains=("us.ibm.com",)),
    OrgCandidate("6", "Globex GmbH"),
    OrgCandidate("7", "GmbH"),
    OrgCandidate("8", ""),
]
PEOPLE = [
    PersonCandidate("a", "Stephen Miller", emails=("stephen.miller@acme.com",), org_name="Acme Corp"),
    PersonCandidate("b", "Steve Miller", emails=("steve@acme.com",), org_name="ACME Corporation"),
    PersonCandidate("c", "John Smith", emails=("john.smith@acmebank.com",), org_name="Acme Bank"),
    PersonCandidate("d", "John Smith", emails=("john.smith@harbourview.co.uk",), org_name="Harbourview Ltd"),
    PersonCandidate("e", "Maria Lopez", emails=("maria.lopez@bright.co.uk", "maria84@gmail.com")),
    PersonCandidate("f", "M. Lopez", emails=("maria84@gmail.com",)),
    PersonCandidate("g", ""),
    PersonCandidate("h", "!!!"),
]


def _decisions(pairs: list) -> dict[tuple[str, str], str]:  # type: ignore[type-arg]
    return {(p.a, p.b): p.decision for p in pairs}


def test_full_org_pass_finds_duplicates_and_keeps_hard_negatives_apart() -> None:
    found = _decisions(find_org_duplicates(ORGS))
    assert found[("1", "2")] == "merge"
    assert found[("4", "5")] == "merge"
    assert ("1", "3") not in found and ("2", "3") not in found
    assert not any("7" in pair or "8" in pair for pair in found)


def test_full_person_pass() -> None:
    found = _decisions(find_person_duplicates(PEOPLE))
    assert found[("e", "f")] == "merge"
    assert found.get(("a", "b")) == "merge"
    assert ("c", "d") not in found
    assert not any("g" in pair or "h" in pair for pair in found)


def test_pairs_are_ordered_and_best_first() -> None:
    pairs = find_org_duplicates(ORGS, keep_apart=True)
    assert all(p.a < p.b for p in pairs)
    scores = [p.score.score for p in pairs]
    assert scores == sorted(scores, reverse=True)


def test_match_new_against_an_index() -> None:
    index = build_person_index(PEOPLE)
    new = [
        PersonCandidate("n1", "Bob Jones", emails=("bob@x.com",)),
        PersonCandidate("n2", "Miller, Steve", emails=("steve@acme.com",)),
        PersonCandidate("n3", "Robert Jones", emails=("bob@x.com",)),
    ]
    pairs = match_new(new, index)
    found = {(p.a, p.b): p.decision for p in pairs}
    assert found[("n2", "b")] == "merge"
    assert found[("n1", "n3")] == "merge"  # duplicates inside the batch are found too
    assert not any(p.a == "n1" and p.b in {x.id for x in PEOPLE} for p in pairs)


def test_org_index_links_a_new_website_to_a_known_domain() -> None:
    index = build_org_index(ORGS)
    pairs = match_new([OrgCandidate("new", "Acme Corporation Ltd", website="http://acme.com/")], index)
    assert pairs and pairs[0].b in {"1", "2"} and pairs[0].decision == "merge"


def test_blocking_skips_common_keys_and_emits_each_pair_once() -> None:
    blocks = build_blocks([{"t:x", "t:y"}, {"t:x", "t:y"}, {"t:x"}] + [{"t:common"}] * 100)
    pairs = candidate_pairs(blocks, max_block=20)  # one-word keys: blocks of up to 20 // 5 = 4
    assert pairs == [(0, 1), (0, 2), (1, 2)]


def test_blocking_cost_is_near_linear() -> None:
    orgs = [OrgCandidate(str(i), f"Company{i} Holdings Ltd", domains=(f"c{i}.com",)) for i in range(3000)]
    # A shared generic word ("holdings") is no key; the sorted neighbourhood adds at most 3 per record.
    assert len(find_org_duplicates(orgs, keep_apart=True)) <= 3 * len(orgs)


def test_sorted_neighbourhood_catches_a_typo_in_a_common_word() -> None:
    orgs = [OrgCandidate(str(i), f"Smith Plumbing {i}") for i in range(60)]
    orgs += [OrgCandidate("x", "Smith Plumbnig Services"), OrgCandidate("y", "Smith Plumbing Services")]
    found = {(p.a, p.b) for p in find_org_duplicates(orgs, keep_apart=True)}
    assert ("x", "y") in found


def test_a_large_batch_matched_in_worker_processes_gives_what_one_process_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A batch counts as large from MATCH_PARALLEL_MIN_ITEMS on (5,000 in use): lowered so a small one forks.
    monkeypatch.setattr(resolve, "MATCH_PARALLEL_MIN_ITEMS", 2)
    new = [
        PersonCandidate(f"n{k}-{n}", name, emails=(email,), org_name=org)
        for k in range(6)
        for n, (name, email, org) in enumerate(
            [
                ("Steve Miller", "steve@acme.com", "ACME Corporation"),
                ("Maria Lopez", f"maria.lopez{k}@bright.co.uk", ""),
                ("John Smith", f"j.smith{k}@acmebank.com", "Acme Bank"),
            ]
        )
    ]
    index = build_person_index(PEOPLE)
    for calibration in (False, True):
        alone = match_new(new, index, calibration=calibration, workers=1)
        forked = match_new(new, index, calibration=calibration, workers=2)
        assert forked == alone and alone
