"""The location guard asks the store whether it holds households before it lets names differ."""

from __future__ import annotations

import random
from dataclasses import replace

from mapping.identity import Calibration, PersonCandidate, build_person_index, match_new, score_people
from mapping.identity.households import MIN_ADDRESSED, household_check
from mapping.identity.people import person_features

GIVEN = ["Anna", "Peter", "Maria", "Lukas", "Sophie", "Jonas", "Emma", "Felix", "Clara", "Paul", "Nora", "Ben"]
SURNAMES = ["Berg", "Holm", "Weber", "Fischer", "Lange", "Brandt", "Kraus", "Vogel", "Roth", "Sauer", "Adler"]
STREETS = ["Elm Street", "High Road", "Mill Lane", "Park Avenue", "Kings Way", "Church Street", "Oak Row"]


def _one_per_address(n: int, seed: int = 5) -> list[PersonCandidate]:
    """A registry: every person at an address of their own."""
    rng = random.Random(seed)
    return [
        PersonCandidate(
            id=f"r{i:05d}",
            given=rng.choice(GIVEN),
            surname=rng.choice(SURNAMES) + str(i),
            birth_date=f"19{rng.randrange(40, 99)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            addresses=(f"{i + 1} {STREETS[i % len(STREETS)]}",),
            postcode=str(10000 + i % 90),
        )
        for i in range(n)
    ]


def _with_couples(people: list[PersonCandidate]) -> list[PersonCandidate]:
    """The same registry where every tenth person lives with a partner of the same surname."""
    partners = [
        replace(p, id=f"h{p.id}", given="Zoe" if p.given != "Zoe" else "Max", birth_date="1950-01-01")
        for p in people[::10]
    ]
    return [*people, *partners]


def test_a_registry_with_one_person_per_address_holds_no_households() -> None:
    check = household_check(person_features(p) for p in _one_per_address(MIN_ADDRESSED + 100))
    assert check.addressed == MIN_ADDRESSED + 100
    assert check.shared == 0 and not check.households
    assert "guard relaxed" in check.describe()


def test_couples_at_one_address_are_households() -> None:
    check = household_check(person_features(p) for p in _with_couples(_one_per_address(MIN_ADDRESSED + 100)))
    assert check.shared >= 50 and check.households
    assert "keeps the location guard" in check.describe()


def test_a_small_store_is_too_little_evidence_to_relax_the_guard() -> None:
    check = household_check(person_features(p) for p in _one_per_address(MIN_ADDRESSED - 1))
    assert check.shared == 0 and check.households


def test_an_office_building_counts_as_households_without_comparing_every_pair() -> None:
    office = [
        PersonCandidate(f"o{i}", given=GIVEN[i % len(GIVEN)], surname=f"Worker{i}", addresses=("1 Tower Plaza",))
        for i in range(200)
    ]
    check = household_check(person_features(p) for p in [*_one_per_address(MIN_ADDRESSED), *office])
    assert check.households and check.shared >= 200


def test_an_unmerged_copy_with_the_same_name_is_not_a_household() -> None:
    people = _one_per_address(MIN_ADDRESSED + 10)
    copies = [replace(p, id=f"c{p.id}", addresses=(p.addresses[0].upper(),)) for p in people[:20]]
    assert not household_check(person_features(p) for p in [*people, *copies]).households


def _trusting() -> Calibration:
    """A calibration whose prior alone says "merge": what the guard decides is all that is left."""
    return Calibration(prior=30.0, weights={})


def test_without_households_the_guard_lets_a_replaced_given_name_merge() -> None:
    home = {"addresses": ("12 Elm Street",), "postcode": "10115", "city": "Berlin"}
    anna = PersonCandidate("a", given="Anna", surname="Berg", birth_date="1970-01-02", **home)  # type: ignore[arg-type]
    copy = PersonCandidate("b", given="Petra", surname="Berg", birth_date="1907-12-30", **home)  # type: ignore[arg-type]
    expert = score_people(anna, copy)
    guarded = _trusting().rescore(expert)
    assert guarded.decision == "review" and any(e.kind == "guard" for e in guarded.evidence)
    relaxed = replace(_trusting(), households=False).rescore(expert)
    assert relaxed.decision == "merge"


def test_two_employers_stay_apart_even_without_households() -> None:
    a = PersonCandidate("a", given="John", surname="Smith", org_name="Acme Corp", addresses=("1 Elm Street",))
    b = PersonCandidate("b", given="John", surname="Smith", org_name="Globex Bank", addresses=("1 Elm Street",))
    score = replace(_trusting(), households=False).rescore(score_people(a, b))
    assert score.decision == "review"


def test_households_survive_the_round_trip_as_plain_data() -> None:
    cal = replace(_trusting(), households=False)
    assert Calibration.from_dict(cal.to_dict()).households is False
    assert Calibration.from_dict({"prior": 0.0}).households is True  # an older file keeps the guard


def _family_batch(store: list[PersonCandidate]) -> list[PersonCandidate]:
    """Partners moving in: same surname and address, another given name and birth date."""
    return [replace(p, id=f"n{p.id}", given="Ida", birth_date="1951-02-03") for p in store[:30]]


def test_a_calibrated_match_against_a_store_with_households_never_merges_a_partner() -> None:
    store = _with_couples(_one_per_address(MIN_ADDRESSED + 100))
    index = build_person_index(store)
    check = index.household_check()
    assert check is not None and check.households
    pairs = match_new(_family_batch(store), index, within_batch=False, calibration=True)
    assert not [p for p in pairs if p.decision == "merge"]


def _copies(store: list[PersonCandidate], seed: int = 1) -> tuple[list[PersonCandidate], set[str]]:
    """Copies of 400 stored people; about one in seven with the given name and birth date replaced."""
    rng = random.Random(seed)
    batch, replaced = [], set()
    for p in store[:400]:
        if rng.random() < 0.85:
            batch.append(replace(p, id=f"n{p.id}"))
        else:
            batch.append(replace(p, id=f"n{p.id}", given="Zelda", birth_date="1901-01-01"))
            replaced.add(f"n{p.id}")
    return batch, replaced


def test_a_calibrated_match_merges_replaced_names_only_where_the_store_shows_no_households() -> None:
    store = _one_per_address(1200)
    batch, replaced = _copies(store)
    registry = match_new(batch, build_person_index(store), within_batch=False, calibration=True)
    merged = {(p.a, p.b) for p in registry if p.decision == "merge"}
    assert merged == {(x.id, x.id[1:]) for x in batch}  # every copy, and nothing else
    # The same copies against the same people living with partners: a replaced name may be a relative.
    families = match_new(batch, build_person_index(_with_couples(store)), within_batch=False, calibration=True)
    merged_families = {p.a for p in families if p.decision == "merge"}
    assert replaced and not merged_families & replaced
    assert merged_families == {x.id for x in batch} - replaced
