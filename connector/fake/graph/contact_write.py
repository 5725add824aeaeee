"""A Graph contact ``PATCH`` body -> the EWS contact fields the fake stores. Pure: no I/O.

https://learn.microsoft.com/en-us/graph/api/contact-update: "In the request body, supply the values for
relevant fields that should be updated. Existing properties that are not included in the request body
will maintain their previous values". Every writable property the fake stores is updated (and ``null``
clears it); ``emailAddresses``, ``businessPhones`` and ``homePhones`` replace the whole collection
(Graph keeps at most three e-mail addresses and two business / home phones: Outlook's slots).
Annotations (``@odata.type``, which the SDKs add to every object) are accepted and ignored, as Graph
does. A read-only property, or one the fake does not store (``title``, ``yomi*``, ``imAddresses``,
``children``), is refused with 400 rather than dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connector.fake.graph.replies import bad_request
from connector.fake.model import PhysicalAddress

#: Graph name -> EWS field, for the string properties.
STRINGS: dict[str, str] = {
    "displayName": "DisplayName",
    "givenName": "GivenName",
    "middleName": "MiddleName",
    "surname": "Surname",
    "nickName": "Nickname",
    "initials": "Initials",
    "generation": "Generation",
    "fileAs": "FileAs",
    "companyName": "CompanyName",
    "jobTitle": "JobTitle",
    "department": "Department",
    "officeLocation": "OfficeLocation",
    "profession": "Profession",
    "businessHomePage": "BusinessHomePage",
    "assistantName": "AssistantName",
    "manager": "Manager",
    "spouseName": "SpouseName",
    "personalNotes": "Body",
}
READ_ONLY = frozenset({"id", "changeKey", "createdDateTime", "lastModifiedDateTime", "parentFolderId"})
NOT_STORED = frozenset({"title", "yomiGivenName", "yomiSurname", "yomiCompanyName", "imAddresses", "children"})
_ADDRESSES = {"homeAddress": "Home", "businessAddress": "Business", "otherAddress": "Other"}
_ADDRESS_KEYS = {
    "street": "street",
    "city": "city",
    "state": "state",
    "countryOrRegion": "country",
    "postalCode": "postal_code",
}
_PHONES = {"businessPhones": ("BusinessPhone", "BusinessPhone2"), "homePhones": ("HomePhone", "HomePhone2")}
_EMAIL_SLOTS = ("EmailAddress1", "EmailAddress2", "EmailAddress3")


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """The object without its ``@odata.*`` annotations."""
    return {k: v for k, v in data.items() if not k.startswith("@odata.")}


def _string(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise bad_request(f"The property '{name}' must be a string or null.")
    return value or None


def _strings(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"The property '{name}' must be an array of strings.")
    return [v for v in value if v]


def _emails(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise bad_request("The property 'emailAddresses' must be an array of emailAddress objects.")
    if len(value) > len(_EMAIL_SLOTS):
        raise bad_request("A contact has at most 3 e-mail addresses ('emailAddresses').")
    out: dict[str, str] = {}
    for slot, entry in zip(_EMAIL_SLOTS, value, strict=False):
        address = _plain(entry).get("address")
        if not isinstance(address, str) or not address:
            raise bad_request("Every entry of 'emailAddresses' needs an 'address' string.")
        out[slot] = address
    return out


def _address(name: str, value: Any) -> PhysicalAddress | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"The property '{name}' must be a physicalAddress object or null.")
    plain = _plain(value)
    unknown = set(plain) - set(_ADDRESS_KEYS)
    if unknown:
        raise bad_request(f"The physicalAddress '{name}' has no property '{sorted(unknown)[0]}'.")
    parts = {_ADDRESS_KEYS[k]: _string(f"{name}.{k}", v) or "" for k, v in plain.items()}
    address = PhysicalAddress(**parts)
    return None if address == PhysicalAddress() else address


def _birthday(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request("The property 'birthday' must be a DateTimeOffset string or null.")
    try:
        out = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"The value '{value}' of 'birthday' is not a valid DateTimeOffset.") from None
    return out if out.tzinfo is not None else out.replace(tzinfo=UTC)


def contact_update(current: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The EWS field updates (a value None removes the field) for a PATCH ``body`` on a contact whose
    fields are ``current``. Raises a 400 :class:`GraphError` for what the fake does not write."""
    if not isinstance(body, Mapping):
        raise bad_request("The request body must be a JSON object.")
    out: dict[str, Any] = {}
    phones = dict(current.get("PhoneNumbers") or {})
    addresses = dict(current.get("PhysicalAddresses") or {})
    phones_changed = addresses_changed = False
    for name, value in _plain(body).items():
        if name in STRINGS:
            out[STRINGS[name]] = _string(name, value)
        elif name == "categories":
            out["Categories"] = tuple(_strings(name, value))
        elif name == "emailAddresses":
            out["EmailAddresses"] = _emails(value) or None
        elif name in _PHONES:
            slots = _PHONES[name]
            numbers = _strings(name, value)
            if len(numbers) > len(slots):
                raise bad_request(f"A contact has at most {len(slots)} numbers in '{name}'.")
            for i, slot in enumerate(slots):
                phones.pop(slot, None)
                if i < len(numbers):
                    phones[slot] = numbers[i]
            phones_changed = True
        elif name == "mobilePhone":
            number = _string(name, value)
            phones.pop("MobilePhone", None)
            if number:
                phones["MobilePhone"] = number
            phones_changed = True
        elif name in _ADDRESSES:
            address = _address(name, value)
            addresses.pop(_ADDRESSES[name], None)
            if address is not None:
                addresses[_ADDRESSES[name]] = address
            addresses_changed = True
        elif name == "birthday":
            out["Birthday"] = _birthday(value)
        elif name in READ_ONLY:
            raise bad_request(f"The property '{name}' of a contact is read-only.")
        elif name in NOT_STORED:
            raise bad_request(f"The fake Graph does not store the contact property '{name}'; it cannot update it.")
        else:
            raise bad_request(f"The property '{name}' does not exist on type 'microsoft.graph.contact'.")
    if phones_changed:
        out["PhoneNumbers"] = phones or None
    if addresses_changed:
        out["PhysicalAddresses"] = addresses or None
    return out
