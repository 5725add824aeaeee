"""A one-off sync (``relsync resync``, ``run-once``) that takes the mailbox's lease, so it never runs
at the same time as a daemon's sync of that mailbox: it waits for the lease, or says who holds it."""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import structlog

from connector.backends import RoutingSync
from connector.sync import MailboxReport, MailboxSync, Progress
from mapping.changes import FolderName
from mapping.store.leases import WorkerLeases
from mapping.store.models import utcnow
from mapping.store.store import Store

log = structlog.get_logger(__name__)

#: How long a command's lease lasts between renewals (it is renewed every third of that).
COMMAND_LEASE_SECONDS = 120.0


def command_worker_id() -> str:
    """The lease holder name of a command: ``relsync-cli@host:pid``."""
    return f"relsync-cli@{socket.gethostname()}:{os.getpid()}"


def dead_local_process(holder: str) -> bool:
    """Whether ``holder`` (``[name@]host:pid``) names a process of this host that no longer exists:
    a command or daemon killed here, whose lease need not be waited out."""
    host, _, pid = holder.rpartition("@")[2].rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (owned by another user)
    return False


@contextmanager
def renewing(store: Store, mailbox_id: int, worker: str, lease_seconds: float) -> Iterator[Callable[[], bool]]:
    """Keep renewing a taken lease in a background thread; yields ``lost()`` (True once it was lost)."""
    done = threading.Event()
    lost = threading.Event()

    def loop() -> None:
        while not done.wait(lease_seconds / 3):
            if mailbox_id not in WorkerLeases(store, worker).renew([mailbox_id], lease_seconds, utcnow()):
                lost.set()
                return

    thread = threading.Thread(target=loop, name="relsync-lease-renewal", daemon=True)
    thread.start()
    try:
        yield lost.is_set
    finally:
        done.set()
        thread.join(timeout=5)


def sync_with_lease(
    engine: MailboxSync | RoutingSync,
    address: str,
    folders: list[FolderName],
    *,
    full: bool = False,
    progress: Progress | None = None,
    wait_seconds: float = 60.0,
    interval_seconds: float = 900.0,
    worker: str | None = None,
) -> MailboxReport:
    """Sync one mailbox holding its lease (taken even if the mailbox is not due).

    While another worker holds it, wait up to ``wait_seconds``; then give up with a report naming
    the holder (nothing is marked on the mailbox: it is being synced). After a sync the mailbox is
    next due one interval later, so a daemon does not sync it again at once.
    """
    store = engine.store
    worker = worker or command_worker_id()
    mailbox_id = store.ensure_mailbox(address, address).id
    leases = WorkerLeases(store, worker)
    leases.ensure({mailbox_id: utcnow()})
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        claim = leases.claim(mailbox_id, COMMAND_LEASE_SECONDS, utcnow(), due_only=False, is_dead=dead_local_process)
        if claim.taken:
            break
        holder = claim.holder or "another worker"
        if time.monotonic() >= deadline:
            until = f" (lease until {claim.expires_at:%Y-%m-%d %H:%M:%S} UTC)" if claim.expires_at else ""
            return MailboxReport(
                mailbox=address,
                error_kind="LeaseHeld",
                error=f"being synced by {holder}{until}; try again later, or wait longer with --wait SECONDS",
            )
        if not told:
            log.warning(
                "mailbox is being synced by another worker; waiting",
                holder=holder,
                wait_seconds=round(deadline - time.monotonic()),
            )
            told = True
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)) + random.uniform(0, 0.2))
    ok = False
    failures = claim.failures
    try:
        with renewing(store, mailbox_id, worker, COMMAND_LEASE_SECONDS) as lost:
            previous = engine.should_stop
            engine.should_stop = lambda: previous() or lost()
            try:
                report = engine.sync(address, folders, full=full, progress=progress)
            finally:
                engine.should_stop = previous
        ok = report.ok and not report.interrupted
        return report
    finally:
        now = utcnow()
        due = now + timedelta(seconds=interval_seconds) if ok else now
        leases.release(mailbox_id, now, next_due_at=due, failures=0 if ok else failures)
