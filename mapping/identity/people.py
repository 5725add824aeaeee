"""Person matching: e-mail addresses, names (nicknames, transliteration, initials), organisation,
phone, e-mail local parts, and, when known, birth date and postal address.

Evidence and its weights (log-odds, see :mod:`mapping.identity.scoring`), on a prior of
:data:`PERSON_PRIOR`:

- the same e-mail address: certain (a shared role mailbox such as ``info@`` only moderately);
- given names equal, nickname of one another (the ``nicknames`` package's table: Steve/Stephen,
  Bob/Robert), an initial ("J." / "John") or a typo; or clearly different (against);
- surnames equal, with a typo, or different (against); given and surname swapped counts as equal;
- the same organisation (id, normalised company name or corporate e-mail domain) or clearly different
  ones (against: two John Smiths at two companies are two people);
- a shared phone number; an e-mail local part that spells the other's name (``jsmith@``, ``john.smith@``);
- birth date equal, off by a typo, or different (strongly against); postcode, street and city.

A record without a usable name contributes no name evidence: only addresses, phones and the like can
merge it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from nicknames import NickNamer
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

from mapping.hygiene import is_free_mail, person_name_parts
from mapping.identity.model import DEFAULT_THRESHOLDS, Evidence, MatchScore, PersonCandidate, Thresholds
from mapping.identity.places import compare_address, compare_city, compare_postcode
from mapping.identity.scoring import combine
from mapping.identity.text import (
    MAX_TEXT,
    ascii_name,
    collapse_umlauts,
    email_key,
    fold,
    org_domains,
    org_tokens,
    phone_key,
)

PERSON_PRIOR = -6.0

W_EMAIL_SAME = 16.0
W_ROLE_EMAIL_SAME = 3.0
W_GIVEN_SAME = 3.0
W_GIVEN_NICKNAME = 2.2
W_GIVEN_INITIAL = 1.0
W_GIVEN_TYPO = 1.5
W_GIVEN_SIMILAR = 0.3
W_GIVEN_DIFFER = -3.5
W_SURNAME_SAME = 4.0
W_SURNAME_TYPO = 2.5
W_SURNAME_SIMILAR = 0.5
W_SURNAME_DIFFER = -4.5
W_SWAPPED = -0.5
W_ORG_SAME = 2.0
W_ORG_DIFFER = -3.5
W_PHONE_SAME = 3.5
W_LOCAL_PART_SAME = 2.0
W_LOCAL_PART_FITS = 1.0
W_BIRTH_SAME = 7.0  # two random people share a birth date about once in 20,000 pairs: ln(0.9 * 20000) ~ 9.8
W_BIRTH_TYPO = 1.5
W_BIRTH_CLOSE = 0.0  # two typos or two random dates of one decade: no evidence either way
W_BIRTH_DIFFER = -5.0

#: Local parts of shared role mailboxes: one address, many people.
_ROLE_TEXT = """info office sales contact hello admin support team mail service billing accounts invoices enquiries
    inquiries reception marketing hr jobs careers noreply no-reply postmaster webmaster help kontakt"""
ROLE_LOCAL_PARTS = frozenset(_ROLE_TEXT.split())


@functools.cache
def _nicknamer() -> NickNamer:
    return NickNamer()


@functools.lru_cache(maxsize=65536)
def name_forms(given: str) -> frozenset[str]:
    """The given name with its canonical forms and nicknames: "steve" -> {steve, stephen, steven, ...}."""
    if len(given) < 2:
        return frozenset({given}) if given else frozenset()
    n = _nicknamer()
    forms = {given} | n.canonicals_of(given)
    return frozenset(forms)


@functools.lru_cache(maxsize=65536)
def _nicknames_of(given: str) -> frozenset[str]:
    return frozenset(_nicknamer().nicknames_of(given)) if len(given) >= 2 else frozenset()


@dataclass(frozen=True, slots=True)
class PersonFeatures:
    """What the scorer compares, computed once per candidate."""

    id: str
    given: str  # first given word, folded ASCII ("" when unknown)
    surname: str  # folded ASCII, words joined by a space
    forms: frozenset[str]
    emails: frozenset[str]
    role_emails: frozenset[str]
    locals: frozenset[str]  # local parts of personal addresses (4+ characters)
    local_letters: frozenset[str]  # the same, letters only ("john.smith2" -> "johnsmith")
    domains: frozenset[str]  # corporate registrable domains
    org_id: str
    org_key: str
    phones: frozenset[str]
    birth: str  # digits only, "" when unknown
    postcode: str
    address: str
    city: str


_EMPTY: frozenset[str] = frozenset()


def _frozen(items: Iterable[str]) -> frozenset[str]:
    """``frozenset(items)``, the one shared empty set when there are none (features of a large store
    hold several sets each, mostly empty: 216 bytes apiece otherwise)."""
    out = frozenset(items)
    return out if out else _EMPTY


def _email_parts(emails: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    personal: set[str] = set()
    role: set[str] = set()
    locals_: set[str] = set()
    for raw in emails[:16]:
        address = email_key(raw)
        if address is None:
            continue
        local = address.rpartition("@")[0]
        if local.split("+")[0] in ROLE_LOCAL_PARTS:
            role.add(address)
        else:
            personal.add(address)
            if len(local) >= 4:
                locals_.add(local.split("+")[0])
    return _frozen(personal), _frozen(role), _frozen(locals_)


MAX_NAME_PART = 40  # a longer given name or surname is junk, not a name


def _name_part(text: str | None) -> str:
    if not text or len(text) > MAX_TEXT:
        return ""
    folded = ascii_name(text)
    return folded if len(folded) <= MAX_NAME_PART else ""


_TITLE_WORDS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau", "mme"})


def _display_name_parts(display: str) -> tuple[str, str]:
    """(given, surname) of a display name, folded. One name word left after a title or an initial is the
    surname: "M Weber" and "Weber, M." are M. Weber (an initial, not the French title "M."), "Dr Weber"
    has no known given name."""
    parts = person_name_parts(display)
    given, surname = _name_part(parts.given), _name_part(parts.surname)
    if given and not surname:
        others = [w.rstrip(".").casefold() for w in display.replace(",", " ").split()]
        others = [w for w in others if w and fold(w) != given]
        initials = [w for w in others if len(w) == 1 and w.isalpha()]
        if initials:
            return fold(initials[0]), given
        if others and all(w in _TITLE_WORDS for w in others):
            return "", given
    return given, surname


def person_features(c: PersonCandidate) -> PersonFeatures:
    """The comparable features of one candidate (bounded work on any input)."""
    given = _name_part(c.given)
    surname = _name_part(c.surname)
    if not given and not surname and c.display_name and len(c.display_name) <= MAX_TEXT:
        given, surname = _display_name_parts(c.display_name)
    given = given.split()[0] if given else ""
    emails, role, locals_ = _email_parts(c.emails)
    org_name = c.org_name[:MAX_TEXT] if c.org_name else ""
    org_key = " ".join(org_tokens(org_name)) if org_name else ""
    birth = "".join(ch for ch in (c.birth_date or "")[:32] if ch.isdigit())
    return PersonFeatures(
        id=c.id,
        given=given[:64],
        surname=surname[:64],
        forms=name_forms(given[:64]),
        emails=emails,
        role_emails=role,
        locals=locals_,
        local_letters=_frozen("".join(filter(str.isalpha, x)) for x in locals_),
        domains=org_domains(tuple(emails | role)),
        org_id=c.org_id or "",
        org_key=org_key[:128],
        phones=_frozen(k for k in (phone_key(p) for p in c.phones[:8]) if k),
        birth=birth if len(birth) == 8 else "",
        postcode=fold(c.postcode or "")[:16],
        address=" ".join(x for x in (fold(a) for a in c.addresses[:2]) if x)[:160],
        city=fold(c.city or "")[:64],
    )


@functools.lru_cache(maxsize=65536)  # given names repeat across a pass
def _compare_given(a: str, b: str) -> Evidence | None:
    if not a or not b:
        return None
    fa, fb = name_forms(a), name_forms(b)  # what PersonFeatures.forms holds for these names
    if a == b:
        return Evidence("given_name", f"same given name {a!r}", W_GIVEN_SAME if len(a) > 1 else W_GIVEN_INITIAL)
    if len(a) == 1 or len(b) == 1:
        if a[0] == b[0]:
            return Evidence("given_name", f"initial {a[0].upper()}. fits {max(a, b, key=len)!r}", W_GIVEN_INITIAL)
        return Evidence("given_name", f"initials differ ({a[0]} / {b[0]})", W_GIVEN_DIFFER)
    if fa & fb or b in _nicknames_of(a) or a in _nicknames_of(b):
        lo, hi = sorted((a, b))
        return Evidence("given_name", f"{lo!r} and {hi!r} are nickname forms of one name", W_GIVEN_NICKNAME)
    sim = JaroWinkler.similarity(a, b)
    if sim >= 0.88 or Levenshtein.distance(a, b) <= 1:
        lo, hi = sorted((a, b))
        return Evidence("given_name", f"given names {lo!r} / {hi!r} differ by a typo", W_GIVEN_TYPO)
    if a.startswith(b) or b.startswith(a):
        return Evidence("given_name", "one given name is a short form of the other", W_GIVEN_INITIAL)
    lo, hi = sorted((a, b))
    if sim >= 0.8 and min(len(a), len(b)) >= 4:
        return Evidence("given_name", f"given names {lo!r} / {hi!r} are similar", W_GIVEN_SIMILAR)
    return Evidence("given_name", f"different given names {lo!r} / {hi!r}", W_GIVEN_DIFFER)


@functools.lru_cache(maxsize=65536)  # surnames repeat across a pass (and the swap check asks twice)
def _compare_surname(a: str, b: str) -> Evidence | None:
    if not a or not b:
        return None
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return Evidence("surname", f"same surname {a!r}", W_SURNAME_SAME)
    sim = JaroWinkler.similarity(a, b)
    if sim >= 0.85 and collapse_umlauts(a) == collapse_umlauts(b):  # "mueller" / "muller"
        return Evidence("surname", f"same surname {a!r}", W_SURNAME_SAME)
    if sim >= 0.9 or (Levenshtein.distance(a, b) <= 1 and min(len(a), len(b)) >= 4):
        lo, hi = sorted((a, b))
        return Evidence("surname", f"surnames {lo!r} / {hi!r} differ by a typo", W_SURNAME_TYPO)
    wa, wb = set(a.split()), set(b.split())
    if len(wa) + len(wb) > 2 and wa & wb:
        return Evidence("surname", "double-barrelled surname shares a part", W_SURNAME_TYPO)
    lo, hi = sorted((a, b))
    if sim >= 0.8 or Levenshtein.distance(a, b) <= 2 < min(len(a), len(b)):
        # Two typos or a transposition ("thorpe" / "thropr"): neither for nor against.
        return Evidence("surname", f"surnames {lo!r} / {hi!r} are similar", W_SURNAME_SIMILAR)
    return Evidence("surname", f"different surnames {lo!r} / {hi!r}", W_SURNAME_DIFFER)


def _name_evidence(a: PersonFeatures, b: PersonFeatures) -> list[Evidence]:
    given = _compare_given(a.given, b.given)
    direct = [e for e in (given, _compare_surname(a.surname, b.surname)) if e]
    agree = sum(e.weight for e in direct) >= W_GIVEN_TYPO + W_SURNAME_TYPO  # names already agree: no swap
    # A swap means nothing where one side's given name is its surname ("and and"): checked on both sides,
    # so the score of (a, b) is the score of (b, a).
    swappable = a.given != a.surname and b.given != b.surname
    if not agree and a.given and a.surname and b.given and b.surname and swappable:
        # Given name and surname swapped (a common data-entry slip).
        # Both cross comparisons as surnames (plain similarity), so the result is symmetric.
        first = _compare_surname(a.given, b.surname)
        if first is None or first.weight <= 0:
            return direct  # a swap needs both cross comparisons to agree: the second is not needed
        swapped = [e for e in (first, _compare_surname(a.surname, b.given)) if e]
        if sum(e.weight for e in swapped) + W_SWAPPED > sum(e.weight for e in direct) and all(
            e.weight > 0 for e in swapped
        ):
            return [*swapped, Evidence("name_order", "given name and surname swapped", W_SWAPPED)]
    return direct


def compare_names(a: PersonFeatures, b: PersonFeatures) -> list[Evidence]:
    """The name evidence of a pair alone (given name, surname, a swap), as the full score counts it."""
    return _name_evidence(a, b)


@functools.lru_cache(maxsize=65536)  # asked at comparison time, not kept in every record's features
def _name_locals(given: str, surname: str) -> frozenset[str]:
    """Local parts that spell the name: johnsmith, jsmith, smithjohn, smithj (letters only)."""
    if not given or not surname:
        return _EMPTY
    s = surname.replace(" ", "")
    return _frozen(x for x in (given + s, given[0] + s, s + given, s + given[0]) if len(x) >= 4)


def _org_evidence(a: PersonFeatures, b: PersonFeatures) -> Evidence | None:
    if a.org_id and a.org_id == b.org_id:
        return Evidence("organisation", "same organisation", W_ORG_SAME)
    if a.org_key and a.org_key == b.org_key:
        return Evidence("organisation", f"same company name {a.org_key!r}", W_ORG_SAME)
    shared = a.domains & b.domains
    if shared:
        return Evidence("organisation", f"addresses at the same company domain {min(shared)}", W_ORG_SAME)
    known_a = bool(a.org_id or a.org_key or a.domains)
    known_b = bool(b.org_id or b.org_key or b.domains)
    if not (known_a and known_b):
        return None
    if a.domains and b.domains:  # each at its own company domain: "Acme Corp" (acme.com) is not "Acme Bank"
        return Evidence("organisation", "addresses at different company domains", W_ORG_DIFFER)
    if a.org_key and b.org_key:
        if fuzz.token_set_ratio(a.org_key, b.org_key) >= 90:
            return None  # "Acme" / "Acme Manufacturing": probably one company, not proven
        return Evidence("organisation", f"different companies {a.org_key!r} / {b.org_key!r}", W_ORG_DIFFER)
    return None


def compare_person_features(
    a: PersonFeatures, b: PersonFeatures, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> MatchScore:
    """Score two prepared candidates."""
    evidence: list[Evidence] = []
    same = a.emails & b.emails
    if same:
        evidence.append(Evidence("email", f"same e-mail address {min(same)}", W_EMAIL_SAME))
    elif a.role_emails & b.role_emails:
        evidence.append(Evidence("email", "same shared (role) mailbox", W_ROLE_EMAIL_SAME))
    evidence.extend(_name_evidence(a, b))
    org = _org_evidence(a, b)
    if org:
        evidence.append(org)
    if a.phones & b.phones:
        evidence.append(Evidence("phone", "same phone number", W_PHONE_SAME))
    if not same:
        shared_local = a.locals & b.locals
        if shared_local and not (a.domains & b.domains):
            evidence.append(Evidence("email_local", f"same mailbox name {min(shared_local)!r}", W_LOCAL_PART_SAME))
        elif a.local_letters & _name_locals(b.given, b.surname) or b.local_letters & _name_locals(a.given, a.surname):
            evidence.append(Evidence("email_local", "e-mail name fits the other's name", W_LOCAL_PART_FITS))
    if a.birth and b.birth:
        if a.birth == b.birth:
            evidence.append(Evidence("birth_date", "same birth date", W_BIRTH_SAME))
        elif Levenshtein.distance(a.birth, b.birth) <= 1 or (
            a.birth[:4] == b.birth[:4] and a.birth[4:6] == b.birth[6:8] and a.birth[6:8] == b.birth[4:6]
        ):
            evidence.append(Evidence("birth_date", "birth dates differ by a typo", W_BIRTH_TYPO))
        elif Levenshtein.distance(a.birth, b.birth) == 2:
            evidence.append(Evidence("birth_date", "birth dates differ in two digits", W_BIRTH_CLOSE))
        else:
            evidence.append(Evidence("birth_date", "different birth dates", W_BIRTH_DIFFER))
    for place in (
        compare_postcode(a.postcode, b.postcode),
        compare_address(a.address, b.address),
        compare_city(a.city, b.city),
    ):
        if place:
            evidence.append(place)
    score = combine(PERSON_PRIOR, evidence, thresholds)
    if score.decision == "merge" and not same and a.domains & b.domains and _colleagues(a, b):
        return held_for_review(score, thresholds)
    return score


def _full_name_mailboxes(f: PersonFeatures) -> dict[str, set[str]]:
    """Per company domain, the local parts (letters only) of ``f``'s addresses there that spell its surname."""
    surname = "".join(filter(str.isalpha, f.surname))
    out: dict[str, set[str]] = {}
    if len(surname) < 2:
        return out
    for e in f.emails:
        local, _, domain = e.rpartition("@")
        letters = "".join(filter(str.isalpha, local.split("+")[0]))
        if surname in letters and not is_free_mail(domain):
            out.setdefault(domain, set()).add(letters)
    return out


def _colleagues(a: PersonFeatures, b: PersonFeatures) -> bool:
    """Each has a mailbox spelling its own name at one company domain, and they differ ("jon.miller@acme.com"
    and "john.miller@acme.com"): a company gives each person one such mailbox, so these are two people,
    however alike the rest. A short alias ("steve@acme.com" beside "stephen.miller@acme.com") is not such a
    mailbox and does not hold the pair back."""
    ma, mb = _full_name_mailboxes(a), _full_name_mailboxes(b)
    return any(not (ma[d] & mb[d]) for d in ma.keys() & mb.keys())


def _corporate(emails: Iterable[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in emails:
        local, _, domain = e.rpartition("@")
        if domain and not is_free_mail(domain):
            out.setdefault(domain, set()).add(local)
    return out


def separate_mailboxes(a: Iterable[str], b: Iterable[str]) -> bool:
    """Both have their own mailbox at one company domain, and not the same one: two colleagues
    ("jon.miller@acme.com" and "john.miller@acme.com"), however alike their names. A contact import holds
    every such pair back for review (a legacy CRM's rows are checked by staff); sync holds back the pairs
    whose mailboxes both spell a full name (see ``_colleagues``)."""
    mine, theirs = set(a), set(b)
    if mine & theirs:
        return False
    ca, cb = _corporate(mine), _corporate(theirs)
    return any(ca[d] != cb[d] for d in ca.keys() & cb.keys())


def held_for_review(score: MatchScore, thresholds: Thresholds) -> MatchScore:
    """``score`` with its merge held back to review, saying why in its evidence."""
    return MatchScore(
        min(score.score, thresholds.merge - 1e-6),
        (*score.evidence, Evidence("email", "different mailboxes at one company domain", 0.0)),
        "review",
    )


@functools.lru_cache(maxsize=4096)
def _cached_features(c: PersonCandidate) -> PersonFeatures:
    return person_features(c)


def score_people(a: PersonCandidate, b: PersonCandidate, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> MatchScore:
    """How likely ``a`` and ``b`` are one person, with the evidence and the decision."""
    return compare_person_features(_cached_features(a), _cached_features(b), thresholds)


def person_block_keys(f: PersonFeatures) -> set[str]:
    """Blocking keys: e-mail addresses and phones; surname with a given-name initial (and each nickname
    form's initial); given name with the surname's first letter; the sorted name pair (swaps); birth
    date; personal e-mail local part; organisation with a surname prefix. Common keys are dropped by
    the blocker."""
    keys = {"e:" + e for e in f.emails} | {"p:" + p for p in f.phones}
    keys |= {"l:" + x for x in f.locals if len(x) >= 6}
    g, s = f.given, f.surname.replace(" ", "")
    if s:
        for form in f.forms:
            keys.add(f"m:{s}|{form}")  # surname with the given name or one of its canonical forms
        initials = {x[0] for x in f.forms if x} | ({g[0]} if g else set())
        for i in initials:
            keys.add(f"n:{s}|{i}")  # initials and given-name typos; a weak key (small blocks only)
        if f.birth:
            keys.add(f"b:{f.birth}|{s[0]}")
        org = f.org_id or f.org_key or min(f.domains, default="")
        if org:
            keys.add(f"o:{org}|{s[:3]}")
    if g and len(g) > 1:
        if s:
            keys.add(f"h:{g}|{s[0]}")  # surname typos; a weak key (small blocks only)
            keys.add("w:" + "|".join(sorted((g, s))))
        if f.birth:
            keys.add(f"b:{f.birth}|{g[0]}")
            keys.add(f"c:{f.birth[:4]}|{g}")
        if f.postcode:
            keys.add(f"z:{f.postcode}|{g}")
    if s and f.postcode:
        keys.add(f"z:{f.postcode}|{s}")
    if f.birth and f.postcode:
        keys.add(f"y:{f.birth}|{f.postcode}")
    if f.birth:
        keys.add("b:" + f.birth)  # a birth date alone: a few people per date in a large store
    words = f.address.split()
    if len(words) >= 2 and any(ch.isdigit() for ch in words[0]):
        # House number and street (its first letters, spaces aside: "kirklandc ircuit" is Kirkland
        # Circuit): the steadiest part of an address; and house number with the postcode.
        keys.add(f"a:{words[0]}|{''.join(words[1:])[:6]}")
        if f.postcode:
            keys.add(f"a:{words[0]}|{f.postcode}")
        if len(words) >= 3:
            keys.add(f"a:{words[1]}|{words[2]}|{f.postcode}")
    return keys


def person_sort_key(f: PersonFeatures) -> str:
    """The key of the sorted-neighbourhood pass: surname then given name (empty without a surname)."""
    return f"{f.surname} {f.given}" if f.surname else ""
