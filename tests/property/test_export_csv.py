"""CSV exports: every value round-trips through a CSV reader, and no text cell opens as a formula."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.export_format import FORMULA_TRIGGERS, csv_cells, neutralise_formula, write_csv

# Names as people and mail give them: quotes, separators, line breaks, leading formula characters.
# (No NUL: neither the store's databases nor Exchange keep one in a name.)
TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30
) | st.sampled_from(["=1+1", "+49 30 1234", "-x", "@SUM(A1)", "\tTab", "\rCR", 'a,"b";c\nd', "'=quoted"])
VALUE = TEXT | st.integers(min_value=-1000, max_value=1000) | st.lists(TEXT, max_size=3)
ROWS = st.lists(
    st.fixed_dictionaries({"id": st.integers(0, 10**6), "name": VALUE, "emails": VALUE}), min_size=1, max_size=8
)


def _parsed(rows: list[dict[str, Any]], neutralise: bool) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    assert write_csv(rows, out, neutralise=neutralise) == len(rows)
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


def _as_cell(value: Any) -> str:
    return "; ".join(value) if isinstance(value, list) else str(value)


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_raw_csv_gives_back_every_value_exactly(rows: list[dict[str, Any]]) -> None:
    parsed = _parsed(rows, neutralise=False)
    assert parsed == [{k: _as_cell(v) for k, v in row.items()} for row in rows]


@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_neutralised_csv_quotes_exactly_the_formula_cells_and_keeps_the_rest(rows: list[dict[str, Any]]) -> None:
    parsed = _parsed(rows, neutralise=True)
    for row, back in zip(rows, parsed, strict=True):
        for key, value in row.items():
            cell = _as_cell(value)
            if isinstance(value, int):
                assert back[key] == cell  # numbers stay numbers, a negative value too
            else:
                assert back[key] == ("'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell)
                assert not back[key].startswith(FORMULA_TRIGGERS)


def test_owasp_characters_are_each_neutralised_and_others_are_not() -> None:
    assert [neutralise_formula(c + "x") for c in "=+-@\t\r"] == ["'" + c + "x" for c in "=+-@\t\r"]
    assert [neutralise_formula(s) for s in ("Dana", "'=x", " =x", "", "1-2")] == ["Dana", "'=x", " =x", "", "1-2"]
    assert csv_cells({"v": -5, "n": None, "l": ["=a", "b"]}) == {"v": -5, "n": None, "l": "'=a; b"}
    assert csv_cells({"l": ["=a", "b"]}, neutralise=False) == {"l": "=a; b"}
