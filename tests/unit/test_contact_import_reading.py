"""Reading contact exports: encodings, delimiters, workbooks, and every kind of bad input reported by line."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from openpyxl import Workbook

from mapping.contact_import.reading import MAX_CELL, ImportFileError, read_table
from mapping.contact_import.report import parse_map, prepare

HEADER = "Name,E-mail,Company\n"


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_semicolon_csv_in_windows_1252_is_read_and_the_guessed_encoding_named(tmp_path: Path) -> None:
    text = "Name;E-mail;Company\n" + "".join(
        f"Jürgen Müller{n};j{n}@müller.example;Müller & Söhne GmbH\n" for n in range(30)
    )
    table = read_table(_csv(tmp_path, text, "cp1252"))
    assert table.headers == ["Name", "E-mail", "Company"]
    assert table.rows[0] == (2, ["Jürgen Müller0", "j0@müller.example", "Müller & Söhne GmbH"])
    # cp1250 and cp1252 spell these letters alike: either guess reads the names right, and it is named.
    assert table.encoding and table.encoding.replace("windows-", "cp").startswith("cp125")
    assert any(f"encoding guessed: {table.encoding}" in n for n in table.notes)
    assert any("';'" in n for n in table.notes)


def test_utf16_with_byte_order_mark_and_tabs(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "Name\tE-mail\nZoë Ång\tzoe@x.example\n".encode("utf-16-le"))
    table = read_table(path)
    assert table.rows == [(2, ["Zoë Ång", "zoe@x.example"])] and table.encoding == "utf-16"
    assert not any("guessed" in n for n in table.notes)


def test_a_file_that_is_not_a_table_is_one_sentence(tmp_path: Path) -> None:
    prose = _csv(tmp_path, "Dear customer\nthank you for your order\n", name="letter.csv")
    with pytest.raises(ImportFileError, match="not a table: its first line has no column separator"):
        read_table(prose)
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(ImportFileError, match=r"not text|binary|not a table"):
        read_table(binary)
    with pytest.raises(ImportFileError, match=r"not a readable \.xlsx"):
        read_table(_csv(tmp_path, "a,b\n1,2\n", name="fake.xlsx"))


def test_a_megabyte_cell_formulas_and_ragged_rows_are_reported_and_the_rest_reads(tmp_path: Path) -> None:
    big = "x" * 1_048_576
    text = HEADER + f"Ann Lee,ann@a.example,{big}\n" + "Bob Ray,=1+2,Acme\n" + "Cy Doe,cy@c.example,Co,extra\n"
    table = read_table(_csv(tmp_path, text))
    reasons = {(p.line, p.reason.split(":")[0]) for p in table.problems}
    assert (2, "column 'Company'") in reasons  # the megabyte
    assert any(p.line == 3 and "formula (=1+2)" in p.reason for p in table.problems)
    assert any(p.line == 4 and "extra cells are ignored" in p.reason for p in table.problems)
    assert [r[1] for r in table.rows] == [
        ["Ann Lee", "ann@a.example", ""],
        ["Bob Ray", "", "Acme"],
        ["Cy Doe", "cy@c.example", "Co"],
    ]
    assert len(big) > MAX_CELL


def test_duplicate_headers_keep_the_first_column_and_say_so(tmp_path: Path) -> None:
    table = read_table(_csv(tmp_path, "Name,Email,email\nAnn Lee,ann@a.example,other@a.example\n"))
    assert any("column 3 repeats the header 'email' of column 2" in p.reason for p in table.problems)
    prepared = prepare(table, "generic", {}, "US")
    assert prepared.rows[0].emails == ("ann@a.example",)


def test_a_thousand_columns_are_listed_as_unknown_and_the_known_ones_import(tmp_path: Path) -> None:
    headers = ["Name", "E-mail"] + [f"Custom {n}" for n in range(998)]
    row = ["Ann Lee", "ann@a.example"] + ["v"] * 998
    table = read_table(_csv(tmp_path, ",".join(headers) + "\n" + ",".join(row) + "\n"))
    prepared = prepare(table, "generic", {}, "US")
    assert len(prepared.unknown_columns) == 998 and prepared.unknown_columns[0] == "Custom 0"
    assert prepared.rows[0].emails == ("ann@a.example",)


def test_a_row_with_no_name_and_no_email_is_refused_with_its_line(tmp_path: Path) -> None:
    table = read_table(_csv(tmp_path, HEADER + "Ann Lee,ann@a.example,A\n,,Lonely Corp\n,bob@b.example,\n"))
    prepared = prepare(table, "generic", {}, "US")
    assert [(r.line, r.reason) for r in prepared.refused] == [
        (3, "no name and no e-mail address (company 'Lonely Corp' only)")
    ]
    assert [r.display_name for r in prepared.rows] == ["Ann Lee", "bob@b.example"]


def test_xlsx_with_several_sheets_reads_the_one_named_and_flags_formulas(tmp_path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Accounts"
    first.append(["Account", "Owner"])
    first.append(["Acme", "ann@corp.example"])
    people = book.create_sheet("People")
    people.append(["First Name", "Last Name", "Email", "Phone"])
    people.append(["Ann", "Lee", "ann@a.example", 4930123456])
    people.append(["Bob", "Ray", '=CONCAT("b","@x.example")', None])
    path = tmp_path / "export.xlsx"
    book.save(path)
    table = read_table(path, sheet="People")
    assert table.rows[0] == (2, ["Ann", "Lee", "ann@a.example", "4930123456"])
    assert any(p.line == 3 and "formula" in p.reason for p in table.problems)
    assert any("2 sheets (Accounts, People): read 'People'" in n for n in table.notes)
    default = read_table(path)
    assert default.headers == ["Account", "Owner"] and any("--sheet" in n for n in default.notes)
    with pytest.raises(ImportFileError, match="no sheet 'Contacts'; --sheet must be one of: Accounts, People"):
        read_table(path, sheet="Contacts")


def test_map_option_is_checked_and_overrides_the_profile(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="'colour' is no field"):
        parse_map(["Fav=colour"])
    with pytest.raises(ImportFileError, match="write COLUMN=FIELD"):
        parse_map(["nonsense"])
    table = read_table(_csv(tmp_path, "Who,Reach,Cust No\nAnn Lee,ann@a.example,C-7\n"))
    with pytest.raises(ImportFileError, match="no column gives a name or an e-mail address"):
        prepare(table, "generic", {}, "US")
    prepared = prepare(table, "generic", parse_map(["Who=full_name", "Reach=email", "Cust No=external_id"]), "US")
    assert prepared.rows[0].attributes == {"External Id": "C-7"} and prepared.unknown_columns == ()
