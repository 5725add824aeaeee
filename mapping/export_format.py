"""How ``relsync export`` writes rows: JSON lines, or CSV that a spreadsheet opens without running it.

A CSV cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (CSV injection: ``=HYPERLINK(...)`` in a contact's
name runs when an admin opens the export). As OWASP recommends
(https://owasp.org/www-community/attacks/CSV_Injection), such a cell is prefixed with a single quote,
which spreadsheets take as "this is text". Only text is prefixed: numbers the store holds (a value of
``-5`` %) stay numbers. ``neutralise=False`` writes every cell exactly as stored, for machine consumers.
Quotes, separators and line breaks inside a value are quoted by the csv module, so every value
round-trips through any CSV reader.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "


def neutralise_formula(text: str) -> str:
    """``text`` with a single quote before it when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_cells(row: Mapping[str, Any], *, neutralise: bool = True) -> dict[str, Any]:
    """One export row as CSV cells: lists joined with ``"; "``, text neutralised unless told not to."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, list):
            value = LIST_SEPARATOR.join(str(v) for v in value)
        if neutralise and isinstance(value, str):
            value = neutralise_formula(value)
        out[key] = value
    return out


def write_csv(rows: Iterable[Mapping[str, Any]], stream: TextIO, *, neutralise: bool = True) -> int:
    """Write ``rows`` as CSV with a header (from the first row's keys) to ``stream``; the row count.

    ``stream`` must be opened with ``newline=""`` (the csv module writes its own line endings).
    """
    writer: csv.DictWriter[str] | None = None
    count = 0
    for row in rows:
        cells = csv_cells(row, neutralise=neutralise)
        if writer is None:
            writer = csv.DictWriter(stream, fieldnames=list(cells))
            writer.writeheader()
        writer.writerow(cells)
        count += 1
    return count


def write_jsonl(rows: Iterable[Mapping[str, Any]], stream: TextIO) -> int:
    """Write ``rows`` as JSON lines (one object per line, UTF-8 as is) to ``stream``; the row count."""
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
