"""Organisation matching: names (legal forms, acronyms, typos), domains, phones and addresses.

Evidence and its weights (log-odds, see :mod:`mapping.identity.scoring`), on a prior of
:data:`ORG_PRIOR`:

- a shared registrable domain (not free mail): strong, it links even "Alphabet" and "Google";
  disjoint domains on both sides: weakly against (organisations own several domains);
- names equal after normalisation: strong; one name the acronym of the other ("IBM" and
  "International Business Machines, Inc."), or of the other's domain: moderate;
- names whose words match up to typos and abbreviations: moderate; a *distinctive* word on one side
  only ("Acme Corp" / "Acme Bank"): strongly against, a generic one ("Services") weakly;
- a shared phone number, a near-identical street address, the same or a different city.

Names that carry no information (empty, punctuation, only a legal form) contribute nothing, so such a
record can only be merged on other evidence.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from mapping.identity.model import DEFAULT_THRESHOLDS, Evidence, MatchScore, OrgCandidate, Thresholds
from mapping.identity.scoring import combine
from mapping.identity.text import (
    GENERIC_WORDS,
    MAX_TEXT,
    STOPWORDS,
    acronym,
    acronym_forms,
    collapse_umlauts,
    domain_stem,
    fold,
    org_acronyms,
    org_domains,
    org_tokens,
    phone_key,
)

ORG_PRIOR = -5.0

W_DOMAIN_SHARED = 9.0
W_DOMAINS_DISJOINT = -1.5
W_NAME_EXACT = 8.0
W_NAME_EXACT_SHORT = 5.5  # one short word ("IBM", "3M"): more often reused by unrelated firms
W_ACRONYM = 6.0
W_NAME_FUZZY_ALL = 6.5  # every word matches up to typos or abbreviation
W_TOKEN_MATCH = 2.0
W_TOKEN_DISTINCT_MISS = -4.0
W_TOKEN_GENERIC_MISS = -1.0
#: One name is the other with words added ("Virgil's" / "Virgil's Real BBQ", "Acme" / "Acme Bank"): against,
#: but less than two names that each have a word of their own; phone and address evidence decide.
W_TOKEN_EXTRA = -2.5
W_TOKEN_EXTRA_MORE = -3.5  # two or more distinctive words added
W_TOKEN_EXTRA_GENERIC = -0.5
W_DOMAIN_FITS_NAME = 2.0
W_PHONE_SHARED = 6.0  # a phone number is close to unique: two organisations rarely share one
W_PHONES_DIFFER = -1.0
W_ADDRESS_STREET = 3.0  # the same house number on the same street
W_ADDRESS_SAME = 2.5
W_ADDRESS_NUMBER_DIFFER = -1.5  # both have a house number, and they differ
W_ADDRESS_DIFFER = -1.0
W_CITY_DIFFER = -1.5  # only when no address agrees: "Hollywood" and "West Hollywood" are one street apart

#: Spellings of address words, folded onto one ("Road" and "Rd.", "Ninth" and "9th").
_ADDRESS_WORDS = {
    "street": "st", "str": "st", "road": "rd", "avenue": "ave", "av": "ave", "boulevard": "blvd",
    "drive": "dr", "lane": "ln", "place": "pl", "square": "sq", "court": "ct", "highway": "hwy",
    "parkway": "pkwy", "west": "w", "east": "e", "north": "n", "south": "s", "suite": "ste",
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "sixth": "6th",
    "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th", "strasse": "str", "straße": "str",
}  # fmt: skip

_FUZZY_TOKEN = 0.90  # Jaro-Winkler similarity at which two words count as one with a typo
MAX_WORD = 40  # a longer "word" is junk, not a name


@dataclass(frozen=True, slots=True)
class OrgFeatures:
    """What the scorer compares, computed once per candidate."""

    id: str
    names: tuple[tuple[str, ...], ...]  # token tuples of the name and aliases that carry information
    acronyms: tuple[frozenset[str], ...]  # per name: the acronyms it may go by (see ``org_acronyms``)
    display: str
    domains: frozenset[str]
    stems: frozenset[str]
    phones: frozenset[str]
    addresses: tuple[str, ...]
    city: str


def _informative(tokens: tuple[str, ...]) -> bool:
    words = [t for t in tokens if t not in STOPWORDS]
    return bool(words) and sum(len(t) for t in words) >= 2 and max(len(t) for t in words) <= MAX_WORD


def org_features(c: OrgCandidate) -> OrgFeatures:
    """The comparable features of one candidate (bounded work on any input)."""
    names: list[tuple[str, ...]] = []
    acronyms: list[frozenset[str]] = []
    for name in (c.name, *c.aliases[:8]):
        if len(name) > MAX_TEXT:
            continue  # not a name but junk (a pasted document): never evidence
        tokens = org_tokens(name)[:12]
        if _informative(tokens) and tokens not in names:
            names.append(tokens)
            acronyms.append(org_acronyms(name) if len(tokens) > 1 else frozenset())
    domains = org_domains((*c.domains, *((c.website,) if c.website else ())))
    addresses = tuple(a for a in (_address_form(fold(x[:MAX_TEXT])) for x in c.addresses[:4]) if a)
    return OrgFeatures(
        id=c.id,
        names=tuple(names),
        acronyms=tuple(acronyms),
        display=c.name[:80],
        domains=domains,
        stems=frozenset(s for s in (domain_stem(d) for d in domains) if len(s) >= 2),
        phones=frozenset(k for k in (phone_key(p) for p in c.phones[:8]) if k),
        addresses=addresses,
        city=fold(c.city or "")[:64],
    )


def _address_form(text: str) -> str:
    """A folded address with its common words spelt one way ("3130 Piedmont Road" -> "3130 piedmont rd")."""
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    return " ".join(_ADDRESS_WORDS.get(w, w) for w in words)


def _house_number(address: str) -> str:
    first = address.split(" ", 1)[0]
    return first if first[:1].isdigit() else ""


def _compare_addresses(a: tuple[str, ...], b: tuple[str, ...]) -> Evidence | None:
    best, street = 0.0, False
    numbers_differ = False
    for x in a:
        for y in b:
            best = max(best, fuzz.token_sort_ratio(x, y) / 100.0)
            nx, ny = _house_number(x), _house_number(y)
            if nx and ny:
                if nx == ny:
                    rest_x, rest_y = x[len(nx) :].split()[:3], y[len(ny) :].split()[:3]
                    if fuzz.token_set_ratio(" ".join(rest_x), " ".join(rest_y)) >= 80:
                        street = True
                else:
                    numbers_differ = True
    if street:
        return Evidence("address", "same house number on the same street", W_ADDRESS_STREET)
    if best >= 0.9:
        return Evidence("address", f"same address ({best:.2f})", W_ADDRESS_SAME)
    if numbers_differ:
        return Evidence("address", "different house numbers", W_ADDRESS_NUMBER_DIFFER)
    if best < 0.6:
        return Evidence("address", f"different addresses ({best:.2f})", W_ADDRESS_DIFFER)
    return None


def _token_match(x: str, y: str) -> bool:
    if x == y:
        return True
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    if len(short) >= 3 and long_.startswith(short) and short not in STOPWORDS:
        return True  # a shortened word: "tech" / "technologies", "intl" is not caught (not a prefix)
    return len(short) >= 4 and JaroWinkler.similarity(x, y) >= _FUZZY_TOKEN


@functools.lru_cache(maxsize=131072)  # a name meets several others in a pass
def _name_parts(tokens: tuple[str, ...]) -> tuple[str, str, str, tuple[str, ...]]:
    """A name's words joined, its umlaut-collapsed spelling, its acronym and its words that count."""
    return (
        "".join(tokens),
        collapse_umlauts(" ".join(tokens)),
        acronym(tokens),
        tuple(t for t in tokens if t not in STOPWORDS),
    )


def _compare_names(
    a: tuple[str, ...], b: tuple[str, ...], acr_a: frozenset[str] = frozenset(), acr_b: frozenset[str] = frozenset()
) -> list[Evidence]:
    """Evidence from one name of each side (both informative), with the acronyms each may go by."""
    if a == b:
        short = len(a) == 1 and len(a[0]) <= 3
        return [Evidence("name", f"same name {' '.join(a)!r}", W_NAME_EXACT_SHORT if short else W_NAME_EXACT)]
    joined_a, collapsed_a, acronym_a, words_a = _name_parts(a)
    joined_b, collapsed_b, acronym_b, words_b = _name_parts(b)
    if joined_a == joined_b or collapsed_a == collapsed_b:
        return [Evidence("name", f"same name apart from spelling {joined_a!r}", W_NAME_EXACT)]
    acr_a = acr_a | {acronym_a} - {""}
    acr_b = acr_b | {acronym_b} - {""}
    if (len(a) == 1 or len(joined_a) <= 5) and acronym_forms(joined_a) & acr_b:
        return [Evidence("acronym", f"{joined_a!r} is the acronym of {' '.join(b)!r}", W_ACRONYM)]
    if (len(b) == 1 or len(joined_b) <= 5) and acronym_forms(joined_b) & acr_a:
        return [Evidence("acronym", f"{joined_b!r} is the acronym of {' '.join(a)!r}", W_ACRONYM)]
    # _token_match is symmetric: each pair of words is compared once, for both sides.
    grid = [[_token_match(x, y) for y in words_b] for x in words_a]
    matched_a = [any(row) for row in grid]
    matched_b = [any(row[j] for row in grid) for j in range(len(words_b))]
    if all(matched_a) and all(matched_b):
        ratio = fuzz.ratio(" ".join(a), " ".join(b)) / 100.0
        return [Evidence("name", f"names match up to typos ({ratio:.2f})", W_NAME_FUZZY_ALL)]
    if not any(matched_a):
        ratio = fuzz.ratio(joined_a, joined_b) / 100.0
        if ratio >= 0.9 and min(len(joined_a), len(joined_b)) >= 6:
            return [Evidence("name", f"names match up to spacing and typos ({ratio:.2f})", W_NAME_FUZZY_ALL)]
        return [Evidence("name", "no word in common", W_TOKEN_DISTINCT_MISS)]
    evidence: list[Evidence] = []
    n_matched = sum(matched_a) + sum(matched_b)
    common = max(1, n_matched // 2)
    evidence.append(Evidence("name", f"{common} word(s) in common", min(2, common) * W_TOKEN_MATCH))
    missing = [x for x, m in zip(words_a, matched_a, strict=True) if not m]
    missing += [y for y, m in zip(words_b, matched_b, strict=True) if not m]
    # Short numbers ("2", "24") are often dropped or added; long ones ("1984") are distinctive.
    distinct = sorted(w for w in missing if (len(w) > 3 if w.isdigit() else w not in GENERIC_WORDS))
    generic = sorted(w for w in missing if w not in distinct)
    if all(matched_a) or all(matched_b):  # one name is the other with words added
        if distinct:
            weight = W_TOKEN_EXTRA if len(distinct) == 1 else W_TOKEN_EXTRA_MORE
            evidence.append(Evidence("name", f"word(s) added on one side: {', '.join(distinct)}", weight))
        if generic:
            evidence.append(
                Evidence("name", f"generic word(s) added on one side: {', '.join(generic)}", W_TOKEN_EXTRA_GENERIC)
            )
        return evidence
    if distinct:
        weight = W_TOKEN_DISTINCT_MISS * min(2, len(distinct))
        evidence.append(Evidence("name", f"distinctive word(s) on one side only: {', '.join(distinct)}", weight))
    if generic:
        weight = W_TOKEN_GENERIC_MISS * min(2, len(generic))
        evidence.append(Evidence("name", f"generic word(s) on one side only: {', '.join(generic)}", weight))
    return evidence


def _name_evidence(a: OrgFeatures, b: OrgFeatures) -> list[Evidence]:
    if not a.names or not b.names:
        return []
    best: list[Evidence] | None = None
    best_weight = float("-inf")
    # Both orders of the loops give the same set of pairs, and the max is order-free: symmetric.
    for x, acr_x in zip(a.names, a.acronyms, strict=True):
        for y, acr_y in zip(b.names, b.acronyms, strict=True):
            ev = _compare_names(x, y, acr_x, acr_y)
            w = sum(e.weight for e in ev)
            if w > best_weight:
                best, best_weight = ev, w
    return best or []


def _domain_fits_name(a: OrgFeatures, b: OrgFeatures) -> Evidence | None:
    """``a``'s domain spells ``b``'s name or its acronym (used only when not both have domains)."""
    for stem in a.stems:
        for tokens in b.names:
            joined = "".join(t for t in tokens if t not in STOPWORDS)
            if stem == joined or (len(tokens) > 1 and stem == acronym(tokens)):
                return Evidence("domain", f"domain {stem!r} spells the name {' '.join(tokens)!r}", W_DOMAIN_FITS_NAME)
    return None


def compare_org_features(a: OrgFeatures, b: OrgFeatures, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> MatchScore:
    """Score two prepared candidates."""
    evidence: list[Evidence] = []
    shared = a.domains & b.domains
    if shared:
        evidence.append(Evidence("domain", f"same domain {min(shared)}", W_DOMAIN_SHARED))
    elif a.domains and b.domains:
        evidence.append(
            Evidence("domain", f"different domains {min(a.domains)} / {min(b.domains)}", W_DOMAINS_DISJOINT)
        )
    names = _name_evidence(a, b)
    evidence.extend(names)
    if not shared and names and sum(e.weight for e in names) < W_NAME_EXACT:
        fit = (_domain_fits_name(a, b) if not b.domains else None) or (
            _domain_fits_name(b, a) if not a.domains else None
        )
        if fit:
            evidence.append(fit)
    if a.phones and b.phones:
        if a.phones & b.phones:
            evidence.append(Evidence("phone", "same phone number", W_PHONE_SHARED))
        else:
            evidence.append(Evidence("phone", "different phone numbers", W_PHONES_DIFFER))
    address = _compare_addresses(a.addresses, b.addresses) if a.addresses and b.addresses else None
    if address:
        evidence.append(address)
    address_agrees = address is not None and address.weight > 0
    if not address_agrees and a.city and b.city and a.city != b.city and JaroWinkler.similarity(a.city, b.city) < 0.85:
        evidence.append(Evidence("city", f"different cities {a.city!r} / {b.city!r}", W_CITY_DIFFER))
    return combine(ORG_PRIOR, evidence, thresholds)


@functools.lru_cache(maxsize=4096)
def _cached_features(c: OrgCandidate) -> OrgFeatures:
    return org_features(c)


def score_orgs(a: OrgCandidate, b: OrgCandidate, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> MatchScore:
    """How likely ``a`` and ``b`` are one organisation, with the evidence and the decision."""
    return compare_org_features(_cached_features(a), _cached_features(b), thresholds)


def org_block_keys(f: OrgFeatures) -> set[str]:
    """Blocking keys: records that share no key are never compared.

    Domains and phones; each name's full key, its acronym (so "IBM" meets "International Business
    Machines") and each distinctive word and its 4-letter prefix (typos, reordering). Keys that turn
    out common (a word every tenth company has) are dropped by the blocker, not here.
    """
    keys = {"d:" + d for d in f.domains} | {"p:" + p for p in f.phones}
    for s in f.stems:
        keys.add("x:" + s)
    for tokens, acronyms in zip(f.names, f.acronyms, strict=True):
        joined = "".join(t for t in tokens if t not in STOPWORDS)
        keys.update("x:" + form for form in acronym_forms(joined))  # "3m" also meets "mmm"
        keys.update("x:" + acr for acr in acronyms)
        distinctive = [t for t in tokens if t not in STOPWORDS and t not in GENERIC_WORDS and len(t) >= 2]
        for t in distinctive:
            keys.add("t:" + t)
        if distinctive and len(distinctive[0]) >= 5:
            # Typos: the first distinctive word's start, and for one-word names its end as well.
            keys.add("f:" + distinctive[0][:4])
            if len(distinctive) == 1:
                keys.add("g:" + distinctive[0][-4:])
    return keys


def org_sort_key(f: OrgFeatures) -> str:
    """The key of the sorted-neighbourhood pass: the first informative name, words joined."""
    return "".join(f.names[0]) if f.names else ""
