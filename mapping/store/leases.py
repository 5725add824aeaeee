"""Mailbox and job leases: at most one worker syncs a mailbox (or runs a store-wide job) at a time.

A lease row per mailbox (``mailbox_leases``) says who holds it and until when, and when the mailbox
is next due. Taking a lease is one conditional ``UPDATE ... WHERE holder IS NULL OR holder = me OR
expires_at <= now ... RETURNING`` on the row selected ``FOR UPDATE SKIP LOCKED`` (PostgreSQL: a row
another worker is claiming right now is skipped instead of waited for); the condition makes the claim
atomic on every backend (SQLite has no row locks: its single writer serialises it).

A holder renews its leases while it works and releases them when done, writing the next due time
(interval, back-off or slow schedule). A daemon releases keeping its affinity: the mailbox stays its
own for a while after it falls due again, so every worker keeps syncing the same mailboxes with their
Accounts and folders cached, and a mailbox moves only when its worker cannot keep up or is gone. A
worker that dies stops renewing; once its lease expires any other worker takes the mailbox over.
Every function runs inside the caller's transaction (a :meth:`Store.session` block), so a claim is
committed before any sync work starts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mapping.store.batching import chunked
from mapping.store.models import JobLease, MailboxLease, StaffMailbox

if TYPE_CHECKING:
    from mapping.store.store import Store


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take a mailbox's lease."""

    mailbox_id: int
    taken: bool
    #: The worker holding it when not taken ("" when another worker is claiming it this instant).
    holder: str | None
    expires_at: datetime | None
    next_due_at: datetime
    failures: int

    @property
    def busy(self) -> bool:
        """Held by another worker (as opposed to free but not yet due)."""
        return not self.taken and self.holder is not None


@dataclass(frozen=True)
class LeaseRow:
    """One mailbox's lease as ``relsync status`` shows it."""

    mailbox: str
    holder: str | None
    expires_at: datetime | None
    next_due_at: datetime
    failures: int
    last_started_at: datetime | None
    last_finished_at: datetime | None


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(MailboxLease)
    if dialect == "sqlite":
        return sqlite.insert(MailboxLease)
    raise NotImplementedError(f"leases need PostgreSQL or SQLite, not {dialect}")


def ensure_leases(session: Session, due: dict[int, datetime]) -> None:
    """Create the missing lease rows (mailbox id -> first due time); existing rows keep theirs.

    ``ON CONFLICT DO NOTHING``: several daemons starting at once all succeed.
    """
    if not due:
        return
    existing: set[int] = set()
    for ids in chunked(due):
        existing.update(session.scalars(sa.select(MailboxLease.mailbox_id).where(MailboxLease.mailbox_id.in_(ids))))
    rows = [{"mailbox_id": m, "next_due_at": at, "failures": 0} for m, at in due.items() if m not in existing]
    for i in range(0, len(rows), 500):
        stmt = _insert(session).values(rows[i : i + 500])
        session.execute(stmt.on_conflict_do_nothing(index_elements=["mailbox_id"]))


def claim(
    session: Session,
    mailbox_id: int,
    worker: str,
    lease_seconds: float,
    now: datetime,
    *,
    due_only: bool = True,
    is_dead: Callable[[str], bool] = lambda holder: False,
    affinity_seconds: float = 0.0,
) -> Claim:
    """Take the mailbox's lease for ``worker`` if it is free or expired (and, with ``due_only``, due).

    ``is_dead(holder)`` lets the caller vouch that a holder is gone (a process of this host that no
    longer exists), so its lease is taken without waiting for it to expire. The caller's transaction
    must commit for the claim to count. Already holding it is a success (the lease is extended).

    ``affinity_seconds`` (daemons): a mailbox released with ``keep_affinity`` stays its last
    holder's for that long after it falls due, so each worker keeps syncing the mailboxes it synced
    before (its cached Account and folders: no lookups) and a mailbox moves only when its worker is
    too busy to sync it in time, or gone. A command (``due_only=False``) takes it at once.

    The usual case (the lease is free or ours, and due) is one ``UPDATE ... RETURNING`` whose row is
    locked with ``FOR UPDATE SKIP LOCKED``; only a refusal reads the row to say why.
    """
    until = now + timedelta(seconds=lease_seconds)
    taken = _take(session, mailbox_id, worker, now, until, due_only, affinity_seconds, None)
    if taken is not None:
        return Claim(mailbox_id, True, worker, until, taken[0], taken[1])
    row = session.execute(
        sa.select(MailboxLease.holder, MailboxLease.expires_at, MailboxLease.next_due_at, MailboxLease.failures)
        .where(MailboxLease.mailbox_id == mailbox_id)
        .with_for_update(skip_locked=True)
    ).one_or_none()
    if row is None:
        exists = session.scalar(sa.select(sa.func.count()).where(MailboxLease.mailbox_id == mailbox_id))
        if not exists:
            raise LookupError(f"mailbox {mailbox_id} has no lease row (call ensure_leases first)")
        # Locked by another worker's claim in progress: it is theirs.
        return Claim(mailbox_id, False, "", None, now, 0)
    holder, expires, due, failures = row
    other = holder is not None and holder != worker
    if holder is not None and holder != worker and is_dead(holder):
        taken = _take(session, mailbox_id, worker, now, until, due_only, affinity_seconds, holder)
        if taken is not None:
            return Claim(mailbox_id, True, worker, until, taken[0], taken[1])
    if other and expires is not None and expires > now:
        return Claim(mailbox_id, False, holder, expires, due, failures)
    if due_only and due > now:
        return Claim(mailbox_id, False, None, None, due, failures)
    if other and due_only and affinity_seconds > 0:
        # Still its last holder's turn: look again when that turn is over.
        return Claim(mailbox_id, False, None, None, due + timedelta(seconds=affinity_seconds), failures)
    # Free and due when read, yet not taken: another worker took it between the two statements.
    return Claim(mailbox_id, False, holder or "", expires, due, failures)


def _take(
    session: Session,
    mailbox_id: int,
    worker: str,
    now: datetime,
    until: datetime,
    due_only: bool,
    affinity_seconds: float,
    dead_holder: str | None,
) -> tuple[datetime, int] | None:
    """The conditional claim itself: (next due time, failures) when taken, else None."""
    expired = MailboxLease.expires_at <= now
    if due_only and affinity_seconds > 0:
        # Someone else's expired or released lease: theirs until the affinity after the due time.
        expired = sa.and_(expired, MailboxLease.next_due_at <= now - timedelta(seconds=affinity_seconds))
    free = sa.or_(
        MailboxLease.holder.is_(None),
        MailboxLease.holder == worker,
        expired,
        *([MailboxLease.holder == dead_holder] if dead_holder is not None else []),
    )
    # SKIP LOCKED: a row another worker is claiming this instant is skipped, not waited for.
    locked = (
        sa.select(MailboxLease.mailbox_id)
        .where(MailboxLease.mailbox_id == mailbox_id)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    conditions = [MailboxLease.mailbox_id == mailbox_id, MailboxLease.mailbox_id == locked, free]
    if due_only:
        conditions.append(MailboxLease.next_due_at <= now)
    row = session.execute(
        sa.update(MailboxLease)
        .where(*conditions)
        .values(holder=worker, acquired_at=now, expires_at=until, last_started_at=now)
        .returning(MailboxLease.next_due_at, MailboxLease.failures)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def renew(session: Session, worker: str, mailbox_ids: Iterable[int], lease_seconds: float, now: datetime) -> set[int]:
    """Extend ``worker``'s leases on these mailboxes; returns the ones still held (the rest were lost)."""
    until = now + timedelta(seconds=lease_seconds)
    kept: set[int] = set()
    for ids in chunked(mailbox_ids):
        kept.update(
            session.scalars(
                sa.update(MailboxLease)
                .where(MailboxLease.mailbox_id.in_(ids), MailboxLease.holder == worker)
                .values(expires_at=until)
                .returning(MailboxLease.mailbox_id)
                .execution_options(synchronize_session=False)
            )
        )
    return kept


def release(
    session: Session,
    mailbox_id: int,
    worker: str,
    now: datetime,
    *,
    next_due_at: datetime,
    failures: int,
    keep_affinity: bool = False,
) -> bool:
    """Give the lease back with the mailbox's next due time and failure count.

    ``keep_affinity`` (daemons): the row keeps ``worker`` as holder with a lease that expired now, so
    other workers leave the mailbox to it for their ``affinity_seconds`` after it is next due (see
    :func:`claim`); ``relsync status`` shows it as free. Without it the lease is simply freed.

    False when ``worker`` no longer held it (it expired and another worker took it): then nothing is
    written, so the new holder's schedule stands.
    """
    result = session.execute(
        sa.update(MailboxLease)
        .where(MailboxLease.mailbox_id == mailbox_id, MailboxLease.holder == worker)
        .values(
            holder=worker if keep_affinity else None,
            expires_at=now if keep_affinity else None,
            next_due_at=next_due_at,
            failures=failures,
            last_finished_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release_all(session: Session, worker: str, mailbox_ids: Iterable[int] | None = None) -> int:
    """Free ``worker``'s leases (all, or these), keeping their schedules: a clean shutdown hands over at once."""
    query = sa.update(MailboxLease).where(MailboxLease.holder == worker)
    if mailbox_ids is not None:
        ids = list(mailbox_ids)
        if not ids:
            return 0
        query = query.where(MailboxLease.mailbox_id.in_(ids))
    result = session.execute(query.values(holder=None, expires_at=None).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0))


def lease_rows(session: Session) -> list[LeaseRow]:
    """Every mailbox's lease, by address (``holder`` is its last holder once ``expires_at`` has passed)."""
    query = (
        sa.select(
            StaffMailbox.address,
            MailboxLease.holder,
            MailboxLease.expires_at,
            MailboxLease.next_due_at,
            MailboxLease.failures,
            MailboxLease.last_started_at,
            MailboxLease.last_finished_at,
        )
        .join(MailboxLease, MailboxLease.mailbox_id == StaffMailbox.id)
        .order_by(StaffMailbox.address)
    )
    return [LeaseRow(*row) for row in session.execute(query)]


# --- store-wide jobs -------------------------------------------------------------------------------


def claim_job(session: Session, name: str, worker: str, lease_seconds: float, now: datetime) -> bool:
    """Take the lease of a store-wide job (classification, follow-up planning) if nobody holds it."""
    if session.get(JobLease, name) is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert(JobLease) if dialect == "postgresql" else sqlite.insert(JobLease)
        session.execute(insert.values(name=name).on_conflict_do_nothing(index_elements=["name"]))
    row = session.execute(
        sa.select(JobLease.holder, JobLease.expires_at).where(JobLease.name == name).with_for_update(skip_locked=True)
    ).one_or_none()
    if row is None or (row.holder not in (None, worker) and row.expires_at is not None and row.expires_at > now):
        return False
    result = session.execute(
        sa.update(JobLease)
        .where(
            JobLease.name == name,
            sa.or_(JobLease.holder.is_(None), JobLease.holder == worker, JobLease.expires_at <= now),
        )
        .values(holder=worker, expires_at=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release_job(session: Session, name: str, worker: str, now: datetime, *, finished: bool = True) -> None:
    """Give a job's lease back (``finished``: record that it ran to the end now)."""
    values: dict[str, object] = {"holder": None, "expires_at": None}
    if finished:
        values["last_finished_at"] = now
    session.execute(
        sa.update(JobLease)
        .where(JobLease.name == name, JobLease.holder == worker)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# --- as store services: one worker's leases, each call its own transaction --------------------------


class WorkerLeases:
    """The lease functions above for one ``worker``, each call committed in its own transaction, so a
    claim counts before any sync work starts and the scheduler opens no transaction of its own."""

    def __init__(self, store: Store, worker: str) -> None:
        self.store = store
        self.worker = worker

    def start(self, due: dict[int, datetime]) -> dict[str, datetime]:
        """Create the missing lease rows (mailbox id -> first due time; existing rows keep theirs) and
        return when every mailbox is next due, by address."""
        with self.store.session() as s:
            ensure_leases(s, due)
            return {row.mailbox: row.next_due_at for row in lease_rows(s)}

    def ensure(self, due: dict[int, datetime]) -> None:
        """:func:`ensure_leases`, committed."""
        with self.store.session() as s:
            ensure_leases(s, due)

    def claim(
        self,
        mailbox_id: int,
        lease_seconds: float,
        now: datetime,
        *,
        due_only: bool = True,
        is_dead: Callable[[str], bool] = lambda holder: False,
        affinity_seconds: float = 0.0,
    ) -> Claim:
        """:func:`claim`, committed."""
        with self.store.session() as s:
            return claim(
                s,
                mailbox_id,
                self.worker,
                lease_seconds,
                now,
                due_only=due_only,
                is_dead=is_dead,
                affinity_seconds=affinity_seconds,
            )

    def release(
        self, mailbox_id: int, now: datetime, *, next_due_at: datetime, failures: int, keep_affinity: bool = False
    ) -> bool:
        """:func:`release`, committed."""
        with self.store.session() as s:
            return release(
                s, mailbox_id, self.worker, now, next_due_at=next_due_at, failures=failures, keep_affinity=keep_affinity
            )

    def renew(self, mailbox_ids: Iterable[int], lease_seconds: float, now: datetime) -> set[int]:
        """:func:`renew`, committed: the mailboxes still held."""
        with self.store.session() as s:
            return renew(s, self.worker, mailbox_ids, lease_seconds, now)

    def hand_back(self, keep: Collection[int] = ()) -> int:
        """Free every lease this worker holds except ``keep`` (a clean shutdown hands over at once)."""
        with self.store.session() as s:
            held = s.scalars(sa.select(MailboxLease.mailbox_id).where(MailboxLease.holder == self.worker))
            return release_all(s, self.worker, [m for m in held if m not in keep])

    def claim_job(self, name: str, lease_seconds: float, now: datetime) -> bool:
        """:func:`claim_job`, committed."""
        with self.store.session() as s:
            return claim_job(s, name, self.worker, lease_seconds, now)

    def release_job(self, name: str, now: datetime, *, finished: bool = True) -> None:
        """:func:`release_job`, committed."""
        with self.store.session() as s:
            release_job(s, name, self.worker, now, finished=finished)
