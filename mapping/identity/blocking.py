"""Blocking: which pairs are worth scoring at all, so a pass over n records costs about n, not n².

Every record yields a few keys (an e-mail address, a phone, "surname + initial", a rare name word,
an acronym, ...). Only records that share a key are compared. A key that many records share (a
switchboard number, the word "Services", the surname Smith with initial J in a big store) would bring
back the quadratic cost and says little, so blocks larger than ``max_block`` are skipped: the pair can
still meet through a rarer key ("rare-token blocking").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

#: Blocks larger than this are skipped. Keys of the strong kinds below may be larger, single words smaller.
MAX_BLOCK = 40
#: Prefixes of keys that identify a record almost alone (e-mail, phone, domain): allowed larger blocks.
STRONG_PREFIXES = ("e:", "p:", "d:")
STRONG_FACTOR = 4
#: Prefixes of keys made of one word or a part of one (an organisation-name word, its prefix or suffix):
#: only rare ones are worth a comparison; typos in common words are left to the sorted neighbourhood.
WEAK_PREFIXES = ("t:", "f:", "g:", "h:", "n:")
WEAK_DIVISOR = 5
#: Records compared with their neighbours when sorted by name (each side), whatever the blocks say.
WINDOW = 3


def block_limit(key: str, max_block: int) -> int:
    """The largest block the key may form."""
    if key.startswith(STRONG_PREFIXES):
        return max_block * STRONG_FACTOR
    if key.startswith(WEAK_PREFIXES):
        return max(2, max_block // WEAK_DIVISOR)
    return max_block


def build_blocks(keys_per_record: Iterable[Iterable[str]]) -> dict[str, list[int]]:
    """Key -> indices of the records that have it, in record order."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(keys_per_record):
        for key in keys:
            blocks[key].append(i)
    return dict(blocks)


def candidate_pairs(
    blocks: dict[str, list[int]], max_block: int = MAX_BLOCK, extra: Iterable[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """Every pair ``(i, j)``, ``i < j``, that shares a key whose block is small enough, plus ``extra``
    pairs (already ordered); each pair once."""
    seen: set[tuple[int, int]] = set(extra)
    for key, members in blocks.items():
        n = len(members)
        if n < 2 or n > block_limit(key, max_block):
            continue
        for x in range(n - 1):
            i = members[x]
            for y in range(x + 1, n):
                seen.add((i, members[y]))
    return sorted(seen)


def neighbourhood_pairs(sort_keys: Sequence[str], window: int = WINDOW) -> set[tuple[int, int]]:
    """Pairs of records within ``window`` places of each other when sorted by ``sort_keys`` (empty keys
    are left out): the sorted-neighbourhood method, which catches typos late in a name at linear cost."""
    order = sorted((k, i) for i, k in enumerate(sort_keys) if k)
    out: set[tuple[int, int]] = set()
    for x in range(len(order)):
        i = order[x][1]
        for y in range(x + 1, min(x + 1 + window, len(order))):
            j = order[y][1]
            out.add((i, j) if i < j else (j, i))
    return out


def lookup(blocks: dict[str, list[int]], keys: Sequence[str] | set[str], max_block: int = MAX_BLOCK) -> set[int]:
    """Indices of the indexed records that share a usable key with a new record's ``keys``."""
    found: set[int] = set()
    for key in keys:
        members = blocks.get(key)
        if members and len(members) <= block_limit(key, max_block):
            found.update(members)
    return found
