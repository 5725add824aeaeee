"""GetItem, FindItem, CreateItem, UpdateItem, DeleteItem and ResolveNames through exchangelib."""

from __future__ import annotations

import datetime as dt

import pytest
from exchangelib import Account, Contact, Message, Task
from exchangelib.errors import (
    ErrorIrresolvableConflict,
    ErrorItemNotFound,
    ErrorNameResolutionNoResults,
    ErrorNonExistentMailbox,
)
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress
from exchangelib.items import ALWAYS_OVERWRITE
from exchangelib.properties import ItemId, Mailbox

from connector.fake.ews.server import FakeExchange

from .company import ALICE, BOB, DANA
from .conftest import AccountFactory
from .extprops import FIELD


def test_items_carry_sensitivity_categories_and_extended_properties(alice: Account) -> None:
    contacts = {c.display_name: c for c in alice.contacts.all()}
    assert getattr(contacts["Dana Dunn"], FIELD) == "crm-dana"
    assert contacts["Dana Dunn"].categories == ["Customer"]
    assert contacts["Erin Estrada"].sensitivity == "Private"
    assert contacts["Steve O'Neil & Sons"].nickname == "Stephen"
    assert contacts["Dana Dunn"].phone_numbers == [
        PhoneNumber(label="BusinessPhone", phone_number="+49 30 1234001"),
        PhoneNumber(label="MobilePhone", phone_number="+49 170 555001"),
    ]
    msgs = {m.subject: m for m in alice.inbox.all()}
    reply = msgs["Re: Offer for Fabrikam"]
    assert reply.sender.email_address == DANA.email
    assert [r.email_address for r in reply.to_recipients] == [ALICE.email, BOB.email]
    assert reply.cc_recipients[0].name == "Erin Estrada"
    assert reply.conversation_id.id == "CONV-2"
    assert reply.is_read is True and msgs["Offer for Fabrikam"].is_read is False
    assert "& <things>" in reply.body
    assert msgs["Private: lunch?"].sensitivity == "Private"
    task = next(t for t in alice.tasks.all() if t.subject == "Call Dana about renewal")
    assert getattr(task, FIELD) == "crm-1"
    assert task.status == "InProgress" and task.percent_complete == 50
    assert task.due_date == dt.date(2026, 3, 20)


def test_fetch_returns_items_in_request_order_and_not_found_as_an_error_object(
    fake: FakeExchange, alice: Account
) -> None:
    ids = [iid for iid, _ in fake.mailboxes[ALICE.email].items("inbox")]
    gone = ids[1]
    fake.mailboxes[ALICE.email].delete(gone)
    got = list(alice.fetch([ItemId(ids[2]), ItemId(gone), ItemId(ids[0])]))
    assert isinstance(got[0], Message) and got[0].id == ids[2]
    assert isinstance(got[1], ErrorItemNotFound)
    assert got[2].subject == "Offer for Fabrikam"


def test_create_update_delete_a_task_with_our_stamp(fake: FakeExchange, alice: Account) -> None:
    task = Task(
        folder=alice.tasks,
        subject="Call Erin",
        body="Quarterly contact",
        due_date=dt.date(2030, 1, 15),
        status="NotStarted",
        categories=["relsync"],
        reminder_is_set=True,
        reminder_due_by=dt.datetime(2030, 1, 15, 8, tzinfo=dt.UTC),
        **{FIELD: "crm-42"},
    )
    task.save()
    assert task.id and task.changekey
    first_ck = task.changekey
    stored = fake.mailboxes[ALICE.email].get(task.id)
    assert stored is not None and stored.fields["ReminderIsSet"] is True  # sent as "1", stored as a bool
    fresh = alice.tasks.get(id=task.id)
    assert (fresh.subject, getattr(fresh, FIELD), fresh.reminder_is_set) == ("Call Erin", "crm-42", True)
    assert fresh.due_date == dt.date(2030, 1, 15) and fresh.categories == ["relsync"]

    task.categories = ["relsync", "Value: Superior"]
    task.save(update_fields=["categories"])
    assert task.changekey != first_ck
    task.status = "Completed"
    task.save(update_fields=["status", "percent_complete"])
    setattr(task, FIELD, "crm-43")
    task.save(update_fields=[FIELD])
    task.categories = []
    task.save(update_fields=["categories"])  # DeleteItemField
    fresh = alice.tasks.get(id=task.id)
    assert fresh.categories is None and fresh.status == "Completed" and fresh.percent_complete == 100
    assert getattr(fresh, FIELD) == "crm-43"
    assert fake.stats.writes["create"] == 1 and fake.stats.writes["update"] == 4

    task_id = task.id
    task.delete()
    with pytest.raises(ErrorItemNotFound):
        alice.tasks.get(id=task_id)
    assert fake.stats.to_json()["writes_total"] == 6


def test_contact_indexed_fields_round_trip(alice: Account) -> None:
    c = Contact(
        folder=alice.contacts,
        display_name="Gina Gruber",
        given_name="Gina",
        surname="Gruber",
        company_name="Gruber GmbH",
        email_addresses=[EmailAddress(email="gina@gruber.test", label="EmailAddress1")],
        phone_numbers=[PhoneNumber(label="MobilePhone", phone_number="+43 660 1234567")],
        physical_addresses=[
            PhysicalAddress(label="Business", street="Ring 1", city="Wien", country="Austria", zipcode="1010")
        ],
    )
    c.save()
    c.email_addresses = [EmailAddress(email="g.gruber@gruber.test", label="EmailAddress2")]
    c.phone_numbers = [PhoneNumber(label="BusinessPhone", phone_number="+43 1 555")]
    c.physical_addresses = [
        PhysicalAddress(label="Business", street="Ring 2", city="Wien", country="Austria", zipcode="1010")
    ]
    c.save(update_fields=["email_addresses", "phone_numbers", "physical_addresses"])
    fresh = alice.contacts.get(id=c.id)
    assert fresh.email_addresses == [EmailAddress(email="g.gruber@gruber.test", label="EmailAddress2")]
    assert fresh.phone_numbers == [PhoneNumber(label="BusinessPhone", phone_number="+43 1 555")]
    assert fresh.physical_addresses[0].street == "Ring 2" and fresh.physical_addresses[0].zipcode == "1010"


def test_stale_changekey_is_an_irresolvable_conflict_until_always_overwrite(fake: FakeExchange, alice: Account) -> None:
    contact = alice.contacts.get(display_name="Dana Dunn")
    fake.mailboxes[ALICE.email].update(contact.id, JobTitle="Head of Purchasing")  # staff edit in Outlook
    contact.categories = ["Customer", "Value: Superior"]
    with pytest.raises(ErrorIrresolvableConflict):
        contact.save(update_fields=["categories"])
    contact.save(update_fields=["categories"], conflict_resolution=ALWAYS_OVERWRITE)
    fresh = alice.contacts.get(id=contact.id)
    assert fresh.categories == ["Customer", "Value: Superior"] and fresh.job_title == "Head of Purchasing"


def test_injected_conflict_hits_only_the_next_update(fake: FakeExchange, alice: Account) -> None:
    fake.faults.add("conflict", operation="UpdateItem", times=1)
    task = alice.tasks.get(subject="Send brochure")
    task.categories = ["x"]
    with pytest.raises(ErrorIrresolvableConflict):
        task.save(update_fields=["categories"])
    task.save(update_fields=["categories"])  # the fault is used up
    assert alice.tasks.get(id=task.id).categories == ["x"]


def test_bulk_update_conflict_raises_for_the_whole_chunk(fake: FakeExchange, alice: Account) -> None:
    tasks = list(alice.tasks.all())
    fake.mailboxes[ALICE.email].update(tasks[1].id, Subject="edited meanwhile")
    for t in tasks:
        t.categories = ["bulk"]
    with pytest.raises(ErrorIrresolvableConflict):
        alice.bulk_update([(t, ["categories"]) for t in tasks])
    assert alice.tasks.get(id=tasks[0].id).categories == ["bulk"]  # applied before the conflict


def test_find_item_pages_and_filters(make_server, account_for: AccountFactory) -> None:  # type: ignore[no-untyped-def]
    from .company import BulkCompany

    ex = make_server(BulkCompany(250))
    acc = account_for(ex)
    assert acc.inbox.all().count() == 250
    subjects = [m.subject for m in acc.inbox.all().only("subject")]
    assert len(subjects) == 250 and subjects[0] == "Message 0: quarterly numbers"
    assert acc.inbox.filter(subject="Message 7: quarterly numbers").count() == 1
    assert acc.inbox.filter(subject__icontains="message 24").count() == 11  # 24, 240..249
    assert acc.inbox.filter(categories__contains="Customer").count() == 84
    ops = ex.stats.operations
    assert ops["FindItem"] >= 3


def test_resolve_names_finds_staff_and_contacts(fake: FakeExchange, alice: Account) -> None:
    staff = alice.protocol.resolve_names(["bob"])
    assert staff == [Mailbox(name="Bob Baker", email_address=BOB.email, routing_type="SMTP", mailbox_type="Mailbox")]
    # exchangelib sends ResolveNames without impersonation, so only the directory (staff) is searched
    many = alice.protocol.resolve_names(["a"])
    assert [m.email_address for m in many] == [ALICE.email]
    none = alice.protocol.resolve_names(["zzz-nobody"])
    assert isinstance(none[0], ErrorNameResolutionNoResults)


def test_unknown_mailbox_is_a_non_existent_mailbox_error(fake: FakeExchange, account_for: AccountFactory) -> None:
    ghost = account_for(fake, email="ghost@contoso.test")
    with pytest.raises(ErrorNonExistentMailbox):
        _ = ghost.inbox


def test_two_mailboxes_are_separate(fake: FakeExchange, account_for: AccountFactory) -> None:
    bob = account_for(fake, email=BOB.email)
    alice = account_for(fake)
    assert [c.display_name for c in bob.contacts.all()] == ["Frank Fischer"]
    assert bob.inbox.total_count == 0 and alice.inbox.total_count == 3
    a_id = next(iter(alice.contacts.all())).id
    assert isinstance(next(iter(bob.fetch([ItemId(a_id)]))), ErrorItemNotFound)
    assert fake.stats.mailboxes[BOB.email] > 0 and fake.stats.mailboxes[ALICE.email] > 0


def test_reading_a_message_is_a_read_flag_change_in_the_next_sync(alice: Account) -> None:
    inbox = alice.inbox
    list(inbox.sync_items())
    msg = inbox.get(subject="Offer for Fabrikam")
    msg.is_read = True
    msg.save(update_fields=["is_read"])
    assert [(ct, obj[0].id, obj[1]) for ct, obj in inbox.sync_items()] == [("read_flag_change", msg.id, True)]
