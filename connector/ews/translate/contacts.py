"""Contacts: an exchangelib ``Contact`` -> :class:`mapping.records.ContactRecord` (with the user-defined fields)."""

from __future__ import annotations

import contextlib
import re
import threading
from typing import Any

from exchangelib import Contact
from exchangelib.extended_properties import ExtendedProperty
from exchangelib.fields import ExtendedPropertyField, InvalidField

from connector.translate_rules import (
    ADDRESS_KINDS,
    MAX_USER_FIELD_CHARS,
    BadItem,
    contact_display_name,
    item_id_of,
    sensitivity_of,
    text_field,
)
from mapping.hygiene import normalise_email, normalise_phone
from mapping.records import (
    ContactRecord,
    EmailRecord,
    PhoneRecord,
    PostalRecord,
)

# --- contacts ------------------------------------------------------------------------------------

_USER_FIELDS: dict[str, str] = {}  # property name ("Referred By") -> Contact attribute name
_USER_FIELDS_LOCK = threading.Lock()


def _attr_name(name: str) -> str:
    return "relsync_uf_" + (re.sub(r"\W+", "_", name.strip().lower()).strip("_") or "x")


def register_user_fields(names: list[str]) -> dict[str, str]:
    """Register PS_PUBLIC_STRINGS String properties on ``Contact`` so sync fetches and we read them.

    Outlook's custom contact fields ("Source", "Referred By", "Industry") are named properties in the
    PS_PUBLIC_STRINGS set. Registration in exchangelib is process-global and raises when repeated, so
    this is idempotent: names already registered (by this function) are skipped. Returns the mapping
    property name -> Contact attribute name for all names registered so far. Call it once at start-up,
    before the first sync, with the names from the config.
    """
    with _USER_FIELDS_LOCK:
        for name in names:
            if not name.strip() or name in _USER_FIELDS:
                continue
            attr = _attr_name(name)
            try:
                existing = Contact.get_field_by_fieldname(attr)
            except InvalidField:
                prop = type(
                    f"UserField_{attr}",
                    (ExtendedProperty,),
                    {
                        "distinguished_property_set_id": "PublicStrings",
                        "property_name": name,
                        "property_type": "String",
                    },
                )
                Contact.register(attr, prop)
            else:
                # Registered earlier in this process (e.g. a test, or another name slugging the same).
                same = (
                    isinstance(existing, ExtendedPropertyField)
                    and existing.value_cls.distinguished_property_set_id == "PublicStrings"
                    and existing.value_cls.property_name == name
                )
                if not same:
                    raise ValueError(f"user field {name!r}: Contact attribute {attr!r} is already taken")
            _USER_FIELDS[name] = attr
        return dict(_USER_FIELDS)


def reset_user_fields() -> None:
    """Deregister every user field :func:`register_user_fields` registered (tests, config reload).

    Registered properties are requested on every contact sync in this process, so a test that
    registers them cleans up after itself rather than changing what later tests send.
    """
    with _USER_FIELDS_LOCK:
        for attr in _USER_FIELDS.values():
            with contextlib.suppress(ValueError):  # already gone
                Contact.deregister(attr)
        _USER_FIELDS.clear()


def _user_fields(item: Any, item_id: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, attr in _USER_FIELDS.items():
        value = getattr(item, attr, None)
        if isinstance(value, ExtendedProperty):
            value = getattr(value, "value", None)
        text = text_field(item_id, name, value, MAX_USER_FIELD_CHARS) if value is not None else None
        if text:
            result[name] = text
    return result


def contact_record(item: Any, default_region: str | None = None) -> ContactRecord:
    """Translate an exchangelib ``Contact`` (with every e-mail, phone, address and user field).

    ``default_region`` (config, e.g. "DE") parses phone numbers typed without a country code.
    The display name falls back to given + surname, then the company, then the first e-mail; a contact
    with none of them and no phone is a :class:`BadItem`.
    """
    if not isinstance(item, Contact):
        raise BadItem(getattr(item, "id", None), f"not a contact: {type(item).__name__}")
    item_id = item_id_of(item)

    emails: list[EmailRecord] = []
    for entry in item.email_addresses or ():
        record = normalise_email(getattr(entry, "email", None), label=getattr(entry, "label", None))
        if record is not None and record.address not in {e.address for e in emails}:
            emails.append(record)
    phones: list[PhoneRecord] = []
    for entry in item.phone_numbers or ():
        raw = getattr(entry, "phone_number", None)
        if raw and str(raw).strip():
            phone = normalise_phone(str(raw), default_region, label=getattr(entry, "label", None))
            if all((p.e164 or p.raw) != (phone.e164 or phone.raw) for p in phones):
                phones.append(phone)
    postal: list[PostalRecord] = []
    for entry in item.physical_addresses or ():
        parts = {
            key: text_field(item_id, f"address {key}", getattr(entry, attr, None))
            for key, attr in (
                ("street", "street"),
                ("city", "city"),
                ("state", "state"),
                ("postal_code", "zipcode"),
                ("country", "country"),
            )
        }
        if any(parts.values()):
            label = getattr(entry, "label", None)
            postal.append(PostalRecord(kind=ADDRESS_KINDS.get(label or "", "other"), label=label, **parts))

    given = text_field(item_id, "given name", item.given_name)
    surname = text_field(item_id, "surname", item.surname)
    company = text_field(item_id, "company name", item.company_name)
    display = contact_display_name(
        item_id, text_field(item_id, "display name", item.display_name), given, surname, company, emails, phones
    )

    return ContactRecord(
        item_id=item_id,
        change_key=item.changekey,
        display_name=display,
        given_name=given,
        middle_name=text_field(item_id, "middle name", item.middle_name),
        surname=surname,
        nickname=text_field(item_id, "nickname", item.nickname),
        company_name=company,
        job_title=text_field(item_id, "job title", item.job_title),
        department=text_field(item_id, "department", item.department),
        website=text_field(item_id, "website", item.business_homepage),
        emails=tuple(emails),
        phones=tuple(phones),
        postal_addresses=tuple(postal),
        categories=tuple(c for c in (item.categories or ()) if c),
        sensitivity=sensitivity_of(item.sensitivity),
        user_fields=_user_fields(item, item_id),
    )
