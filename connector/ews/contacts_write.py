"""Outlook contacts relsync creates over EWS (``relsync import contacts --to-outlook``): create, find by our
id, remove.

Every contact relsync creates carries our id as a named extended property in relsync's own property set
(the one its follow-up tasks use, :class:`connector.ews.tasks.RelsyncFollowUpId`), name
``relsync-contact-id``; so a contact whose creation reached Exchange but not the store (a crash in
between) is found again by :func:`find_by_our_ids` and adopted instead of created twice.

exchangelib registers extended properties on the item class for the whole process, and a registered
property is requested on every later read of that class (the contact sync included). The property is
therefore registered only while one of these functions runs (:func:`_registered`), so sync's requests
stay as they were.

* https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation-contact
* https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/properties-and-extended-properties-in-ews-in-exchange
* https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem-operation
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from exchangelib import Account, Contact, ExtendedProperty
from exchangelib import errors as ews
from exchangelib.indexed_properties import EmailAddress, PhoneNumber
from exchangelib.items import MOVE_TO_DELETED_ITEMS
from exchangelib.properties import ItemId

from connector.errors import ExchangeError
from connector.ews.errors import translate
from connector.ews.tasks import RelsyncFollowUpId, find_stamped
from connector.writer import ContactRemoval, Created, NewContact

#: Contacts per CreateItem / GetItem / DeleteItem request.
BATCH = 100
#: Our ids per FindItem restriction.
FIELD = "relsync_contact_id"
_EMAIL_SLOTS = ("EmailAddress1", "EmailAddress2", "EmailAddress3")
_PHONE_SLOTS = ("BusinessPhone", "BusinessPhone2")


class RelsyncContactId(ExtendedProperty):  # type: ignore[misc]
    """Our id on a contact relsync created (a named property in relsync's own property set)."""

    property_set_id = RelsyncFollowUpId.property_set_id
    property_name = "relsync-contact-id"
    property_type = "String"


_lock = threading.RLock()
_depth = 0


@contextmanager
def _registered() -> Iterator[None]:
    """The property registered on ``Contact`` for the duration (re-entrant, across threads)."""
    global _depth
    with _lock:
        if _depth == 0 and FIELD not in {f.name for f in Contact.FIELDS}:
            Contact.register(FIELD, RelsyncContactId)
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
            if _depth == 0:
                Contact.deregister(FIELD)


def _contact(account: Account, c: NewContact) -> Contact:
    fields: dict[str, Any] = {
        "display_name": c.display_name,
        "given_name": c.given,
        "surname": c.surname,
        "company_name": c.company,
        "job_title": c.job_title,
        "department": c.department,
        FIELD: c.our_id,
    }
    emails = [EmailAddress(email=e, label=slot) for slot, e in zip(_EMAIL_SLOTS, c.emails, strict=False)]
    phones = [PhoneNumber(label=slot, phone_number=p) for slot, p in zip(_PHONE_SLOTS, c.business_phones, strict=False)]
    if c.mobile:
        phones.append(PhoneNumber(label="MobilePhone", phone_number=c.mobile))
    if emails:
        fields["email_addresses"] = emails
    if phones:
        fields["phone_numbers"] = phones
    return Contact(account=account, folder=account.contacts, **{k: v for k, v in fields.items() if v is not None})


def create_contacts(account: Account, contacts: Sequence[NewContact]) -> list[Created | ExchangeError]:
    """Create contacts in the Contacts folder (one CreateItem per :data:`BATCH`); per contact its ids or error."""
    out: list[Created | ExchangeError] = []
    mailbox = account.primary_smtp_address
    with _registered():
        for start in range(0, len(contacts), BATCH):
            chunk = contacts[start : start + BATCH]
            try:
                results = account.bulk_create(folder=account.contacts, items=[_contact(account, c) for c in chunk])
            except Exception as exc:
                raise translate(exc, mailbox=mailbox) from exc
            for c, r in zip(chunk, results, strict=True):
                if isinstance(r, Exception):
                    out.append(translate(r, mailbox=mailbox))
                else:
                    out.append(Created(c.our_id, str(r.id), r.changekey))
    return out


def find_by_our_ids(account: Account, our_ids: Sequence[str]) -> dict[str, Created]:
    """Contacts in the Contacts folder carrying one of ``our_ids``: our id -> item id and ChangeKey."""
    with _registered():
        return find_stamped(account, account.contacts, FIELD, our_ids)


def remove_contacts(account: Account, created: Sequence[Created]) -> list[ContactRemoval | ExchangeError]:
    """Move to Deleted Items each contact whose ChangeKey is still the recorded one; keep a changed one."""
    out: list[ContactRemoval | ExchangeError] = []
    mailbox = account.primary_smtp_address
    for start in range(0, len(created), BATCH):
        chunk = created[start : start + BATCH]
        outcome: list[ContactRemoval | ExchangeError] = []
        doomed: list[tuple[int, tuple[str, str]]] = []
        try:
            current = list(account.fetch(ids=[ItemId(id=c.item_id) for c in chunk], only_fields=["display_name"]))
            for n, (c, item) in enumerate(zip(chunk, current, strict=True)):
                if isinstance(item, ews.ErrorItemNotFound):
                    outcome.append("gone")
                elif isinstance(item, Exception):
                    outcome.append(translate(item, mailbox=mailbox))
                elif c.change_key is not None and item.changekey != c.change_key:
                    outcome.append("changed")
                else:
                    outcome.append("removed")
                    doomed.append((n, (str(item.id), str(item.changekey))))
            results = (
                list(account.bulk_delete(ids=[d for _, d in doomed], delete_type=MOVE_TO_DELETED_ITEMS))
                if doomed
                else []
            )
        except Exception as exc:
            raise translate(exc, mailbox=mailbox) from exc
        for (n, _), r in zip(doomed, results, strict=True):
            if isinstance(r, ews.ErrorItemNotFound):
                outcome[n] = "gone"
            elif isinstance(r, Exception):
                outcome[n] = translate(r, mailbox=mailbox)
        out.extend(outcome)
    return out
