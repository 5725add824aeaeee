"""Two workers' first syncs of mailboxes that share contacts and e-mails, at the same instant, on PostgreSQL.

The race is staged exactly: worker A applies its page and holds its transaction open; worker B's page
(another mailbox, same people and Message-ID) runs in a thread until PostgreSQL shows it waiting on
A's uncommitted unique key; then A commits. B's insert now fails with a unique violation inside its
page; the page must still succeed (applied again, finding A's rows), leaving one person, one address
and one interaction seen by both mailboxes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from mapping.changes import ItemChange, Page, PageResult, SyncRules
from mapping.records import ContactRecord, EmailRecord, MessageRecord, Participant
from mapping.store.apply import apply_page
from mapping.store.migrate import upgrade
from mapping.store.models import (
    EmailAddress,
    Interaction,
    InteractionParticipant,
    InteractionViewer,
    ItemLink,
    Person,
    utcnow,
)
from mapping.store.store import Store

RULES = SyncRules(internal_domains=frozenset({"northwind.example"}))
SENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    upgrade(pg_url)
    store = Store(pg_url)
    try:
        yield store
    finally:
        store.dispose()


def _contact_page(mailbox_id: int, item_id: str) -> Page:
    ann = ContactRecord(
        item_id=item_id,
        change_key="k1",
        display_name="Ann Example",
        company_name="Acme Ltd",
        emails=(EmailRecord(address="ann@acme.example", original="ann@acme.example", is_valid=True),),
    )
    change = ItemChange(item_id=item_id, change_key="k1", record=ann)
    return Page(mailbox_id=mailbox_id, folder="contacts", folder_id="f", changes=(change,), new_state="s1")


def _message_page(mailbox_id: int, item_id: str) -> Page:
    message = MessageRecord(
        item_id=item_id,
        change_key="k1",
        folder="inbox",
        internet_message_id="<offer-17@acme.example>",
        conversation_id="conv-17",
        subject="Our offer",
        sent_at=SENT,
        received_at=SENT,
        participants=(
            Participant("bob@acme.example", "Bob Example", "from"),
            Participant("lara@northwind.example", "Lara", "to"),
            Participant("omar@northwind.example", "Omar", "to"),
        ),
    )
    change = ItemChange(item_id=item_id, change_key="k1", record=message)
    return Page(mailbox_id=mailbox_id, folder="inbox", folder_id="f", changes=(change,), new_state="s1")


def _waiting_on_a_lock(store: Store, timeout: float = 20.0) -> None:
    """Return once a backend of this database waits on a lock (B on A's uncommitted unique key)."""
    deadline = time.monotonic() + timeout
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with store.engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(query).scalar_one():
                return
            conn.rollback()
            time.sleep(0.02)
    raise AssertionError("the second page never waited on the first one's insert")


def _race(store: Store, first: Page, second: Page) -> tuple[PageResult, PageResult]:
    """Apply ``first`` and hold it uncommitted until ``second`` (in a thread) waits on it; then commit."""
    outcome: dict[str, PageResult | BaseException] = {}

    def run_second() -> None:
        try:
            outcome["second"] = store.apply_page(second, RULES)
        except BaseException as exc:  # handed to the test thread, which asserts on it
            outcome["second"] = exc

    thread = threading.Thread(target=run_second)
    with store.session() as s:
        first_result = apply_page(s, first, RULES, utcnow())
        s.flush()
        thread.start()
        _waiting_on_a_lock(store)
    thread.join(timeout=30)
    assert not thread.is_alive()
    second_result = outcome["second"]
    if isinstance(second_result, BaseException):
        raise AssertionError(f"the second worker's page failed: {second_result!r}") from second_result
    return first_result, second_result


def test_same_contact_first_synced_by_two_workers_at_once_is_one_person(pg_store: Store) -> None:
    lara = pg_store.ensure_mailbox("lara@northwind.example", "Lara")
    omar = pg_store.ensure_mailbox("omar@northwind.example", "Omar")

    first, second = _race(pg_store, _contact_page(lara.id, "lara-c1"), _contact_page(omar.id, "omar-c1"))

    assert (first.people_created, second.people_created) == (1, 0)
    with pg_store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Person)) == 1
        person_id = s.scalar(sa.select(EmailAddress.person_id).where(EmailAddress.address == "ann@acme.example"))
        linked = s.execute(sa.select(ItemLink.mailbox_id, ItemLink.entity_id).order_by(ItemLink.mailbox_id)).all()
        assert linked == [(lara.id, person_id), (omar.id, person_id)]


def test_same_email_first_synced_by_two_workers_at_once_is_one_interaction_both_see(pg_store: Store) -> None:
    lara = pg_store.ensure_mailbox("lara@northwind.example", "Lara")
    omar = pg_store.ensure_mailbox("omar@northwind.example", "Omar")

    first, second = _race(
        pg_store,
        _message_page(lara.id, "lara-m1"),
        _message_page(omar.id, "omar-m1"),
    )

    assert (first.created, second.created) == (1, 1)  # each mailbox's copy is linked
    with pg_store.session() as s:
        interaction_id = s.scalar(sa.select(Interaction.id))
        assert s.scalar(sa.select(sa.func.count()).select_from(Interaction)) == 1
        viewers = set(
            s.scalars(sa.select(InteractionViewer.mailbox_id).where(InteractionViewer.interaction_id == interaction_id))
        )
        assert viewers == {lara.id, omar.id}
        roles = s.execute(
            sa.select(InteractionParticipant.address, InteractionParticipant.role).order_by(
                InteractionParticipant.address
            )
        ).all()
        assert [(a, r.value) for a, r in roles] == [
            ("bob@acme.example", "from"),
            ("lara@northwind.example", "to"),
            ("omar@northwind.example", "to"),
        ]
        states = s.execute(sa.text("SELECT mailbox_id, state FROM sync_states ORDER BY mailbox_id")).all()
        assert states == [(lara.id, "s1"), (omar.id, "s1")]
