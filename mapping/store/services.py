"""The store services behind one-shot commands (`status`, `followups`, `explain`, `export`, the imports,
`match calibrate`): each call is one transaction that it opens and commits (or, for a dry run, rolls back),
so the command line never holds a session. The work itself is in the domain modules named on each function;
long-running jobs have their own services (`FollowUpStore`, `ClassificationPass`, `WorkerLeases`, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from mapping.contact_import.plan import ImportPlan
from mapping.followups import FollowUpPolicy
from mapping.identity import Thresholds
from mapping.sales_history import TransactionRow
from mapping.store import classification, contact_import, followups, identity, import_undo, reports, sales_history
from mapping.store.store import Store


def mailbox_status(store: Store, now: datetime, configured: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """`relsync status`: one row per staff mailbox (see :func:`mapping.store.reports.mailbox_status`)."""
    with store.session() as s:
        return reports.mailbox_status(s, now, configured=configured)


def export_rows(store: Store, what: str) -> Iterator[dict[str, Any]]:
    """`relsync export`: the rows of one export, streamed inside one read transaction that ends when the
    caller has read them all (see :func:`mapping.store.reports.export_rows`)."""
    with store.session() as s:
        yield from reports.export_rows(s, what)


def follow_ups(
    store: Store, now: datetime, owner: str | None = None, overdue: bool = False, include_closed: bool = False
) -> list[followups.FollowUpRow]:
    """`relsync followups`: the follow-ups, due first (see :func:`mapping.store.followups.list_follow_ups`)."""
    with store.session() as s:
        return followups.list_follow_ups(s, now, owner=owner, overdue=overdue, include_closed=include_closed)


def follow_up_problems(
    store: Store, policy: FollowUpPolicy, active: frozenset[int], limit: int | None = None
) -> list[dict[str, Any]]:
    """Relationships whose plan calls for follow-ups nobody can receive, the first ``limit`` with their
    reasons (see :func:`mapping.store.followups.followup_problems`)."""
    with store.session() as s:
        return followups.followup_problems(s, policy, active, limit=limit)


def follow_up_problem_count(store: Store, policy: FollowUpPolicy, active: frozenset[int]) -> int:
    """How many relationships :func:`follow_up_problems` would list, without reading them."""
    with store.session() as s:
        return followups.count_followup_problems(s, policy, active)


def explained(store: Store, name_or_email: str) -> list[dict[str, Any]]:
    """`relsync explain`: every relationship the query names, explained
    (see :mod:`mapping.store.classification`)."""
    with store.session() as s:
        return [
            classification.explain_relationship(s, rel) for rel in classification.find_relationships(s, name_or_email)
        ]


def import_sales(
    store: Store, rows: Sequence[TransactionRow], source_file: str, thresholds: Thresholds
) -> sales_history.ImportResult:
    """`relsync import transactions`: earlier unmatched rows are matched again first (the store may know
    their customers by now), then the file's rows are imported (see :mod:`mapping.store.sales_history`)."""
    with store.session() as s:
        rematched = sales_history.rematch_unmatched(s, thresholds)
        result = sales_history.import_sales_history(s, rows, source_file, thresholds)
        result.rematched = rematched
        return result


def import_contacts(
    store: Store, rows: Sequence[Any], **options: Any
) -> tuple[ImportPlan, int | None, list[int], bool]:
    """`relsync import contacts`: plan the rows against the store and apply them as a batch, or roll the
    transaction back when it is a dry run (see :func:`mapping.store.contact_import.import_contacts`)."""
    with store.session() as s:
        plan, batch, earlier, dry = contact_import.import_contacts(s, rows, **options)
        if dry:
            s.rollback()
        return plan, batch, earlier, dry


def undo_import(store: Store, batch_id: int, outlook: Sequence[tuple[int, str, str]] = ()) -> import_undo.UndoResult:
    """`relsync import undo`: see :func:`mapping.store.import_undo.undo_batch` (``outlook``: what became of
    the Outlook contacts the batch created)."""
    with store.session() as s:
        return import_undo.undo_batch(s, batch_id, outlook)


def check_undo(store: Store, batch_id: int, outlook_items: frozenset[str] = frozenset()) -> None:
    """Raise when the batch cannot be undone, before anything is removed from a mailbox."""
    with store.session() as s:
        import_undo.check_undo(s, batch_id, outlook_items)


def import_batches(store: Store) -> list[dict[str, Any]]:
    """`relsync import list`: every contact import batch, newest first."""
    with store.session() as s:
        return import_undo.batch_list(s)


def fit_calibration(store: Store, thresholds: Thresholds, fitted_at: str) -> identity.StoreCalibration:
    """`relsync match calibrate`: fit the evidence weights on the store's own pairs; changes nothing."""
    with store.session() as s:
        return identity.fit_store_calibration(s, thresholds, fitted_at)
