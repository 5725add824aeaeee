"""``relsync daemon``: keeps every mailbox fresh, alone or as one of several workers on one PostgreSQL.

Jobs (APScheduler 3.11 ``BackgroundScheduler``; every job ``max_instances=1``, ``coalesce=True``):

* ``sync:<address>``, one per mailbox, on an interval with jitter. A run first takes the mailbox's
  lease (:mod:`mapping.store.leases`): free or expired, and due. The due time lives in the store, so
  however many daemons run, a mailbox is synced once per ``sync.interval_minutes`` by one of them; a
  daemon that finds a mailbox held or not yet due moves its own job to when that changes (due time,
  or the holder's lease expiry, which is how a dead worker's mailboxes are taken over). After the
  sync the lease is released with the next due time: interval plus jitter, or jittered exponential
  back-off after a failure, or the slow schedule after ``daemon.attention_after_failures`` failures
  in a row (the mailbox is marked as needing attention and still tried, never abandoned). On
  PostgreSQL the release keeps the worker's affinity: other workers leave the mailbox to it until
  ``daemon.lease_seconds`` after it falls due, so each worker keeps its mailboxes (and their cached
  Accounts and folders: no GetFolder lookups) and a mailbox moves only when its worker is late or gone.
* ``leases``: renews this worker's leases every third of ``daemon.lease_seconds``; a sync that has
  committed no page for ``daemon.stuck_after_seconds`` is told to stop (its lease is not renewed, so
  it can be restarted here or elsewhere once it returns or its lease expires).
* ``classify``: identity resolution, classification and category write-back after syncs brought
  something in (at most every ``daemon.classify_interval_minutes``), one worker at a time (job lease).
* ``followups``: follow-up planning on ``daemon.followups_schedule`` (cron, UTC), one worker at a time.

SIGTERM or SIGINT: no new sync starts; running syncs stop after the page they are applying (each page
commits with its sync state), leases of finished mailboxes are handed back at once, and the process
exits 0 within ``daemon.shutdown_grace_seconds`` (a request still hanging then is abandoned: nothing of
it was applied, and its lease simply expires).

SQLite is the single-process store: a second daemon on the same SQLite file refuses to start. There,
leases only keep ``relsync resync`` from syncing a mailbox the daemon is syncing; they are taken for
:data:`SQLITE_LEASE_SECONDS` and never renewed, because on SQLite any write from another thread makes a
running page transaction fail ("database is locked"). A daemon that dies frees them at once for
commands on the same host (its ``host:pid`` no longer exists).
"""

from __future__ import annotations

import cProfile
import logging
import os
import pstats
import random
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connector.backends import Backends
from connector.engine import FolderReport, MailboxReport
from connector.errors import AuthenticationFailed
from connector.ews.client_tag import tag_requests
from mapping.store import mailboxes, migrate
from mapping.store.errors import DatabaseError, StoreBusy, WriteConflict
from mapping.store.leases import WorkerLeases
from mapping.store.models import utcnow
from mapping.store.store import Store
from mapping.store.urls import sqlite_file
from scheduler.backoff import Schedule
from scheduler.config import LoadedConfig
from scheduler.connect import open_backends
from scheduler.daemon_lock import DaemonRefused as DaemonRefused  # re-exported: callers catch it here
from scheduler.daemon_lock import SqliteDaemonLock
from scheduler.followups_job import FollowUpRunReport, run_followups
from scheduler.jobs import (
    classify_and_write_back,
    mark_possible_duplicates,
    resolve_identities_since_last_pass,
    sync_rules,
    sync_settings,
)
from scheduler.lease_sync import dead_local_process
from scheduler.metrics import Metrics, MetricsAddressError, MetricsServer, serve
from scheduler.privacy_job import start_privacy

if TYPE_CHECKING:
    from scheduler.web.server import ConsoleThread

log = structlog.get_logger(__name__)

CLASSIFY_JOB = "classify"
FOLLOWUPS_JOB = "followups"
#: A page that collides with another worker's insert of the same person is retried this often at once.
CONFLICT_RETRIES = 4
#: Lease length on SQLite (no renewals there; see the module docstring).
SQLITE_LEASE_SECONDS = 6 * 3600.0
#: Set to a file path: the daemon profiles the CPU of its no-change sync jobs (cProfile) and writes the combined
#: statistics there on shutdown (read with ``python -m pstats FILE``). For measuring, not for production.
PROFILE_ENV = "RELSYNC_DAEMON_PROFILE"
#: The sync jobs' own trigger never fires more often than this. Each run sets its job's next time
#: itself (the shared due time, see ``_wake``); the trigger is only a fallback. A job that is due while
#: it still waits for a free thread is skipped and rescheduled by its trigger, so on a busy daemon with
#: a short interval a fast trigger would make the scheduler thread spin over every waiting job.
TRIGGER_FLOOR_SECONDS = 5.0


@dataclass
class _Running:
    """A sync in progress on this worker."""

    address: str
    started: float
    last_progress: float
    stop: threading.Event = field(default_factory=threading.Event)


class Daemon:
    """The scheduler, leases and jobs of one worker. :meth:`run` blocks until stopped."""

    def __init__(self, loaded: LoadedConfig, *, stop: threading.Event | None = None, seed: int | None = None) -> None:
        self.loaded = loaded
        config = loaded.config
        self.cfg = config.daemon
        self.worker = self.cfg.worker_id
        self.stop = stop or threading.Event()
        self.rng = random.Random(seed)
        self.schedule = Schedule(
            interval=config.sync.interval_minutes * 60,
            jitter=self.cfg.jitter_seconds,
            backoff_base=self.cfg.backoff_base_seconds,
            backoff_max=self.cfg.backoff_max_seconds,
            attention_after=self.cfg.attention_after_failures,
            slow_interval=self.cfg.slow_interval_minutes * 60,
        )
        self.addresses = list(config.mailboxes.addresses)
        self.folders = list(config.sync.folders)
        self._running: dict[int, _Running] = {}
        self._lock = threading.Lock()
        self._dirty = threading.Event()  # something was synced since the last classification
        #: Syncs stopped as stuck since start (each is restarted once it returns).
        self.stuck_stopped = 0
        self._sqlite_lock: SqliteDaemonLock | None = None
        self._metrics: Metrics | None = None
        self._metrics_server: MetricsServer | None = None
        self._console: ConsoleThread | None = None  # [web] enabled: the web console in this process
        self.store: Store | None = None
        self.leases: WorkerLeases | None = None
        self.connection: Backends | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.ids: dict[str, int] = {}
        self.single = False  # SQLite: one sync at a time, leases not renewed
        self.lease_seconds = self.cfg.lease_seconds
        #: How long a mailbox this worker synced last stays its own after falling due (see leases.claim):
        #: one lease length, the lateness that also ends a silent worker's claim.
        self.affinity_seconds = self.cfg.lease_seconds
        self._profile_path = os.environ.get(PROFILE_ENV) or None
        self._profile: pstats.Stats | None = None
        self.profiled_syncs = 0

    # ------------------------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Check the store, take the SQLite lock, and start the scheduler (returns at once)."""
        url = self.loaded.config.store.url
        database = sqlite_file(url)
        if database is not None:
            self._sqlite_lock = SqliteDaemonLock(database, self.worker)
            self._sqlite_lock.acquire()
        at, head = migrate.current(url), migrate.head()
        if at != head:
            self._release_sqlite_lock()
            raise DaemonRefused(
                f"the store is at revision {at or 'none (empty)'}, this relsync needs {head}. "
                "Fix: run `relsync db upgrade`"
            )
        structlog.contextvars.bind_contextvars(worker=self.worker)
        # APScheduler logs every run at INFO and every coalesced tick at WARNING: routine for a daemon.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        tag_requests(self.worker)
        self.store = Store(url)
        self.connection = open_backends(self.loaded, caching=True)
        now = utcnow()
        for address in self.addresses:
            self.ids[address] = self.store.ensure_mailbox(address, address).id
        self.leases = WorkerLeases(self.store, self.worker)
        # A new mailbox is due at once; an existing one keeps the schedule all workers share.
        due = self.leases.start({mid: now for mid in self.ids.values()})
        self._start_metrics()
        if self.loaded.config.web.enabled:  # the web console in this process ([web] enabled)
            from scheduler.web.server import ConsoleThread, console_app, listen_of

            self._console = ConsoleThread(console_app(self.loaded, self.store), listen_of(self.loaded)).start()
        # SQLite has one writer and refuses a read transaction that turns into a write after another
        # commit (busy snapshot), so on SQLite the store work (syncs, classification) runs one at a time.
        single = self.single = database is not None
        if single:
            self.lease_seconds = max(SQLITE_LEASE_SECONDS, self.cfg.lease_seconds)
        store_jobs = "default" if single else "control"
        scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(1 if single else self.cfg.workers),
                "control": ThreadPoolExecutor(3),
            },
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )
        interval = self.schedule.interval
        for address in self.addresses:
            # Mailboxes already due start spread over the jitter, so a fleet restart is no stampede.
            first = max(due.get(address, now), now) + timedelta(seconds=self.rng.uniform(0, self.cfg.jitter_seconds))
            scheduler.add_job(
                self._sync_job,
                IntervalTrigger(seconds=max(interval, TRIGGER_FLOOR_SECONDS), jitter=self.cfg.jitter_seconds or None),
                args=[address],
                id=self._job_id(address),
                name=f"sync {address}",
                next_run_time=first,
            )
        scheduler.add_job(
            self._leases_job,
            IntervalTrigger(seconds=self.cfg.lease_seconds / 3),
            id="leases",
            executor="control",
            next_run_time=now,
        )
        scheduler.add_job(
            self._classify_job,
            IntervalTrigger(seconds=self.cfg.classify_interval_minutes * 60),
            id=CLASSIFY_JOB,
            executor=store_jobs,
        )
        scheduler.add_job(
            self._followups_job,
            CronTrigger.from_crontab(self.cfg.followups_schedule, timezone=UTC),
            id=FOLLOWUPS_JOB,
            executor=store_jobs,
        )
        start_privacy(scheduler, self, store_jobs)  # audit as this worker; the daily retention job
        self.scheduler = scheduler
        scheduler.start()
        log.info(
            "daemon started",
            mailboxes=len(self.addresses),
            workers=1 if single else self.cfg.workers,
            interval_seconds=interval,
            store=repr(self.store),
        )

    def run(self) -> bool:
        """Start, serve until :attr:`stop` is set (SIGTERM/SIGINT), shut down. True when every
        thread finished in time (False: a request was abandoned; exit anyway)."""
        self.start()
        while not self.stop.wait(1.0):
            pass
        return self.shutdown()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT ask for a graceful stop (main thread only)."""

        def ask(signum: int, _frame: object) -> None:
            log.info("stop requested", signal=signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, ask)
        signal.signal(signal.SIGINT, ask)

    def shutdown(self) -> bool:
        self.stop.set()
        deadline = time.monotonic() + self.cfg.shutdown_grace_seconds
        with self._lock:
            for running in self._running.values():
                running.stop.set()  # wakes a retry wait at once
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    break
            time.sleep(0.05)
        with self._lock:
            unfinished = dict(self._running)
        if self.leases is not None:
            # Mailboxes not in the middle of a page go back at once: another worker need not wait
            # for the lease to expire. An abandoned one keeps its lease until it expires.
            self.leases.hand_back(keep=set(unfinished))
        if unfinished:
            log.warning(
                "stopped with syncs still waiting on Exchange; their leases will expire",
                mailboxes=[r.address for r in unfinished.values()],
            )
        else:
            if self.connection is not None:
                self.connection.close()
            if self.store is not None:
                self.store.dispose()
        if self._metrics_server is not None:
            self._metrics_server.close()
        if self._console is not None:
            self._console.stop()
        self._release_sqlite_lock()
        if self._profile_path is not None and self._profile is not None:
            self._profile.dump_stats(self._profile_path)
            log.info("profile written", path=self._profile_path, syncs=self.profiled_syncs)
        log.info("daemon stopped", clean=not unfinished)
        return not unfinished

    def _release_sqlite_lock(self) -> None:
        if self._sqlite_lock is not None:
            self._sqlite_lock.release()
            self._sqlite_lock = None

    def _start_metrics(self) -> None:
        """``/metrics`` and ``/healthz``, starting from what the store knows (lag, attention)."""
        assert self.store is not None
        self._metrics = Metrics(stale_after_seconds=max(3 * self.schedule.interval, 600.0))
        self._metrics.seed(mailboxes.health(self.store, utcnow(), self.addresses))
        try:
            self._metrics_server = serve(self._metrics, self.cfg.metrics_listen)
        except MetricsAddressError as exc:  # the port is taken, or the address is not this machine's
            self._release_sqlite_lock()
            raise DaemonRefused(f"{self.loaded.path}: daemon.metrics_listen: {exc}") from None
        log.info("metrics served", url=self._metrics_server.url)

    # ---------------------------------------------------------------------------------------- sync
    @staticmethod
    def _job_id(address: str) -> str:
        return f"sync:{address}"

    def _wake(self, address: str, when: datetime) -> None:
        """Run this mailbox's job next at ``when`` (the shared schedule), not on its own interval."""
        if self.scheduler is None or self.stop.is_set():
            return
        try:
            self.scheduler.modify_job(self._job_id(address), next_run_time=max(when, utcnow()))
        except Exception:  # the scheduler is shutting down: nothing to schedule
            log.debug("job not rescheduled", mailbox=address)

    def _sync_job(self, address: str) -> None:
        if self._profile_path is None:
            self._run_sync_job(address)
            return
        profile = cProfile.Profile(time.thread_time)  # CPU of this thread: GIL and I/O waits excluded
        profile.enable()
        try:
            report = self._run_sync_job(address)
        finally:
            profile.disable()
        quiet = (
            report is not None
            and report.ok
            and not report.interrupted
            and not any(f.full_sync or f.result.created + f.result.updated + f.result.deleted for f in report.folders)
        )
        if quiet:  # only no-change syncs: the first (full) cycle would drown what a steady cycle costs
            with self._lock:
                if self._profile is None:
                    self._profile = pstats.Stats(profile)
                else:
                    self._profile.add(profile)
                self.profiled_syncs += 1

    def _run_sync_job(self, address: str) -> MailboxReport | None:
        structlog.contextvars.bind_contextvars(worker=self.worker)
        if self.stop.is_set():
            return None
        assert self.leases is not None and self.connection is not None
        mailbox_id = self.ids[address]
        now = utcnow()
        try:
            claim = self.leases.claim(
                mailbox_id, self.lease_seconds, now, is_dead=dead_local_process, affinity_seconds=self.affinity_seconds
            )
        except StoreBusy as exc:  # SQLite busy with a command's write: try again shortly
            log.info("lease not taken, store busy", mailbox=address, error=str(exc.orig))
            self._wake(address, now + timedelta(seconds=1 + self.rng.uniform(0, 2)))
            return None
        if not claim.taken:
            # Another worker holds it: look again when its lease would expire (a dead worker's
            # mailboxes are taken over then). Not due: come back when it is.
            when = claim.next_due_at
            if claim.busy:
                when = max(claim.expires_at or now, when)
            self._wake(address, when + timedelta(seconds=self.rng.uniform(0, 1)))
            return None
        running = _Running(address, time.monotonic(), time.monotonic())
        with self._lock:
            self._running[mailbox_id] = running
        report = self._sync(address, running)
        with self._lock:
            self._running.pop(mailbox_id, None)
        log.debug(
            "mailbox sync ended",
            mailbox=address,
            ok=report.ok,
            seconds=round(time.monotonic() - running.started, 3),
            late_seconds=round((now - claim.next_due_at).total_seconds(), 3),
        )
        self._finish(address, mailbox_id, claim.failures, report)
        return report

    def _sync(self, address: str, running: _Running) -> MailboxReport:
        assert self.store is not None and self.connection is not None

        def progress(_mailbox: str, _folder: str, _report: FolderReport) -> None:
            running.last_progress = time.monotonic()

        def wait(seconds: float) -> None:
            running.stop.wait(seconds)  # a retry wait ends at once on shutdown or a lost lease

        engine = self.connection.engine(
            self.store,
            sync_rules(self.loaded),
            sync_settings(self.loaded),
            sleep=wait,
            should_stop=lambda: self.stop.is_set() or running.stop.is_set(),
        )
        try:
            for attempt in range(1, CONFLICT_RETRIES + 1):
                try:
                    return engine.sync(address, self.folders, progress=progress)
                except WriteConflict as exc:
                    # Another worker created the same person or organisation in the same instant: the
                    # page rolled back whole; going again finds their row and resumes after the last page.
                    if attempt == CONFLICT_RETRIES or self.stop.is_set():
                        raise
                    # Pages themselves are race-safe (mapping.store.apply.apply_page): this is a
                    # last resort, worth a warning when it happens.
                    log.warning(
                        "page conflicted with another worker's; retrying",
                        mailbox=address,
                        error=str(exc.orig).splitlines()[0] if exc.orig else "",
                    )
                    running.stop.wait(self.rng.uniform(0.05, 0.5))
            raise AssertionError("unreachable")
        except AuthenticationFailed as exc:
            log.error("credentials refused by Exchange", mailbox=address, error=str(exc))
            return MailboxReport(mailbox=address, error=str(exc), error_kind=type(exc).__name__)
        except Exception as exc:  # a bug or the store gone: this mailbox fails, the daemon goes on
            # One line: a rendered traceback (with locals) holds the logging lock for seconds.
            log.error("sync failed", mailbox=address, error=f"{type(exc).__name__}: {exc}"[:1000])
            log.debug("sync failure detail", mailbox=address, exc_info=True)
            return MailboxReport(
                mailbox=address, error=f"{type(exc).__name__}: {exc}"[:500], error_kind=type(exc).__name__
            )

    def _finish(self, address: str, mailbox_id: int, failures: int, report: MailboxReport) -> None:
        assert self.leases is not None and self.connection is not None
        now = utcnow()
        if report.interrupted:
            # Stopped between pages: hand it back due now, so whoever runs next resumes after the last page.
            next_due, failures_after = now, failures
        else:
            next_due, failures_after = self.schedule.next_due(now, report.ok, failures, self.rng)
            if self._metrics is not None:
                self._metrics.record_mailbox(report)
        if not report.ok:
            self.connection.forget(address)
            slow = failures_after >= self.cfg.attention_after_failures
            log.warning(
                "mailbox sync failed",
                mailbox=address,
                failures=failures_after,
                slow_schedule=slow,
                retry_at=next_due.isoformat(),
                error=report.error,
            )
        elif any(f.result.created + f.result.updated + f.result.deleted + f.unlinked for f in report.folders):
            self._dirty.set()
        try:
            kept = self.leases.release(
                mailbox_id, now, next_due_at=next_due, failures=failures_after, keep_affinity=not self.single
            )
        except DatabaseError as exc:
            log.error("lease not released; it will expire", mailbox=address, error=str(exc).splitlines()[0])
            kept = False
        if not kept:
            log.warning("lease was lost during the sync (another worker took over)", mailbox=address)
        self._wake(address, next_due if kept else now + timedelta(seconds=self.lease_seconds))

    # ------------------------------------------------------------------------------------- leases
    def _leases_job(self) -> None:
        structlog.contextvars.bind_contextvars(worker=self.worker)
        assert self.leases is not None
        now_mono = time.monotonic()
        with self._lock:
            running = dict(self._running)
        for r in running.values():
            if not r.stop.is_set() and now_mono - r.last_progress > self.cfg.stuck_after_seconds:
                log.error(
                    "sync stuck: no page committed in time; stopping it and letting the lease expire",
                    mailbox=r.address,
                    stuck_seconds=round(now_mono - r.last_progress),
                )
                r.stop.set()
                self.stuck_stopped += 1
        wanted = [m for m, r in running.items() if not r.stop.is_set()]
        if not wanted or self.single:
            return
        try:
            kept = self.leases.renew(wanted, self.cfg.lease_seconds, utcnow())
        except DatabaseError as exc:
            log.error("leases not renewed", error=str(exc).splitlines()[0])
            return
        for mailbox_id in set(wanted) - kept:
            log.error("lease lost while syncing; stopping after the current page", mailbox=running[mailbox_id].address)
            running[mailbox_id].stop.set()

    # --------------------------------------------------------------------------------- store jobs
    def _exclusive(self, name: str, work: Callable[[], object]) -> bool:
        """Run ``work()`` holding the store-wide job lease ``name`` (renewed meanwhile); False if held."""
        assert self.leases is not None
        job_leases = self.leases
        lease = max(self.lease_seconds, 60.0)
        if not job_leases.claim_job(name, lease, utcnow()):
            return False
        done = threading.Event()

        def renew() -> None:
            while not done.wait(lease / 3):
                job_leases.claim_job(name, lease, utcnow())

        renewer = threading.Thread(target=renew, name=f"relsync-{name}-lease", daemon=True)
        renewer.start()
        finished = False
        try:
            work()
            finished = True
        finally:
            done.set()
            renewer.join(timeout=5)
            job_leases.release_job(name, utcnow(), finished=finished)
        return True

    def _classify_job(self) -> None:
        structlog.contextvars.bind_contextvars(worker=self.worker)
        if self.stop.is_set() or not self._dirty.is_set():
            return
        assert self.store is not None and self.connection is not None
        store, connection, loaded = self.store, self.connection, self.loaded
        self._dirty.clear()
        # Records committed by syncs still running when the pass started are older than its start;
        # moving the mark back by a margin keeps them in the next pass instead of losing them.
        started = utcnow() - timedelta(minutes=10)

        def work() -> None:
            resolve_identities_since_last_pass(store, loaded, started)
            mark_possible_duplicates(connection, store, loaded.config.identity.duplicate_category)
            report = classify_and_write_back(connection, store, loaded)
            self._count_writes("categories", report.write_back.written_by_mailbox)

        try:
            if not self._exclusive(CLASSIFY_JOB, work):
                self._dirty.set()  # another worker is classifying; ours comes next time
        except Exception as exc:
            log.error("classification failed; retried on the next run", error=f"{type(exc).__name__}: {exc}"[:1000])
            self._dirty.set()

    def _followups_job(self) -> None:
        structlog.contextvars.bind_contextvars(worker=self.worker)
        if self.stop.is_set():
            return

        def work() -> object:
            report = run_followups(self.loaded, connection=self.connection, store=self.store)
            self._count_writes("tasks", task_writes(report))
            return report

        try:
            if not self._exclusive(FOLLOWUPS_JOB, work):
                log.info("follow-up planning is running on another worker")
        except Exception as exc:
            log.error("follow-up planning failed; retried at its next time", error=f"{type(exc).__name__}: {exc}")

    def _count_writes(self, kind: str, by_mailbox: Mapping[str, int]) -> None:
        """Items written back to Exchange by a store job, on ``relsync_exchange_writes_total``."""
        if self._metrics is None:
            return
        for mailbox, count in by_mailbox.items():
            if count:
                self._metrics.record_writes(mailbox, kind, count)


def task_writes(report: FollowUpRunReport) -> dict[str, int]:
    """Tasks written to each owner's Tasks folder by a follow-up run (created, updated, completed or
    deleted by relsync; what staff did themselves is read, not written)."""
    return {
        owner.mailbox: owner.created + owner.updated + owner.completed + owner.deleted
        for owner in report.owners.values()
    }


def run_daemon(loaded: LoadedConfig) -> int:
    """``relsync daemon``: run until SIGTERM/SIGINT, then exit 0 (the CLI turns refusals into sentences)."""
    daemon = Daemon(loaded)
    daemon.install_signal_handlers()
    clean = daemon.run()
    if not clean:
        # A thread still waiting on Exchange must not hold the exit past the grace period: nothing of
        # its page was applied, and its lease expires by itself.
        structlog.get_logger(__name__).info("exiting without waiting for abandoned requests")
        os._exit(0)
    return 0
