"""Files written for the fake Exchange (`relsync fake-exchange --write-config`, `relsync demo`) beside
its config; each goes through :func:`mapping.files.write_text_atomically` (temporary file, renamed into
place, owner-only from the first byte)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mapping.files import write_text_atomically

#: The generated company's sales history, beside the written config (what `relsync demo` imports).
SALES_FILE = "sales.csv"
#: The product catalogue mapping the sales history's spellings to products (``[next_offer] catalogue``).
CATALOGUE_FILE = "catalogue.csv"


def write_sales_history(config_path: Path, company: Any, *, label: str = "--write-config") -> Path:
    """Write ``company``'s year of sales (the accounting export, :func:`connector.fake.company.sales.sales_csv`)
    beside ``config_path``; returns where, for `relsync import transactions`."""
    from connector.fake.company.sales import sales_csv

    path = config_path.with_name(SALES_FILE)
    # The business case's rows are dated from the day this runs (a thank-you is about a recent order).
    write_text_atomically(path, sales_csv(company, today=datetime.now(UTC).date()), label=label)
    return path


def write_catalogue(config_path: Path, *, label: str = "--write-config") -> Path:
    """Write the generated company's product catalogue (:func:`connector.fake.company.sales.catalogue_csv`)
    beside ``config_path``; the written config names it in ``[next_offer] catalogue``."""
    from connector.fake.company.sales import catalogue_csv

    path = config_path.with_name(CATALOGUE_FILE)
    write_text_atomically(path, catalogue_csv(), label=label)
    return path
