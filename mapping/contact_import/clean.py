"""Hygiene on the way in: one row of text cells becomes one :class:`ContactRow`, with every fix and
every refused value written down for the report.

Pure functions of the cells and the default phone region: e-mails validated (mapping.hygiene), phones
to E.164, names split and cased ("SMITH, JOHN" -> John Smith), company legal forms recognised
(cleanco), postal addresses in their parts (a one-cell address is split into street, postcode, city and
country). A row with neither a name nor an e-mail address is refused with its line and the reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import phonenumbers

from mapping.contact_import.profiles import ATTRIBUTE_FIELDS
from mapping.hygiene import normalise_email, person_name_parts, plain_address
from mapping.identity.text import _legal_forms, fold
from mapping.records import PhoneKind

_PHONE_FIELDS: tuple[tuple[str, PhoneKind], ...] = (
    ("phone", "work"),
    ("phone2", "work"),
    ("mobile", "mobile"),
    ("home_phone", "home"),
    ("fax", "fax"),
)
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "la", "le", "du", "da", "di", "del", "dos", "ten", "ter"})
_LIMITS = {
    "job_title": 255,
    "department": 255,
    "company": 255,
    "website": 255,
    "street": 512,
    "city": 128,
    "state": 128,
    "postcode": 32,
    "country": 64,
}


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    raw: str
    kind: PhoneKind


@dataclass(frozen=True, slots=True)
class Postal:
    """A postal address in its parts (any part may be missing)."""

    street: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None

    def line(self) -> str:
        return ", ".join(p for p in (self.street, self.postcode, self.city, self.state, self.country) if p)

    def __bool__(self) -> bool:
        return bool(self.street or self.city or self.postcode)


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One cleaned row: the person, their organisation, the relationship attributes, and the notes.

    ``attributes`` are keyed by their user-field name ("Source", "Referred By", ...); ``fixes`` are the
    values hygiene changed ("name 'SMITH, JOHN' -> 'John Smith'"), ``refused`` the values it dropped.
    """

    line: int
    display_name: str
    given: str | None = None
    middle: str | None = None
    surname: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[Phone, ...] = ()
    job_title: str | None = None
    department: str | None = None
    company: str | None = None
    legal_form: str | None = None
    website: str | None = None
    postal: Postal = field(default_factory=Postal)
    attributes: Mapping[str, str] = field(default_factory=dict)
    fixes: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    """A row not imported: its line and why."""

    line: int
    reason: str


_MC = re.compile(r"(mc|mac)[a-z]{3,}")


def _cap_word(word: str) -> str:
    if not word:
        return word
    low = word.lower()
    if low in _PARTICLES:
        return low
    if _MC.fullmatch(low) and low.startswith("mc"):
        return "Mc" + low[2:].capitalize()
    # Title case, not upper: "ß" becomes "Ss" (a cased name stays as it is), not "SS" (cased again as "Ss").
    return "-".join("'".join(p[:1].title() + p[1:] for p in part.split("'")) for part in low.split("-"))


@functools.lru_cache(maxsize=65536)  # given names, surnames and companies recur across a file's rows
def case_name(text: str) -> str:
    """A name typed all in capitals or all in lower case, cased as people write it ("O'BRIEN" ->
    "O'Brien", "VAN DER BERG" -> "van der Berg" inside a name); mixed case is kept as typed."""
    letters = [c for c in text if c.isalpha()]
    if not letters or not (all(c.isupper() for c in letters) or all(c.islower() for c in letters)):
        return text
    words = text.split()
    out = [_cap_word(w) for w in words]
    if out and out[0] in _PARTICLES:
        out[0] = out[0].capitalize()
    return " ".join(out)


def _name(cells: Mapping[str, str]) -> tuple[str, str | None, str | None, str | None, str | None]:
    """display name, given, middle, surname, and the fix made (if any)."""
    given = (cells.get("given_name") or "").strip() or None
    middle = (cells.get("middle_name") or "").strip() or None
    surname = (cells.get("surname") or "").strip() or None
    full = (cells.get("full_name") or "").strip()
    typed = full or " ".join(p for p in (given, middle, surname) if p)
    if full and not (given or surname):
        parts = person_name_parts(full)
        given, middle, surname = parts.given, parts.middle, parts.surname
    given, middle, surname = (case_name(p) if p else None for p in (given, middle, surname))
    display = " ".join(p for p in (given, middle, surname) if p) or case_name(full)
    fix = f"name {typed!r} -> {display!r}" if typed and display != " ".join(typed.split()) else None
    return display, given, middle, surname, fix


@functools.lru_cache(maxsize=65536)
def legal_form(name: str) -> tuple[str, str | None]:
    """The company name without its legal form, and the legal form, e.g. ("Acme", "GmbH & Co. KG").

    The forms are cleanco's table of legal forms by country (as identity resolution folds them), looked
    up by the name's last words: a set lookup per length, not a scan of every form."""
    forms, longest = _legal_forms()
    words = name.split()
    for k in range(min(longest, len(words) - 1), 0, -1):
        tail = words[-k:]
        text = " ".join(tail).replace("&", " and ")
        if tuple(fold(text).split()) in forms or tuple(fold(text.replace(".", "")).split()) in forms:
            return " ".join(words[:-k]).rstrip(" ,"), " ".join(tail)
    return name.strip(), None


_POSTCODE = re.compile(r"\b(\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{4})\b")


def split_address(text: str) -> Postal:
    """A one-cell address ("1 Main St, Springfield, IL 62701, USA" or "Hauptstr. 5, 10115 Berlin") in its
    parts: the first comma part is the street, a postal code is found where it stands (before or after
    the city), and a last part without digits after the city is the country."""
    parts = [p.strip() for p in re.split(r"[,\n;]+", text) if p.strip()]
    if not parts:
        return Postal()
    street = parts[0]
    rest = parts[1:]
    country = None
    if len(rest) >= 2 and not any(ch.isdigit() for ch in rest[-1]):
        country = rest.pop()
    city = state = postcode = None
    for part in rest:
        m = _POSTCODE.search(part)
        if m and postcode is None:
            postcode = m.group(1)
            remainder = (part[: m.start()] + part[m.end() :]).strip(" ,")
            if remainder and city is None:
                city = remainder
            elif remainder:
                state = remainder
        elif city is None:
            city = part
        else:
            state = part
    return Postal(street, city, state, postcode, country)


def phone_e164(raw: str, default_region: str | None) -> str | None:
    """The E.164 form ``mapping.hygiene.normalise_phone`` gives a possible number (``None`` otherwise),
    without the validity and number-type lookups an import does not keep (a third of the cleaning)."""
    try:
        number = phonenumbers.parse(raw.strip()[:64], default_region.upper() if default_region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _capped(cells: Mapping[str, str], key: str, refused: list[str]) -> str | None:
    raw = cells.get(key)
    if not raw:  # most fields of most files: no column, or an empty cell
        return None
    value = " ".join(raw.split())
    limit = _LIMITS.get(key, 255)
    if len(value) > limit:
        refused.append(f"{key.replace('_', ' ')}: {len(value)} characters, over {limit}: cut")
        value = value[:limit]
    return value or None


_SEPARATORS = re.compile(r"[;,\s]+")


@functools.lru_cache(maxsize=64)  # every row of a file has the same keys
def _attribute_fields(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The (field, user-field name) pairs of :data:`ATTRIBUTE_FIELDS` among ``keys``, in its order."""
    return tuple((key, name) for key, name in ATTRIBUTE_FIELDS.items() if key in keys)


def clean_row(line: int, cells: Mapping[str, str], default_region: str | None) -> ContactRow | Refusal:
    """One row of ``field -> text`` cleaned, or refused when it names nobody (no name, no e-mail)."""
    fixes: list[str] = []
    refused: list[str] = []
    emails: list[str] = []
    for key in ("email", "email2", "email3"):
        raw = (cells.get(key) or "").strip()
        if not raw:
            continue
        for piece in _SEPARATORS.split(raw) if raw.count("@") > 1 else [raw]:
            # The plain shape first (uncached: a file's addresses rarely repeat), held to the validator's answer.
            address = plain_address(piece.strip())
            if address is None:
                record = normalise_email(piece)
                if record is None:
                    continue
                if not record.is_valid:
                    refused.append(f"e-mail {piece[:80]!r}: not a valid address")
                    continue
                address = record.address
            if address not in emails:
                if address != piece:
                    fixes.append(f"e-mail {piece!r} -> {address!r}")
                emails.append(address)
    display, given, middle, surname, name_fix = _name(cells)
    if not display and not emails:
        why = "no name and no e-mail address" + (
            f" (company {cells['company'].strip()!r} only)" if (cells.get("company") or "").strip() else ""
        )
        return Refusal(line, why)
    if name_fix:
        fixes.append(name_fix)
    if not display:
        display = emails[0]
    phones: list[Phone] = []
    for key, kind in _PHONE_FIELDS:
        raw = (cells.get(key) or "").strip()
        if not raw:
            continue
        e164 = phone_e164(raw[:64], default_region)
        if e164 is None:
            refused.append(f"{key.replace('_', ' ')} {raw[:40]!r}: not a phone number")
            continue
        if e164 != raw:
            fixes.append(f"{key.replace('_', ' ')} {raw!r} -> {e164}")
        if all(p.e164 != e164 for p in phones):
            phones.append(Phone(e164, raw[:64], kind))
    company = _capped(cells, "company", refused)
    form = None
    if company:
        cased = case_name(company) if len(company) > 4 else company  # "IBM" stays, "ACME WIDGETS" is cased
        if cased != company:
            fixes.append(f"company {company!r} -> {cased!r}")
            company = cased
        form = legal_form(company)[1]
    postal = Postal(
        _capped(cells, "street", refused),
        _capped(cells, "city", refused),
        _capped(cells, "state", refused),
        _capped(cells, "postcode", refused),
        _capped(cells, "country", refused),
    )
    street2 = _capped(cells, "street2", refused)
    if street2 and postal.street:
        postal = Postal(f"{postal.street}, {street2}"[:512], postal.city, postal.state, postal.postcode, postal.country)
    one_cell = _capped(cells, "address", refused)
    if one_cell and not postal:
        postal = split_address(one_cell)
        fixes.append(f"address {one_cell!r} -> {postal.line()!r}")
    attributes = {
        name: value
        for key, name in _attribute_fields(tuple(cells))
        if (value := " ".join((cells.get(key) or "").split())[:255])
    }
    notes = (cells.get("notes") or "").strip()
    if notes:
        attributes["Notes"] = notes[:4000]
    return ContactRow(
        line=line,
        display_name=display[:255],
        given=given,
        middle=middle,
        surname=surname,
        emails=tuple(emails),
        phones=tuple(phones),
        job_title=_capped(cells, "job_title", refused),
        department=_capped(cells, "department", refused),
        company=company,
        legal_form=form,
        website=_capped(cells, "website", refused),
        postal=postal,
        attributes=attributes,
        fixes=tuple(fixes),
        refused=tuple(refused),
    )
