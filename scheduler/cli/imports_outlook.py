"""``relsync import contacts --to-outlook`` and the Outlook half of ``relsync import undo``: the writes
into staff mailboxes, through each mailbox's :class:`~connector.writer.MailboxWriter` (EWS or Graph).

The store records each contact's intent before the write and its outcome after it
(:mod:`mapping.store.import_outlook`), so a run stopped midway creates no second contact: the next run
looks for the pending ones by their stamp first and adopts what it finds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from connector.errors import ExchangeError
from connector.writer import Created, NewContact
from mapping.store import import_outlook
from mapping.store.import_outlook import Intent, Outcome
from mapping.store.store import Store
from scheduler.config import LoadedConfig


def _new_contact(i: Intent) -> NewContact:
    return NewContact(
        our_id=i.our_id,
        display_name=i.display_name,
        given=i.given,
        surname=i.surname,
        emails=i.emails,
        business_phones=i.business_phones,
        mobile=i.mobile,
        company=i.company,
        job_title=i.job_title,
        department=i.department,
    )


def create_in_outlook(
    loaded: LoadedConfig, store: Store, batches: Collection[int], merged_into: Collection[int], rule: str
) -> dict[str, Any]:
    """Create the contacts of the file's batches in their owners' Contacts folders; the summary for the
    report: created, adopted (found by their stamp after a stopped run), already there, skipped (owner
    not a configured mailbox: person and owner cell), failed (with the error's sentence)."""
    from scheduler.connect import open_backends

    prepared = import_outlook.prepare(store, batches, merged_into, rule, loaded.config.mailboxes.addresses)
    summary: dict[str, Any] = {
        "rule": rule,
        "created": 0,
        "adopted": 0,
        "already_created": prepared.already,
        "skipped": [{"person": pid, "name": name, "owner": owner} for pid, name, owner in prepared.skipped],
        "failed": [],
    }
    by_mailbox: dict[str, list[Intent]] = defaultdict(list)
    for intent in prepared.intents:
        by_mailbox[intent.mailbox].append(intent)
    if not by_mailbox:
        return summary
    backends = open_backends(loaded)
    try:
        for mailbox, intents in by_mailbox.items():
            writer = backends.writer(mailbox)
            pending = [i.our_id for i in intents if i.pending]
            found = writer.find_contacts(pending) if pending else {}
            outcomes = [
                Outcome(i.row_id, f.item_id, f.change_key, adopted=True)
                for i in intents
                if (f := found.get(i.our_id)) is not None
            ]
            todo = [i for i in intents if i.our_id not in found]
            for i, result in zip(todo, writer.create_contacts([_new_contact(i) for i in todo]), strict=True):
                if isinstance(result, ExchangeError):
                    outcomes.append(Outcome(i.row_id, error=str(result)))
                    summary["failed"].append({"person": i.person_id, "name": i.display_name, "error": str(result)})
                else:
                    outcomes.append(Outcome(i.row_id, result.item_id, result.change_key))
            import_outlook.record_created(store, mailbox, outcomes)
            summary["adopted"] += sum(1 for o in outcomes if o.adopted)
            summary["created"] += sum(1 for o in outcomes if o.item_id is not None and not o.adopted)
    finally:
        backends.close()
    return summary


def summary_lines(summary: dict[str, Any]) -> list[str]:
    out = [
        f"outlook contacts ({summary['rule']}): {summary['created']} created, {summary['adopted']} found from an "
        f"earlier stopped run, {summary['already_created']} made by relsync before, "
        f"{len(summary['skipped'])} skipped, {len(summary['failed'])} failed"
    ]
    out += [
        f"skipped: {s['name']} (person #{s['person']}): owner {s['owner']!r} is not a configured staff mailbox"
        if s["owner"]
        else f"skipped: {s['name']} (person #{s['person']}): no owner in the file"
        for s in summary["skipped"]
    ]
    out += [
        f"failed: {f['name']} (person #{f['person']}): {f['error']}; the next run tries again"
        for f in summary["failed"]
    ]
    return out


def remove_from_outlook(loaded: LoadedConfig, store: Store, batch: int) -> list[tuple[int, str, str]]:
    """Remove the Outlook contacts batch ``batch`` created that nobody changed since; returns (row id,
    item id, "removed" or "kept") for the store's undo. Raises the first error (nothing is undone then;
    an undo run again finds the contacts already removed as gone)."""
    from mapping.store import services
    from scheduler.connect import open_backends

    created = import_outlook.created_of_batch(store, batch)
    if not created:
        return []
    services.check_undo(store, batch, frozenset(c.item_id for c in created if c.item_id))
    by_mailbox: dict[str, list[import_outlook.CreatedContact]] = defaultdict(list)
    for c in created:
        by_mailbox[c.mailbox].append(c)
    out: list[tuple[int, str, str]] = []
    backends = open_backends(loaded)
    try:
        for mailbox, listed in by_mailbox.items():
            writer = backends.writer(mailbox)
            unknown = [c.our_id for c in listed if not c.item_id]  # a run stopped before recording them
            found = writer.find_contacts(unknown) if unknown else {}
            out += [(c.row_id, "", "removed") for c in listed if not c.item_id and c.our_id not in found]
            contacts = [c for c in listed if c.item_id or c.our_id in found]
            results: Sequence[Any] = writer.remove_contacts(
                [found.get(c.our_id) or Created(c.our_id, c.item_id, c.change_key) for c in contacts]
            )
            for c, r in zip(contacts, results, strict=True):
                if isinstance(r, ExchangeError):
                    raise r
                item_id = c.item_id or found[c.our_id].item_id
                out.append((c.row_id, item_id, "kept" if r == "changed" else "removed"))
    finally:
        backends.close()
    return out
