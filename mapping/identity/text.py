"""Text keys for matching: folded ASCII tokens, legal forms, acronyms, phone and domain keys.

Builds on :mod:`mapping.hygiene` (company-name key, registrable domain, free mail) and adds what only
fuzzy matching needs: transliteration (anyascii: "Jürgen" and "Juergen", "Мария" and "Mariya" meet),
the legal forms of many countries (cleanco's table plus long forms such as "Aktiengesellschaft"),
acronyms, and digit keys for phone numbers. Every function is pure, total on arbitrary text, and
bounded in cost: input is cut to :data:`MAX_TEXT` characters first.
"""

from __future__ import annotations

import functools
import re

from anyascii import anyascii

from mapping.hygiene import is_free_mail, normalise_company_name, normalise_email, registrable_domain

#: Longest text looked at; a 10,000-character "name" is junk, and matching cost must stay bounded.
MAX_TEXT = 256

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PARENTHESISED = re.compile(r"[(\[][^)\]]*[)\]]")
_DIGITS = re.compile(r"\d")


@functools.lru_cache(maxsize=262144)
def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: "Jürgen O'Neil-Smith" -> "jurgen oneil smith"."""
    ascii_text = anyascii(text[:MAX_TEXT]).lower().replace("'", "").replace("\u2019", "")
    return _NON_ALNUM.sub(" ", ascii_text).strip()


# --- organisations -------------------------------------------------------------------------------

# Long forms and forms cleanco's table lacks; cleanco adds the short forms of ~80 countries.
_EXTRA_LEGAL_FORMS = """
    inc | incorporated | corp | corporation | co | company | ltd | limited | llc | plc | gmbh | ag | kg | sa |
    aktiengesellschaft | gesellschaft mit beschrankter haftung | kommanditgesellschaft | kabushiki kaisha |
    kabushikigaisha | godo kaisha | yugen kaisha | societe anonyme | sociedad anonima | sociedade anonima |
    societa per azioni | societe par actions simplifiee | naamloze vennootschap | besloten vennootschap |
    aktiebolag | osakeyhtio | public limited company | limited liability company | co ltd | pty ltd | pty |
    pte ltd | sdn bhd | pvt ltd | private limited | sp z oo | spolka z oo | sa de cv | srl | sarl | sas | spa |
    bv | nv | ab | as | oy | kk | se | llp | lp | holding | holdings | group | and co | and company | the
"""
# Forms written before the name: Japanese, Indonesian, Russian, and the Nordic and Baltic ones ("AB Volvo",
# "Oy Karl Fazer", "UAB Bite", "SIA Tele2").
_LEADING_FORMS = frozenset(
    {("kabushiki", "kaisha"), ("kk",), ("pt",), ("ooo",), ("oao",), ("zao",), ("the",), ("ab",), ("oy",), ("oyj",),
     ("uab",), ("sia",)}
)  # fmt: skip
#: Initials joined by "&" are one word: "AT&T" is "att", "P & G" is "pg" (not the stopwords "at", "and").
_AMPERSAND_INITIALS = re.compile(r"(?<![\w&])([A-Za-z]{1,2})\s*&\s*([A-Za-z]{1,2})(?![\w&])")


@functools.cache
def _legal_forms() -> tuple[frozenset[tuple[str, ...]], int]:
    forms: set[tuple[str, ...]] = set()
    for text in _EXTRA_LEGAL_FORMS.split("|"):
        if text.strip():
            forms.add(tuple(text.split()))
    try:
        from cleanco.clean import prepare_default_terms  # maintained table of legal forms by country

        for _, terms in prepare_default_terms():
            words = tuple(fold(" ".join(terms).replace("&", " and ")).split())
            if words:
                forms.add(words)
    except Exception:  # pragma: no cover - cleanco is a dependency; fall back to our own list
        pass
    return frozenset(forms), max(len(f) for f in forms)


def is_legal_form(tokens: tuple[str, ...]) -> bool:
    """True when the tokens are exactly one legal form ("gmbh", "pty ltd", "kabushiki kaisha")."""
    return tokens in _legal_forms()[0]


#: Words that say little about which organisation is meant: they neither prove nor refute a match.
_STOPWORDS_TEXT = "the of and a an de du des la le les el los las der die das und et y e di del da van von for at in on"
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
#: Common business words: an unmatched one counts against a match far less than a distinctive word.
_GENERIC_TEXT = """
    international intl global worldwide services service solutions systems technologies technology tech
    consulting partners associates enterprises industries international management trading company
    corporation group holdings holding bros brothers sons ventures capital labs lab software
    restaurant restaurants cafe bar grill kitchen bistro
"""
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())


@functools.lru_cache(maxsize=131072)
def org_tokens(name: str) -> tuple[str, ...]:
    """The name's words without legal forms at either end: "Kabushiki Kaisha Toyota" -> ("toyota",).

    Starts from :func:`mapping.hygiene.normalise_company_name` (accents, "&", dotted forms such as
    "S.A."), transliterates, then strips legal forms of every country cleanco knows, longest first,
    from the end and a few known leading ones from the start. May strip down to nothing: a name that
    is only a legal form ("GmbH") has no tokens.
    """
    # A parenthesised part qualifies the name ("Spago (Los Angeles)", "Acme (UK) Ltd"): not part of it.
    tokens = _name_words(name)
    if len(tokens) > 1 and tokens[-1] == "the":
        tokens = tokens[:-1]  # catalogue order: "Palm, The"
    forms, longest = _legal_forms()
    changed = True
    while changed and tokens:
        changed = False
        for n in range(min(longest, len(tokens)), 0, -1):
            if tuple(tokens[-n:]) in forms:
                tokens = tokens[:-n]
                changed = True
                break
        else:
            for lead in _LEADING_FORMS:
                if tuple(tokens[: len(lead)]) == lead:
                    tokens = tokens[len(lead) :]
                    changed = True
                    break
        if tokens and tokens[-1] in ("and", "y", "et", "und"):
            tokens = tokens[:-1]
            changed = True
    return tuple(tokens)


def _name_words(name: str, *, normalise: bool = True) -> list[str]:
    """The folded words of a company name; ``normalise=False`` keeps the legal forms on."""
    # A parenthesised part qualifies the name ("Spago (Los Angeles)", "Acme (UK) Ltd"): not part of it.
    unqualified = _PARENTHESISED.sub(" ", name[:MAX_TEXT])
    text = _AMPERSAND_INITIALS.sub(r"\1\2", unqualified if unqualified.strip() else name[:MAX_TEXT])
    return fold(normalise_company_name(text) if normalise else text.replace("&", " and ")).split()


def acronym(tokens: tuple[str, ...]) -> str:
    """First letters of the words that count ("International Business Machines" -> "ibm"); "" if < 2."""
    letters = "".join(t[0] for t in tokens if t not in STOPWORDS)
    return letters if len(letters) >= 2 else ""


#: Words after which a name goes on with a qualifier an acronym often leaves out ("Systeme, Anwendungen
#: und Produkte in der Datenverarbeitung" is SAP).
_QUALIFIER_START = frozenset({"in", "for", "of", "fur", "der", "des", "du"})


@functools.lru_cache(maxsize=131072)
def org_acronyms(name: str) -> frozenset[str]:
    """Every acronym the name may go by: of its words without legal forms ("ibm"), with the legal
    forms that follow them ("Hongkong and Shanghai Banking Corporation Limited": "hsb", "hsbc",
    "hsbcl"), and of the words before a qualifier ("sap"). Only names of two words or more."""
    core = org_tokens(name)
    if len(core) < 2:
        return frozenset()
    out = {acronym(core)}
    words = [t for t in _name_words(name, normalise=False) if t not in STOPWORDS]
    core_words = [t for t in core if t not in STOPWORDS]
    if words[: len(core_words)] == core_words:
        letters = "".join(t[0] for t in words)
        out.update(letters[:j] for j in range(len(core_words), len(letters) + 1))
    for n, t in enumerate(core[1:], start=1):
        if t in _QUALIFIER_START:
            out.add(acronym(core[:n]))
            break
    return frozenset(x for x in out if len(x) >= 2)


_DIGIT_INITIAL = re.compile(r"([2-9])([a-z])")


def acronym_forms(joined: str) -> frozenset[str]:
    """A short name as the acronyms it may stand for: "3m" is also "mmm" (Minnesota Mining and Manufacturing)."""
    expanded = _DIGIT_INITIAL.sub(lambda m: m.group(2) * int(m.group(1)), joined)
    return frozenset({joined, expanded})


@functools.lru_cache(maxsize=131072)
def _corporate_domain(value: str) -> str | None:
    domain = registrable_domain(value)
    return domain if domain and not is_free_mail(domain) else None


_NO_DOMAINS: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=65536)
def _one_domain(domain: str) -> frozenset[str]:
    """One set per company domain, shared by the many records at it (a large store's memory)."""
    return frozenset((domain,))


def org_domains(values: tuple[str, ...]) -> frozenset[str]:
    """Registrable domains of e-mail or web domains, URLs or addresses; free-mail domains dropped."""
    out: set[str] = set()
    for value in values[:32]:
        value = value[:MAX_TEXT].strip().lower()
        if "@" in value and "/" not in value:
            value = value.rpartition("@")[2]  # cache by domain, not by (unique) address
        domain = _corporate_domain(value)
        if domain:
            out.add(domain)
    if len(out) == 1:
        return _one_domain(out.pop())
    return frozenset(out) if out else _NO_DOMAINS


_PLAIN_EMAIL = re.compile(r"^[a-z0-9][a-z0-9._%+'-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)+$")


def email_key(raw: str) -> str | None:
    """The normalised address for matching, or ``None`` when there is no address.

    Plain ASCII addresses (nearly all) are lower-cased directly; anything else goes through
    :func:`mapping.hygiene.normalise_email` (display names, ``mailto:``, Unicode), which is exact but
    costs a millisecond: too slow for a pass over 100,000 people.
    """
    text = raw[:MAX_TEXT].strip().lower()
    if _PLAIN_EMAIL.match(text) and ".." not in text:
        return text
    record = normalise_email(raw[:MAX_TEXT])
    return record.address if record is not None and "@" in record.address else None


def domain_stem(domain: str) -> str:
    """The organisation part of a registrable domain: "acme-group.co.uk" -> "acmegroup"."""
    label = domain.split(".", 1)[0]
    return label.replace("-", "")


# --- phones and people ---------------------------------------------------------------------------

_EXTENSION = re.compile(r"(?:x|ext\.?|extension|#)\s*\d+\s*$", re.IGNORECASE)


def phone_key(raw: str) -> str | None:
    """The last nine digits of a phone number, without its extension: formats and country codes meet.

    "+1 (555) 123-4567 x12", "555.123.4567" and "001 555 1234567" all give "551234567". Numbers of
    fewer than seven digits give ``None`` (too short to identify anyone).
    """
    text = _EXTENSION.sub("", raw[:64])
    digits = "".join(_DIGITS.findall(text))
    return digits[-9:] if len(digits) >= 7 else None


def ascii_name(text: str | None) -> str:
    """A name part as folded ASCII words: "Zoë" -> "zoe", "José-María" -> "jose maria"."""
    return fold(text) if text else ""


_UMLAUT_SPELLINGS = re.compile(r"(?<=[a-z])(ae|oe|ue)")


def collapse_umlauts(text: str) -> str:
    """German umlaut spellings folded onto the plain vowel: "mueller" -> "muller" (as anyascii gives "Müller")."""
    return _UMLAUT_SPELLINGS.sub(lambda m: m.group(0)[0], text).replace("ss", "s")
