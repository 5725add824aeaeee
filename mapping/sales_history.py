"""Sales history from the accounting system: parsing its CSV export into plain rows (pure).

Columns (header names are matched case-insensitively; spaces and hyphens count as underscores):

========== ======== =========================================================================
date       required ``2026-03-05`` (ISO, also with a time), ``2026/03/05``, ``20260305``,
                    ``05.03.2026`` (day first, as German/Swiss exports write it), ``5 Mar 2026``,
                    ``Mar 5, 2026``, ``05-Mar-2026``. ``03/05/2026`` is refused: it means March
                    in one country and May in the next.
customer   required the customer key: an e-mail address, a domain, a company name or an external id
amount     required positive (the sign comes from ``kind``), at most 2 decimals; thousands separators
                    are fine when unambiguous (``1,234.50``, ``1.234,50``, ``1 234,50``, ``1'234.50``);
                    ``1,234`` alone is refused (one thousand two hundred, or one point two?)
currency   required ISO 4217 code (``EUR``); a symbol (``€``, ``$``) is refused, in either column
kind       required ``order``, ``return`` or ``referral credit`` (also ``referral_credit``)
product    optional
external_id optional the row's id in the accounting system (invoice number)
referred   optional on a ``referral credit`` row only: the customer the ``customer`` (the referrer)
                    referred, as a customer key (e-mail, domain, company name or id); it lands in the
                    same referral records as the contact's "Referred By" (README, "Business case")
========== ======== =========================================================================

``referred customer`` and ``referral for`` are accepted as names of the ``referred`` column.

A bad row is reported with its line number and skipped; the others are kept (a line the CSV parser
cannot read, such as one with a field over its size limit, too). Wrong columns are one error naming
every missing and unknown column, and no rows.

Dates outside the plausible range are refused per line (:func:`check_date_range`): before
:data:`EARLIEST_DATE` (1900-01-01), or after the day of the import plus one day
(:data:`FUTURE_TOLERANCE`, for time zones). A sale dated 9999-12-31 would otherwise keep its
relationship "active" for ever, and one dated 0001-01-01 is a placeholder, not history.

Every row gets a ``fingerprint``: SHA-256 of its normalised fields plus its occurrence number among
identical rows of the same file. Importing the same file again yields the same fingerprints (so the
store adds nothing), while two genuinely identical orders on one day in one file stay two rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

TransactionKind = Literal["order", "return", "referral_credit"]

REQUIRED_COLUMNS: tuple[str, ...] = ("date", "customer", "amount", "currency", "kind")
OPTIONAL_COLUMNS: tuple[str, ...] = ("product", "external_id", "referred")
#: Other header names of optional columns (folded as :func:`_column_key` folds them).
_COLUMN_ALIASES: dict[str, str] = {"referred_customer": "referred", "referral_for": "referred"}
MAX_CUSTOMER = 320
MAX_TEXT = 255
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
#: The earliest date a sales row may carry: anything older is a placeholder or a typo, not history.
EARLIEST_DATE = date(1900, 1, 1)
#: How far past the importing day a row may be dated (the accounting system may be a time zone ahead).
FUTURE_TOLERANCE = timedelta(days=1)

_KINDS: dict[str, TransactionKind] = {
    "order": "order",
    "return": "return",
    "referral_credit": "referral_credit",
    "referral": "referral_credit",
}
# Symbols (and the Unicode currency-symbol category, checked below) that mean "a currency is in here".
_SYMBOLS = "$€£¥₹₽₩₪₺₴₦₫฿"
_ISO_CODE = re.compile(r"^[A-Z]{3}$")
# 2026-03-05, 2026/3/5, optionally with a time (and zone) after it: the time is dropped.
_ISO_DATE = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


@dataclass(frozen=True, slots=True)
class TransactionRow:
    """One valid line of the file."""

    line: int
    occurred_on: date
    customer: str
    kind: TransactionKind
    amount: Decimal
    currency: str
    product: str | None
    external_id: str | None
    fingerprint: str
    referred: str | None = None  # referral credit rows: the customer the referrer brought


@dataclass(frozen=True, slots=True)
class LineError:
    """A problem on one line (``line`` 1 is the header), with the column when one is to blame."""

    line: int
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParsedFile:
    rows: list[TransactionRow]
    errors: list[LineError]


def _column_key(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").casefold())
    return _COLUMN_ALIASES.get(key, key)


def _has_symbol(text: str) -> bool:
    return any(ch in _SYMBOLS or unicodedata.category(ch) == "Sc" for ch in text)


def parse_date(text: str) -> date:
    """A date in one of the accepted formats; ``ValueError`` with a sentence otherwise."""
    value = text.strip()
    if not value:
        raise ValueError("date is empty")
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", value):
        raise ValueError(f"ambiguous date {value!r} (day/month or month/day?): write it as YYYY-MM-DD")
    m = _ISO_DATE.fullmatch(value)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -](\d{4})", value):
            return date(int(m[3]), _month(m[2]), int(m[1]))
        if m := re.fullmatch(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})", value):
            return date(int(m[3]), _month(m[1]), int(m[2]))
    except ValueError as exc:
        raise ValueError(f"not a valid date: {value!r} ({exc})") from None
    raise ValueError(f"unrecognised date {value!r}: write it as YYYY-MM-DD")


def check_date_range(occurred_on: date, today: date) -> None:
    """Refuse (``ValueError`` with a sentence) a date before 1900 or after ``today`` plus one day."""
    if occurred_on < EARLIEST_DATE:
        raise ValueError(
            f"date {occurred_on.isoformat()} is before {EARLIEST_DATE.isoformat()}: "
            "a placeholder, not a sale; correct the date"
        )
    if occurred_on > today + FUTURE_TOLERANCE:
        raise ValueError(
            f"date {occurred_on.isoformat()} is in the future (today is {today.isoformat()}): "
            "a sale is recorded on the day it happened; correct the date"
        )


def _month(name: str) -> int:
    key = name.casefold().rstrip(".")
    for number, full in enumerate(_MONTH_NAMES, start=1):
        if key in (full, full[:3]) or (number == 9 and key == "sept"):
            return number
    raise ValueError(f"unknown month {name!r}")


def parse_amount(text: str) -> Decimal:
    """A non-negative amount with at most two decimals; ``ValueError`` with a sentence otherwise."""
    raw = text.strip()
    if not raw:
        raise ValueError("amount is empty")
    if _has_symbol(raw):
        raise ValueError(
            f"currency symbol in amount {raw!r}: give the number only and the ISO code "
            "(USD, EUR, GBP, ...) in the currency column"
        )
    if raw.startswith("-") or (raw.startswith("(") and raw.endswith(")")):
        raise ValueError(f"negative amount {raw!r}: amounts are positive, use kind 'return' for money back")
    value = raw.lstrip("+").replace("\u00a0", " ").replace("\u202f", " ").replace("'", "").replace(" ", "")
    if re.search(r"[A-Za-z]", value):
        raise ValueError(f"not a number: {raw!r} (currency codes belong in the currency column)")
    if not re.fullmatch(r"[\d.,]+", value) or not value[0].isdigit():
        raise ValueError(f"not a number: {raw!r}")
    dot, comma = value.rfind("."), value.rfind(",")
    if dot >= 0 and comma >= 0:
        decimal_sep = "." if dot > comma else ","
        thousands = "," if decimal_sep == "." else "."
        integer, _, fraction = value.rpartition(decimal_sep)
        if decimal_sep in integer or not _grouped(integer, thousands):
            raise ValueError(f"not a number: {raw!r} (misplaced separators)")
        number = integer.replace(thousands, "") + "." + fraction
    elif dot >= 0 or comma >= 0:
        sep = "." if dot >= 0 else ","
        parts = value.split(sep)
        if len(parts) > 2:
            if not _grouped(value, sep):
                raise ValueError(f"not a number: {raw!r} (misplaced separators)")
            number = value.replace(sep, "")
        elif len(parts[1]) == 3:
            raise ValueError(
                f"ambiguous amount {raw!r} (a thousands separator, or 3 decimals?): "
                f"write {parts[0]}{parts[1]} without separator, or at most 2 decimals"
            )
        else:
            number = parts[0] + "." + parts[1]
    else:
        number = value
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"not a number: {raw!r}") from None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"amount {raw!r} has more than 2 decimals")
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount {raw!r} is too large")
    return amount.quantize(Decimal("0.01"))


def _grouped(integer: str, sep: str) -> bool:
    """``1,234,567`` style: a leading group of 1-3 digits, then groups of exactly three."""
    return bool(re.fullmatch(rf"\d{{1,3}}(?:{re.escape(sep)}\d{{3}})*|\d+", integer))


def parse_currency(text: str) -> str:
    value = text.strip()
    if _has_symbol(value):
        raise ValueError(f"currency symbol {value!r}: give the ISO 4217 code (USD, EUR, GBP, ...)")
    code = value.upper()
    if not _ISO_CODE.fullmatch(code):
        raise ValueError(f"currency {value!r} is not an ISO 4217 code such as EUR or USD")
    return code


def parse_kind(text: str) -> TransactionKind:
    key = re.sub(r"[\s\-_]+", "_", text.strip().casefold())
    kind = _KINDS.get(key) or _KINDS.get(key.rstrip("s"))
    if kind is None:
        raise ValueError(f"unknown kind {text.strip()!r}: use order, return or referral credit")
    return kind


def fingerprint(
    occurred_on: date,
    customer: str,
    kind: str,
    amount: Decimal,
    currency: str,
    product: str | None,
    external_id: str | None,
    occurrence: int,
    referred: str | None = None,
) -> str:
    """SHA-256 of the normalised row and its occurrence number among identical rows of a file (a
    ``referred`` customer is part of it only when given, so files without the column keep theirs)."""
    fields = [
        occurred_on.isoformat(),
        " ".join(customer.split()).casefold(),
        kind,
        f"{amount:.2f}",
        currency,
        " ".join((product or "").split()).casefold(),
        (external_id or "").strip(),
        str(occurrence),
    ]
    if referred:
        fields.append("referred:" + " ".join(referred.split()).casefold())
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def parse_sales_history(text: str, *, today: date | None = None) -> ParsedFile:
    """Parse the whole CSV text. Never raises on bad content: problems come back as :class:`LineError`.

    ``today``: the importing day that dates are checked against (:func:`check_date_range`); the
    current UTC day when not given.
    """
    today = today if today is not None else datetime.now(UTC).date()
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    try:
        header = next(reader)
    except StopIteration:
        return ParsedFile(
            [],
            [
                LineError(
                    1, f"the file is empty: expected a header line ({', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})"
                )
            ],
        )
    except csv.Error as exc:
        return ParsedFile([], [LineError(1, f"unreadable header: {exc}")])
    keys = [_column_key(h) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in keys]
    unknown = [h.strip() for h, k in zip(header, keys, strict=True) if k not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    repeated = sorted({k for k in keys if keys.count(k) > 1 and k})
    if missing or unknown or repeated:
        parts = []
        if missing:
            parts.append("missing column" + ("s" if len(missing) > 1 else "") + " " + ", ".join(missing))
        if unknown:
            names = ", ".join(repr(u) for u in unknown)
            parts.append("unknown column" + ("s" if len(unknown) > 1 else "") + " " + names)
        if repeated:
            parts.append("repeated column" + ("s" if len(repeated) > 1 else "") + " " + ", ".join(repeated))
        expected = ", ".join(REQUIRED_COLUMNS) + " (optional: " + ", ".join(OPTIONAL_COLUMNS) + ")"
        return ParsedFile([], [LineError(1, "; ".join(parts) + f". Expected columns: {expected}")])
    index = {k: i for i, k in enumerate(keys)}
    rows: list[TransactionRow] = []
    errors: list[LineError] = []
    seen: Counter[tuple[object, ...]] = Counter()
    line = reader.line_num
    while True:
        start = line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # e.g. a field over the parser's size limit: the reader drops the rest of that line and
            # goes on with the next, so report it and carry on (stop only if it cannot advance).
            errors.append(LineError(start, f"unreadable line: {exc}"))
            if reader.line_num <= line:
                break
            line = reader.line_num
            continue
        line = reader.line_num
        if not any(field.strip() for field in record):
            continue  # blank lines are not rows
        if len(record) != len(keys):
            errors.append(LineError(start, f"expected {len(keys)} fields, found {len(record)}"))
            continue
        row, problems = _parse_record(start, record, index, today)
        if problems:
            errors.extend(problems)
            continue
        assert row is not None
        identity = (
            row.occurred_on,
            " ".join(row.customer.split()).casefold(),
            row.kind,
            row.amount,
            row.currency,
            " ".join((row.product or "").split()).casefold(),
            row.external_id,
            " ".join((row.referred or "").split()).casefold(),
        )
        seen[identity] += 1
        fp = fingerprint(
            row.occurred_on,
            row.customer,
            row.kind,
            row.amount,
            row.currency,
            row.product,
            row.external_id,
            seen[identity],
            row.referred,
        )
        rows.append(
            TransactionRow(
                row.line,
                row.occurred_on,
                row.customer,
                row.kind,
                row.amount,
                row.currency,
                row.product,
                row.external_id,
                fp,
                row.referred,
            )
        )
    return ParsedFile(rows, errors)


def _parse_record(
    line: int, record: list[str], index: dict[str, int], today: date
) -> tuple[TransactionRow | None, list[LineError]]:
    def field(name: str) -> str:
        return record[index[name]].strip() if name in index else ""

    problems: list[LineError] = []
    occurred_on = amount = currency = kind = None
    try:
        occurred_on = parse_date(field("date"))
        check_date_range(occurred_on, today)
    except ValueError as exc:
        problems.append(LineError(line, str(exc), "date"))
    customer = " ".join(field("customer").split())
    if not customer:
        problems.append(LineError(line, "customer is empty: give an e-mail, domain, company name or id", "customer"))
    elif len(customer) > MAX_CUSTOMER:
        problems.append(LineError(line, f"customer is longer than {MAX_CUSTOMER} characters", "customer"))
    try:
        amount = parse_amount(field("amount"))
    except ValueError as exc:
        problems.append(LineError(line, str(exc), "amount"))
    try:
        currency = parse_currency(field("currency"))
    except ValueError as exc:
        problems.append(LineError(line, str(exc), "currency"))
    try:
        kind = parse_kind(field("kind"))
    except ValueError as exc:
        problems.append(LineError(line, str(exc), "kind"))
    product = field("product") or None
    external_id = field("external_id") or None
    for name, value in (("product", product), ("external_id", external_id)):
        if value is not None and len(value) > MAX_TEXT:
            problems.append(LineError(line, f"{name} is longer than {MAX_TEXT} characters", name))
    referred = " ".join(field("referred").split()) or None
    if referred is not None:
        if len(referred) > MAX_CUSTOMER:
            problems.append(LineError(line, f"referred is longer than {MAX_CUSTOMER} characters", "referred"))
        elif kind is not None and kind != "referral_credit":
            problems.append(
                LineError(
                    line,
                    f"referred {referred!r} on a {kind} row: only a referral credit names the customer referred; "
                    "leave the column empty on orders and returns",
                    "referred",
                )
            )
        elif " ".join(referred.split()).casefold() == customer.casefold():
            problems.append(
                LineError(
                    line,
                    f"referred {referred!r} is the customer itself: a referral to oneself; name the customer "
                    "the referrer brought",
                    "referred",
                )
            )
    if problems or occurred_on is None or amount is None or currency is None or kind is None:
        return None, problems
    row = TransactionRow(line, occurred_on, customer, kind, amount, currency, product, external_id, "", referred)
    return row, []


__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "LineError",
    "ParsedFile",
    "TransactionKind",
    "TransactionRow",
    "check_date_range",
    "fingerprint",
    "parse_amount",
    "parse_currency",
    "parse_date",
    "parse_kind",
    "parse_sales_history",
]
