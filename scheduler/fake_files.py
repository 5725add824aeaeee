"""Files written for the fake Exchange (`relsync fake-exchange --write-config`, `relsync demo`) beside
its config; each goes through :func:`mapping.files.write_text_atomically` (temporary file, renamed into
place, owner-only from the first byte)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mapping.files import write_text_atomically

#: The generated company's sales history, beside the written config (what `relsync demo` imports).
SALES_FILE = "sales.csv"


def write_sales_history(config_path: Path, company: Any, *, label: str = "--write-config") -> Path:
    """Write ``company``'s year of sales (the accounting export, :func:`connector.fake.company.sales.sales_csv`)
    beside ``config_path``; returns where, for `relsync import transactions`."""
    from connector.fake.company.sales import sales_csv

    path = config_path.with_name(SALES_FILE)
    write_text_atomically(path, sales_csv(company), label=label)
    return path
