"""Where a person lives: postcode, street address and town compared, with the typos typing brings.

Each function takes two folded strings (see :func:`mapping.identity.text.fold`) and returns the
:class:`~mapping.identity.model.Evidence` of the comparison, or ``None`` when a side is empty. Levels
between "same" and "different" exist so that a calibration (:mod:`mapping.identity.calibrate`) can learn
what they are worth on the data at hand: a postcode with two digits swapped ("3198" / "3189") or a town
with one letter wrong ("wesltake" / "westlake") is a slip far more often than another place, in a
registry typed by hand; in a CRM it may be the neighbouring district. Their expert weights are small and
distinct (a calibration tells levels apart by their expert weight).

Location is not identity: a household or an office building shares all of it, which is why a
calibrated merge needs more than location (the guard in :mod:`mapping.identity.calibrate`).
"""

from __future__ import annotations

import functools

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

from mapping.identity.model import Evidence

W_POSTCODE_SAME = 1.5
W_POSTCODE_TYPO = 0.25  # one digit wrong or two neighbours swapped: close, probably a slip
W_POSTCODE_DIFFER = -0.5
W_ADDRESS_EXACT = 4.0  # the same street address with its house number
W_ADDRESS_SAME = 2.0
W_ADDRESS_CLOSE = 0.5
W_ADDRESS_NEIGHBOUR = -0.25  # the same street, another house number: a neighbour, or a move down the road
W_ADDRESS_DIFFER = -1.0
W_ADDRESS_PARTLY = 0.0  # between similar and different: no evidence by default (a level for calibration)
W_CITY_SAME = 0.5
W_CITY_TYPO = 0.25  # one town name with a typo ("wallsgend" / "wallsend"); a level for calibration
W_CITY_DIFFER = 0.0  # towns are misspelt and people move: no evidence by default (a level for calibration)


def one_slip(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one substituted character or two neighbouring characters swapped
    (the slips of typing a code: "3149" / "3194", "2584" / "2484"); equal strings are not a slip."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    i, j = diff[0], diff[-1]
    return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]


def compare_postcode(a: str, b: str) -> Evidence | None:
    """The same postcode, one slip apart (:func:`one_slip`), or different."""
    if not a or not b:
        return None
    if a == b:
        return Evidence("postcode", "same postcode", W_POSTCODE_SAME)
    if one_slip(a, b):
        lo, hi = sorted((a, b))
        return Evidence("postcode", f"postcodes {lo} / {hi} differ by a slip", W_POSTCODE_TYPO)
    return Evidence("postcode", "different postcodes", W_POSTCODE_DIFFER)


@functools.lru_cache(maxsize=65536)  # towns repeat across a pass
def compare_city(a: str, b: str) -> Evidence | None:
    """The same town (spaces aside: "keilor east" / "keilorzeast" is not, "keilor east" / "keiloreast" is),
    one with a typo (Jaro-Winkler 0.9 or more, or one edit in a name of five letters or more), or
    different."""
    if not a or not b:
        return None
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return Evidence("city", "same city", W_CITY_SAME)
    lo, hi = sorted((a, b))
    if min(len(a), len(b)) >= 5 and (JaroWinkler.similarity(a, b) >= 0.9 or Levenshtein.distance(a, b) <= 1):
        return Evidence("city", f"towns {lo!r} / {hi!r} differ by a typo", W_CITY_TYPO)
    return Evidence("city", "different cities", W_CITY_DIFFER)


def address_similarity(a: str, b: str) -> float:
    """How alike two street addresses are, 0..1: the better of the word-order-free comparison (lines
    given in another order) and the comparison with the spaces taken out (a space typed in the wrong
    place: "28 dinnisonc ircuit" / "28 dinnison circuit")."""
    if not a or not b:
        return 0.0
    joined = fuzz.ratio(a.replace(" ", ""), b.replace(" ", ""))
    return max(fuzz.token_sort_ratio(a, b), joined) / 100.0


def _house_number(address: str) -> str:
    first = address.split(" ", 1)[0]
    return first if any(ch.isdigit() for ch in first) else ""


def house_numbers_differ(a: str, b: str) -> bool:
    """Both addresses start with a house number, and the numbers differ by more than a slip (one digit
    wrong, two swapped, or one cut short: "15" / "51", "1" / "17" are slips, "21" / "123" is not)."""
    x, y = _house_number(a), _house_number(b)
    if not x or not y or x == y or one_slip(x, y):
        return False
    return not (x.startswith(y) or y.startswith(x))


def compare_address(a: str, b: str) -> Evidence | None:
    """The same street address with its house number, the same address, similar, partly similar, or
    different (by :func:`address_similarity`); an alike address with another house number is the same
    street, not the same address."""
    if not a or not b:
        return None
    sim = address_similarity(a, b)
    if sim >= 0.7 and house_numbers_differ(a, b):
        return Evidence("address", f"same street, different house numbers ({sim:.2f})", W_ADDRESS_NEIGHBOUR)
    if sim >= 0.95 and min(len(a), len(b)) >= 10 and any(ch.isdigit() for ch in a) and any(ch.isdigit() for ch in b):
        return Evidence("address", f"same street address ({sim:.2f})", W_ADDRESS_EXACT)
    if sim >= 0.9:
        return Evidence("address", f"same address ({sim:.2f})", W_ADDRESS_SAME)
    if sim >= 0.7:
        return Evidence("address", f"similar address ({sim:.2f})", W_ADDRESS_CLOSE)
    if sim < 0.5:
        return Evidence("address", f"different addresses ({sim:.2f})", W_ADDRESS_DIFFER)
    return Evidence("address", f"partly similar addresses ({sim:.2f})", W_ADDRESS_PARTLY)
