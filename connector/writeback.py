"""Writing categories back onto Outlook items, touching nothing else.

Only the ``categories`` field is ever written (``update_fields=["categories"]``), and only the
categories relsync manages change: the user's own categories on the item stay as they are. The item is
read fresh before the write and the write carries its ChangeKey; if the user edited the item in
between (``ErrorIrresolvableConflict``), it is read again, the change is re-applied to what is there
now, and the write retried.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from exchangelib import Account
from exchangelib import errors as ews
from exchangelib.properties import ItemId

from connector.errors import ChangeConflict, ExchangeError, translate

MAX_CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class CategoryWrite:
    """The outcome of one write: the item's categories now, its new ChangeKey, whether anything changed."""

    item_id: str
    categories: tuple[str, ...]
    change_key: str | None
    changed: bool


def merged_categories(current: Collection[str], add: Collection[str], remove: Collection[str]) -> list[str]:
    """The item's categories with ``add`` added and ``remove`` removed, the rest kept in their order."""
    removed = {c.casefold() for c in remove}
    kept = [c for c in current if c.casefold() not in removed]
    present = {c.casefold() for c in kept}
    kept += [c for c in add if c.casefold() not in present]
    return kept


def update_categories(
    account: Account, item_id: str, add: Collection[str] = (), remove: Collection[str] = ()
) -> CategoryWrite:
    """Add and remove categories on one item in ``account``'s mailbox; the user's others stay."""
    for _ in range(MAX_CONFLICT_RETRIES):
        try:
            items = list(account.fetch(ids=[ItemId(id=item_id)], only_fields=["categories"]))
            item = items[0]
            if isinstance(item, Exception):
                raise item
            current = list(item.categories or ())
            wanted = merged_categories(current, add, remove)
            if wanted == current:
                return CategoryWrite(item_id, tuple(current), item.changekey, changed=False)
            item.categories = wanted or None
            item.save(update_fields=["categories"])
            return CategoryWrite(item_id, tuple(wanted), item.changekey, changed=True)
        except ews.ErrorIrresolvableConflict:
            continue  # the user changed the item meanwhile: read it again and re-apply
        except ExchangeError:
            raise
        except Exception as exc:
            raise translate(exc, mailbox=account.primary_smtp_address) from exc
    raise ChangeConflict(
        f"item {item_id} kept changing while its categories were written; will retry on the next run",
        mailbox=account.primary_smtp_address,
        code="ErrorIrresolvableConflict",
    )
