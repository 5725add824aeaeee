"""Files written for the fake Exchange (`relsync fake-exchange --write-config`, `relsync demo`):
each goes to a temporary file beside it, renamed into place, so a reader never sees half a file and
a secret's file never exists with wider permissions than its final ones."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

#: The generated company's sales history, beside the written config (what `relsync demo` imports).
SALES_FILE = "sales.csv"


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, renamed into place
    (``mode``: the file's permissions, set before any byte is written, e.g. 0o600 for a secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600: a secret is never readable by others, not even for a moment.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_sales_history(config_path: Path, company: Any) -> Path:
    """Write ``company``'s year of sales (the accounting export, :func:`connector.fake.sales.sales_csv`)
    beside ``config_path``; returns where, for `relsync import transactions`."""
    from connector.fake.sales import sales_csv

    path = config_path.with_name(SALES_FILE)
    write_atomically(path, sales_csv(company))
    return path
