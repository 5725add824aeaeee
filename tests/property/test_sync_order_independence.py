"""The store after syncing a set of mailboxes is the same whatever the order, in one run or several.

Random mailbox contents (contacts, e-mails in Inbox and Sent Items, the same e-mail in several
mailboxes) are applied as sync pages through the store's one seam (``Store.apply_page``, as both the
EWS and the Graph engine do) to a real database (SQLite and PostgreSQL), in two random mailbox orders,
once as one run and once split over two runs (each mailbox's first pages, then the rest, in another
order). After each schedule every relationship is classified; the exports (ids and clock times
stripped) and who each participant is must be equal across all schedules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapping.changes import FolderName, ItemChange, Page, SyncRules
from mapping.classify import classify_all
from mapping.classify_config import ClassificationConfig
from mapping.records import ContactRecord, EmailRecord, MessageRecord, Participant
from mapping.store.classification import save_classifications
from mapping.store.facts import ensure_relationships, load_facts
from mapping.store.migrate import upgrade
from mapping.store.models import Base, EmailAddress, Interaction, InteractionParticipant, StaffMailbox
from mapping.store.reports import export_rows
from mapping.store.store import Store

INTERNAL = "northwind.example"
RULES = SyncRules(internal_domains=frozenset({INTERNAL}))
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
STAFF = ("ann", "bob", "cid")
#: Customers: one name and one company per address (a person's contact reads the same everywhere).
CUSTOMERS = {
    "jane@acme.example": ("Jane Doe", "Acme Ltd"),
    "joe@acme.example": ("Joe Bloggs", "Acme Ltd"),
    "kim@globex.example": ("Kim Lee", "Globex"),
    "lou@initech.example": ("Lou Park", None),
}
FOLDERS: tuple[FolderName, ...] = ("contacts", "inbox", "sentitems")
PAGE_SIZE = 2


def staff(name: str) -> str:
    return f"{name}@{INTERNAL}"


@dataclass(frozen=True)
class Mail:
    """One e-mail, the same in every mailbox that holds a copy."""

    key: int
    sender: str
    recipients: tuple[str, ...]
    days_ago: int

    def record(self, owner: str) -> tuple[FolderName, MessageRecord]:
        folder: FolderName = "sentitems" if self.sender == owner else "inbox"
        when = NOW - timedelta(days=self.days_ago, hours=self.key)
        return folder, MessageRecord(
            item_id=f"{owner}/m{self.key}",
            change_key="k1",
            folder=folder,
            internet_message_id=f"<m{self.key}@example>",
            conversation_id=f"c{self.key}",
            subject=f"Mail {self.key}",
            sent_at=when,
            received_at=when,
            participants=(_participant(self.sender, "from"), *(_participant(a, "to") for a in self.recipients)),
        )


def _participant(address: str, role: str) -> Participant:
    name = CUSTOMERS[address][0] if address in CUSTOMERS else address.split("@")[0].title()
    return Participant(address=address, name=name, role=role)  # type: ignore[arg-type]


def _contact(owner: str, address: str) -> ContactRecord:
    name, company = CUSTOMERS[address]
    return ContactRecord(
        item_id=f"{owner}/c/{address}",
        change_key="k1",
        display_name=name,
        company_name=company,
        emails=(EmailRecord(address=address, original=address, is_valid=True),),
    )


@st.composite
def mails(draw: st.DrawFn, key: int) -> Mail:
    outbound = draw(st.booleans())
    customers = sorted(CUSTOMERS)
    if outbound:
        sender = staff(draw(st.sampled_from(STAFF)))
        to = draw(st.lists(st.sampled_from(customers), min_size=1, max_size=2, unique=True))
        colleagues = draw(st.lists(st.sampled_from([staff(s) for s in STAFF if staff(s) != sender]), max_size=1))
    else:
        sender = draw(st.sampled_from(customers))
        to = []
        colleagues = draw(st.lists(st.sampled_from([staff(s) for s in STAFF]), min_size=1, max_size=2, unique=True))
    return Mail(key, sender, tuple(to + colleagues), draw(st.integers(0, 200)))


@dataclass(frozen=True)
class World:
    """What each mailbox holds: its contacts and the e-mails it has a copy of."""

    contacts: dict[str, tuple[str, ...]]
    copies: dict[str, tuple[Mail, ...]]

    def pages(self, owner: str, mailbox_id: int) -> list[Page]:
        """The mailbox's sync pages, folder by folder, as the engines hand them to the store."""
        by_folder: dict[FolderName, list[ItemChange]] = {f: [] for f in FOLDERS}
        for address in self.contacts[owner]:
            record = _contact(owner, address)
            by_folder["contacts"].append(ItemChange(record.item_id, record.change_key, record))
        for mail in self.copies[owner]:
            folder, message = mail.record(owner)
            by_folder[folder].append(ItemChange(message.item_id, message.change_key, message))
        pages = []
        for folder, changes in by_folder.items():
            for n, start in enumerate(range(0, len(changes), PAGE_SIZE)):
                pages.append(
                    Page(
                        mailbox_id,
                        folder,
                        f"{folder}-id",
                        tuple(changes[start : start + PAGE_SIZE]),
                        new_state=f"{folder}-{n}",
                        full_sync=True,
                    )
                )
        return pages


@st.composite
def worlds(draw: st.DrawFn) -> World:
    all_mail = [draw(mails(key)) for key in range(draw(st.integers(1, 6)))]
    contacts: dict[str, tuple[str, ...]] = {}
    copies: dict[str, tuple[Mail, ...]] = {}
    for name in STAFF:
        owner = staff(name)
        contacts[owner] = tuple(draw(st.lists(st.sampled_from(sorted(CUSTOMERS)), max_size=2, unique=True)))
        # A mailbox holds a copy of mail it sent or received, or not (deleted, filtered away).
        involved = [m for m in all_mail if owner == m.sender or owner in m.recipients]
        copies[owner] = tuple(m for m in involved if draw(st.booleans()))
    return World(contacts, copies)


def _wipe(store: Store) -> None:
    with store.session() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(table.delete())


def _sync(store: Store, world: World, runs: Sequence[Sequence[str]], split: bool) -> None:
    """Sync every mailbox, in each run's order; ``split``: a run syncs half a mailbox's pages."""
    done: dict[str, int] = {}
    for run, order in enumerate(runs):
        for owner in order:
            mailbox_id = store.ensure_mailbox(owner, owner).id  # as the engines do, at the mailbox's turn
            pages = world.pages(owner, mailbox_id)
            end = (len(pages) + 1) // 2 if split and run == 0 else len(pages)
            for page in pages[done.get(owner, 0) : end]:
                store.apply_page(page, RULES)
            done[owner] = end


def _classify(store: Store) -> None:
    with store.session() as s:
        ensure_relationships(s)
    with store.session() as s:
        facts = load_facts(s, now=NOW)
        save_classifications(s, facts, classify_all(facts, ClassificationConfig(), now=NOW), NOW)


_CLOCK = {"id", "created_at", "classified_at"}


def _snapshot(store: Store) -> dict[str, Any]:
    """Every export without ids and clock times, plus who each participant of each e-mail is."""
    snapshot: dict[str, Any] = {}
    with store.session() as s:
        for what in ("people", "organizations", "interactions", "relationships"):
            rows = [{k: v for k, v in row.items() if k not in _CLOCK} for row in export_rows(s, what)]
            snapshot[what] = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
        p = InteractionParticipant
        primary = (
            sa.select(sa.func.min(EmailAddress.address)).where(EmailAddress.person_id == p.person_id).scalar_subquery()
        )
        who = s.execute(
            sa.select(Interaction.internet_message_id, p.role, p.address, primary, StaffMailbox.address)
            .join(Interaction, Interaction.id == p.interaction_id)
            .outerjoin(StaffMailbox, StaffMailbox.id == p.staff_mailbox_id)
        )
        snapshot["participants"] = sorted(
            (mid, str(role), address, person, staff_address) for mid, role, address, person, staff_address in who
        )
    return snapshot


def _schedules(first: Sequence[str], second: Sequence[str]) -> Iterator[tuple[str, list[list[str]], bool]]:
    yield "one run, first order", [list(first)], False
    yield "one run, second order", [list(second)], False
    yield "two runs, first then second order", [list(first), list(second)], True


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_store_does_not_depend_on_the_order_mailboxes_sync_in(backend: str, request: pytest.FixtureRequest) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url"))
    upgrade(url)
    store = Store(url)
    owners = [staff(s) for s in STAFF]

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(world=worlds(), first=st.permutations(owners), second=st.permutations(owners))
    def check(world: World, first: list[str], second: list[str]) -> None:
        snapshots = {}
        for name, runs, split in _schedules(first, second):
            _wipe(store)
            _sync(store, world, runs, split)
            _classify(store)
            snapshots[name] = _snapshot(store)
        reference_name, reference = next(iter(snapshots.items()))
        for name, snapshot in snapshots.items():
            for part in reference:
                assert snapshot[part] == reference[part], f"{part}: {name} differs from {reference_name}"

    try:
        check()
    finally:
        store.dispose()
