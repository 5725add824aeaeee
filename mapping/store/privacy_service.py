"""The privacy and audit store service: what the scheduler and the CLI call for an erasure's store
steps, the subject access export, the suppression list, the retention run and the audit log. Each call
is its own transaction (the retention run, one per window: see :mod:`mapping.store.privacy_retention`);
the functions behind it (``privacy_erase``, ``privacy_export``, ``privacy``, ``audit``) take a session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapping.privacy.erasure import receipt as make_receipt
from mapping.privacy.retention import RetentionPolicy
from mapping.store import audit
from mapping.store import privacy_erase as pe
from mapping.store.models import utcnow
from mapping.store.privacy import suppress as add_suppression
from mapping.store.privacy_export import subject_access
from mapping.store.privacy_retention import RETENTION_CHUNK, RetentionReport, run_retention
from mapping.store.store import Store


@dataclass(frozen=True)
class ErasureStart:
    """What :meth:`PrivacyService.start_erasure` found: nobody (``subject`` None; ``done`` holds the
    receipt of an earlier erasure of them, if any), a dry run's ``dry`` counts, or an opened erasure
    (``erasure_id``: suppression added, journal opened) whose ``plan`` the caller carries out."""

    subject: pe.Subject | None
    plan: pe.ErasurePlan | None = None
    erasure_id: int | None = None
    started: datetime | None = None
    done: dict[str, Any] | None = None
    dry: dict[str, int] | None = None


class PrivacyService:
    """Privacy operations and the audit log on one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- erasure -----------------------------------------------------------------------------------

    def start_erasure(self, asked: str, *, dry_run: bool, now: datetime | None = None) -> ErasureStart:
        """Find and plan the subject; refuse (:class:`~mapping.store.privacy_erase.ErasureRefused`)
        while a daemon syncs an affected mailbox; unless dry, suppress their addresses and open the
        journal, in one transaction."""
        key = audit.audit_key()
        now = now or utcnow()
        with self.store.session() as session:
            subject = pe.find_subject(session, asked, key)
            if subject is None:
                return ErasureStart(None, done=pe.finished_erasure(session, pe.subject_hash(key, asked)))
            plan = pe.plan_erasure(session, subject)
            if dry_run:
                held = pe.leased_mailboxes(session, plan.mailbox_ids, now)
                return ErasureStart(subject, plan, dry={**plan.summary(), "mailboxes_syncing_now": len(held)})
            erasure_id = pe.begin(session, plan, audit.current_actor(), now)
        return ErasureStart(subject, plan, erasure_id, now)

    def log_exchange_writes(
        self, action: str, subjects: list[tuple[str, dict[str, Any]]], outcome: str = "ok", reason: str | None = None
    ) -> int:
        """Audit writes made into Exchange (one entry per item), in a transaction of their own."""
        return audit.log_exchange_writes(self.store, action, subjects, outcome, reason)

    def finish_erasure(
        self, start: ErasureStart, keep_transactions: bool, exchange: Mapping[str, int]
    ) -> dict[str, Any]:
        """Delete the store's rows of the subject, close the journal with the receipt and audit it, in
        one transaction; returns the receipt."""
        assert start.subject is not None and start.plan is not None
        assert start.erasure_id is not None and start.started is not None
        with self.store.session() as session:
            counts = pe.erase_store(session, start.plan, keep_transactions)
            finished = utcnow()
            receipt = make_receipt(
                start.erasure_id,
                start.subject.subject_hash,
                audit.current_actor(),
                start.started,
                finished,
                counts,
                exchange,
                keep_transactions,
            )
            pe.finish(session, start.erasure_id, receipt, finished)
        return receipt

    # --- subject access, suppression, retention ---------------------------------------------------

    def subject_access(self, asked: str, fmt: str) -> dict[str, Any] | None:
        """Everything held about the subject (None: nobody matches), the export itself audited."""
        with self.store.session() as session:
            subject = pe.find_subject(session, asked, audit.audit_key())
            if subject is None:
                return None
            document = subject_access(session, subject)
            audit.record(
                session,
                "subject_access",
                "export",
                subject=f"person:{subject.person_ids[0]}",
                detail={"person_ids": list(subject.person_ids), "format": fmt},
            )
        return document

    def suppress(self, address: str, reason: str, why: str) -> bool:
        """Add an address (as its keyed hash) to the suppression list, audited; False: it was on it."""
        with self.store.session() as session:
            added = add_suppression(session, [address], reason) > 0
            audit.record(session, "suppression", "added" if added else "already", reason=why)
        return added

    def retention(
        self, policy: RetentionPolicy, *, dry_run: bool, now: datetime | None = None, chunk: int = RETENTION_CHUNK
    ) -> RetentionReport:
        """One retention run (see :func:`mapping.store.privacy_retention.run_retention`)."""
        return run_retention(self.store, policy, now or utcnow(), dry_run, chunk=chunk)

    # --- the audit log -----------------------------------------------------------------------------

    def verify_audit(self) -> audit.Verdict:
        with self.store.session() as session:
            return audit.verify(session)

    def audit_entries(
        self, visit: Callable[[audit.AuditRow], object], *, since: datetime | None = None, kind: str | None = None
    ) -> int:
        """Hand each entry (oldest first) to ``visit`` while reading them in one transaction, so a large
        log is streamed, not held; returns how many."""
        count = 0
        with self.store.session() as session:
            for row in audit.entries(session, since=since, kind=kind):
                visit(row)
                count += 1
        return count
