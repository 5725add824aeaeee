"""Former name of :mod:`mapping.sales_history` (the accounting system's sales history, not database
transactions), kept so code written before the rename still imports; new code imports sales_history."""

from __future__ import annotations

from mapping.sales_history import *  # noqa: F403
from mapping.sales_history import __all__ as _all
from mapping.sales_history import parse_sales_history

#: The former name of :func:`mapping.sales_history.parse_sales_history`.
parse_transactions = parse_sales_history

__all__ = [*_all, "parse_transactions"]
