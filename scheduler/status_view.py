"""``relsync status`` as people read it: one table row per mailbox, then one line per problem.

The rows are :func:`mapping.store.reports.mailbox_status`'s (what ``status --json`` prints). Each
mailbox that needs attention gets one plain line under the table, ``needs attention: MAILBOX:
what is wrong. Fix: what to do``, so a problem can be read (and grepped) whole however narrow the
terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


def duration(seconds: float | None) -> str:
    """``42 s``, ``17 min``, ``5 h``, ``3 d``: a lag or an age at a glance."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * 2 or (unit == "min" and seconds >= size):
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def _throttling(row: dict[str, Any]) -> str:
    if not row.get("last_throttled_at"):
        return "-"
    return f"{row['last_throttled_seconds']:g} s at {str(row['last_throttled_at'])[:16].replace('T', ' ')}"


def problem_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per mailbox that needs attention (its reason), and per configured mailbox the store lost."""
    lines = []
    for row in rows:
        if row["state"] == "needs attention":
            lines.append(f"needs attention: {row['mailbox']}: {row['attention_reason'] or row['last_error']}")
        elif row.get("configured") is False:
            lines.append(f"not configured any more: {row['mailbox']}: its data stays in the store; nothing syncs it")
    return lines


def print_status(rows: Sequence[dict[str, Any]], console: Console) -> None:
    """The status table, then the problem lines."""
    table = Table(title="relsync: status")
    for column in ("mailbox", "state", "last success", "lag", "items", "errors", "throttled", "worker"):
        table.add_column(column, justify="right" if column in ("lag", "items", "errors") else "left")
    for row in rows:
        last = str(row["last_success"])[:19].replace("T", " ") if row["last_success"] else "-"
        table.add_row(
            row["mailbox"],
            row["state"],
            last,
            duration(row["lag_seconds"]),
            str(row["items"]),
            str(row.get("failures_in_a_row", 0)),
            _throttling(row),
            row.get("worker") or "-",
        )
    console.print(table)
    for line in problem_lines(rows):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
