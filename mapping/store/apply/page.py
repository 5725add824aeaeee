"""Applying one sync page: the race-safe transaction around the per-folder appliers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.changes import FolderName, Page, PageResult, SyncRules
from mapping.store.apply.contacts import apply_contacts
from mapping.store.apply.directory import Directory
from mapping.store.apply.links import existing_links, save_state, unlink, write_links
from mapping.store.apply.meetings import apply_meetings
from mapping.store.apply.messages import apply_messages
from mapping.store.models import (
    ItemLink,
)
from mapping.store.participants import link_people
from mapping.store.privacy import without_suppressed

#: PostgreSQL SQLSTATEs of losing an insert race to another worker's transaction: unique_violation
#: (the same person, address or interaction inserted and committed by a concurrent page) and
#: deadlock_detected (two pages inserting the same keys in different orders).
_RACE_SQLSTATES = frozenset({"23505", "40P01"})


#: A page that lost a race is applied again this often (each time seeing the winners' committed rows).
RACE_RETRIES = 5


def apply_page(session: Session, page: Page, rules: SyncRules, now: datetime) -> PageResult:
    """Apply one page's changes and save its sync state, inside the caller's transaction.

    Race-safe on PostgreSQL: several workers syncing mailboxes that share contacts and e-mails may
    insert the same address or Message-ID at the same instant. The loser's insert waits for the
    winner's commit and then fails; the page is rolled back to a savepoint taken before it and
    applied again, now finding the winner's rows (READ COMMITTED: each statement sees what is
    committed), so no page fails on a collision. SQLite has one writer, so no race and no savepoint;
    a page without items (a no-change page: only its state) cannot collide and skips it too.
    """
    if session.get_bind().dialect.name != "postgresql" or not any(c.record is not None for c in page.changes):
        return _apply_page(session, page, rules, now)
    for attempt in range(1, RACE_RETRIES + 1):
        try:
            with session.begin_nested():
                return _apply_page(session, page, rules, now)
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            if attempt == RACE_RETRIES or getattr(exc.orig, "sqlstate", None) not in _RACE_SQLSTATES:
                raise
    raise AssertionError("unreachable")


def _apply_page(session: Session, page: Page, rules: SyncRules, now: datetime) -> PageResult:
    result = PageResult()
    for skipped in page.skipped:
        result.skipped[f"bad-item: {skipped.reason}"] += 1
    # Suppressed (erased or excluded) people never come back: their items or addresses are dropped here.
    page = without_suppressed(session, page, rules, result)
    links = existing_links(session, page)
    directory = Directory(session, rules, now, result)
    if page.folder == "contacts":
        apply_contacts(session, page, links, directory, now)
    elif page.folder == "calendar":
        apply_meetings(session, page, links, directory, now)
    else:
        apply_messages(session, page, links, directory, now)
    # Whoever appeared on this page may be on interactions other mailboxes stored before: link them,
    # so the store does not depend on which mailbox synced first.
    link_people(session, directory.new_addresses)
    write_links(session, links)
    save_state(session, page, now)
    return result


def unlink_links(
    session: Session, mailbox_id: int, folder: FolderName, links: Iterable[ItemLink], rules: SyncRules, now: datetime
) -> int:
    """Unlink items found gone by a full resync, exactly as if Exchange had reported them deleted."""
    page = Page(mailbox_id=mailbox_id, folder=folder, folder_id=None, changes=(), new_state=None)
    return sum(unlink(session, page, link, now, rules) for link in links)
