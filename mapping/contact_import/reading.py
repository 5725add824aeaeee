"""Reading a contact export into rows of text: CSV in any delimiter and encoding, or an ``.xlsx`` sheet.

The reader never stops at a bad cell: a formula, an oversized cell, a repeated header or a ragged row
is a :class:`CellProblem` (line, column, reason) and the rest of the file is read. Only a file that is
no table at all (binary, a single column of prose, an unreadable workbook) is a
:class:`ImportFileError`, one sentence naming the file and what to do.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from mapping.errors import EXIT_USAGE, RelsyncError

#: A cell longer than this is no contact field (a pasted document, a corrupt export): it is dropped.
MAX_CELL = 32_768
_DELIMITERS = ",;\t|"


class ImportFileError(RelsyncError):
    """The file cannot be read as a table (exit status 2: fix the file or the arguments)."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True, slots=True)
class CellProblem:
    """Something in the file that was not imported as it stood (``line`` 1-based; 0: the whole file)."""

    line: int
    reason: str


@dataclass
class Table:
    """The header row, the data rows as ``(line, cells)``, and what the reader noticed on the way."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]
    notes: list[str] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    encoding: str | None = None


def read_table(path: Path, sheet: str | None = None) -> Table:
    """The table in ``path``: an ``.xlsx``/``.xlsm`` workbook (``sheet``, default the first) or CSV."""
    try:
        head = path.open("rb").read(8)
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror}): check the path and its permissions") from None
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(f"{path}: an old binary Excel (.xls) workbook: save it as .xlsx or CSV in Excel")
    if sheet is not None:
        raise ImportFileError(f"{path}: --sheet applies to .xlsx workbooks only; this file is read as CSV")
    # Legacy CRM notes can exceed the csv module's 128 KiB field limit, which is process-wide: raise it for
    # this read only, so the sales-history import (which reports an over-long field) keeps its guard.
    limit = csv.field_size_limit(sys.maxsize)
    try:
        return _read_csv(path)
    finally:
        csv.field_size_limit(limit)


def _decode(path: Path, data: bytes) -> tuple[str, str, bool]:
    """The text, its encoding's name, and whether the name is a guess."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name), name.replace("-sig", ""), False
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    f"{path}: starts with a {name} byte-order mark but is not {name} "
                    f"(byte {exc.start}): export it again as UTF-8"
                ) from None
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is None or b"\x00" in data[:4096]:
        raise ImportFileError(
            f"{path}: not text in any encoding relsync can recognise: export the contacts as CSV (UTF-8) or .xlsx"
        )
    try:
        return data.decode(best.encoding), best.encoding, True
    except (UnicodeDecodeError, LookupError):
        raise ImportFileError(
            f"{path}: looks like {best.encoding} but does not decode as it: export the contacts as CSV (UTF-8)"
        ) from None


def _sniff(path: Path, text: str) -> str:
    first = text.split("\n", 1)[0]
    sample = "\n".join(text[:65_536].split("\n")[:20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: first.count(d) for d in _DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            raise ImportFileError(
                f"{path}: not a table: its first line has no column separator (, ; tab |); "
                "export the contacts as CSV with a header row"
            ) from None
    if first.count(delimiter) == 0:
        raise ImportFileError(
            f"{path}: not a table: its first line has no column separator (, ; tab |); "
            "export the contacts as CSV with a header row"
        )
    return delimiter


def _read_csv(path: Path) -> Table:
    data = path.read_bytes()
    text, encoding, guessed = _decode(path, data)
    if "\x00" in text[:4096]:
        raise ImportFileError(f"{path}: binary data, not a table: export the contacts as CSV or .xlsx")
    delimiter = _sniff(path, text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = Table([], [], encoding=encoding)
    if guessed:
        table.notes.append(f"encoding guessed: {encoding} (not UTF-8); check accented names in the report")
    if delimiter != ",":
        table.notes.append(f"columns separated by {'tab' if delimiter == chr(9) else repr(delimiter)}")
    start = 1
    for cells in reader:
        line = start
        start = reader.line_num + 1
        if not table.headers:
            if any(c.strip() for c in cells):
                table.headers = [c.strip() for c in cells]
            continue
        _add_row(table, line, cells)
    _check_headers(path, table)
    return table


def _add_row(table: Table, line: int, cells: list[str]) -> None:
    if not any(c.strip() for c in cells):
        return
    width = len(table.headers)
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        table.problems.append(
            CellProblem(line, f"{len(cells)} cells under {width} headers: the extra cells are ignored")
        )
    row = cells[:width] + [""] * (width - len(cells))
    for n, value in enumerate(row):
        if len(value) > MAX_CELL:
            table.problems.append(
                CellProblem(
                    line,
                    f"column {table.headers[n]!r}: a cell of {len(value):,} characters (over {MAX_CELL:,}) is ignored",
                )
            )
            row[n] = ""
        elif value.startswith("="):
            table.problems.append(
                CellProblem(
                    line,
                    f"column {table.headers[n]!r}: a formula ({value[:40]}) is not "
                    "imported; export values, not formulas",
                )
            )
            row[n] = ""
    table.rows.append((line, row))


def _check_headers(path: Path, table: Table) -> None:
    from mapping.contact_import.profiles import fold_header

    if not table.headers:
        raise ImportFileError(f"{path}: no header row: the first line must name the columns")
    if not table.rows:
        table.notes.append("no data rows under the header")
    seen: dict[str, int] = {}
    for n, header in enumerate(table.headers):
        key = fold_header(header)
        if not key:
            continue
        if key in seen:
            table.problems.append(
                CellProblem(
                    1,
                    f"column {n + 1} repeats the header {header!r} of column "
                    f"{seen[key] + 1}: only the first one's values are imported",
                )
            )
        else:
            seen[key] = n


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers and ids typed as numbers
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}): save it again "
            "from Excel as .xlsx, or export CSV"
        ) from None
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            raise ImportFileError(f"{path}: no sheet {sheet!r}; --sheet must be one of: {', '.join(names)}")
        chosen = sheet or names[0]
        table = Table([], [], encoding=None)
        if len(names) > 1:
            table.notes.append(
                f"{len(names)} sheets ({', '.join(names)}): read {chosen!r}"
                + ("" if sheet else "; pick another with --sheet")
            )
        for number, row in enumerate(book[chosen].iter_rows(), start=1):
            cells: list[str] = []
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    cells.append("=" + str(cell.value).lstrip("="))  # flagged by _add_row
                else:
                    cells.append(_cell_text(cell.value))
            if not table.headers:
                if any(c.strip() for c in cells):
                    table.headers = [c.strip() for c in cells]
                continue
            _add_row(table, number, cells)
    finally:
        book.close()
    _check_headers(path, table)
    return table
