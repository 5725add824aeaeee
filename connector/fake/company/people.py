"""Building the company model once: staff, the external world (organisations and people, the planted
duplicates and hard negatives), each mailbox's book of customers and its contact slots.
"""

from __future__ import annotations

from typing import Any

from connector.fake.company import names
from connector.fake.company.parts import CompanyParts, ContactRef
from connector.fake.company.rand import (
    ascii_local,
    between,
    name_pools,
    pick,
    seeded_rng,
    slug,
    stable_hash,
    weighted_choice,
)
from connector.fake.company.records import ContactLocation, Organisation, Person, PlantedCase, Staff
from connector.fake.model import PhysicalAddress


class PeopleBuilder(CompanyParts):
    """The model-building part of :class:`~connector.fake.company.generator.FakeCompany`."""

    def _build_staff(self) -> tuple[Staff, ...]:
        rng = seeded_rng(self.seed, "staff")
        out: list[Staff] = []
        used: set[str] = set()  # membership only, never iterated
        weighted = [(z, z[3]) for z in names.STAFF_ZONES]
        for i in range(self.n):
            # The first three staff cover Berlin, New York and Tokyo so even small companies span zones.
            zone = names.STAFF_ZONES[i] if i < 3 else weighted_choice(rng, weighted)
            first, last = name_pools(zone[2])
            given, surname = pick(rng, first), pick(rng, last)
            local = f"{ascii_local(given)}.{ascii_local(surname)}"
            email, k = f"{local}@{self.domain}", 2
            while email in used:
                email, k = f"{local}{k}@{self.domain}", k + 1
            used.add(email)
            title, dept = pick(rng, names.STAFF_TITLES)
            out.append(Staff(i, given, surname, email, zone[0], zone[1], title, dept))
        return tuple(out)

    def _build_world(self) -> tuple[tuple[Organisation, ...], tuple[Person, ...]]:
        from faker import Faker

        rng = seeded_rng(self.seed, "world")
        fakers: dict[str, Faker] = {}

        def faker(country: str) -> Faker:
            if country not in fakers:
                f = Faker(names.COUNTRIES[country][0])
                f.seed_instance(stable_hash(self.seed, "faker", country))
                fakers[country] = f
            return fakers[country]

        def address(country: str) -> PhysicalAddress:
            f = faker(country)
            cname = names.COUNTRIES[country][1]
            if country == "JP":
                return PhysicalAddress(
                    f"{f.town()}{f.chome()}{f.ban()}{f.gou()}", f.city(), f.prefecture(), cname, f.zipcode()
                )
            state = f.state_abbr() if country == "US" else ""
            return PhysicalAddress(f.street_address().replace("\n", ", "), f.city(), state, cname, f.postcode())

        orgs: list[dict[str, Any]] = []
        used_domains: set[str] = set()

        def add_org(
            name: str,
            domain: str,
            country: str,
            industry: str,
            kind: str,
            aliases: tuple[str, ...] = (),
            website: str | None = None,
        ) -> int:
            used_domains.add(domain)
            orgs.append(
                dict(
                    index=len(orgs),
                    name=name,
                    domain=domain,
                    website=website or f"www.{domain}",
                    country=country,
                    industry=industry,
                    kind=kind,
                    address=address(country),
                    phone=faker(country).phone_number(),
                    owner=between(rng, self.n),
                    aliases=aliases,
                    people=[],
                )
            )
            return len(orgs) - 1

        # Planted organisations first, so their indices are fixed (see _PLANTED_ORGS).
        ibm = add_org(
            "IBM", "ibm.example", "US", "Software", "customer", aliases=("International Business Machines, Inc.",)
        )
        acme = add_org("Acme Corp", "acme.example", "US", "Manufacturing", "customer", aliases=("ACME Corporation",))
        acme_bank = add_org("Acme Bank", "acmebank.example", "US", "Financial Services", "prospect")
        bright = add_org("Brightwater Ltd", "brightwater-example.co.uk", "GB", "Retail", "customer")
        harbour = add_org("Harbourview Ltd", "harbourview-example.co.uk", "GB", "Hospitality", "customer")

        n_orgs = min(400, 30 + 8 * self.n)
        countries = [(c, v[3]) for c, v in names.COUNTRIES.items()]
        kinds = (("customer", 60), ("prospect", 20), ("vendor", 12), ("partner", 8))
        while len(orgs) < n_orgs:
            country = weighted_choice(rng, countries)
            stem = pick(rng, names.ORG_STEMS)
            if rng.random() < 0.5:
                base = f"{stem} {pick(rng, names.ORG_SECOND)}"
            else:
                base = f"{stem} {pick(rng, name_pools(names.COUNTRIES[country][0])[1])}"
            domain = f"{slug(base)}.example"
            if domain in used_domains or not slug(base):
                continue
            legal = pick(rng, names.LEGAL_FORMS[country])
            add_org(f"{base} {legal}", domain, country, pick(rng, names.INDUSTRIES), weighted_choice(rng, kinds))

        people: list[Person] = []
        used_emails: set[str] = set()

        def add_person(
            org: int, given: str, surname: str, title: str, *, local: str | None = None, other: tuple[str, ...] = ()
        ) -> int:
            o = orgs[org]
            f = faker(o["country"])
            base = local or f"{ascii_local(given)}.{ascii_local(surname)}"
            email, k = f"{base}@{o['domain']}", 2
            while email in used_emails:
                email, k = f"{base}{k}@{o['domain']}", k + 1
            used_emails.add(email)
            # Most people share the organisation's address; some sit at another site.
            addr = o["address"] if rng.random() < 0.8 else address(o["country"])
            people.append(
                Person(
                    len(people),
                    given,
                    surname,
                    org,
                    title,
                    email,
                    o["phone"] if rng.random() < 0.3 else f.phone_number(),
                    f.phone_number(),
                    addr,
                    other,
                )
            )
            o["people"].append(len(people) - 1)
            return len(people) - 1

        self._p_dana = add_person(ibm, "Dana", "Whitfield", "CIO")
        self._p_raj = add_person(ibm, "Raj", "Patel", "Procurement Lead")
        self._p_stephen = add_person(acme, "Stephen", "Miller", "Purchasing Manager")
        self._p_laura = add_person(acme, "Laura", "Chen", "Operations Manager")
        self._p_smith_bank = add_person(acme_bank, "John", "Smith", "Relationship Manager")
        self._p_maria = add_person(bright, "Maria", "Lopez", "Head of Procurement", other=("maria.lopez84@gmail.com",))
        self._p_oliver = add_person(bright, "Oliver", "Grant", "Managing Director")
        self._p_smith_harbour = add_person(harbour, "John", "Smith", "Facilities Manager")

        for o in orgs:
            country = o["country"]
            first, last = name_pools(names.COUNTRIES[country][0])
            for _ in range(between(rng, 1, 6)):
                add_person(o["index"], pick(rng, first), pick(rng, last), pick(rng, names.JOB_TITLES))

        org_records = tuple(Organisation(**{**o, "people": tuple(o["people"])}) for o in orgs)
        return org_records, tuple(people)

    def _build_books(self) -> tuple[tuple[int, ...], ...]:
        rng = seeded_rng(self.seed, "books")
        books: list[list[int]] = [[] for _ in range(self.n)]
        for o in self.organisations:
            for p in o.people:
                books[o.owner].append(p)
                # A quarter of the people are known to a second colleague too (shared accounts).
                if self.n > 1 and rng.random() < 0.25:
                    books[(o.owner + 1 + between(rng, self.n - 1)) % self.n].append(p)
        for m, b in enumerate(books):
            if not b:  # tiny companies: nobody may be left without customers
                b.extend(range(m % len(self.people), len(self.people), self.n))
        return tuple(tuple(sorted(set(b))) for b in books)

    def _build_contact_refs(self) -> tuple[tuple[ContactRef, ...], ...]:
        refs: list[list[ContactRef]] = [[] for _ in range(self.n)]
        placed: dict[str, list[ContactLocation]] = {}

        def put(kind: str, m: int, who: str, idx: int, variant: str = "") -> None:
            m %= self.n
            refs[m].append((who, idx, variant))
            person = idx if who == "person" else -1 - idx
            placed.setdefault(kind, []).append(ContactLocation(self.staff[m].email, len(refs[m]) - 1, person))

        put("org_alias", 0, "person", self._p_dana, "")
        put("org_alias", 1, "person", self._p_raj, "org_alias")
        put("nickname", 0, "person", self._p_stephen, "")
        put("nickname", 1, "person", self._p_stephen, "steve")
        put("legal_form", 2, "person", self._p_laura, "legal_form")
        put("two_addresses", 0, "person", self._p_maria, "")
        put("two_addresses", 1, "person", self._p_maria, "freemail_only")
        for m, variant in enumerate(("", "lastfirst", "intl_phone")):
            put("same_customer", m, "person", self._p_oliver, variant)
        put("hard_negative_org", 3, "person", self._p_smith_bank, "")
        put("hard_negative_person", 4, "person", self._p_smith_harbour, "")
        put("own_domain", 0, "staff", 1 % self.n, "")
        loc = {k: tuple(v) for k, v in placed.items()}

        def first(kind: str) -> ContactLocation:
            return loc[kind][0]

        acme, bank = self.organisations[1], self.organisations[2]
        bright, harbour = self.organisations[3], self.organisations[4]
        self.planted = (
            PlantedCase(
                "org_alias",
                "one organisation under its short and its legal name",
                True,
                ("IBM", "International Business Machines, Inc."),
                loc["org_alias"],
            ),
            PlantedCase(
                "nickname",
                "the same person as Stephen and as Steve (same surname and company)",
                True,
                ("Stephen Miller", "Steve Miller"),
                loc["nickname"],
            ),
            PlantedCase(
                "two_addresses",
                "one person with a work and a free-mail address",
                True,
                (self.people[self._p_maria].email, *self.people[self._p_maria].other_emails),
                loc["two_addresses"],
            ),
            PlantedCase(
                "www_domain",
                "website with www. and e-mail domain without it",
                True,
                (acme.website, acme.domain),
                (first("nickname"), *loc["legal_form"]),
            ),
            PlantedCase(
                "legal_form",
                "legal-form and case variants of one organisation name",
                True,
                ("Acme Corp", "ACME Corporation"),
                (first("nickname"), *loc["legal_form"]),
            ),
            PlantedCase(
                "same_customer",
                "one customer kept as a contact in several mailboxes",
                True,
                (self.people[self._p_oliver].name,),
                loc["same_customer"],
            ),
            PlantedCase(
                "public_suffix",
                "two organisations under the multi-label suffix co.uk",
                False,
                (bright.domain, harbour.domain),
                (first("two_addresses"), *loc["hard_negative_person"]),
            ),
            PlantedCase(
                "hard_negative_org",
                "similar names, different organisations",
                False,
                (acme.name, bank.name),
                (first("nickname"), *loc["hard_negative_org"]),
            ),
            PlantedCase(
                "hard_negative_person",
                "same name, different people at different companies",
                False,
                ("John Smith", "John Smith"),
                (*loc["hard_negative_org"], *loc["hard_negative_person"]),
            ),
            PlantedCase(
                "own_domain",
                "a colleague kept as a contact: our own domain is not a customer",
                False,
                (self.domain,),
                loc["own_domain"],
            ),
        )
        planted_people = {(c.mailbox, c.person) for case in self.planted for c in case.contacts}
        for m in range(self.n):
            email = self.staff[m].email
            for p in self._books[m]:
                if (email, p) not in planted_people:
                    refs[m].append(("person", p, ""))
        return tuple(tuple(r) for r in refs)
