"""Postcode, town and street address compared with the slips typing brings, and blocking on them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mapping.identity import PersonCandidate
from mapping.identity.people import person_block_keys, person_features
from mapping.identity.places import (
    W_ADDRESS_NEIGHBOUR,
    W_CITY_DIFFER,
    W_CITY_SAME,
    W_CITY_TYPO,
    W_POSTCODE_DIFFER,
    W_POSTCODE_SAME,
    W_POSTCODE_TYPO,
    address_similarity,
    compare_address,
    compare_city,
    compare_postcode,
    house_numbers_differ,
    one_slip,
)


def _weight(e: object) -> float | None:
    return getattr(e, "weight", None)


def test_a_postcode_with_one_digit_wrong_or_two_neighbours_swapped_is_a_slip() -> None:
    assert _weight(compare_postcode("3149", "3149")) == W_POSTCODE_SAME
    assert _weight(compare_postcode("3198", "3189")) == W_POSTCODE_TYPO  # swapped
    assert _weight(compare_postcode("2584", "2484")) == W_POSTCODE_TYPO  # one digit
    assert _weight(compare_postcode("3149", "4913")) == W_POSTCODE_DIFFER
    assert _weight(compare_postcode("3149", "31490")) == W_POSTCODE_DIFFER  # another length is another code
    assert compare_postcode("", "3149") is None
    # The slip level sits between same and different, and is its own level for a calibration.
    assert W_POSTCODE_DIFFER < W_POSTCODE_TYPO < W_POSTCODE_SAME


def test_a_town_with_a_typo_is_its_own_level_and_spaces_do_not_count() -> None:
    assert _weight(compare_city("newcastle", "newcastle")) == W_CITY_SAME
    assert _weight(compare_city("keilor east", "keiloreast")) == W_CITY_SAME
    assert _weight(compare_city("wallsend", "wallsgend")) == W_CITY_TYPO
    assert _weight(compare_city("newcastle", "newcatsle")) == W_CITY_TYPO
    assert _weight(compare_city("ryde", "rydd")) == W_CITY_DIFFER  # too short to call it a typo
    assert _weight(compare_city("como", "bourke")) == W_CITY_DIFFER
    assert W_CITY_DIFFER < W_CITY_TYPO < W_CITY_SAME


def test_a_space_typed_in_the_wrong_place_does_not_make_another_address() -> None:
    assert address_similarity("28 dinnisonc ircuit", "28 dinnison circuit") == 1.0
    assert address_similarity("3 anukana mclachlan street", "3 mclachlan street anukana") == 1.0  # lines swapped
    evidence = compare_address("17 kitsonplace glenfern park", "17 kitson place glenfern park")
    assert evidence is not None and evidence.detail.startswith("same street address")


def test_the_same_street_with_another_house_number_is_a_neighbour_not_the_same_address() -> None:
    assert house_numbers_differ("21 la perouse street", "123 la perouse street")
    assert not house_numbers_differ("51 hensman street", "15 hensman street")  # swapped digits: a slip
    assert not house_numbers_differ("1 storey street", "17 storey street")  # cut short
    assert not house_numbers_differ("hensman street", "15 hensman street")  # one has no number
    evidence = compare_address("21 la perouse street fairholme", "123 la perouse street brentwood")
    assert evidence is not None and evidence.weight == W_ADDRESS_NEIGHBOUR


@given(st.text(alphabet="0123456789ab ", max_size=8), st.text(alphabet="0123456789ab ", max_size=8))
def test_place_comparisons_are_symmetric(a: str, b: str) -> None:
    assert one_slip(a, b) == one_slip(b, a)
    for compare in (compare_postcode, compare_city, compare_address):
        assert _weight(compare(a, b)) == _weight(compare(b, a))
    assert address_similarity(a, b) == address_similarity(b, a)


def test_records_with_nothing_in_common_but_birth_date_or_house_and_postcode_meet_in_blocking() -> None:
    stored = PersonCandidate("s", given="Holly", surname="Webb", birth_date="1979-05-26",
                             addresses=("40 kirkland circuit",), postcode="3149")  # fmt: skip
    typed = PersonCandidate("t", given="Haklra", surname="Hokly", birth_date="1972-12-09",
                            addresses=("40 kirklandc ircuit",), postcode="3149")  # fmt: skip
    twin = PersonCandidate("u", given="Tara", surname="Radulescu", birth_date="1996-07-01")
    other = PersonCandidate("v", given="Lachan", birth_date="1996-07-01")
    keys = person_block_keys(person_features(stored))
    assert {"a:40|3149", "a:40|kirkla", "b:19790526"} <= keys
    assert keys & person_block_keys(person_features(typed))
    assert person_block_keys(person_features(twin)) & person_block_keys(person_features(other))
