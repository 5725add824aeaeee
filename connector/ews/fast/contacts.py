"""Contacts: a ``t:Contact`` element -> :class:`mapping.records.ContactRecord`, as exchangelib's parse and
:func:`connector.ews.translate.contacts.contact_record` give it."""

from __future__ import annotations

from typing import Any

from connector.ews.fast.common import T, Unreadable, id_of, text, texts
from connector.translate_rules import ADDRESS_KINDS, contact_display_name, sensitivity_of, text_field
from mapping.hygiene import normalise_email, normalise_phone
from mapping.records import ContactRecord, EmailRecord, PhoneRecord, PostalRecord


def contact(item: Any, default_region: str | None) -> tuple[ContactRecord, tuple[str, ...]]:
    """As :func:`connector.ews.translate.contacts.contact_record` reads an exchangelib ``Contact``."""
    item_id, change_key = id_of(item)
    if item.find(T + "ExtendedProperty") is not None:
        raise Unreadable("ExtendedProperty")  # user-defined fields: exchangelib's registered properties

    emails: list[EmailRecord] = []
    found = item.find(T + "EmailAddresses")
    for entry in () if found is None else found:
        label = entry.get("Key")
        if not label:
            raise Unreadable("EmailAddresses")
        email = normalise_email(entry.text or entry.get("Name"), label=label)
        if email is not None and email.address not in {e.address for e in emails}:
            emails.append(email)
    phones: list[PhoneRecord] = []
    found = item.find(T + "PhoneNumbers")
    for entry in () if found is None else found:
        label = entry.get("Key")
        raw = entry.text
        if not label:
            raise Unreadable("PhoneNumbers")
        if raw and raw.strip():
            phone = normalise_phone(raw, default_region, label=label)
            if all((p.e164 or p.raw) != (phone.e164 or phone.raw) for p in phones):
                phones.append(phone)
    postal: list[PostalRecord] = []
    found = item.find(T + "PhysicalAddresses")
    for entry in () if found is None else found:
        label = entry.get("Key")
        if not label:
            raise Unreadable("PhysicalAddresses")
        parts = {
            key: text_field(item_id, f"address {key}", text(entry, T + tag))
            for key, tag in (
                ("street", "Street"),
                ("city", "City"),
                ("state", "State"),
                ("postal_code", "PostalCode"),
                ("country", "CountryOrRegion"),
            )
        }
        if any(parts.values()):
            postal.append(PostalRecord(kind=ADDRESS_KINDS.get(label, "other"), label=label, **parts))

    given = text_field(item_id, "given name", text(item, T + "GivenName"))
    surname = text_field(item_id, "surname", text(item, T + "Surname"))
    company = text_field(item_id, "company name", text(item, T + "CompanyName"))
    display = contact_display_name(
        item_id,
        text_field(item_id, "display name", text(item, T + "DisplayName")),
        given,
        surname,
        company,
        emails,
        phones,
    )
    categories = tuple(texts(item, T + "Categories", T + "String") or ())
    record = ContactRecord(
        item_id=item_id,
        change_key=change_key,
        display_name=display,
        given_name=given,
        middle_name=text_field(item_id, "middle name", text(item, T + "MiddleName")),
        surname=surname,
        nickname=text_field(item_id, "nickname", text(item, T + "Nickname")),
        company_name=company,
        job_title=text_field(item_id, "job title", text(item, T + "JobTitle")),
        department=text_field(item_id, "department", text(item, T + "Department")),
        website=text_field(item_id, "website", text(item, T + "BusinessHomePage")),
        emails=tuple(emails),
        phones=tuple(phones),
        postal_addresses=tuple(postal),
        categories=tuple(c for c in categories if c),
        sensitivity=sensitivity_of(text(item, T + "Sensitivity")),
        user_fields={},
    )
    return record, categories
