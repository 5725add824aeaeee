"""Privacy operations as a service runs them: erasure (store, Exchange, suppression, receipt),
subject access export and the retention run. The CLI (``scheduler/cli/privacy.py``) and the daemon call
these; the store work is done by the store service :class:`mapping.store.privacy_service.PrivacyService`,
which owns its transactions (nothing here opens a session).

Erasure order, and why it is crash-safe (a rerun ends in the same state):

1. plan and refuse (unknown subject, merged id, a daemon's lease on an affected mailbox), then in one
   transaction add the addresses to the suppression list and open the erasure journal;
2. remove what relsync wrote into Exchange through the existing writers (EWS and Graph): the managed
   categories on the person's contacts in every mailbox (staff's own categories stay), and relsync's
   follow-up tasks about them, hard-deleted (not moved to Deleted Items); each mailbox's writes, and
   those that failed, are audited as they are done. Both are no-ops
   when repeated; a failure stops here with the store untouched, so a rerun finds everything again;
3. delete the store's rows, close the journal with the receipt and audit it, in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from connector.backends import Backends
from connector.errors import ExchangeError
from mapping.categories import PlannedCategories, all_managed_names
from mapping.errors import EXIT_USAGE, RelsyncError
from mapping.privacy.retention import RetentionPolicy
from mapping.store import privacy_erase as pe
from mapping.store.privacy_retention import RetentionReport
from mapping.store.privacy_service import PrivacyService
from mapping.store.store import Store
from scheduler.config import LoadedConfig

log = structlog.get_logger(__name__)


class UnknownSubject(RelsyncError):
    """Nobody in the store matches the address or id asked about."""

    exit_code = EXIT_USAGE
    topic = "privacy"


@dataclass(frozen=True)
class ErasureOutcome:
    """``receipt`` of the erasure (or of the earlier one, ``already``), or the dry run's ``plan``."""

    receipt: dict[str, Any] | None = None
    plan: dict[str, int] | None = None
    already: bool = False


def managed_names(loaded: LoadedConfig) -> list[str]:
    """Every category relsync writes on contacts (classification, possible duplicate)."""
    names = set(all_managed_names(loaded.classification)) | {loaded.config.identity.duplicate_category}
    return sorted(names)


def unknown_subject(asked: str, consequence: str = "nothing was erased") -> UnknownSubject:
    """The one sentence for an address or id that matches nobody."""
    return UnknownSubject(
        f"nobody in the store matches {asked!r}. Fix: check the address or id "
        f"(`relsync explain NAME` shows ids); {consequence}"
    )


def erase(
    loaded: LoadedConfig,
    store: Store,
    backends: Callable[[], Backends],
    asked: str,
    *,
    dry_run: bool = False,
    keep_transactions: bool | None = None,
) -> ErasureOutcome:
    """Erase the person or organisation ``asked`` names (see the module docstring)."""
    keep = loaded.config.privacy.keep_transactions if keep_transactions is None else keep_transactions
    service = PrivacyService(store)
    start = service.start_erasure(asked, dry_run=dry_run)
    if start.subject is None:
        if start.done is not None:
            return ErasureOutcome(receipt=start.done, already=True)
        raise unknown_subject(asked)
    if start.dry is not None:
        return ErasureOutcome(plan=start.dry)
    assert start.plan is not None
    plan = start.plan
    exchange = _erase_in_exchange(loaded, service, backends(), plan) if plan.contacts or plan.tasks else Counter()
    receipt = service.finish_erasure(start, keep, exchange)
    log.info("erasure finished", erasure=start.erasure_id, **{f"store_{k}": v for k, v in receipt["store"].items()})
    return ErasureOutcome(receipt=receipt)


def _erase_in_exchange(
    loaded: LoadedConfig, service: PrivacyService, backends: Backends, plan: pe.ErasurePlan
) -> Counter[str]:
    names = managed_names(loaded)
    done: Counter[str] = Counter()
    by_mailbox: dict[str, list[pe.ContactTarget]] = {}
    for c in plan.contacts:
        by_mailbox.setdefault(c.mailbox, []).append(c)
    for mailbox, contacts in by_mailbox.items():
        planned = [PlannedCategories(c.link_id, mailbox, c.item_id, c.change_key, c.categories, ()) for c in contacts]
        results = backends.writer(mailbox).write_categories(planned, names, 50)
        failed = [r for r in results if not r.ok]
        service.log_exchange_writes(
            "erase_categories",
            [(f"link:{r.key}", {}) for r in results if r.ok and r.changed],
            reason="erasure",
        )
        service.log_exchange_writes(
            "erase_categories", [(f"link:{r.key}", {}) for r in failed], outcome="failed", reason="erasure"
        )
        if failed:
            raise ExchangeError(
                f"the managed categories of {len(failed)} contact(s) could not be removed "
                f"({failed[0].error}). Fix: run the erasure again once Exchange answers; the "
                "store was not changed yet",
                mailbox=mailbox,
            )
        done["contacts_cleared"] += len(results)
    tasks: dict[str, list[pe.TaskTarget]] = {}
    for t in plan.tasks:
        tasks.setdefault(t.mailbox, []).append(t)
    for mailbox, its in tasks.items():
        # Hard-deleted (EWS DeleteType=HardDelete; Graph DELETE): an erased person's task must not
        # wait in Deleted Items.
        errors = backends.writer(mailbox).delete_tasks([t.item_id for t in its], hard=True)
        outcomes = list(zip(its, errors, strict=True))
        service.log_exchange_writes(
            "erase_task",
            [(f"follow_up:{t.follow_up_id}", {"link_id": t.link_id, "hard": True}) for t, e in outcomes if e is None],
            reason="erasure",
        )
        service.log_exchange_writes(
            "erase_task",
            [(f"follow_up:{t.follow_up_id}", {"link_id": t.link_id}) for t, e in outcomes if e is not None],
            outcome="failed",
            reason="erasure",
        )
        bad = [e for e in errors if e is not None]
        if bad:
            raise ExchangeError(
                f"{len(bad)} follow-up task(s) could not be deleted ({bad[0]}). Fix: run the "
                "erasure again once Exchange answers; the store was not changed yet",
                mailbox=mailbox,
            )
        done["tasks_deleted"] += len(its)
    return done


def retention_policy(loaded: LoadedConfig) -> RetentionPolicy:
    """``[privacy.retention]`` as the pure policy (periods were checked positive at load)."""
    r = loaded.config.privacy.retention
    return RetentionPolicy(r.email_days, r.meeting_days, r.task_days, r.archived_relationship_days)


def run_retention(loaded: LoadedConfig, store: Store, *, dry_run: bool, now: datetime | None = None) -> RetentionReport:
    """One retention run (the daemon's daily job and ``relsync privacy retention``): one transaction per
    window of expired interactions, then one for archived relationships and key dates."""
    report = PrivacyService(store).retention(retention_policy(loaded), dry_run=dry_run, now=now)
    log.info("retention run", **report.as_dict())
    return report
