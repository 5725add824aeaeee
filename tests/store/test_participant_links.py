"""Whoever appears later is linked to what was stored before: the store does not depend on sync order."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from mapping.changes import FolderName, ItemChange, Page, SyncRules
from mapping.records import ContactRecord, EmailRecord, MessageRecord, Participant
from mapping.store.models import EmailAddress, InteractionParticipant, Organisation
from mapping.store.store import Store

RULES = SyncRules(internal_domains=frozenset({"northwind.example"}))  # people from sent mail only
WHEN = datetime(2026, 5, 4, 9, tzinfo=UTC)


def _mail(item_id: str, folder: FolderName, message_id: str, sender: str, *to: str) -> Page:
    record = MessageRecord(
        item_id=item_id,
        change_key="k",
        folder=folder,
        internet_message_id=message_id,
        conversation_id=None,
        subject="Hello",
        sent_at=WHEN,
        received_at=WHEN,
        participants=(Participant(sender, None, "from"), *(Participant(a, None, "to") for a in to)),
    )
    return Page(mailbox_id=0, folder=folder, folder_id="f", changes=(ItemChange(item_id, "k", record),), new_state="s")


def _for(mailbox_id: int, page: Page) -> Page:
    return Page(mailbox_id, page.folder, page.folder_id, page.changes, page.new_state)


def _who(store: Store, message_id_address: str) -> tuple[int | None, int | None]:
    with store.session() as s:
        row = s.execute(
            sa.select(InteractionParticipant.person_id, InteractionParticipant.staff_mailbox_id).where(
                InteractionParticipant.address == message_id_address
            )
        ).one()
        return row[0], row[1]


def test_a_participant_stored_before_its_person_existed_is_linked_when_the_person_appears(store: Store) -> None:
    ann = store.ensure_mailbox("ann@northwind.example", "Ann")
    bob = store.ensure_mailbox("bob@northwind.example", "Bob")
    # Ann's inbound mail from Jane: under "sent", an unknown sender does not become a person...
    store.apply_page(_for(ann.id, _mail("a1", "inbox", "<1@x>", "jane@acme.example", ann.address)), RULES)
    assert _who(store, "jane@acme.example") == (None, None)
    # ...until Bob writes to her: Jane is a person now, and Ann's earlier mail is hers too.
    store.apply_page(_for(bob.id, _mail("b1", "sentitems", "<2@x>", bob.address, "jane@acme.example")), RULES)
    with store.session() as s:
        jane = s.scalar(sa.select(EmailAddress.person_id).where(EmailAddress.address == "jane@acme.example"))
        linked = s.scalars(
            sa.select(InteractionParticipant.person_id).where(InteractionParticipant.address == "jane@acme.example")
        ).all()
    assert jane is not None and linked == [jane, jane]


def test_a_contact_synced_later_links_the_mail_stored_before(store: Store) -> None:
    ann = store.ensure_mailbox("ann@northwind.example", "Ann")
    store.apply_page(_for(ann.id, _mail("a1", "inbox", "<1@x>", "kim@globex.example", ann.address)), RULES)
    contact = ContactRecord(
        item_id="c1",
        change_key="k",
        display_name="Kim Lee",
        company_name="Globex Corp",
        emails=(EmailRecord("kim@globex.example", "kim@globex.example", True),),
    )
    page = Page(ann.id, "contacts", "f", (ItemChange("c1", "k", contact),), "s")
    store.apply_page(page, RULES)
    person_id, _ = _who(store, "kim@globex.example")
    assert person_id is not None


def test_a_colleague_whose_mailbox_is_recorded_later_is_staff_on_the_mail_stored_before(store: Store) -> None:
    ann = store.ensure_mailbox("ann@northwind.example", "Ann")
    store.apply_page(
        _for(ann.id, _mail("a1", "sentitems", "<1@x>", ann.address, "jane@acme.example", "cid@northwind.example")),
        RULES,
    )
    assert _who(store, "cid@northwind.example") == (None, None)
    cid = store.ensure_mailbox("cid@northwind.example", "Cid")
    assert _who(store, "cid@northwind.example") == (None, cid.id)


def test_an_organisation_named_after_its_domain_takes_the_company_name_a_contact_gives(store: Store) -> None:
    ann = store.ensure_mailbox("ann@northwind.example", "Ann")
    store.apply_page(_for(ann.id, _mail("a1", "sentitems", "<1@x>", ann.address, "jane@acme.example")), RULES)
    contact = ContactRecord(
        item_id="c1",
        change_key="k",
        display_name="Jane Doe",
        company_name="Acme Ltd",
        emails=(EmailRecord("jane@acme.example", "jane@acme.example", True),),
    )
    store.apply_page(Page(ann.id, "contacts", "f", (ItemChange("c1", "k", contact),), "s"), RULES)
    with store.session() as s:
        # the same as when the contact is synced first
        assert s.execute(sa.select(Organisation.name, Organisation.normalised_name)).all() == [("Acme Ltd", "acme")]
