"""The suppression list (store service): addresses relsync must never store again, as keyed hashes.

``relsync privacy suppress`` and every erasure add to it; :func:`without_suppressed` is the one hook in
page application (:mod:`mapping.store.apply.page`), so a later sync, in any mailbox and from any backend,
does not bring a suppressed person back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.changes import Page, PageResult, SyncRules
from mapping.privacy.hashing import address_hash
from mapping.privacy.suppression import filter_change, page_addresses
from mapping.store import audit
from mapping.store.batching import chunked
from mapping.store.models import utcnow
from mapping.store.models_privacy import Suppression


def _key(rules: SyncRules | None = None) -> bytes | None:
    if rules is not None and rules.suppression_key is not None:
        return rules.suppression_key
    return audit.audit_key() if audit.has_key() else None


def suppress(session: Session, addresses: Iterable[str], reason: str, key: bytes | None = None) -> int:
    """Add addresses (hashed) to the suppression list; returns how many were new. Idempotent."""
    key = key or audit.audit_key()
    hashes = sorted({address_hash(key, a) for a in addresses})
    known = set(hashed_suppressed(session, hashes))
    fresh = [h for h in hashes if h not in known]
    if fresh:
        now = utcnow()
        session.execute(
            sa.insert(Suppression), [{"address_hash": h, "reason": reason[:32], "created_at": now} for h in fresh]
        )
    return len(fresh)


def hashed_suppressed(session: Session, hashes: Iterable[str]) -> list[str]:
    """Which of these keyed hashes are on the list."""
    found: list[str] = []
    for chunk in chunked(list(hashes)):
        found += session.scalars(sa.select(Suppression.address_hash).where(Suppression.address_hash.in_(chunk)))
    return found


def suppressed_addresses(session: Session, addresses: Iterable[str], key: bytes | None = None) -> set[str]:
    """The addresses among these that are suppressed."""
    key = key or audit.audit_key()
    by_hash = {address_hash(key, a): a for a in addresses}
    return {by_hash[h] for h in hashed_suppressed(session, by_hash)}


def without_suppressed(session: Session, page: Page, rules: SyncRules, result: PageResult) -> Page:
    """The page without suppressed people (see :mod:`mapping.privacy.suppression`); what was dropped
    counts as skipped ``suppressed``. One indexed lookup per page, none when the list is empty."""
    key = _key(rules)
    if key is None or not any(c.record is not None for c in page.changes):
        return page
    if session.scalar(sa.select(Suppression.address_hash).limit(1)) is None:
        return page
    hit = suppressed_addresses(session, page_addresses(page.changes), key)
    if not hit:
        return page
    changes = []
    for change in page.changes:
        kept = filter_change(change, hit.__contains__, rules.internal_domains)
        if kept is None:
            result.skipped["suppressed"] += 1
        else:
            changes.append(kept)
    return replace(page, changes=tuple(changes))
