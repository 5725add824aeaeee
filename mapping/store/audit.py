"""The audit log: every write relsync makes to Exchange, every merge, override, import, erasure and
retention run, as an append-only chain of keyed hashes (store service).

Each entry says who (``actor``), what (``kind``/``action``/``subject``), when (``at``), why
(``reason``: the rule or decision) and the ``outcome``; ``detail`` holds ids, counts and keyed hashes,
never names or addresses. ``entry_hash`` is HMAC-SHA256 under the deployment's audit key over the
previous entry's hash and this entry's fields (with its sequence number), and :class:`AuditHead`
keeps the tip, so :func:`verify` finds an entry that was changed, removed (also at the end) or
reordered, and names the first one.

The key is process-wide configuration (:func:`use_key`), registered when the configuration is loaded
(``scheduler.privacy_key``), resolved lazily on the first append; hooks in other store services call
:func:`append` inside their own transaction, so an outcome and its audit entry commit together.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.errors import EXIT_USAGE, RelsyncError
from mapping.privacy.hashing import canonical, keyed_hash
from mapping.store.models import utcnow
from mapping.store.models_privacy import AuditEntry, AuditHead

if TYPE_CHECKING:
    from mapping.store.store import Store

GENESIS = "0" * 64
_HEAD_ID = 1


class AuditKeyMissing(RelsyncError):
    """No audit key was configured in this process (the configuration was not loaded)."""

    exit_code = EXIT_USAGE
    topic = "privacy"


_provider: Callable[[], bytes] | None = None
_key: bytes | None = None
_actor: str | None = None


def use_key(provider: Callable[[], bytes] | bytes | None) -> None:
    """Register the audit key (or a function that reads it on first use); ``None`` forgets it."""
    global _provider, _key
    _key = provider if isinstance(provider, bytes) else None
    _provider = None if isinstance(provider, bytes) else provider


def audit_key() -> bytes:
    """The registered audit key, read once from its provider."""
    global _key
    if _key is None:
        if _provider is None:
            raise AuditKeyMissing(
                "no audit key is configured in this process. Fix: load the configuration "
                "([privacy] audit_key_env or audit_key_file) before writing to the store"
            )
        _key = _provider()
    return _key


def has_key() -> bool:
    """True when an audit key (or a provider of one) is registered."""
    return _key is not None or _provider is not None


def set_actor(actor: str | None) -> None:
    """Who the following entries are by: ``user:NAME`` for a command, ``worker:ID`` for the daemon."""
    global _actor
    _actor = actor


def current_actor() -> str:
    """The registered actor, or ``user:<login>@<host>`` of this process."""
    if _actor is not None:
        return _actor
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = str(os.getuid())
    return f"user:{login}@{socket.gethostname()}"[:128]


@dataclass(frozen=True)
class AuditRecord:
    """One entry to append. ``detail`` must hold ids, counts and keyed hashes only."""

    kind: str
    action: str
    outcome: str = "ok"
    subject: str | None = None
    reason: str | None = None
    detail: dict[str, Any] | None = None
    actor: str | None = None


def _fields(seq: int, at: datetime, actor: str, r: AuditRecord | AuditEntry, detail: Any) -> list[Any]:
    return [seq, at.isoformat(timespec="microseconds"), actor, r.kind, r.action, r.subject, r.reason, r.outcome, detail]


def _entry_hash(key: bytes, prev: str, fields: list[Any]) -> str:
    return keyed_hash(key, prev + canonical(fields))


def _head_hash(key: bytes, seq: int, entry_hash: str) -> str:
    return keyed_hash(key, f"head:{seq}:{entry_hash}")


def append(session: Session, records: Iterable[AuditRecord], at: datetime | None = None) -> int:
    """Append entries in the caller's transaction, chained to the current tip; returns how many.

    Bumping the head row first takes the lock that keeps two writers from chaining onto the same tip.
    """
    recs = list(records)
    if not recs:
        return 0
    key = audit_key()
    at = at or utcnow()
    bump = sa.update(AuditHead).where(AuditHead.id == _HEAD_ID).values(seq=AuditHead.seq + len(recs))
    if session.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        try:  # the very first entry: create the head (a savepoint, as another writer may create it too)
            with session.begin_nested():
                session.execute(sa.insert(AuditHead).values(id=_HEAD_ID, seq=0, entry_hash=GENESIS, head_hash=GENESIS))
        except sa.exc.IntegrityError:
            pass  # it did: its row is there now (we waited for its commit)
        session.execute(bump)
    tip = session.execute(sa.select(AuditHead.seq, AuditHead.entry_hash).where(AuditHead.id == _HEAD_ID)).one()
    seq, prev = int(tip.seq) - len(recs), str(tip.entry_hash)
    rows: list[dict[str, Any]] = []
    default_actor = current_actor()
    for r in recs:
        seq += 1
        actor = (r.actor or default_actor)[:128]
        detail = None if r.detail is None else json.loads(canonical(r.detail))  # stored exactly as hashed
        digest = _entry_hash(key, prev, _fields(seq, at, actor, r, detail))
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "kind": r.kind[:32],
                "action": r.action[:64],
                "subject": r.subject,
                "reason": None if r.reason is None else r.reason[:255],
                "outcome": r.outcome[:16],
                "detail": detail,
                "prev_hash": prev,
                "entry_hash": digest,
            }
        )
        prev = digest
    session.execute(sa.insert(AuditEntry), rows)
    session.execute(
        sa.update(AuditHead)
        .where(AuditHead.id == _HEAD_ID)
        .values(entry_hash=prev, head_hash=_head_hash(key, seq, prev))
    )
    return len(rows)


_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


def scrub(text: str | None) -> str | None:
    """A reason without the e-mail addresses it may quote ("by admin@example.com" -> "by [address]"):
    entries hold ids and keyed hashes, never addresses."""
    return None if text is None else _ADDRESS.sub("[address]", text)[:255]


def record(session: Session, kind: str, action: str, **fields: Any) -> None:
    """Append one entry (``outcome``, ``subject``, ``reason``, ``detail``, ``actor`` as keywords)."""
    append(session, [AuditRecord(kind, action, **fields)])


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: ``ok``, how many entries, and the first bad one in one sentence."""

    ok: bool
    entries: int
    bad_seq: int | None = None
    problem: str | None = None  # changed, removed, reordered
    sentence: str = ""


def verify(session: Session, key: bytes | None = None) -> Verdict:
    """Walk the chain in storage order and name the first entry that was changed, removed or reordered."""
    key = key or audit_key()
    seqs = set(session.scalars(sa.select(AuditEntry.seq)))
    expected, prev, count = 1, GENESIS, 0
    query = sa.select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=5000)
    for e in session.scalars(query):
        count += 1
        if e.seq != expected:
            if e.seq < expected or expected in seqs:
                return Verdict(
                    False,
                    count,
                    expected,
                    "reordered",
                    f"audit entry {expected} was reordered: entry {e.seq} is stored in its place",
                )
            return Verdict(
                False,
                count,
                expected,
                "removed",
                f"audit entry {expected} was removed: the entry stored after {expected - 1} is {e.seq}",
            )
        detail = e.detail
        digest = _entry_hash(key, e.prev_hash, _fields(e.seq, e.at, e.actor, e, detail))
        if digest != e.entry_hash or e.prev_hash != prev:
            what = (
                "its content does not match its hash"
                if digest != e.entry_hash
                else "its link to the entry before it differs"
            )
            return Verdict(False, count, e.seq, "changed", f"audit entry {e.seq} was changed: {what}")
        prev = e.entry_hash
        expected += 1
    head = session.get(AuditHead, _HEAD_ID)
    last = expected - 1
    if head is None:
        if count:
            return Verdict(False, count, last, "changed", "the audit log's head row was removed")
        return Verdict(True, 0, sentence="audit log is empty")
    if head.head_hash != _head_hash(key, head.seq, head.entry_hash):
        return Verdict(False, count, head.seq, "changed", "the audit log's head row was changed")
    if head.seq != last or head.entry_hash != prev:
        return Verdict(
            False,
            count,
            last + 1,
            "removed",
            f"audit entry {last + 1} was removed: the log ends at {last} but its head says {head.seq}",
        )
    return Verdict(True, count, sentence=f"audit log verified: {count} entries, chain intact")


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    actor: str
    kind: str
    action: str
    subject: str | None
    reason: str | None
    outcome: str
    detail: dict[str, Any] | None = field(default=None)
    entry_hash: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "action": self.action,
            "subject": self.subject,
            "reason": self.reason,
            "outcome": self.outcome,
            "detail": self.detail,
            "hash": self.entry_hash,
        }


def entries(
    session: Session,
    since: datetime | None = None,
    kind: str | None = None,
    subjects: Iterable[str] | None = None,
    limit: int | None = None,
) -> Iterator[AuditRow]:
    """Entries in sequence order, optionally since an instant, of one kind, or about some subjects."""
    query = sa.select(AuditEntry).order_by(AuditEntry.seq)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if kind is not None:
        query = query.where(AuditEntry.kind == kind)
    if subjects is not None:
        query = query.where(AuditEntry.subject.in_(list(subjects)))
    if limit is not None:
        query = query.limit(limit)
    for e in session.scalars(query.execution_options(yield_per=5000)):
        yield AuditRow(e.seq, e.at, e.actor, e.kind, e.action, e.subject, e.reason, e.outcome, e.detail, e.entry_hash)


__all__ = [
    "AuditKeyMissing",
    "AuditRecord",
    "AuditRow",
    "Verdict",
    "append",
    "audit_key",
    "current_actor",
    "entries",
    "has_key",
    "record",
    "set_actor",
    "use_key",
    "verify",
]


# --- hooks: one call from where each outcome is recorded ----------------------------------------

EXCHANGE_WRITE = "exchange_write"


def exchange_writes(
    session: Session,
    action: str,
    subjects: Iterable[tuple[str, dict[str, Any]]],
    outcome: str = "ok",
    reason: str | None = None,
) -> int:
    """One entry per item written to Exchange (``subject`` such as ``link:12``, ``detail`` of ids)."""
    return append(
        session, (AuditRecord(EXCHANGE_WRITE, action, outcome, subject, reason, detail) for subject, detail in subjects)
    )


def master_categories(
    session: Session, mailbox_address: str, added: Iterable[str], outcome: str = "ok", reason: str | None = None
) -> None:
    """The managed categories added to a mailbox's master category list (by mailbox id, not address)."""
    from mapping.store.models import StaffMailbox

    mailbox_id = session.scalar(sa.select(StaffMailbox.id).where(StaffMailbox.address == mailbox_address.lower()))
    record(
        session,
        EXCHANGE_WRITE,
        "master_categories",
        outcome=outcome,
        subject=f"mailbox:{mailbox_id}",
        reason=reason,
        detail={"mailbox_id": mailbox_id, "categories": sorted(added)},
    )


# --- as store services: each call its own transaction (for the scheduler, which opens none) ----------


def log_exchange_writes(
    store: Store,
    action: str,
    subjects: Iterable[tuple[str, dict[str, Any]]],
    outcome: str = "ok",
    reason: str | None = None,
) -> int:
    """:func:`exchange_writes` in a transaction of its own; nothing to log opens none."""
    subjects = list(subjects)
    if not subjects:
        return 0
    with store.session() as session:
        return exchange_writes(session, action, subjects, outcome, reason)


def log_master_categories(
    store: Store, mailbox_address: str, added: Iterable[str], outcome: str = "ok", reason: str | None = None
) -> None:
    """:func:`master_categories` in a transaction of its own."""
    with store.session() as session:
        master_categories(session, mailbox_address, added, outcome, reason)


def audit_file_hash(name: str) -> str:
    """A keyed hash naming an input file (its name may hold a customer's or a person's name)."""
    return keyed_hash(audit_key(), "file:" + name)
