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

import sqlalchemy as sa
import structlog

from connector.backends import Backends
from connector.errors import ExchangeError, MailboxUnavailable
from connector.ews import EwsConnection
from connector.tasks import Created, NewTask, TaskChange
from connector.writer import MailboxWriter
from mapping.followups import FollowUpPolicy, decide_owner, plan, task_body
from mapping.followups_adopt import PlannedTask, match_orphans
from mapping.store import audit
from mapping.store import followups as fs
from mapping.store import followups_adopt as fa
from mapping.store.models import StaffMailbox, utcnow
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

    def owner(self, address: str) -> OwnerReport:
        return self.owners.setdefault(address, OwnerReport(address))


def followup_policy(loaded: LoadedConfig) -> FollowUpPolicy:
    return build_policy(loaded.config.followups, loaded.classification, loaded.path)[0]


def mailboxes(store: Store, loaded: LoadedConfig) -> tuple[frozenset[int], dict[int, str], dict[int, str]]:
    """Active staff mailboxes (configured and enabled), their addresses and their owners' time zones."""
    section = loaded.config.followups
    zones = {a.casefold(): z for a, z in section.time_zones.items()}
    configured = {a.casefold() for a in loaded.config.mailboxes.addresses}
    with store.session() as session:
        rows = session.execute(sa.select(StaffMailbox.id, StaffMailbox.address, StaffMailbox.enabled)).all()
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
    log.info("follow-ups planned", created=report.planned_created, updated=report.planned_updated,
             completed=report.planned_completed, cancelled=report.planned_cancelled,
             owners_changed=report.owners_changed, problems=len(report.problems))
    return report


def _run(loaded: LoadedConfig, now: datetime, backends: Backends, store: Store,
         report: FollowUpRunReport) -> None:
    policy = followup_policy(loaded)
    section = loaded.config.followups
    active, addresses, zones = mailboxes(store, loaded)

    # 1. What staff did in Outlook.
    with store.session() as session:
        live = fs.live_tasks(session)
    for mailbox_id, tasks in _by_mailbox(live).items():
        owner = report.owner(addresses[mailbox_id])
        if mailbox_id not in active:
            continue  # a gone mailbox: ownership moves the task below
        try:
            states = backends.writer(owner.mailbox).read_task_states([t.item_id for t in tasks])
        except ExchangeError as exc:
            _failed(owner, exc, "tasks not read")
            continue
        with store.session() as session:
            for task, state in zip(tasks, states, strict=True):
                if state.state == "completed":
                    fs.record_staff_completed(session, task.follow_up_id, state.completed_at or now, now)
                    owner.staff_completed += 1
                elif state.state == "gone":
                    fs.record_dismissed(session, task.follow_up_id, now)
                    owner.dismissed += 1

    # 2 and 3. Owners, then the plan, committed as one transaction.
    with store.session() as session:
        engagement = fs.load_engagement(session, now, policy.horizon_days(), policy.owner_window_days)
        decisions = [decide_owner(i, policy.owner_switch_margin) for i in fs.owner_inputs(session, engagement, active)]
        report.owners_changed = fs.save_owner_decisions(session, decisions, now)
        problems = {d.relationship_id: d.problem for d in decisions if d.problem}
        inputs = fs.plan_inputs(session, engagement, zones, section.time_zone, problems)
        by_id = {i.relationship_id: i for i in inputs}
        recorded = fs.record_plan(session, plan(inputs, policy, now), by_id, now)
    report.planned_created, report.planned_updated = recorded.created, recorded.updated
    report.planned_completed, report.planned_cancelled = recorded.completed, recorded.cancelled
    report.problems = [(p.relationship_id, p.message) for p in recorded.problems]

    # 4. The outbox, owner by owner.
    names = {i.relationship_id: i.name for i in inputs}
    with store.session() as session:
        writes = fs.pending_writes(session)
    for mailbox_id, pending in _by_mailbox(writes).items():
        owner = report.owner(addresses[mailbox_id])
        if mailbox_id not in active and any(w.action in ("create", "update") for w in pending):
            owner.error = owner.error or "mailbox is not configured or disabled: its tasks are not written"
            continue
        try:
            _write(backends.writer(owner.mailbox), store, loaded, owner, pending, names, engagement, now)
        except MailboxUnavailable as exc:
            if mailbox_id in active:
                _failed(owner, exc, "tasks not written")
                continue
            # A mailbox that is gone (and no longer configured): its closed tasks went with it.
            with store.session() as session:
                for w in pending:
                    fs.record_written(session, w.follow_up_id, None, now, gone=True)
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
    store: Store,
    loaded: LoadedConfig,
    owner: OwnerReport,
    pending: Sequence[fs.TaskWrite],
    names: dict[int, str],
    engagement: dict[int, fs.Engagement],
    now: datetime,
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
            with store.session() as session:
                audit.master_categories(session, owner.mailbox, added, reason="follow-up tasks")
    with store.session() as session:
        again = [(w, found[w.our_id].item_id, found[w.our_id].change_key) for w in creates if w.our_id in found]
        fs.record_tasks_created(session, again, now)
        owner.found_again += len(again)
    adopted = _adopt(writer, store, owner, [w for w in creates if w.our_id not in found], now)
    to_create = [w for w in creates if w.our_id not in found and w.follow_up_id not in adopted]
    with store.session() as session:
        bodies = fs.summaries(session, to_create, names, engagement)
    for start in range(0, len(to_create), 100):
        chunk = to_create[start:start + 100]
        new = [NewTask(w.our_id, w.subject, task_body(bodies[w.follow_up_id]), w.due_at.date(), w.reminder_at,
                       w.importance, (section.category,)) for w in chunk]
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
        with store.session() as session:
            fs.record_tasks_created(session, done, now)
            audit.exchange_writes(session, "task_create", _refused(failed), outcome="failed", reason="follow-up plan")
        owner.created += len(done)
    stale = [u for u in adopted.values() if u is not None]
    _apply_changes(writer, store, owner, [w for w in pending if w.action != "create"] + stale, found, now)


def _adopt(writer: MailboxWriter, store: Store, owner: OwnerReport, creates: Sequence[fs.TaskWrite],
           now: datetime) -> dict[int, fs.TaskWrite | None]:
    """Planned creates whose task is already in the owner's folder, made by a store this one has no record
    of: follow-up id -> the update the adopted task still needs (its due day differs), or None.

    Only asked when there is something to create, so a steady state costs nothing; one listing of the
    owner's open relsync tasks per run then."""
    if not creates:
        return {}
    listed = writer.list_our_tasks()
    if not listed:
        return {}
    with store.session() as session:
        known = fa.known_our_ids(session, [t.our_id for t in listed])
    orphans = [t for t in listed if t.our_id not in known]
    matched = match_orphans([PlannedTask(w.follow_up_id, w.subject, w.due_at.date()) for w in creates], orphans)
    if not matched:
        return {}
    adopted = [(w, matched[w.follow_up_id], matched[w.follow_up_id].due != w.due_at.date())
               for w in creates if w.follow_up_id in matched]
    with store.session() as session:
        fa.record_tasks_adopted(session, adopted, now)
    owner.adopted += len(adopted)
    log.info("tasks already in Outlook adopted", mailbox=owner.mailbox, adopted=len(adopted),
             orphans_left=len(orphans) - len(adopted))
    return {w.follow_up_id: (replace(w, action="update", our_id=t.our_id, item_id=t.item_id, change_key=t.change_key)
                             if stale else None) for w, t, stale in adopted}


def _apply_changes(writer: MailboxWriter, store: Store, owner: OwnerReport, pending: Sequence[fs.TaskWrite],
                   found: dict[str, Created], now: datetime) -> None:
    changes: list[tuple[fs.TaskWrite, TaskChange]] = []
    deletes: list[tuple[fs.TaskWrite, str]] = []
    with store.session() as session:
        for w in pending:
            hit = found.get(w.our_id)
            item_id = w.item_id or (hit.item_id if hit else None)
            change_key = w.change_key or (hit.change_key if hit else None)
            if item_id is None:  # never reached Exchange: nothing to change there
                fs.record_written(session, w.follow_up_id, None, now, gone=True)
                continue
            if w.action == "delete":
                deletes.append((w, item_id))
            elif w.action == "complete":
                changes.append((w, TaskChange(item_id, change_key, complete_note=w.note or "Done.")))
            else:
                changes.append((w, TaskChange(item_id, change_key, subject=w.subject, due=w.due_at.date(),
                                              reminder_at=w.reminder_at, importance=w.importance)))
    if changes:
        results = writer.update_tasks([c for _, c in changes])
        with store.session() as session:
            refused = _refused(w for (w, _), r in zip(changes, results, strict=True) if isinstance(r, ExchangeError))
            audit.exchange_writes(session, "task_update", refused, outcome="failed", reason="follow-up plan")
            for (w, _), r in zip(changes, results, strict=True):
                if isinstance(r, ExchangeError):
                    owner.failed += 1
                    log.warning("task not updated", mailbox=owner.mailbox, follow_up=w.follow_up_id, error=str(r))
                    continue
                fs.record_written(session, w.follow_up_id, r, now, gone=r is None)
                if w.action == "complete":
                    owner.completed += 1
                else:
                    owner.updated += 1
    if deletes:
        errors = writer.delete_tasks([i for _, i in deletes])
        with store.session() as session:
            refused = _refused(w for (w, _), e in zip(deletes, errors, strict=True) if e is not None)
            audit.exchange_writes(session, "task_delete", refused, outcome="failed", reason="follow-up plan")
            for (w, _), err in zip(deletes, errors, strict=True):
                if err is not None:
                    owner.failed += 1
                    log.warning("task not deleted", mailbox=owner.mailbox, follow_up=w.follow_up_id, error=str(err))
                    continue
                fs.record_written(session, w.follow_up_id, None, now, gone=True)
                owner.deleted += 1


def _refused(writes: Iterable[fs.TaskWrite]) -> list[tuple[str, dict[str, Any]]]:
    """Task writes Exchange refused, as audit subjects (logged ``failed``; retried on the next run)."""
    return [(f"follow_up:{w.follow_up_id}", {"mailbox_id": w.mailbox_id}) for w in writes]
