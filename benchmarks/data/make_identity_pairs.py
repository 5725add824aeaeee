"""Writes ``identity_pairs.csv``: the project's labelled organisation and person pairs.

Run by hand (``python benchmarks/data/make_identity_pairs.py``); the CSV is committed. The labels are
true by construction or common knowledge, written down before the matcher was scored on them, and are
not adjusted to what the matcher decides. Categories (the ``category`` column, ignored by the CLI):
legal forms across languages, acronyms, domains, typos, transliteration, nicknames, initials,
e-mail evidence, and hard negatives of each kind. Generated variants use a fixed seed.
"""

from __future__ import annotations

import csv
import itertools
import json
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("identity_pairs.csv")
Side = str | dict[str, Any]
rows: list[tuple[str, str, Side, Side, int]] = []


def org(category: str, a: Side, b: Side, label: int) -> None:
    rows.append(("organization", category, a, b, label))


def person(category: str, a: Side, b: Side, label: int) -> None:
    rows.append(("person", category, a, b, label))


# --- organisations: legal forms across languages (same company, label 1) --------------------------
LEGAL = [
    ("Siemens AG", "Siemens Aktiengesellschaft"),
    ("Bayer AG", "BAYER Aktiengesellschaft"),
    ("Henkel AG & Co. KGaA", "Henkel"),
    ("Dr. Oetker GmbH", "Dr Oetker"),
    ("Müller Logistik GmbH", "Mueller Logistik"),
    ("Würth GmbH & Co. KG", "Wurth"),
    ("Nestlé S.A.", "Nestle SA"),
    ("Carrefour S.A.", "Carrefour"),
    ("L'Oréal S.A.", "LOreal"),
    ("Renault S.A.S.", "Renault SAS"),
    ("Telefónica, S.A.", "Telefonica"),
    ("Mercadona S.L.", "Mercadona"),
    ("Fiat S.p.A.", "FIAT"),
    ("Luxottica Group S.p.A.", "Luxottica"),
    ("Ferrero S.p.A.", "Ferrero SpA"),
    ("Philips N.V.", "Koninklijke Philips"),
    ("Heineken N.V.", "Heineken"),
    ("Coolblue B.V.", "Coolblue BV"),
    ("Ericsson AB", "Telefonaktiebolaget LM Ericsson"),
    ("Volvo AB", "AB Volvo"),
    ("Nokia Oyj", "Nokia Corporation"),
    ("Kone Oyj", "KONE"),
    ("Equinor ASA", "Equinor"),
    ("Maersk A/S", "Maersk"),
    ("Novo Nordisk A/S", "Novo Nordisk"),
    ("Toyota Kabushiki Kaisha", "Toyota K.K."),
    ("Sony Group Corporation", "Sony Corp."),
    ("Kabushiki Kaisha Hitachi", "Hitachi Ltd"),
    ("Woolworths Pty Ltd", "Woolworths Limited"),
    ("Atlassian Pty Ltd", "Atlassian"),
    ("Tata Consultancy Services Pvt Ltd", "Tata Consultancy Services Limited"),
    ("Infosys Private Limited", "Infosys Ltd."),
    ("Grupo Bimbo S.A.B. de C.V.", "Grupo Bimbo"),
    ("Cemex S.A. de C.V.", "CEMEX"),
    ("Petrobras S.A.", "Petrobras"),
    ("Embraer S.A.", "Embraer"),
    ("Orlen Sp. z o.o.", "Orlen"),
    ("Skoda Auto a.s.", "Skoda Auto"),
    ("Tesco PLC", "Tesco plc"),
    ("Barclays Bank PLC", "Barclays Bank"),
    ("Acme Corp", "ACME Corporation"),
    ("Globex Inc.", "Globex Incorporated"),
    ("Initech LLC", "Initech, L.L.C."),
    ("Smith & Sons Ltd", "Smith and Sons Limited"),
    ("Johnson & Johnson", "Johnson and Johnson Inc"),
    ("Procter & Gamble Co.", "Procter and Gamble Company"),
    ("The Coca-Cola Company", "Coca Cola Co"),
    ("Singapore Airlines Pte Ltd", "Singapore Airlines Limited"),
    ("Petronas Sdn Bhd", "Petronas"),
    ("Gazprom PAO", "Gazprom"),
]
for a, b in LEGAL:
    org("legal_form", a, b, 1)

# --- organisations: acronyms ----------------------------------------------------------------------
ACRONYMS = [
    ("IBM", "International Business Machines, Inc."),
    ("BMW AG", "Bayerische Motoren Werke AG"),
    ("HSBC", "Hongkong and Shanghai Banking Corporation"),
    ("UPS", "United Parcel Service"),
    ("GE", "General Electric Company"),
    ("AT&T", "American Telephone and Telegraph"),
    ("BASF SE", "Badische Anilin- und Soda-Fabrik"),
    ("SAP SE", "Systeme, Anwendungen und Produkte in der Datenverarbeitung"),
    ("KPMG", "Klynveld Peat Marwick Goerdeler"),
    ("BP plc", "British Petroleum"),
    ("3M", "Minnesota Mining and Manufacturing Company"),
    ("HP Inc.", "Hewlett-Packard"),
    ("NTT", "Nippon Telegraph and Telephone Corporation"),
    ("ABB Ltd", "Asea Brown Boveri"),
    ("DHL", "Dalsey, Hillblom and Lynn"),
    ("CVS Health", "Consumer Value Stores"),
]
for a, b in ACRONYMS:
    org("acronym", a, b, 1)
# With the domain that links them (what the store usually has).
for a, b, d in [
    ("IBM", "International Business Machines, Inc.", "ibm.com"),
    ("BMW", "Bayerische Motoren Werke AG", "bmw.de"),
    ("UPS", "United Parcel Service of America, Inc.", "ups.com"),
    ("HSBC Holdings", "Hongkong and Shanghai Banking Corporation", "hsbc.com"),
]:
    org("acronym+domain", {"name": a, "domains": [f"www.{d}"]}, {"name": b, "emails": [f"info@{d}"]}, 1)

# --- organisations: domains -----------------------------------------------------------------------
DOMAINS = [
    ("Brightwater Ltd", "brightwater.co.uk", "Brightwater", "https://www.brightwater.co.uk/contact"),
    ("Acme Corp", "acme.com", "ACME", "jane@sales.acme.com"),
    ("Harbourview Hotels", "harbourview.com.au", "Harbourview", "www.harbourview.com.au"),
    ("Zalando SE", "zalando.de", "Zalando", "https://zalando.de"),
    ("Alphabet Inc.", "google.com", "Google LLC", "www.google.com"),
    ("Meta Platforms, Inc.", "fb.com", "Facebook", "jane@fb.com"),
    ("Northwind Traders", "northwind.example", "Northwind", "sales@eu.northwind.example"),
    ("Contoso Ltd", "contoso.co.jp", "Contoso Japan", "http://www.contoso.co.jp/"),
    ("Fabrikam, Inc.", "fabrikam.com", "Fabrikam Inc", "accounts@fabrikam.com"),
    ("Tailspin Toys", "tailspintoys.com", "Tailspin", "www.tailspintoys.com"),
    ("Wingtip Toys", "wingtiptoys.com", "WingTip Toys Ltd", "https://shop.wingtiptoys.com"),
    ("Litware Inc.", "litware.com", "Litware", "it@litware.com"),
]
for name_a, dom_a, name_b, dom_b in DOMAINS:
    org("domain", {"name": name_a, "domains": [dom_a]}, {"name": name_b, "website": dom_b}, 1)
# Different organisations under a shared public suffix or free mail: never linked by it.
for name_a, dom_a, name_b, dom_b in [
    ("Brightwater Ltd", "brightwater.co.uk", "Harbourview Ltd", "harbourview.co.uk"),
    ("Kangaroo Tours", "kangaroo.com.au", "Koala Travel", "koala.com.au"),
    ("Sakura Foods", "sakura.co.jp", "Fuji Foods", "fuji.co.jp"),
    ("Bob's Plumbing", "gmail.com", "Ann's Bakery", "gmail.com"),
    ("Joe's Garage", "hotmail.com", "Sam's Garden", "hotmail.com"),
    ("Alpha Consulting", "github.io", "Beta Consulting", "github.io"),
]:
    org("domain_negative", {"name": name_a, "domains": [dom_a]}, {"name": name_b, "domains": [dom_b]}, 0)

# --- organisations: typos and spelling --------------------------------------------------------------
TYPOS = [
    ("Microsoft Corporation", "Microsfot Corp"),
    ("Brightwater Logistics", "Brightwatter Logistics Ltd"),
    ("Harbourview Hotels", "Harborview Hotels"),
    ("Johnson Controls", "Jonson Controls Inc"),
    ("Schneider Electric", "Schnieder Electric SE"),
    ("Accenture", "Acenture"),
    ("Deloitte", "Deloite LLP"),
    ("Vodafone Group Plc", "Vodaphone"),
    ("Goldman Sachs", "Goldmann Sachs"),
    ("PricewaterhouseCoopers", "Pricewaterhouse Coopers"),
    ("Caterpillar Inc.", "Caterpiller"),
    ("Lufthansa", "Lufthansa AG"),
    ("Saint-Gobain", "Saint Gobain"),
    ("Hewlett Packard Enterprise", "Hewlett-Packard Enterprise"),
    ("ExxonMobil", "Exxon Mobil Corporation"),
    ("Société Générale", "Societe Generale"),
    ("Nordea Bank Abp", "Nordea"),
    ("Zürich Insurance", "Zurich Insurance Group"),
]
for a, b in TYPOS:
    org("typo", a, b, 1)

# --- organisations: hard negatives ----------------------------------------------------------------
HARD_ORGS = [
    ("Acme Corp", "Acme Bank"),
    ("Alphabet", "Google"),
    ("Deutsche Bank AG", "Deutsche Telekom AG"),
    ("General Motors", "General Electric"),
    ("American Airlines", "American Express"),
    ("Bank of America", "Bank of China"),
    ("Delta Air Lines", "Delta Faucet Company"),
    ("Apple Inc.", "Apple Bank for Savings"),
    ("Dell Technologies", "Dell Medical School"),
    ("Ford Motor Company", "Ford Foundation"),
    ("Shell plc", "Shell Shock Records"),
    ("Sun Microsystems", "Sun Life Financial"),
    ("United Airlines", "United Rentals"),
    ("Royal Dutch Shell", "Royal Bank of Scotland"),
    ("National Grid", "National Express"),
    ("First Solar", "First Data"),
    ("Allianz SE", "Alliance Boots"),
    ("Continental AG", "Continental Airlines"),
    ("Siemens AG", "Siemens Healthineers AG"),
    ("Samsung Electronics", "Samsung Heavy Industries"),
    ("Mitsubishi Motors", "Mitsubishi UFJ Financial Group"),
    ("Hyundai Motor Company", "Hyundai Heavy Industries"),
    ("Tata Motors", "Tata Steel"),
    ("Virgin Atlantic", "Virgin Media"),
    ("Standard Chartered", "Standard Life"),
    ("Northwind Traders", "Northwind Health"),
    ("Contoso Pharmaceuticals", "Contoso Bank"),
    ("Brightwater Logistics", "Brightwater Dental"),
    ("Harbourview Hotels", "Harbourview Marine"),
    ("Pacific Gas and Electric", "Pacific Life"),
    ("Globex Inc.", "Globe Insurance"),
    ("Initech", "Intech Systems"),
    ("Acme Corp", "Acne Clinic"),
    ("Orange S.A.", "Orange County Choppers"),
    ("Mars, Incorporated", "Mars Petcare Services"),
    ("Volkswagen AG", "Volkswagen Financial Services"),
    ("BMW", "BMO Financial Group"),
    ("IBM", "IBS Software"),
    ("ING Group", "ING Bank Slaski"),
    ("Amazon.com, Inc.", "Amazon Rainforest Trust"),
]
for a, b in HARD_ORGS:
    org("hard_negative", a, b, 0)
# Same name, different organisations, told apart by their domains (and only by them).
for name, d1, d2 in [
    ("Phoenix Consulting", "phoenix-consulting.de", "phoenixconsult.com"),
    ("Summit Partners", "summitpartners.com", "summit-partners.co.uk"),
    ("Apex Solutions", "apexsolutions.io", "apex-solutions.com.au"),
]:
    org("same_name_other_domain", {"name": name, "domains": [d1]}, {"name": name, "domains": [d2]}, 0)

# Generated legal-form swaps on invented names (fixed seed): the same base, two legal forms.
rng = random.Random(20261122)
BASES = [
    "Blue Harbor Analytics",
    "Kestrel Dynamics",
    "Orchid Foods",
    "Vantage Robotics",
    "Quill & Ink Press",
    "Nordlicht Energie",
    "Sol y Mar Viajes",
    "Fjord Shipping",
    "Aurora Biotech",
    "Pinecrest Realty",
    "Lumière Cosmétiques",
    "Granite Peak Mining",
    "Tessellate Software",
    "Cobalt Ridge Capital",
    "Saffron Spice Traders",
    "Helix Medical",
    "Copperleaf Design",
    "Riverbend Farms",
    "Zephyr Airways",
    "Ironclad Security",
]
FORMS = [
    "Inc.",
    "Corp.",
    "GmbH",
    "AG",
    "S.A.",
    "Ltd",
    "Pty Ltd",
    "K.K.",
    "B.V.",
    "S.r.l.",
    "Oy",
    "AB",
    "LLC",
    "PLC",
    "S.A.S.",
    "Sp. z o.o.",
    "GmbH & Co. KG",
    "Limited",
    "Corporation",
    "N.V.",
]
for base in BASES:
    f1, f2 = rng.sample(FORMS, 2)
    a, b = f"{base} {f1}", f"{base.upper() if rng.random() < 0.3 else base} {f2}"
    org("legal_form_generated", a, b, 1)
# ...and two different invented bases that share a word: label 0.
for x, y in itertools.pairwise(BASES):
    word = rng.choice(["Global", "Holdings", "International", "Systems"])
    org("hard_negative_generated", f"{x.split()[0]} {word}", f"{y.split()[0]} {word}", 0)

# --- people ---------------------------------------------------------------------------------------
NICK = [
    ("Steve", "Stephen"),
    ("Bob", "Robert"),
    ("Bill", "William"),
    ("Liz", "Elizabeth"),
    ("Kate", "Katherine"),
    ("Mike", "Michael"),
    ("Jim", "James"),
    ("Tom", "Thomas"),
    ("Dick", "Richard"),
    ("Peggy", "Margaret"),
    ("Sandy", "Alexandra"),
    ("Tony", "Anthony"),
    ("Chris", "Christopher"),
    ("Jenny", "Jennifer"),
    ("Ted", "Edward"),
    ("Sasha", "Alexander"),
    ("Hank", "Henry"),
    ("Becky", "Rebecca"),
    ("Dave", "David"),
    ("Sam", "Samuel"),
]
SURNAMES = [
    "Miller",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Kowalski",
    "Brennan",
    "Haddad",
    "Novak",
    "Fischer",
    "Rossi",
    "Silva",
    "Andersen",
    "Walsh",
    "Nakamura",
    "Schmidt",
    "Dubois",
    "Garcia",
    "Olsen",
    "Patel",
]
COMPANIES = [
    ("Acme Corp", "acme.com"),
    ("Globex GmbH", "globex.de"),
    ("Initech LLC", "initech.com"),
    ("Brightwater Ltd", "brightwater.co.uk"),
    ("Contoso K.K.", "contoso.co.jp"),
]
for (nick, full), surname in zip(NICK, SURNAMES, strict=True):
    company, dom = rng.choice(COMPANIES)
    na = {"name": f"{nick} {surname}", "emails": [f"{nick.lower()}@{dom}"], "company": company}
    nb = {"name": f"{full} {surname}", "emails": [f"{full.lower()}.{surname.lower()}@{dom}"], "company": company}
    person("nickname_same_company", na, nb, 1)
for (nick, full), surname in list(zip(NICK, SURNAMES, strict=True))[:10]:
    person("nickname_name_only", f"{nick} {surname}", f"{full} {surname}", 1)

SAME_EMAIL = [
    ("J. Smith", "John Smith", "john.smith@acme.com"),
    ("Maria Lopez", "M. Lopez", "maria.lopez84@gmail.com"),
    ("Grant, Oliver", "Oliver Grant", "oliver.grant@brightwater.co.uk"),
    ("Dr. Anna Berg", "Anna Berg-Holm", "anna.berg@globex.de"),
    ("Li Wei", "Wei Li", "wei.li@contoso.co.jp"),
    ("Jo Wright", "Joanne Wright", "jo@initech.com"),
    ("Pat O'Neil", "Patrick O'Neill", "poneil@acme.com"),
    ("Ким Ли", "Kim Lee", "kim.lee@globex.de"),
]
for a, b, email in SAME_EMAIL:
    person("same_email", {"name": a, "emails": [email]}, {"name": b, "emails": [email.upper()]}, 1)

TRANSLIT = [
    ("Jürgen Müller", "Juergen Mueller"),
    ("José García", "Jose Garcia"),
    ("Zoë Brontë", "Zoe Bronte"),
    ("Søren Kierkegaard", "Soren Kierkegaard"),
    ("Łukasz Wróbel", "Lukasz Wrobel"),
    ("François Lefèvre", "Francois Lefevre"),
    ("Мария Иванова", "Mariya Ivanova"),
    ("Ἀλέξανδρος Παππάς", "Alexandros Pappas"),
    ("Björn Ångström", "Bjorn Angstrom"),
    ("Dvořák Antonín", "Antonin Dvorak"),
]
for a, b in TRANSLIT:
    company, dom = rng.choice(COMPANIES)
    person("transliteration", {"name": a, "company": company}, {"name": b, "company": company}, 1)

INITIALS = [
    ("J. Smith", "John Smith"),
    ("A. K. Rao", "Anil Rao"),
    ("M Weber", "Martin Weber"),
    ("E. Rossi", "Elena Rossi"),
    ("T. Nakamura", "Takeshi Nakamura"),
    ("R. Okafor", "Rita Okafor"),
]
for a, b in INITIALS:
    company, dom = rng.choice(COMPANIES)
    person("initials_same_company", {"name": a, "company": company}, {"name": b, "company": company}, 1)

TYPOS_P = [
    ("Katherine Lindqvist", "Katherine Lindquist"),
    ("Jonathan Brennan", "Jonathon Brennan"),
    ("Siobhan Walsh", "Siobahn Walsh"),
    ("Mohammed Haddad", "Muhammad Haddad"),
    ("Agnieszka Kowalski", "Agnieszka Kowalska"),
    ("Christina Schmidt", "Kristina Schmidt"),
    ("Philippe Dubois", "Phillipe Dubois"),
    ("Ingrid Olsen", "Ingrid Olson"),
]
for a, b in TYPOS_P:
    company, dom = rng.choice(COMPANIES)
    pa = {"name": a, "company": company, "phones": ["+44 20 7946 0" + str(rng.randint(100, 999))]}
    pb = {"name": b, "company": company, "phones": pa["phones"]}
    person("typo_same_company_phone", pa, pb, 1)

LOCAL = [
    ("J Smith", "jsmith", "John Smith", "john.smith"),
    ("A Berg", "aberg", "Anna Berg", "anna.berg"),
    ("K Tanaka", "ktanaka", "Kenji Tanaka", "kenji.tanaka"),
    ("P Novak", "novakp", "Petra Novak", "petra.novak"),
]
for a, la, b, lb in LOCAL:
    company, dom = rng.choice(COMPANIES)
    person("local_part", {"name": a, "emails": [f"{la}@{dom}"]}, {"name": b, "emails": [f"{lb}@{dom}"]}, 1)
for a, b in [("Maria Lopez", "maria.lopez"), ("Tom Fischer", "tom.fischer"), ("Ana Silva", "ana.silva")]:
    person(
        "private_and_work_address",
        {"name": a, "emails": [f"{b}@gmail.com"], "phones": ["+49 170 1234567"]},
        {"name": a, "emails": [f"{b}@globex.de"], "phones": ["0170 1234567"], "company": "Globex GmbH"},
        1,
    )

# People hard negatives.
COMMON = [
    ("John", "Smith"),
    ("Maria", "Garcia"),
    ("David", "Miller"),
    ("Anna", "Schmidt"),
    ("Wei", "Zhang"),
    ("Mohammed", "Khan"),
    ("Sarah", "Johnson"),
    ("James", "Brown"),
    ("Laura", "Rossi"),
    ("Hiroshi", "Sato"),
]
for g, s in COMMON:
    (c1, d1), (c2, d2) = rng.sample(COMPANIES, 2)
    ca = {"name": f"{g} {s}", "emails": [f"{g.lower()}.{s.lower()}@{d1}"], "company": c1}
    cb = {"name": f"{g} {s}", "emails": [f"{g.lower()}.{s.lower()}@{d2}"], "company": c2}
    person("same_name_other_company", ca, cb, 0)
for (g1, s), (g2, _) in itertools.pairwise(COMMON):
    company, dom = rng.choice(COMPANIES)
    person(
        "same_surname_same_company",
        {"name": f"{g1} {s}", "company": company},
        {"name": f"{g2} {s}", "company": company},
        0,
    )
for i, (g, s) in enumerate(COMMON):
    other = COMMON[(i + 3) % len(COMMON)]
    company, dom = rng.choice(COMPANIES)
    person(
        "colleagues",
        {"name": f"{g} {s}", "emails": [f"{g.lower()}@{dom}"], "company": company},
        {"name": f"{other[0]} {other[1]}", "emails": [f"{other[0].lower()}@{dom}"], "company": company},
        0,
    )
ROLE = ["info", "sales", "office", "support"]
for i, role in enumerate(ROLE):
    company, dom = COMPANIES[i]
    person(
        "shared_role_mailbox",
        {"name": "Anna Berg", "emails": [f"{role}@{dom}"]},
        {"name": "Peter Holm", "emails": [f"{role}@{dom}"]},
        0,
    )
for a, b in [
    ("Stephen Miller", "Stephanie Miller"),
    ("Daniel Novak", "Danielle Novak"),
    ("Jan Kowalski", "Jana Kowalska"),
    ("Andrea Rossi", "Andreas Ross"),
    ("Eric Olsen", "Erica Olsen"),
]:
    (c1, _), (c2, _) = rng.sample(COMPANIES, 2)
    person("similar_names_other_company", {"name": a, "company": c1}, {"name": b, "company": c2}, 0)
for a, b in [("Bob Miller", "Robert Millar"), ("Kate Walsh", "Katherine Welsh")]:
    (c1, _), (c2, _) = rng.sample(COMPANIES, 2)
    person("nickname_other_company", {"name": a, "company": c1}, {"name": b, "company": c2}, 0)
# The same person kept in two mailboxes, linked by a phone number written differently.
for a, b, p1, p2 in [
    ("Oliver Grant", "Grant, Oliver", "0113 496 0584", "+44 113 496 0584"),
    ("Hannah Weber", "Weber, Hannah", "030 1234567", "+49 30 1234567"),
    ("Luca Bianchi", "L. Bianchi", "+39 02 1234 5678", "02 12345678"),
    ("Emma Dubois", "Emma Dubois", "01 23 45 67 89", "+33 1 23 45 67 89"),
    ("Noah Clark", "Noah Clarke", "(555) 201-3344", "+1 555 201 3344"),
    ("Yuki Sato", "Sato Yuki", "03-1234-5678", "+81 3 1234 5678"),
]:
    person("phone_linked", {"name": a, "phones": [p1]}, {"name": b, "phones": [p2]}, 1)


def cell(side: Side) -> str:
    return side if isinstance(side, str) else json.dumps(side, ensure_ascii=False)


def main() -> None:
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["kind", "a", "b", "label", "category"])
        for kind, category, a, b, label in rows:
            w.writerow([kind, cell(a), cell(b), label, category])
    n_org = sum(r[0] == "organization" for r in rows)
    print(f"wrote {len(rows)} pairs ({n_org} organisation, {len(rows) - n_org} person) to {OUT}")


if __name__ == "__main__":
    main()
