"""Writing categories back onto Outlook items, touching nothing else.

Only the ``categories`` field is ever written (``update_fields=["categories"]``), and only the
categories relsync manages change: the user's own categories on the item stay as they are. The item is
read fresh before the write and the write carries its ChangeKey; if the user edited the item in
between (``ErrorIrresolvableConflict``), it is read again, the change is re-applied to what is there
now, and the write retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence

from exchangelib import Account, Contact
from exchangelib import errors as ews
from exchangelib.properties import ItemId

from connector.errors import ChangeConflict, ExchangeError
from connector.ews.errors import translate
from connector.writer import (
    MAX_CONFLICT_RETRIES,
    BatchWrite,
    CategoryWrite,
    PlannedCategories,
    merge_managed,
    merged_categories,
)

#: Item changes per UpdateItem request in the batched write-back (EWS accepts far more; 100 keeps one
#: conflict's re-read small and a request well under throttling budgets).
DEFAULT_CHUNK_SIZE = 100

log = logging.getLogger(__name__)


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


def _chunks(items: Sequence[PlannedCategories], size: int) -> Iterable[Sequence[PlannedCategories]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_categories_batched(
    account_for: Callable[[str], Account],
    plan: Iterable[PlannedCategories],
    all_managed: Collection[str],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[BatchWrite]:
    """Bring each planned contact to its wanted managed categories, writing only those that differ.

    The comparison uses what the store last saw (no read first): items whose merged categories equal
    their current ones are not touched at all. The rest go out ``chunk_size`` per UpdateItem, each
    carrying its last-known ChangeKey and only ``categories``. ``bulk_update`` raises
    ``ErrorIrresolvableConflict`` for a whole chunk when one item in it changed meanwhile (the others
    may already be written, their results lost), so such a chunk is read again in one GetItem,
    re-merged against what is there now and written item by item (with the usual conflict retry).
    An error is reported per item; it never stops the other items or mailboxes.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    results: list[BatchWrite] = []
    by_mailbox: dict[str, list[PlannedCategories]] = {}
    for entry in plan:
        target = tuple(merge_managed(entry.current, entry.wanted, all_managed))
        if target == tuple(entry.current):
            results.append(BatchWrite(entry.key, entry.mailbox, entry.item_id, target, entry.change_key, False))
        else:
            by_mailbox.setdefault(entry.mailbox, []).append(entry)
    for mailbox, entries in by_mailbox.items():
        account = account_for(mailbox)
        for chunk in _chunks(entries, chunk_size):
            results.extend(_write_chunk(account, chunk, all_managed))
    return results


def _write_chunk(
    account: Account, chunk: Sequence[PlannedCategories], all_managed: Collection[str]
) -> list[BatchWrite]:
    mailbox = account.primary_smtp_address
    targets = [merge_managed(e.current, e.wanted, all_managed) for e in chunk]
    items = [
        (Contact(account=account, id=e.item_id, changekey=e.change_key, categories=t or None), ["categories"])
        for e, t in zip(chunk, targets, strict=True)
    ]
    try:
        answers = account.bulk_update(items, chunk_size=len(items))
    except ews.ErrorIrresolvableConflict:
        return _rewrite_after_conflict(account, chunk, all_managed)
    except Exception as exc:
        err = translate(exc, mailbox=mailbox)
        log.warning("categories not written to %d items of %s: %s", len(chunk), mailbox, err)
        return [BatchWrite(e.key, e.mailbox, e.item_id, e.current, e.change_key, False, str(err)) for e in chunk]
    out: list[BatchWrite] = []
    retry: list[PlannedCategories] = []
    for entry, target, answer in zip(chunk, targets, answers, strict=True):
        if isinstance(answer, ews.ErrorInvalidChangeKey):
            retry.append(entry)
        elif isinstance(answer, Exception):
            out.append(
                BatchWrite(
                    entry.key,
                    entry.mailbox,
                    entry.item_id,
                    entry.current,
                    entry.change_key,
                    False,
                    f"{type(answer).__name__}: {answer}",
                )
            )
        else:
            _, change_key = answer
            out.append(BatchWrite(entry.key, entry.mailbox, entry.item_id, tuple(target), change_key, True))
    if retry:
        out.extend(_rewrite_after_conflict(account, retry, all_managed))
    return out


def _rewrite_after_conflict(
    account: Account, chunk: Sequence[PlannedCategories], all_managed: Collection[str]
) -> list[BatchWrite]:
    """Read the chunk again (one GetItem), re-merge against what is there now, write item by item."""
    try:
        fresh = list(account.fetch(ids=[ItemId(id=e.item_id) for e in chunk], only_fields=["categories"]))
    except Exception as exc:
        err = translate(exc, mailbox=account.primary_smtp_address)
        return [BatchWrite(e.key, e.mailbox, e.item_id, e.current, e.change_key, False, str(err)) for e in chunk]
    out: list[BatchWrite] = []
    for entry, item in zip(chunk, fresh, strict=True):
        if isinstance(item, Exception):
            out.append(
                BatchWrite(
                    entry.key,
                    entry.mailbox,
                    entry.item_id,
                    entry.current,
                    entry.change_key,
                    False,
                    f"{type(item).__name__}: {item}",
                )
            )
            continue
        now = list(item.categories or ())
        target = merge_managed(now, entry.wanted, all_managed)
        if target == now:  # already written (by the failed chunk), or nothing to do any more
            out.append(BatchWrite(entry.key, entry.mailbox, entry.item_id, tuple(now), item.changekey, False))
            continue
        wanted = {w.casefold() for w in entry.wanted}
        try:
            written = update_categories(
                account, entry.item_id, add=entry.wanted, remove=[m for m in all_managed if m.casefold() not in wanted]
            )
        except ExchangeError as exc:
            out.append(BatchWrite(entry.key, entry.mailbox, entry.item_id, tuple(now), item.changekey, False, str(exc)))
            continue
        out.append(
            BatchWrite(entry.key, entry.mailbox, entry.item_id, written.categories, written.change_key, written.changed)
        )
    return out
