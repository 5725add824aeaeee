"""Fixed word lists for the fake company generator.

Kept as plain tuples (never sets: set order of ``str`` depends on the salted hash) so that one seed
yields the same world on every machine. Every organisation domain is under the reserved ``.example``
TLD, except the deliberate ``.co.uk`` pair (see ``generator.py`` for why) and the well-known free-mail
providers.
"""

from __future__ import annotations

#: Our own company: the staff mailboxes live here.
OWN_COMPANY = "Northwind Traders"
OWN_DOMAIN = "northwind-traders.example"

#: (IANA zone, Windows zone id, Faker locale for staff names, weight for staff beyond the first three).
STAFF_ZONES: tuple[tuple[str, str, str, int], ...] = (
    ("Europe/Berlin", "W. Europe Standard Time", "de_DE", 50),
    ("America/New_York", "Eastern Standard Time", "en_US", 25),
    ("Asia/Tokyo", "Tokyo Standard Time", "ja_JP", 10),
    ("Europe/London", "GMT Standard Time", "en_GB", 15),
)

#: IANA zone -> Windows zone id, for every zone the generator uses.
WINDOWS_ZONES: dict[str, str] = {
    "Europe/Berlin": "W. Europe Standard Time",
    "Europe/Amsterdam": "W. Europe Standard Time",
    "Europe/Paris": "Romance Standard Time",
    "Europe/London": "GMT Standard Time",
    "America/New_York": "Eastern Standard Time",
    "America/Chicago": "Central Standard Time",
    "Asia/Tokyo": "Tokyo Standard Time",
}

#: country code -> (Faker locale, country name as Outlook shows it, IANA zone, weight).
COUNTRIES: dict[str, tuple[str, str, str, int]] = {
    "US": ("en_US", "United States", "America/New_York", 35),
    "DE": ("de_DE", "Germany", "Europe/Berlin", 25),
    "GB": ("en_GB", "United Kingdom", "Europe/London", 15),
    "FR": ("fr_FR", "France", "Europe/Paris", 10),
    "NL": ("nl_NL", "Netherlands", "Europe/Amsterdam", 7),
    "JP": ("ja_JP", "Japan", "Asia/Tokyo", 8),
}

FREEMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "gmx.de", "web.de", "icloud.com")

INDUSTRIES = (
    "Manufacturing",
    "Retail",
    "Logistics",
    "Financial Services",
    "Healthcare",
    "Software",
    "Construction",
    "Hospitality",
    "Energy",
    "Education",
    "Food & Beverage",
    "Automotive",
)

JOB_TITLES = (
    "Purchasing Manager",
    "Head of Procurement",
    "CEO",
    "CFO",
    "Managing Director",
    "Office Manager",
    "IT Director",
    "Operations Manager",
    "Buyer",
    "Senior Buyer",
    "Sales Director",
    "Project Manager",
    "Facilities Manager",
    "Account Manager",
    "Logistics Coordinator",
    "VP Operations",
    "Controller",
    "Head of IT",
    "Supply Chain Lead",
    "Assistant to the CEO",
)

STAFF_TITLES = (
    ("Account Executive", "Sales"),
    ("Sales Manager", "Sales"),
    ("Key Account Manager", "Sales"),
    ("Customer Success Manager", "Customer Success"),
    ("Sales Engineer", "Sales"),
    ("Head of Sales", "Sales"),
    ("Inside Sales Representative", "Sales"),
    ("Support Lead", "Support"),
    ("Marketing Manager", "Marketing"),
    ("Finance Manager", "Finance"),
    ("HR Manager", "HR"),
)

PRODUCTS = (
    "pallet racking",
    "forklift batteries",
    "barcode scanners",
    "shelving units",
    "packing stations",
    "conveyor belts",
    "label printers",
    "safety gloves",
    "stretch film",
    "warehouse software licences",
    "service contract",
    "spare parts",
    "maintenance kit",
    "dock levellers",
    "hand trucks",
)

#: Customer thread subjects; ``{p}`` is a product.
THREAD_SUBJECTS = (
    "Quote request: {p}",
    "Order confirmation {n}",
    "Question about {p}",
    "Delivery date for order {n}",
    "Invoice {n}",
    "Meeting next week",
    "Follow-up on our call",
    "Price list {y}",
    "Renewal of {p}",
    "Complaint: damaged {p}",
    "Return authorisation {n}",
    "Samples of {p}",
    "Introduction",
    "Trade fair follow-up",
    "Framework agreement {y}",
    "Updated contact details",
)

INTERNAL_SUBJECTS = (
    "Pipeline review",
    "Team meeting notes",
    "Travel plans for the trade fair",
    "Customer visit report",
    "Q{q} forecast",
    "Pricing approval needed",
    "Lunch?",
    "New price list draft",
    "Handover while I am out",
    "Lead from the website",
    "Weekly sales numbers",
    "Offsite agenda",
    "Referral from a customer",
)

CONFIDENTIAL_SUBJECTS = ("Salary review", "Restructuring plan", "Board minutes", "Acquisition target list")
PRIVATE_SUBJECTS = ("Doctor's appointment", "Personal matter", "Family emergency", "Flat viewing")

#: (display name, address, subject templates) of list mail; ``{n}`` is an issue number.
NEWSLETTERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Logistics Weekly",
        "newsletter@logistics-weekly.example",
        ("[Logistics Weekly] Issue {n}: warehouse automation", "[Logistics Weekly] Issue {n}: freight rates"),
    ),
    (
        "Trade Fair Hannover",
        "news@tradefair.example",
        ("Your exhibitor newsletter #{n}", "Last chance: early-bird tickets"),
    ),
    (
        "SupplyChain Digest",
        "digest@supplychain-digest.example",
        ("SupplyChain Digest #{n}", "Webinar invitation: resilient supply chains"),
    ),
    (
        "Office Supplies Direct",
        "offers@officesupplies.example",
        ("This week's offers ({n})", "Your loyalty points statement"),
    ),
)

NOREPLY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Travel Booking", "no-reply@travelbooking.example", ("Booking confirmation {n}", "Your trip itinerary")),
    ("Cloud Storage", "noreply@cloudstore.example", ("Your storage is almost full", "Security alert")),
    ("Parcel Service", "noreply@parcels.example", ("Your parcel {n} is on its way", "Delivery attempt failed")),
    ("Expense System", "donotreply@expenses.example", ("Expense report {n} approved", "Reminder: submit receipts")),
)

BODY_SENTENCES = (
    "Thanks for getting back to me so quickly.",
    "Could you send us an updated quote for {p}?",
    "We would like to order {k} units of {p}.",
    "Please find the details below.",
    "Let me know if Tuesday works for a short call.",
    "The delivery arrived on time, thank you.",
    "Our budget for next year is not final yet.",
    "I have copied my colleague who handles the logistics.",
    "Can we talk about the pricing for {p}?",
    "As discussed on the phone, here is a summary.",
    "We are reviewing suppliers for {p} this quarter.",
    "I am out of the office until Monday.",
    "Please confirm the delivery address.",
    "The invoice has been forwarded to accounts payable.",
    "Happy to set up a meeting with our team.",
)

MEETING_SUBJECTS = (
    "Kick-off: {p}",
    "Quarterly business review",
    "Demo of {p}",
    "Contract negotiation",
    "Site visit",
    "Project status",
    "Pricing workshop",
    "Lunch",
    "Introductory call",
)
INTERNAL_MEETING_SUBJECTS = (
    "Sales team weekly",
    "1:1",
    "Pipeline review",
    "Forecast call",
    "Product training",
    "All hands",
    "Marketing sync",
    "Planning session",
)
ALL_DAY_SUBJECTS = (
    ("Vacation", "OOF"),
    ("Trade fair", "Busy"),
    ("Public holiday", "Free"),
    ("Company offsite", "Busy"),
    ("Training day", "Busy"),
    ("Working from home", "Free"),
)
LOCATIONS = (
    "Meeting room Elbe",
    "Meeting room Rhine",
    "Microsoft Teams Meeting",
    "Customer site",
    "Phone",
    "Conference room 3.14",
    "Cafeteria",
    "",
)

TASK_SUBJECTS = (
    "Call back about {p}",
    "Send quote for {p}",
    "Prepare QBR slides",
    "Update CRM notes",
    "Chase unpaid invoice {n}",
    "Book travel to trade fair",
    "Review contract draft",
    "Order samples of {p}",
)

#: Hand-set Outlook categories staff already use.
CONTACT_CATEGORIES = ("Customer", "Holiday Cards", "VIP", "Supplier", "Prospect", "Potential: High")
MESSAGE_CATEGORIES = ("Follow up", "Red category", "Blue category", "Customer")

#: Legal-form suffixes by country, for generated organisation names.
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "US": ("Inc.", "LLC", "Corp.", "Co."),
    "DE": ("GmbH", "AG", "GmbH & Co. KG", "KG"),
    "GB": ("Ltd", "PLC", "LLP"),
    "FR": ("SARL", "SA", "SAS"),
    "NL": ("B.V.", "N.V."),
    "JP": ("K.K.", "Co., Ltd."),
}

#: Word stems for generated organisation names (combined with a second stem or a surname).
ORG_STEMS = (
    "Alder",
    "Beacon",
    "Cobalt",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Iron",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orion",
    "Pioneer",
    "Quarry",
    "Redwood",
    "Summit",
    "Tidewater",
    "Union",
    "Vertex",
    "Westfield",
    "Yellowstone",
    "Zenith",
    "Atlas",
    "Blue Ridge",
    "Crescent",
    "Driftwood",
    "Eastgate",
    "Foxglove",
    "Greenleaf",
    "Highland",
    "Ivory",
    "Jasper",
    "Kingfisher",
    "Lakeside",
    "Maple",
    "Northstar",
    "Oakmont",
    "Pinecrest",
    "Riverside",
    "Silverline",
    "Sterling",
    "Thornbury",
    "Upland",
    "Valley",
    "Willow",
    "Sunrise",
    "Bergmann",
    "Rheinland",
    "Sakura",
)
ORG_SECOND = (
    "Logistics",
    "Industries",
    "Systems",
    "Foods",
    "Engineering",
    "Retail",
    "Trading",
    "Supply",
    "Manufacturing",
    "Healthcare",
    "Partners",
    "Solutions",
    "Distribution",
    "Hotels",
    "Energy",
    "Works",
)
