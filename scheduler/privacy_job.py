"""The daemon's privacy duties, apart from :mod:`scheduler.daemon` (which stays about syncing): who is
acting (its worker, with the configured audit key) and the daily retention run.

Retention ([privacy.retention]) runs once a day under the store-wide job lease ``retention``, so one
worker of a fleet removes what is past its period; what it removed is counted on
``relsync_retention_removed`` and written to the audit log (by :func:`scheduler.privacy.run_retention`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC
from typing import Protocol

import structlog
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from mapping.store.store import Store
from scheduler import privacy_key
from scheduler.config import LoadedConfig
from scheduler.metrics import Metrics
from scheduler.privacy import retention_policy, run_retention

log = structlog.get_logger(__name__)

RETENTION_JOB = "retention"
#: Once a day at a quiet hour (UTC), away from the full hour other schedules like.
RETENTION_TRIGGER = {"hour": 2, "minute": 17}

#: Runs ``work()`` holding the store-wide job lease of the given name; False when another worker holds it.
Exclusive = Callable[[str, Callable[[], object]], bool]


class Worker(Protocol):
    """What these duties need of the daemon (:class:`scheduler.daemon.Daemon`)."""

    loaded: LoadedConfig
    worker: str
    stop: threading.Event
    store: Store | None
    _metrics: Metrics | None

    def _exclusive(self, name: str, work: Callable[[], object]) -> bool: ...


def start_privacy(scheduler: BaseScheduler, daemon: Worker, executor: str) -> None:
    """Called by the daemon's start before its scheduler runs: its audit entries are by
    ``worker:<name>`` with the configured key, and the daily retention job is on ``executor``."""
    privacy_key.register(daemon.loaded, actor=f"worker:{daemon.worker}")
    store = daemon.store
    assert store is not None  # opened by the daemon's start before its jobs are added
    metrics = daemon._metrics  # started before the jobs are added (None: no metrics endpoint)

    def job() -> None:
        retention_job(daemon.loaded, daemon.worker, store, metrics, daemon.stop, daemon._exclusive)

    scheduler.add_job(job, CronTrigger(**RETENTION_TRIGGER, timezone=UTC), id=RETENTION_JOB, executor=executor)


def retention_job(
    loaded: LoadedConfig,
    worker: str,
    store: Store,
    metrics: Metrics | None,
    stop: threading.Event,
    exclusive: Exclusive,
) -> None:
    """One day's run: remove what is past its period, counted in metrics and audit. Nothing configured
    (or the daemon stopping): nothing done. A failure is logged and retried the next day."""
    structlog.contextvars.bind_contextvars(worker=worker)
    if stop.is_set() or retention_policy(loaded).empty:
        return

    def work() -> object:
        report = run_retention(loaded, store, dry_run=False)
        if metrics is not None:
            metrics.record_retention({**report.interactions, "archived_relationship": report.archived_relationships})
        return report

    try:
        if not exclusive(RETENTION_JOB, work):
            log.info("retention is running on another worker")
    except Exception as exc:
        log.error("retention run failed; retried tomorrow", error=f"{type(exc).__name__}: {exc}"[:1000])
