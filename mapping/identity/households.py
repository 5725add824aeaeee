"""Does a store hold households? Whether two people at one address can be two people in this data.

The location guard of a calibrated merge (:mod:`mapping.identity.calibrate`) exists because a CRM holds
families and colleagues: records that share a street address, often a surname, and are still different
people. Some data sets hold none: a registry or a customer list where every address belongs to one
person. There a record that shares its street address with a stored one, with a different given name
and birth date, is a corrupted copy, not a relative, and the guard only loses true matches (78 of
FEBRL 4's 5,000 links).

:func:`household_check` asks the store itself. Among the store's people that have a street address,
it counts pairs at the same address (house number and street, same postcode when both have one) whose
names say two people (a given name or surname that differs outright). A store is taken to hold no
households only when it has at least :data:`MIN_ADDRESSED` addressed people and fewer than one such
pair per :data:`HOUSEHOLD_RATE_DIVISOR` of them; any store with families, flat-shares or office
addresses keeps the guard. A store with duplicates still unmerged errs the safe way: a copy with a
replaced given name counts as a household.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from mapping.identity.people import PersonFeatures, compare_names

#: Fewer addressed people than this: too little data to say the store holds no households.
MIN_ADDRESSED = 500
#: At most one two-people-at-one-address pair per this many addressed people counts as "none".
HOUSEHOLD_RATE_DIVISOR = 1000
#: An address group this large is an office building or a care home: households, without comparing.
MAX_GROUP = 40
SAME_ADDRESS = 90  # token-sort similarity (0..100) of two address lines taken as one address


@dataclass(frozen=True, slots=True)
class HouseholdCheck:
    """What :func:`household_check` saw: ``addressed`` people, ``shared`` pairs of two people at one address."""

    addressed: int
    shared: int

    @property
    def households(self) -> bool:
        """True unless the store shows, on enough data, that one address is one person."""
        return self.addressed < MIN_ADDRESSED or self.shared * HOUSEHOLD_RATE_DIVISOR > self.addressed

    def describe(self) -> str:
        """One sentence for an admin."""
        verdict = "keeps the location guard" if self.households else "one address is one person: guard relaxed"
        people = f"{self.addressed} people with a street address"
        return f"{self.shared} pairs of different people at one address among {people} ({verdict})"


def _address_key(f: PersonFeatures) -> str | None:
    words = f.address.split()
    if len(words) < 2 or not any(ch.isdigit() for ch in words[0]):
        return None
    return f"{words[0]}|{words[1]}"


def household_check(people: Iterable[PersonFeatures]) -> HouseholdCheck:
    """Count the store's pairs of different people at one street address (bounded work per group)."""
    groups: dict[str, list[PersonFeatures]] = defaultdict(list)
    addressed = 0
    for f in people:
        key = _address_key(f)
        if key is None:
            continue
        addressed += 1
        groups[key].append(f)
    shared = 0
    for members in groups.values():
        n = len(members)
        if n < 2:
            continue
        if n > MAX_GROUP:
            shared += n  # an office building: many people, one address
            continue
        for x in range(n - 1):
            a = members[x]
            for b in members[x + 1 :]:
                if a.postcode and b.postcode and a.postcode != b.postcode:
                    continue
                if fuzz.token_sort_ratio(a.address, b.address) < SAME_ADDRESS:
                    continue
                if any(e.weight < 0 and e.kind != "name_order" for e in compare_names(a, b)):
                    shared += 1
    return HouseholdCheck(addressed, shared)
