"""Former name of :mod:`mapping.store.sales_history` (importing the sales history, not database
transactions), kept so code written before the rename still imports; new code imports sales_history."""

from __future__ import annotations

from mapping.store.sales_history import *  # noqa: F403
from mapping.store.sales_history import __all__ as _all
from mapping.store.sales_history import import_sales_history

#: The former name of :func:`mapping.store.sales_history.import_sales_history`.
import_transactions = import_sales_history

__all__ = [*_all, "import_transactions"]
