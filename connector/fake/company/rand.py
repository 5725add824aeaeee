"""Deterministic randomness and small helpers: stable hashes, seeded generators, fast picks, ids.

Python's ``hash()`` of ``str`` is salted per process and never used; every choice comes from a
``random.Random`` seeded with a BLAKE2b hash of its parts.
"""

from __future__ import annotations

import base64
import hashlib
import random
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")

# --------------------------------------------------------------------------------------------------
# Hashing and small helpers
# --------------------------------------------------------------------------------------------------


def stable_hash(*parts: object) -> int:
    """A stable 64-bit hash of the parts (BLAKE2b; unlike ``hash()`` not salted per process)."""
    key = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def seeded_rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded with the stable hash of the parts."""
    return random.Random(stable_hash(*parts))


_FOLD: Final = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def ascii_local(text: str) -> str:
    """Lower-case ASCII local-part material from a name ("Jürgen Groß" -> "juergen.gross")."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode()
    out = []
    for ch in folded.lower():
        if ch.isalnum():
            out.append(ch)
        elif ch in " -.'":
            out.append("." if ch == " " else ("-" if ch == "-" else ""))
    return "".join(out).strip(".-")


def slug(text: str) -> str:
    """A name as a DNS label (``ascii_local`` with dashes)."""
    return ascii_local(text).replace(".", "-")


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    """``rng.choice`` at a fraction of the cost (one ``random()``), equally stable across versions."""
    return seq[int(rng.random() * len(seq))]


def between(rng: random.Random, lo: int, hi: int | None = None) -> int:
    """``rng.randrange(lo, hi)`` (or ``randrange(lo)``) via one ``random()``; hot paths call it a lot."""
    if hi is None:
        lo, hi = 0, lo
    return lo + int(rng.random() * (hi - lo))


def weighted_choice(rng: random.Random, items: Sequence[tuple[Any, int]]) -> Any:
    """One item of ``(item, weight)`` pairs, chosen in proportion to the weights."""
    total = sum(w for _, w in items)
    x = between(rng, total)
    for item, w in items:
        if x < w:
            return item
        x -= w
    raise AssertionError("unreachable")


@cache
def zone_info(name: str) -> ZoneInfo:
    """A cached ``ZoneInfo``."""
    return ZoneInfo(name)


@cache
def name_pools(locale: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(given names, surnames) straight from Faker's provider tables (fast, and pinned with Faker)."""
    import importlib

    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    if locale == "ja_JP":
        first = tuple(provider.first_romanized_names)
        last = tuple(provider.last_romanized_names)
    else:
        first = tuple(dict.fromkeys([*provider.first_names_female, *provider.first_names_male]))
        last = tuple(dict.fromkeys(provider.last_names))
    return first, last


def conversation_id(*parts: object) -> str:
    """A stable EWS-looking ConversationId for the parts."""
    # EWS ConversationIds are opaque base64; this one has the usual "AAQk" look and is stable.
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=24).digest()
    return base64.b64encode(b"\x00\x04\x24\x00" + digest).decode()


def meeting_uid(*parts: object) -> str:
    """A stable meeting UID for the parts."""
    # The shape Outlook gives meeting UIDs (a hex GlobalObjectId).
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest().upper()
    return "040000008200E00074C5B7101A82E00800000000" + digest
