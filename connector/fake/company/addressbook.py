"""Address books as real ones are: several addresses and phones per contact, people who changed
company, and the shared role addresses (``info@``, ``sales@``) every company's customers write to.

The generator (:mod:`connector.fake.company.generator`) builds each contact's basic fields; this module adds
what real Outlook address books hold besides, as plain functions on plain records:

* **Three e-mail slots.** An Outlook contact has ``EmailAddress1`` to ``EmailAddress3``
  (https://learn.microsoft.com/exchange/client-developer/web-service-reference/entry-emailaddress;
  Graph lists them in ``emailAddresses``:
  https://learn.microsoft.com/graph/api/resources/contact). About a third of the people have a
  private free-mail address, which some colleagues keep as ``EmailAddress2``; people who changed
  company keep their old employer's address in the next free slot, so some contacts carry work,
  private and old-employer addresses at once.
* **Several phone kinds**, with the EWS keys of ``PhoneNumberKeyType``
  (https://learn.microsoft.com/exchange/client-developer/web-service-reference/entry-phonenumber):
  ``HomePhone``, ``BusinessPhone2``, ``CompanyMainPhone``, ``BusinessFax``, ``AssistantPhone``,
  ``OtherTelephone``, besides the generator's ``BusinessPhone`` and ``MobilePhone``.
* **People who changed company.** About one in ten moved to their present organisation from another
  one; their contacts keep the old address (the book was updated, the old address not removed).
* **Role addresses.** Every sixteenth contact slot (from slot 15 on, so every scale has some) is a
  shared mailbox-style address of the organisation at that slot (``info@``, ``sales@``, ``orders@``,
  ...), a contact without a person's name, as staff save them.

Deterministic: every choice comes from a BLAKE2b-seeded ``random.Random`` of the company seed and the
person (facts about a person: the same in every mailbox) or the contact slot (what one mailbox's book
kept). The planted duplicates and hard negatives are left exactly as the generator made them.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from connector.fake.company import names
from connector.fake.company.rand import seeded_rng

#: Shared mailbox-style local parts, most common first.
ROLE_LOCAL_PARTS: Final = ("info", "sales", "orders", "support", "accounts", "office", "invoices")
#: How staff label a saved role address ("Sales - Acme Corp").
_ROLE_LABELS: Final = {
    "info": "Info",
    "sales": "Sales",
    "orders": "Orders",
    "support": "Support",
    "accounts": "Accounts",
    "office": "Office",
    "invoices": "Invoices",
}
#: Contact slot ``i`` with ``i % ROLE_EVERY == ROLE_EVERY - 1`` holds a role address.
ROLE_EVERY: Final = 16
#: The first slots hold the planted duplicates (see FakeCompany.planted); role addresses never do.
FIRST_FREE_SLOT: Final = 13


class _Org(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def domain(self) -> str: ...
    @property
    def phone(self) -> str: ...


class _Person(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def given_name(self) -> str: ...
    @property
    def surname(self) -> str: ...
    @property
    def org(self) -> int: ...
    @property
    def email(self) -> str: ...


@dataclass(frozen=True)
class PersonFacts:
    """What is true of one person whichever mailbox keeps them (``""``: they have none)."""

    private_email: str = ""
    former_org: int = -1
    former_email: str = ""
    home_phone: str = ""
    assistant_phone: str = ""


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum()) or "x"


def _phone_like(rng: random.Random, template: str) -> str:
    """Another number in the style of ``template`` (same punctuation and length, other digits)."""
    out = []
    for k, ch in enumerate(template.split("x")[0].strip()):
        # Keep the first three digits (country and area code) so the number stays plausibly local.
        out.append(str(rng.randint(0, 9)) if ch.isdigit() and k > 3 else ch)
    return "".join(out)


def person_facts(
    seed: int, people: Sequence[_Person], orgs: Sequence[_Org], planted: frozenset[int]
) -> tuple[PersonFacts, ...]:
    """The address-book facts of every person (index-aligned with ``people``).

    Planted people get none (their cases are exact). A private address is unique per person (it
    carries the person's index as the digits people add to taken names), and an old employer's
    address is only given when nobody at that organisation already has it.
    """
    taken = {p.email.lower() for p in people}
    candidates = [o.index for o in orgs if o.index >= 5]  # never the planted organisations
    facts: list[PersonFacts] = []
    for p in people:
        if p.index in planted:
            facts.append(PersonFacts())
            continue
        rng = seeded_rng(seed, "addressbook-person", p.index)
        given, surname = _ascii(p.given_name), _ascii(p.surname)
        private = ""
        if rng.random() < 0.35:
            local = rng.choice((f"{given}.{surname}", f"{given[0]}{surname}", f"{given}{surname[0]}"))
            private = f"{local}{p.index + 10}@{rng.choice(names.FREEMAIL_DOMAINS)}"
        former, former_email = -1, ""
        if rng.random() < 0.10 and len(candidates) > 1:
            choice = rng.choice(candidates)
            address = f"{given}.{surname}@{orgs[choice].domain}"
            if choice != p.org and address not in taken:
                former, former_email = choice, address
                taken.add(address)
        home = _phone_like(rng, orgs[p.org].phone) if rng.random() < 0.25 else ""
        assistant = _phone_like(rng, orgs[p.org].phone) if rng.random() < 0.06 else ""
        facts.append(PersonFacts(private, former, former_email, home, assistant))
    return tuple(facts)


def enrich_contact(
    seed: int, mailbox: int, slot: int, facts: PersonFacts, org: _Org, fields: dict[str, Any]
) -> dict[str, Any]:
    """A person's contact as one mailbox's book keeps it: ``fields`` plus the private and
    old-employer addresses and the extra phone kinds this book has (a new dict; ``fields`` is kept)."""
    rng = seeded_rng(seed, "addressbook-contact", mailbox, slot)
    emails = dict(fields.get("EmailAddresses", {}))
    free = [key for key in ("EmailAddress1", "EmailAddress2", "EmailAddress3") if key not in emails]
    known = {value.lower() for value in emails.values()}
    wanted = []
    if facts.private_email and rng.random() < 0.6:
        wanted.append(facts.private_email)
    if facts.former_email and rng.random() < 0.8:
        wanted.append(facts.former_email)
    for address in wanted:
        if free and address.lower() not in known:
            emails[free.pop(0)] = address
    phones = dict(fields.get("PhoneNumbers", {}))
    if facts.home_phone and rng.random() < 0.7:
        phones.setdefault("HomePhone", facts.home_phone)
    if facts.assistant_phone:
        phones.setdefault("AssistantPhone", facts.assistant_phone)
    if rng.random() < 0.3:
        phones.setdefault("CompanyMainPhone", org.phone)
    if rng.random() < 0.1 and "BusinessPhone" in phones:
        phones.setdefault("BusinessPhone2", _phone_like(rng, phones["BusinessPhone"]))
    if rng.random() < 0.12:
        phones.setdefault("BusinessFax", _phone_like(rng, org.phone))
    if rng.random() < 0.04:
        phones.setdefault("OtherTelephone", _phone_like(rng, org.phone))
    out = dict(fields)
    out["EmailAddresses"] = emails
    if phones:
        out["PhoneNumbers"] = phones
    return out


def is_role_slot(slot: int) -> bool:
    """Whether contact slot ``slot`` of every mailbox holds a role address rather than a person."""
    return slot >= FIRST_FREE_SLOT and slot % ROLE_EVERY == ROLE_EVERY - 1


def role_contact(seed: int, mailbox: int, slot: int, org: _Org, created: datetime) -> dict[str, Any]:
    """A shared role address of ``org`` (``sales@acme.example``) as staff save one: the
    organisation's name and the role, no person's name, the switchboard number."""
    rng = seeded_rng(seed, "addressbook-role", mailbox, slot)
    local = ROLE_LOCAL_PARTS[min(int(rng.expovariate(0.6)), len(ROLE_LOCAL_PARTS) - 1)]
    label = f"{_ROLE_LABELS[local]} - {org.name}"
    return {
        "ItemClass": "IPM.Contact",
        "DisplayName": label,
        "FileAs": label,
        "CompanyName": org.name,
        "EmailAddresses": {"EmailAddress1": f"{local}@{org.domain}"},
        "PhoneNumbers": {"CompanyMainPhone": org.phone},
        "DateTimeCreated": created,
        "LastModifiedTime": created,
    }
