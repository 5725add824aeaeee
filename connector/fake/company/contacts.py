"""Contacts of a generated company: planted duplicates, each mailbox's book of customers (enriched
as ``addressbook`` describes), colleagues and a long tail of extra people.
"""

from __future__ import annotations

import random
from typing import Any

from connector.fake.company import addressbook, names
from connector.fake.company.parts import CompanyParts
from connector.fake.company.rand import ascii_local, between, name_pools, pick, seeded_rng
from connector.fake.company.records import Person
from connector.fake.model import ExtendedProp, ItemSpec, PhysicalAddress


class ContactItems(CompanyParts):
    """The Contacts folder of :class:`~connector.fake.company.generator.FakeCompany`."""

    def _contact(self, m: int, i: int) -> ItemSpec:
        refs = self._contact_refs[m]
        rng = seeded_rng(self.seed, "contact", m, i)
        if i < len(refs):
            who, idx, variant = refs[i]
            if who == "person" and addressbook.is_role_slot(i):
                org = self.organisations[self.people[idx].org]
                fields = addressbook.role_contact(self.seed, m, i, org, self._past(rng))
                return ItemSpec("Contact", fields, extra={"kind": "role", "org": org.index})
            if who == "staff":
                s = self.staff[idx]
                fields = self._contact_fields(
                    rng, s.given_name, s.surname, self.name, s.job_title, {"EmailAddress1": s.email}, {}, None, ""
                )
                return ItemSpec("Contact", fields, extra={"kind": "colleague", "staff": idx})
            p = self.people[idx]
            fields = self._person_contact(rng, p, variant)
            if idx not in self._planted_people:  # planted cases stay exactly as they are described
                fields = addressbook.enrich_contact(
                    self.seed, m, i, self._facts[idx], self.organisations[p.org], fields
                )
            return ItemSpec("Contact", fields, extra={"kind": "person", "person": idx, "variant": variant})
        # The long tail: people only this mailbox knows, at one of the known organisations.
        org = self.organisations[between(rng, len(self.organisations))]
        if addressbook.is_role_slot(i):
            fields = addressbook.role_contact(self.seed, m, i, org, self._past(rng))
            return ItemSpec("Contact", fields, extra={"kind": "role", "org": org.index})
        first, last = name_pools(names.COUNTRIES[org.country][0])
        given, surname = pick(rng, first), pick(rng, last)
        email = f"{ascii_local(given)}.{ascii_local(surname)}@{org.domain}"
        phones = {"BusinessPhone": org.phone}
        fields = self._contact_fields(
            rng,
            given,
            surname,
            org.name,
            pick(rng, names.JOB_TITLES),
            {"EmailAddress1": email},
            phones,
            org.address,
            org.website,
        )
        return ItemSpec("Contact", fields, extra={"kind": "extra", "org": org.index})

    def _person_contact(self, rng: random.Random, p: Person, variant: str) -> dict[str, Any]:
        org = self.organisations[p.org]
        company = org.name
        given = p.given_name
        emails = {"EmailAddress1": p.email}
        title = p.job_title
        phones = {"BusinessPhone": p.business_phone, "MobilePhone": p.mobile_phone}
        if variant == "steve":
            given = "Steve"
            emails = {"EmailAddress1": f"steve@{org.domain}"}
        elif variant in ("org_alias", "legal_form"):
            company = org.aliases[0]
        elif variant == "freemail_only":
            emails = {"EmailAddress1": p.other_emails[0]}
            phones = {"MobilePhone": p.mobile_phone}
        elif variant == "lastfirst":
            title = ""
        elif variant == "intl_phone":
            code = {"US": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "NL": "+31", "JP": "+81"}[org.country]
            digits = "".join(ch for ch in p.business_phone.split("x")[0] if ch.isdigit()).lstrip("0")
            phones = {"BusinessPhone": f"{code} {digits}", "MobilePhone": p.mobile_phone}
        else:
            if len(p.other_emails) and rng.random() < 0.5:
                emails["EmailAddress2"] = p.other_emails[0]
        fields = self._contact_fields(
            rng, given, p.surname, company, title, emails, phones, p.address, org.website, industry=org.industry
        )
        if variant == "lastfirst":
            fields["DisplayName"] = f"{p.surname}, {given}"
        if variant == "legal_form":
            fields["BusinessHomePage"] = f"http://{org.website}"
        planted = self._business_user_fields(p.org)
        if planted:  # the business case (connector.fake.company.business): its fields replace any drawn above
            kept = tuple(x for x in fields.get("ExtendedProperty", ()) if x.property_name not in planted)
            fields["ExtendedProperty"] = kept + tuple(
                ExtendedProp("String", v, distinguished_set_id="PublicStrings", property_name=k)
                for k, v in planted.items()
            )
        return fields

    def _contact_fields(
        self,
        rng: random.Random,
        given: str,
        surname: str,
        company: str,
        title: str,
        emails: dict[str, str],
        phones: dict[str, str],
        address: PhysicalAddress | None,
        website: str,
        industry: str = "",
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Contact",
            "DisplayName": f"{given} {surname}",
            "GivenName": given,
            "Surname": surname,
            "FileAs": f"{surname}, {given}",
            "CompanyName": company,
            "EmailAddresses": emails,
        }
        if title:
            fields["JobTitle"] = title
        if phones:
            fields["PhoneNumbers"] = phones
        if address is not None:
            fields["PhysicalAddresses"] = {"Business": address}
        if website and rng.random() < 0.3:
            fields["BusinessHomePage"] = f"https://{website}/"
        if rng.random() < 0.2:
            fields["Categories"] = (pick(rng, names.CONTACT_CATEGORIES),)
        props: list[ExtendedProp] = []
        if rng.random() < 0.25:
            props.append(
                ExtendedProp(
                    "String",
                    pick(rng, ("Trade fair", "Web", "Phone", "Referral", "Campaign")),
                    distinguished_set_id="PublicStrings",
                    property_name="Source",
                )
            )
        if rng.random() < 0.1:
            first, last = name_pools("en_US")
            props.append(
                ExtendedProp(
                    "String",
                    f"{pick(rng, first)} {pick(rng, last)}",
                    distinguished_set_id="PublicStrings",
                    property_name="Referred By",
                )
            )
        if industry and rng.random() < 0.2:
            props.append(
                ExtendedProp("String", industry, distinguished_set_id="PublicStrings", property_name="Industry")
            )
        if props:
            fields["ExtendedProperty"] = tuple(props)
        created = self._past(rng)
        fields["DateTimeCreated"] = created
        fields["LastModifiedTime"] = created
        return fields

    # ---- calendar ----------------------------------------------------------------------------------
