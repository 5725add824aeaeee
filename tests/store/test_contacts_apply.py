"""A page of contacts applied set-based: new people, their child rows and organisations land as the ORM left them."""

from __future__ import annotations

import sqlalchemy as sa

from mapping.changes import ItemChange, Page, SyncRules
from mapping.records import ContactRecord, EmailRecord, PhoneRecord, PostalRecord
from mapping.store.models import EmailAddress, Organisation, Person, Phone, PhoneKind, PostalAddress
from mapping.store.store import Store

RULES = SyncRules(internal_domains=frozenset({"northwind.example"}))


def _email(address: str) -> EmailRecord:
    return EmailRecord(address=address, original=address.upper(), is_valid=True)


def _page(mailbox_id: int, *records: ContactRecord, state: str = "s1") -> Page:
    changes = tuple(ItemChange(item_id=r.item_id, change_key=r.change_key, record=r) for r in records)
    return Page(mailbox_id=mailbox_id, folder="contacts", folder_id="f", changes=changes, new_state=state)


def test_new_contacts_become_people_with_their_rows_and_shared_organisation(store: Store) -> None:
    mailbox = store.ensure_mailbox("lara@northwind.example", "Lara")
    plain = ContactRecord(
        item_id="c1",
        change_key="k1",
        display_name="Ann Example",
        company_name="Acme Ltd",
        emails=(_email("ann@acme.example"), _email("ann.private@acme.example")),
        phones=(PhoneRecord(e164="+441632960001", raw="01632 960001", label="BusinessPhone", kind="work"),),
        postal_addresses=(PostalRecord(kind="work", city="Leeds"),),
    )
    fielded = ContactRecord(
        item_id="c2",
        change_key="k2",
        display_name="Bob Example",
        company_name="ACME Ltd.",
        emails=(_email("bob@acme.example"),),
        user_fields={"Source": "Fair"},
    )
    # A second card for Ann on the same page lands on the same person and adds only what is new.
    again = ContactRecord(
        item_id="c3", change_key="k3", display_name="Ann Example", emails=(_email("ann@acme.example"),)
    )

    result = store.apply_page(_page(mailbox.id, plain, fielded, again), RULES)

    assert (result.created, result.people_created, result.organisations_created) == (3, 2, 1)
    with store.session() as s:
        ann, bob = s.scalars(sa.select(Person).order_by(Person.id)).all()
        assert (ann.display_name, bob.display_name) == ("Ann Example", "Bob Example")
        org_id = s.scalar(sa.select(Organisation.id))
        assert ann.organisation_id == bob.organisation_id == org_id
        # An unset user_fields stays SQL NULL, as the ORM left it; a set one is stored as JSON.
        assert s.scalar(sa.select(sa.func.count()).where(Person.user_fields.is_(None))) == 1
        assert bob.user_fields == {"Source": "Fair"}
        emails = s.execute(
            sa.select(
                EmailAddress.address, EmailAddress.person_id, EmailAddress.is_primary, EmailAddress.original
            ).order_by(EmailAddress.address)
        ).all()
        assert [tuple(e) for e in emails] == [
            ("ann.private@acme.example", ann.id, False, "ANN.PRIVATE@ACME.EXAMPLE"),
            ("ann@acme.example", ann.id, True, "ANN@ACME.EXAMPLE"),
            ("bob@acme.example", bob.id, True, "BOB@ACME.EXAMPLE"),
        ]
        assert [tuple(p) for p in s.execute(sa.select(Phone.person_id, Phone.e164, Phone.kind))] == [
            (ann.id, "+441632960001", PhoneKind.WORK)
        ]
        assert [tuple(p) for p in s.execute(sa.select(PostalAddress.person_id, PostalAddress.city))] == [
            (ann.id, "Leeds")
        ]


def test_a_resynced_contact_updates_its_person_and_adds_only_new_rows(store: Store) -> None:
    mailbox = store.ensure_mailbox("lara@northwind.example", "Lara")
    first = ContactRecord(item_id="c1", change_key="k1", display_name="Ann", emails=(_email("ann@acme.example"),))
    store.apply_page(_page(mailbox.id, first), RULES)
    later = ContactRecord(
        item_id="c1",
        change_key="k2",
        display_name="Ann Example",
        job_title="Buyer",
        emails=(_email("ann@acme.example"), _email("ann2@acme.example")),
    )

    result = store.apply_page(_page(mailbox.id, later, state="s2"), RULES)

    assert (result.created, result.updated, result.people_created) == (0, 1, 0)
    with store.session() as s:
        person = s.scalars(sa.select(Person)).one()
        assert (person.display_name, person.job_title) == ("Ann Example", "Buyer")
        rows = s.execute(sa.select(EmailAddress.address, EmailAddress.is_primary).order_by(EmailAddress.address))
        assert [tuple(r) for r in rows] == [("ann2@acme.example", False), ("ann@acme.example", True)]
