"""The follow-up job: read what staff did with their tasks, decide owners, plan, and write the tasks.

1. Every open task relsync created is read back (one GetItem per 100): completed in Outlook becomes
   an interaction and closes the follow-up; deleted (or moved out of Tasks) dismisses its period.
2. Owners are decided (explicit, else most two-way interactions, with hysteresis) and changes audited.
3. The planner decides; its decisions are committed to the follow-up table as an outbox.
4. The outbox is written to each owner's Tasks folder, in batches, one owner at a time; an owner whose
   mailbox refuses writes is reported and the others go on. A create first looks for its task by our
   id, so a run killed between creating a task and recording it never creates a second one; a task
   an earlier store made (the store was lost, rebuilt or moved) is adopted, not created again
   (:mod:`mapping.followups_adopt`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

import structlog

from connector.backends import Backends
from connector.errors import ExchangeError, MailboxUnavailable
from connector.ews.client import EwsConnection
from connector.writer import Created, MailboxWriter, NewTask, TaskChange
from mapping.followup_body import full_task_body
from mapping.followups import FollowUpPolicy, TaskSummary
from mapping.followups_adopt import PlannedTask, match_orphans
from mapping.store import audit
from mapping.store import followups as fs
from mapping.store.business import BusinessView
from mapping.store.business_service import BusinessStore
from mapping.store.followups_service import FollowUpStore
from mapping.store.mailboxes import staff_mailboxes
from mapping.store.models import utcnow
from mapping.store.store import Store
from scheduler.config import LoadedConfig
from scheduler.config_followups import build_policy

log = structlog.get_logger(__name__)


@dataclass
class OwnerReport:
    """What happened in one owner's Tasks folder."""

    mailbox: str
    created: int = 0
    found_again: int = 0  # created by a run that died before recording it
    adopted: int = 0  # already in Outlook, made by a store this one does not remember (lost, rebuilt)
    updated: int = 0
    completed: int = 0
    deleted: int = 0
    staff_completed: int = 0
    dismissed: int = 0
    failed: int = 0
    error: str | None = None


@dataclass
class FollowUpRunReport:
    planned_created: int = 0
    planned_updated: int = 0
    planned_completed: int = 0
    planned_cancelled: int = 0
    owners_changed: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    owners: dict[str, OwnerReport] = field(default_factory=dict)
    #: The business case: items skipped (one sentence each) and the concentration warnings.
    business_problems: list[str] = field(default_factory=list)
    concentration_warnings: list[str] = field(default_factory=list)

    def owner(self, address: str) -> OwnerReport:
        return self.owners.setdefault(address, OwnerReport(address))


def business_store(store: Store, loaded: LoadedConfig) -> BusinessStore:
    """The business case's reads (``status``, ``followups --problems``, ``explain``, ``demo``)."""
    return BusinessStore(
        store,
        loaded.business,
        value_period_days=loaded.classification.value_period_days,
        currency=loaded.config.classification.currency,
    )


def followup_policy(loaded: LoadedConfig) -> FollowUpPolicy:
    return build_policy(loaded.config.followups, loaded.classification, loaded.path)[0]


def mailboxes(store: Store, loaded: LoadedConfig) -> tuple[frozenset[int], dict[int, str], dict[int, str]]:
    """Active staff mailboxes (configured and enabled), their addresses and their owners' time zones."""
    section = loaded.config.followups
    zones = {a.casefold(): z for a, z in section.time_zones.items()}
    configured = {a.casefold() for a in loaded.config.mailboxes.addresses}
    rows = [(m.id, m.address, m.enabled) for m in staff_mailboxes(store)]
    active = frozenset(m for m, a, on in rows if on and a.casefold() in configured)
    return active, {m: a for m, a, _ in rows}, {m: zones.get(a.casefold(), section.time_zone) for m, a, _ in rows}


def run_followups(
    loaded: LoadedConfig,
    now: datetime | None = None,
    connection: Backends | EwsConnection | None = None,
    store: Store | None = None,
) -> FollowUpRunReport:
    """One pass of the follow-up job (see the module docstring). Safe to rerun at any time."""
    report = FollowUpRunReport()
    if not loaded.config.followups.enabled:
        return report
    from scheduler.connect import as_backends, open_backends

    own_connection, own_store = connection is None, store is None
    backends = open_backends(loaded) if connection is None else as_backends(connection)
    store = store or Store(loaded.config.store.url)
    try:
        _run(loaded, now or utcnow(), backends, store, report)
    finally:
        if own_connection:
            backends.close()
        if own_store:
            store.dispose()
    log.info(
        "follow-ups planned",
        created=report.planned_created,
        updated=report.planned_updated,
        completed=report.planned_completed,
        cancelled=report.planned_cancelled,
        owners_changed=report.owners_changed,
        problems=len(report.problems),
    )
    return report


def _run(loaded: LoadedConfig, now: datetime, backends: Backends, store: Store, report: FollowUpRunReport) -> None:
    policy = followup_policy(loaded)
    section = loaded.config.followups
    active, addresses, zones = mailboxes(store, loaded)
    db = FollowUpStore(store)

    # 1. What staff did in Outlook.
    live = db.live_tasks()
    for mailbox_id, tasks in _by_mailbox(live).items():
        owner = report.owner(addresses[mailbox_id])
        if mailbox_id not in active:
            continue  # a gone mailbox: ownership moves the task below
        try:
            states = backends.writer(owner.mailbox).read_task_states([t.item_id for t in tasks])
        except ExchangeError as exc:
            _failed(owner, exc, "tasks not read")
            continue
        db.record_staff_actions(
            ((task.follow_up_id, state.state, state.completed_at) for task, state in zip(tasks, states, strict=True)),
            now,
        )
        owner.staff_completed += sum(state.state == "completed" for state in states)
        owner.dismissed += sum(state.state == "gone" for state in states)

    # 2 and 3. Owners, then the plan, committed as one transaction.
    planned = db.plan(
        policy,
        active,
        zones,
        section.time_zone,
        now,
        loaded.business,
        value_period_days=loaded.classification.value_period_days,
        currency=loaded.config.classification.currency,
    )
    view = planned.business
    if view is not None:
        report.business_problems, report.concentration_warnings = list(view.problems), view.warnings
    report.owners_changed, inputs, engagement, recorded = (
        planned.owners_changed,
        planned.inputs,
        planned.engagement,
        planned.recorded,
    )
    report.planned_created, report.planned_updated = recorded.created, recorded.updated
    report.planned_completed, report.planned_cancelled = recorded.completed, recorded.cancelled
    report.problems = [(p.relationship_id, p.message) for p in recorded.problems]

    # 4. The outbox, owner by owner.
    names = {i.relationship_id: i.name for i in inputs}
    writes = db.pending_writes()
    for mailbox_id, pending in _by_mailbox(writes).items():
        owner = report.owner(addresses[mailbox_id])
        if mailbox_id not in active and any(w.action in ("create", "update") for w in pending):
            owner.error = owner.error or "mailbox is not configured or disabled: its tasks are not written"
            continue
        try:
            _write(backends.writer(owner.mailbox), db, loaded, owner, pending, names, engagement, now, view)
        except MailboxUnavailable as exc:
            if mailbox_id in active:
                _failed(owner, exc, "tasks not written")
                continue
            # A mailbox that is gone (and no longer configured): its closed tasks went with it.
            db.record_written(((w.follow_up_id, None, True) for w in pending), now)
            log.info("tasks of a gone mailbox forgotten", mailbox=owner.mailbox, tasks=len(pending))
        except ExchangeError as exc:
            _failed(owner, exc, "tasks not written")


class _InMailbox(Protocol):
    @property
    def mailbox_id(self) -> int: ...


_T = TypeVar("_T", bound=_InMailbox)


def _by_mailbox(items: Iterable[_T]) -> dict[int, list[_T]]:
    """Items grouped by owner mailbox, in their order: each owner's Tasks folder is handled at once."""
    grouped: dict[int, list[_T]] = defaultdict(list)
    for item in items:
        grouped[item.mailbox_id].append(item)
    return grouped


def _failed(owner: OwnerReport, exc: ExchangeError, what: str) -> None:
    owner.error = f"{type(exc).__name__}: {exc}"
    log.warning(what, mailbox=owner.mailbox, error=str(exc), code=exc.code)


def _write(
    writer: MailboxWriter,
    db: FollowUpStore,
    loaded: LoadedConfig,
    owner: OwnerReport,
    pending: Sequence[fs.TaskWrite],
    names: dict[int, str],
    engagement: dict[int, fs.Engagement],
    now: datetime,
    view: BusinessView | None = None,
) -> None:
    section = loaded.config.followups
    # Whatever an earlier run left without an item id may exist already (it died after Exchange created
    # it); what this run planned has never been sent.
    unknown = [w.our_id for w in pending if w.item_id is None and w.planned_at < now]
    found = writer.find_tasks(unknown) if unknown else {}
    creates = [w for w in pending if w.action == "create"]
    if creates:
        colour = -1 if section.category_colour == "None" else int(section.category_colour.removeprefix("Preset"))
        added = writer.ensure_master_categories([(section.category, colour)])
        if added:
            audit.log_master_categories(db.store, owner.mailbox, added, reason="follow-up tasks")
    again = [(w, found[w.our_id].item_id, found[w.our_id].change_key) for w in creates if w.our_id in found]
    db.record_tasks_created(again, now)
    owner.found_again += len(again)
    adopted = _adopt(writer, db, owner, [w for w in creates if w.our_id not in found], now)
    to_create = [w for w in creates if w.our_id not in found and w.follow_up_id not in adopted]
    bodies = _bodies(db, to_create, names, engagement, view, only_extras=False)
    for start in range(0, len(to_create), 100):
        chunk = to_create[start : start + 100]
        new = [
            NewTask(
                w.our_id,
                w.subject,
                bodies[w.follow_up_id],
                w.due_at.date(),
                w.reminder_at,
                w.importance,
                (section.category,),
            )
            for w in chunk
        ]
        results = writer.create_tasks(new)
        done: list[tuple[fs.TaskWrite, str, str | None]] = []
        failed: list[fs.TaskWrite] = []
        for w, r in zip(chunk, results, strict=True):
            if isinstance(r, ExchangeError):
                owner.failed += 1
                failed.append(w)
                log.warning("task not created", mailbox=owner.mailbox, follow_up=w.follow_up_id, error=str(r))
            else:
                done.append((w, r.item_id, r.change_key))
        db.record_tasks_created(done, now)
        audit.log_exchange_writes(db.store, "task_create", _refused(failed), outcome="failed", reason="follow-up plan")
        owner.created += len(done)
    stale = [u for u in adopted.values() if u is not None]
    changed = [w for w in pending if w.action != "create"] + stale
    # An update of a task that now carries key-date reasons (or offers, a note) rewrites its body too.
    new_bodies = _bodies(db, [w for w in changed if w.action == "update"], names, engagement, view, only_extras=True)
    _apply_changes(writer, db, owner, changed, found, now, new_bodies)


def _bodies(
    db: FollowUpStore,
    writes: Sequence[fs.TaskWrite],
    names: dict[int, str],
    engagement: dict[int, fs.Engagement],
    view: BusinessView | None,
    *,
    only_extras: bool,
) -> dict[int, str]:
    """Follow-up id -> its task body: the summary, with the business case's parts (what matters on top,
    why now, offer next). ``only_extras``: only the follow-ups that have such parts."""
    if view is None and only_extras:
        return {}
    reasons = db.reasons([w.follow_up_id for w in writes]) if view is not None else {}

    def extras(w: fs.TaskWrite) -> bool:
        rid = w.relationship_id
        return view is not None and bool(
            reasons.get(w.follow_up_id) or view.notes.get(rid) or view.offers.get(rid) or view.pressure.get(rid)
        )

    wanted = [w for w in writes if extras(w)] if only_extras else list(writes)
    if not wanted:
        return {}
    summaries = db.summaries(wanted, names, engagement)
    return {
        w.follow_up_id: _body(summaries[w.follow_up_id], w.relationship_id, reasons.get(w.follow_up_id, []), view)
        for w in wanted
    }


def _body(summary: TaskSummary, rid: int, reasons: list[str], view: BusinessView | None) -> str:
    if view is None:
        return full_task_body(summary)
    p = view.pressure.get(rid)
    return full_task_body(summary, view.notes.get(rid), reasons, view.offers.get(rid, ()), p.line if p else None)


def _adopt(
    writer: MailboxWriter, db: FollowUpStore, owner: OwnerReport, creates: Sequence[fs.TaskWrite], now: datetime
) -> dict[int, fs.TaskWrite | None]:
    """Planned creates whose task is already in the owner's folder, made by a store this one has no record
    of: follow-up id -> the update the adopted task still needs (its due day differs), or None.

    Only asked when there is something to create, so a steady state costs nothing; one listing of the
    owner's open relsync tasks per run then."""
    if not creates:
        return {}
    listed = writer.list_our_tasks()
    if not listed:
        return {}
    known = db.known_our_ids([t.our_id for t in listed])
    orphans = [t for t in listed if t.our_id not in known]
    matched = match_orphans([PlannedTask(w.follow_up_id, w.subject, w.due_at.date()) for w in creates], orphans)
    if not matched:
        return {}
    adopted = [
        (w, matched[w.follow_up_id], matched[w.follow_up_id].due != w.due_at.date())
        for w in creates
        if w.follow_up_id in matched
    ]
    db.record_tasks_adopted(adopted, now)
    owner.adopted += len(adopted)
    log.info(
        "tasks already in Outlook adopted",
        mailbox=owner.mailbox,
        adopted=len(adopted),
        orphans_left=len(orphans) - len(adopted),
    )
    return {
        w.follow_up_id: (
            replace(w, action="update", our_id=t.our_id, item_id=t.item_id, change_key=t.change_key) if stale else None
        )
        for w, t, stale in adopted
    }


def _apply_changes(
    writer: MailboxWriter,
    db: FollowUpStore,
    owner: OwnerReport,
    pending: Sequence[fs.TaskWrite],
    found: dict[str, Created],
    now: datetime,
    bodies: dict[int, str] | None = None,
) -> None:
    changes: list[tuple[fs.TaskWrite, TaskChange]] = []
    deletes: list[tuple[fs.TaskWrite, str]] = []
    never_sent: list[int] = []
    for w in pending:
        hit = found.get(w.our_id)
        item_id = w.item_id or (hit.item_id if hit else None)
        change_key = w.change_key or (hit.change_key if hit else None)
        if item_id is None:  # never reached Exchange: nothing to change there
            never_sent.append(w.follow_up_id)
            continue
        if w.action == "delete":
            deletes.append((w, item_id))
        elif w.action == "complete":
            changes.append((w, TaskChange(item_id, change_key, complete_note=w.note or "Done.")))
        else:
            changes.append(
                (
                    w,
                    TaskChange(
                        item_id,
                        change_key,
                        subject=w.subject,
                        due=w.due_at.date(),
                        reminder_at=w.reminder_at,
                        importance=w.importance,
                        body=(bodies or {}).get(w.follow_up_id),
                    ),
                )
            )
    db.record_written(((follow_up_id, None, True) for follow_up_id in never_sent), now)
    if changes:
        results = writer.update_tasks([c for _, c in changes])
        updated: list[tuple[int, str | None, bool]] = []
        refused: list[fs.TaskWrite] = []
        for (w, _), r in zip(changes, results, strict=True):
            if isinstance(r, ExchangeError):
                owner.failed += 1
                refused.append(w)
                log.warning("task not updated", mailbox=owner.mailbox, follow_up=w.follow_up_id, error=str(r))
                continue
            updated.append((w.follow_up_id, r, r is None))
            if w.action == "complete":
                owner.completed += 1
            else:
                owner.updated += 1
        db.record_written(updated, now)
        audit.log_exchange_writes(db.store, "task_update", _refused(refused), outcome="failed", reason="follow-up plan")
    if deletes:
        errors = writer.delete_tasks([i for _, i in deletes])
        deleted: list[tuple[int, str | None, bool]] = []
        not_deleted: list[fs.TaskWrite] = []
        for (w, _), err in zip(deletes, errors, strict=True):
            if err is not None:
                owner.failed += 1
                not_deleted.append(w)
                log.warning("task not deleted", mailbox=owner.mailbox, follow_up=w.follow_up_id, error=str(err))
                continue
            deleted.append((w.follow_up_id, None, True))
            owner.deleted += 1
        db.record_written(deleted, now)
        audit.log_exchange_writes(
            db.store, "task_delete", _refused(not_deleted), outcome="failed", reason="follow-up plan"
        )


def _refused(writes: Iterable[fs.TaskWrite]) -> list[tuple[str, dict[str, Any]]]:
    """Task writes Exchange refused, as audit subjects (logged ``failed``; retried on the next run)."""
    return [(f"follow_up:{w.follow_up_id}", {"mailbox_id": w.mailbox_id}) for w in writes]
