"""Command-line argument types shared by the command modules."""

from __future__ import annotations

from typing import Any

import click

#: The largest id the store can hold: ids are INTEGER columns, 32 bits on PostgreSQL.
MAX_ROW_ID = 2**31 - 1


class RowId(click.ParamType[int]):
    """An id as ``relsync ... list`` shows it: a whole number from 1 to :data:`MAX_ROW_ID`.

    A larger number is no row, and sending it to the database fails there (PostgreSQL: integer out
    of range, SQLite: Python int too large), so it is refused here as a usage error (exit 2).
    ``listing`` is the command that shows the ids, for the fix.
    """

    name = "id"

    def __init__(self, listing: str) -> None:
        self.listing = listing

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip()
            shown = text if len(text) <= 24 else text[:20] + "..."
            if not (text.isascii() and text.isdigit()) or len(text) > 12:
                self.fail(
                    f"{shown!r} is not an id: ids are whole numbers from 1 to {MAX_ROW_ID}. Fix: take the id "
                    f"from `{self.listing}`",
                    param,
                    ctx,
                )
            number = int(text)
        if not 1 <= number <= MAX_ROW_ID:
            self.fail(
                f"{number} is not an id: ids are whole numbers from 1 to {MAX_ROW_ID}. Fix: take the id from "
                f"`{self.listing}`",
                param,
                ctx,
            )
        return number
