"""Calibration: EM-fitted weights keep the expert model's protections, and round-trip as plain data."""

from __future__ import annotations

import random

from mapping.identity import (
    Calibration,
    OrgCandidate,
    PersonCandidate,
    calibrate_scores,
    find_person_duplicates,
    fit_calibration,
    full_pass_background,
    score_orgs,
    score_people,
)
from mapping.identity.people import compare_person_features, person_features
from mapping.identity.resolve import background_sample

STREETS = ["Elm Street", "High Road", "Mill Lane", "Park Avenue", "Kings Way", "Church Street"]
GIVEN = ["Anna", "Peter", "Maria", "Lukas", "Sophie", "Jonas", "Emma", "Felix", "Clara", "Paul"]
SURNAMES = ["Berg", "Holm", "Weber", "Fischer", "Lange", "Brandt", "Kraus", "Vogel", "Roth", "Sauer"]


def _typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _registry(n: int = 400, seed: int = 3) -> tuple[list[PersonCandidate], set[tuple[str, str]]]:
    """People with addresses and birth dates, a quarter duplicated with a typo or a replaced field."""
    rng = random.Random(seed)
    people: list[PersonCandidate] = []
    truth: set[tuple[str, str]] = set()
    for i in range(n):
        p = PersonCandidate(
            id=f"p{i:04d}",
            given=rng.choice(GIVEN),
            surname=rng.choice(SURNAMES) + rng.choice(["", "er", "mann", "s"]),
            birth_date=f"19{rng.randrange(40, 99)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            addresses=(f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",),
            postcode=str(rng.randrange(10000, 10100)),
        )
        people.append(p)
        if i % 4 == 0:
            given = _typo(p.given or "", rng) if rng.random() < 0.5 else p.given
            surname = (p.surname or "") if rng.random() < 0.7 else rng.choice(SURNAMES)
            dup = PersonCandidate(
                id=f"d{i:04d}",
                given=given,
                surname=surname,
                birth_date=p.birth_date,
                addresses=p.addresses,
                postcode=p.postcode,
            )
            people.append(dup)
            truth.add((p.id, dup.id) if p.id < dup.id else (dup.id, p.id))
    return people, truth


def test_fitted_weights_keep_the_sign_of_the_expert_weights() -> None:
    people, _ = _registry()
    scored = find_person_duplicates(people, keep_apart=True)
    cal = fit_calibration(p.score for p in scored)
    assert cal.pairs == len(scored) and 0 < cal.match_share < 1
    for (_, level), weight in cal.weights.items():
        expert = sum(level)
        if expert > 0:
            assert weight >= 0
        elif expert < 0:
            assert weight <= 0


def test_calibration_finds_duplicates_the_expert_weights_leave_to_review() -> None:
    people, truth = _registry()
    expert = {(p.a, p.b) for p in find_person_duplicates(people) if p.decision == "merge"}
    fitted = {(p.a, p.b) for p in find_person_duplicates(people, calibration=True) if p.decision == "merge"}
    assert len(fitted & truth) >= len(expert & truth)
    assert len(fitted - truth) <= max(1, len(fitted) // 50)


def test_a_calibration_round_trips_as_plain_data() -> None:
    people, _ = _registry(120)
    scored = find_person_duplicates(people, keep_apart=True)
    cal = fit_calibration(p.score for p in scored)
    again = Calibration.from_dict(cal.to_dict())
    assert again.weights == cal.weights and again.prior == cal.prior and again.guard
    for p in scored[:50]:
        assert again.rescore(p.score).score == cal.rescore(p.score).score
    assert "fitted" in cal.describe()


def _overconfident_about_places() -> Calibration:
    """A calibration that trusts a shared address, postcode and city far too much."""
    return Calibration(
        prior=0.0,
        weights={("address", (4.0,)): 15.0, ("postcode", (1.5,)): 8.0, ("city", (0.5,)): 8.0},
    )


def test_a_family_at_one_address_is_never_merged_on_the_address() -> None:
    cal = _overconfident_about_places()
    home = {"addresses": ("12 Elm Street",), "postcode": "10115", "city": "Berlin"}
    anna = PersonCandidate("a", given="Anna", surname="Berg", **home)  # type: ignore[arg-type]
    peter = PersonCandidate("b", given="Peter", surname="Berg", **home)  # type: ignore[arg-type]
    junk = PersonCandidate("c", display_name="???", **home)  # type: ignore[arg-type]
    for other in (peter, junk):
        score = cal.rescore(score_people(anna, other))
        assert score.decision != "merge"
        assert any(e.kind == "guard" for e in score.evidence)
    # A shared identifier is still enough.
    anna2 = PersonCandidate("d", given="Anna", surname="Berg", emails=("anna@berg.de",), **home)  # type: ignore[arg-type]
    anna3 = PersonCandidate("e", given="A.", surname="Berg", emails=("anna@berg.de",), **home)  # type: ignore[arg-type]
    assert cal.rescore(score_people(anna2, anna3)).decision == "merge"


def test_two_firms_in_one_building_stay_apart() -> None:
    cal = Calibration(prior=0.0, weights={("address", (3.0,)): 15.0})
    a = OrgCandidate("1", "Acme Corp", addresses=("10 Main Street",))
    b = OrgCandidate("2", "Globex Ltd", addresses=("10 Main St.",))
    assert cal.rescore(score_orgs(a, b)).decision != "merge"


def test_different_john_smiths_at_different_companies_stay_apart_after_calibration() -> None:
    people, _ = _registry(200)
    smiths = [
        PersonCandidate("js1", "John Smith", emails=("john.smith@acme.com",), org_name="Acme Corp"),
        PersonCandidate("js2", "John Smith", emails=("john.smith@acmebank.com",), org_name="Acme Bank"),
    ]
    pairs = find_person_duplicates([*people, *smiths], calibration=True)
    assert not any({p.a, p.b} == {"js1", "js2"} and p.decision == "merge" for p in pairs)


def test_calibrate_scores_drops_apart_pairs_unless_asked() -> None:
    people, _ = _registry(120)
    scores = [p.score for p in find_person_duplicates(people, keep_apart=True)]
    _, kept = calibrate_scores(scores)
    _, every = calibrate_scores(scores, keep_apart=True)
    assert all(s is not None for s in every)
    assert all(s is None or s.decision != "apart" for s in kept)
    assert sum(s is not None for s in kept) <= len(every)


def test_restaurant_names_with_extra_words_match_on_phone_and_address() -> None:
    a = OrgCandidate("f", "Virgil's", phones=("212/ 921-9494",), addresses=("152 W. 44th St.",), city="New York")
    b = OrgCandidate(
        "z", "Virgil's Real BBQ", phones=("212-921-9494",), addresses=("152 West 44th Street",), city="New York City"
    )
    assert score_orgs(a, b).decision == "merge"
    # The name alone, with words added, is not enough.
    assert score_orgs(OrgCandidate("1", "Virgil's"), OrgCandidate("2", "Virgil's Real BBQ")).decision == "apart"


def _fits(n: int = 400) -> tuple[Calibration, Calibration, int]:
    """The same registry fitted on its candidate pairs alone and over every pair (with a background
    sample of the pairs blocking left out); and how many true pairs it holds."""
    people, truth = _registry(n)
    feats = [person_features(p) for p in people]
    position = {p.id: i for i, p in enumerate(people)}
    scored = find_person_duplicates(people, keep_apart=True)
    candidates = {(min(position[p.a], position[p.b]), max(position[p.a], position[p.b])) for p in scored}
    outside = len(people) * (len(people) - 1) // 2 - len(candidates)
    background = background_sample(compare_person_features, feats, feats, candidates, outside, same_list=True)
    assert background.pairs == outside and len(background.scores) == min(outside, 20_000)
    alone = fit_calibration(p.score for p in scored)
    every = fit_calibration((p.score for p in scored), background=background)
    return alone, every, len(truth)


def test_a_fit_over_every_pair_weighs_a_shared_name_as_rare_as_it_is() -> None:
    alone, every, _ = _fits()
    # Blocking picks candidates that share a surname, so among candidate non-matches it is common; among
    # all pairs it is rare, and the fit over every pair says so.
    same_surname = ("surname", (4.0,))
    assert every.weights[same_surname] > alone.weights[same_surname] + 1.0
    assert every.prior < alone.prior - 3.0  # the prior of a match among all pairs, not among candidates
    for (_, level), weight in every.weights.items():  # the expert signs still hold
        assert (weight >= 0) if sum(level) > 0 else (weight <= 0) if sum(level) < 0 else True


def test_the_background_sample_leaves_out_the_candidates_and_is_the_same_every_time() -> None:
    people, _ = _registry(60)
    feats = [person_features(p) for p in people]
    candidates = {(i, i + 1) for i in range(len(feats) - 1)}
    total = len(feats) * (len(feats) - 1) // 2

    def sample() -> list[float]:
        bg = background_sample(compare_person_features, feats, feats, candidates, total - len(candidates), size=500,
                               same_list=True)  # fmt: skip
        return [s.score for s in bg.scores]

    first = sample()
    assert len(first) == 500 and first == sample()
    whole = background_sample(compare_person_features, feats, feats, set(), 5, size=500, same_list=True)
    assert len(whole.scores) == 5  # never more pairs than there are


def test_restaurants_on_one_hotel_switchboard_are_not_merged_on_the_phone_when_the_names_say_two() -> None:
    cal = Calibration(prior=0.0, weights={("phone", (6.0,)): 15.0, ("address", (3.0,)): 10.0})
    hotel = {"phones": ("702/385-7111",), "addresses": ("129 E. Fremont St.",), "city": "Las Vegas"}
    nugget = OrgCandidate("f", "Golden Nugget Hotel", **hotel)  # type: ignore[arg-type]
    stefanos = OrgCandidate("z", "Stefano's", **hotel)  # type: ignore[arg-type]
    score = cal.rescore(score_orgs(nugget, stefanos))
    assert score.decision == "review" and any(e.kind == "guard" for e in score.evidence)
    # A name with words added on one side is not two names: the phone is enough.
    virgils = OrgCandidate("a", "Virgil's", phones=("212/ 921-9494",))
    bbq = OrgCandidate("b", "Virgil's Real BBQ", phones=("212-921-9494",))
    assert cal.rescore(score_orgs(virgils, bbq)).decision == "merge"


def test_a_calibration_fitted_from_a_full_pass_and_its_background_decides_as_the_pass_itself() -> None:
    people, _ = _registry(200)
    every = find_person_duplicates(people, keep_apart=True)
    cal = fit_calibration((p.score for p in every), background=full_pass_background(people, every))
    by_hand = {(p.a, p.b) for p in every if cal.rescore(p.score).decision == "merge"}
    in_pass = {(p.a, p.b) for p in find_person_duplicates(people, calibration=True) if p.decision == "merge"}
    assert by_hand == in_pass and by_hand
